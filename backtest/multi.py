"""Several series in one :class:`~backtest.session.Session`: one bankroll, one set of limits.

Each coin's history drives its own windows (its series' tickers), its own makers and its
own index prints, second by second in one timeline. Every strategy runs once per series
(its own instance, reading only that series' index, as the bot's per-series strategies
do) behind a :class:`SeriesRouter` that keeps the strategy's one name; the ``RiskEngine``
sees every market at once, so global limits, exposure and the breaker span the series.
The report splits the run by series (:func:`series_view`) beside the one equity curve.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from backtest.calibration import CalibrationCollector, WindowForecasts
from backtest.history import Bars
from backtest.history_feed import DETERMINATION_DELAY, HistoryFeed, run_together
from backtest.ledger import MarketResult, Trade
from backtest.market import MarketModel
from backtest.params import RunConfig
from backtest.runner import (
    BacktestResult,
    add_history,
    collector_for,
    finish,
    history_for,
    quiet_libraries,
)
from backtest.series_data import for_series
from backtest.session import Counters, EquityPoint, Session
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.trading import Fill, OrderUpdate, RiskDecision, Settlement, Signal
from strategies.base import Strategy, available_strategies

Progress = Callable[[float], None]


def series_of(ticker: str) -> str:
    """``KXBTC15M-25JAN011215-15`` → ``KXBTC15M``."""
    return ticker.partition("-")[0]


class SeriesRouter(Strategy):
    """One strategy per series under one name: market messages go to their ticker's series,
    index prints to the series quoted on that index."""

    def __init__(self, by_series: Mapping[str, Strategy], indices: Mapping[str, str]) -> None:
        first = next(iter(by_series.values()))
        self.name = first.name  # type: ignore[misc]  # the instance's name: its strategy's
        super().__init__(first.params)
        self.by_series = dict(by_series)
        self.by_index = {indices[s]: strategy for s, strategy in by_series.items()}
        self.Params = type(first.params)  # type: ignore[misc]

    def _of(self, ticker: str) -> Strategy | None:
        return self.by_series.get(series_of(ticker))

    def on_spot(self, tick: SpotTick) -> list[Signal]:
        strategy = self.by_index.get(tick.index)
        return strategy.on_spot(tick) if strategy is not None else []

    def on_book(self, book: BookUpdate) -> list[Signal]:
        strategy = self._of(book.ticker)
        return strategy.on_book(book) if strategy is not None else []

    def on_timer(self, now: float) -> list[Signal]:
        return [s for strategy in self.by_series.values() for s in strategy.on_timer(now)]

    def on_market(self, info: MarketInfo) -> None:
        if (strategy := self._of(info.ticker)) is not None:
            strategy.on_market(info)

    def on_lifecycle(self, event: MarketLifecycle) -> None:
        if (strategy := self._of(event.ticker)) is not None:
            strategy.on_lifecycle(event)

    def on_decision(self, decision: RiskDecision) -> None:
        if (strategy := self._of(decision.ticker)) is not None:
            strategy.on_decision(decision)

    def on_order_update(self, update: OrderUpdate) -> None:
        if (strategy := self._of(update.ticker)) is not None:
            strategy.on_order_update(update)

    def on_fill(self, fill: Fill) -> None:
        if (strategy := self._of(fill.ticker)) is not None:
            strategy.on_fill(fill)

    def on_settlement(self, settlement: Settlement) -> None:
        if (strategy := self._of(settlement.ticker)) is not None:
            strategy.on_settlement(settlement)


class SeriesCollector(CalibrationCollector):
    """A calibration collector per series, each reading its own index and strategy's σ."""

    def __init__(self, by_series: Mapping[str, CalibrationCollector], indices: Mapping[str, str]):
        first = next(iter(by_series.values()))
        super().__init__(first.params, vol=first.vol)
        self.by_series = dict(by_series)
        self.by_index = {indices[s]: c for s, c in by_series.items()}

    def on_market(self, info: MarketInfo) -> None:
        if (collector := self.by_series.get(series_of(info.ticker))) is not None:
            collector.on_market(info)

    def on_book(self, book: BookUpdate) -> None:
        if (collector := self.by_series.get(series_of(book.ticker))) is not None:
            collector.on_book(book)

    def on_spot(self, tick: SpotTick) -> None:
        if (collector := self.by_index.get(tick.index)) is not None:
            collector.on_spot(tick)

    def on_settled(self, ticker: str, result: str | None, value: Decimal | None) -> None:
        if (collector := self.by_series.get(series_of(ticker))) is not None:
            collector.on_settled(ticker, result, value)

    def scored(self) -> list[WindowForecasts]:
        records = [r for c in self.by_series.values() for r in c.scored()]
        return sorted(records, key=lambda r: (r.open_time, r.ticker))


def _reading(config: RunConfig, index: str) -> RunConfig:
    """``config`` with every strategy that filters prints by index reading ``index``."""
    known = available_strategies()
    strategies = tuple(
        (
            name,
            (*params, ("index", index)) if "index" in known[name].Params.model_fields else params,
        )
        for name, params in config.strategies
    )
    return dataclasses.replace(config, strategies=strategies)


def _strategies(
    configs: Mapping[str, RunConfig], indices: Mapping[str, str]
) -> tuple[list[Strategy], SeriesCollector]:
    """Every configured strategy once per series, each instance reading its series' index."""
    built = {s: _reading(config, indices[s]).build_strategies() for s, config in configs.items()}
    collector = SeriesCollector({s: collector_for(b) for s, b in built.items()}, indices)
    names = [strategy.name for strategy in next(iter(built.values()))]
    routers: list[Strategy] = [
        SeriesRouter({s: b[i] for s, b in built.items()}, indices) for i in range(len(names))
    ]
    return routers, collector


def run_series_session(
    config: RunConfig,
    data: Mapping[str, Sequence[Path]],
    *,
    start: int | None = None,
    end: int | None = None,
    progress: Progress | None = None,
    on_range: Callable[[float, float], None] | None = None,
    bars: Mapping[str, Bars] | None = None,
) -> tuple[BacktestResult, dict[str, BacktestResult]]:
    """All of ``data``'s series in one session; the whole run and its part per series.

    ``bars``: each series' ``data`` already loaded (a sweep loads it once per worker).
    """
    configs = {series: for_series(config, series) for series in data}
    indices = {series: c.data.index for series, c in configs.items()}
    strategies, collector = _strategies(configs, indices)
    session = Session(
        strategies,
        config.risk,
        config.execution,
        fee_multiplier=config.market.fee_multiplier,
        calibration=collector,
        indices=indices,
    )
    paths = [str(p) for ps in data.values() for p in ps]
    result = BacktestResult(config, "history", paths, config.risk.bankroll)
    with quiet_libraries():
        feeds = []
        for series, c in configs.items():
            history = history_for(c, data[series], start, end, (bars or {}).get(series))
            feeds.append(
                HistoryFeed(history, MarketModel(c.market, c.seed), session, index=c.data.index)
            )
            add_history(result, history)
        result.first_ts = min(float(f.data.windows[0].open_ts) for f in feeds)
        result.last_ts = max(float(f.data.windows[-1].close_ts) for f in feeds)
        if on_range is not None:
            on_range(
                min(float(f.data.ts[0]) for f in feeds), max(float(f.data.ts[-1]) for f in feeds)
            )
        wall, cpu = time.perf_counter(), time.process_time()
        run_together(feeds, progress)
    finish(result, session, collector, wall, cpu)
    views = {s: series_view(result, s, configs[s], session.by_series[s]) for s in configs}
    return result, views


def series_view(
    result: BacktestResult, series: str, config: RunConfig, counters: Counters
) -> BacktestResult:
    """The part of a run in ``series``' markets, with an equity curve of its own settlements
    (the shared bankroll plus this series' settled P&L) and its own decisions, orders and
    fills (``counters``; halts and market events are the session's)."""
    mine: Callable[[Any], bool] = lambda item: series_of(item.ticker) == series  # noqa: E731
    markets: list[MarketResult] = [m for m in result.markets if mine(m)]
    trades: list[Trade] = [t for t in result.trades if mine(t)]
    forecasts = [f for f in result.forecasts if mine(f)]
    view = BacktestResult(config, result.kind, [], result.bankroll)
    view.first_ts, view.last_ts = result.first_ts, result.last_ts
    view.windows_listed = len(forecasts)
    view.skipped = [s for s in result.skipped if series_of(s["ticker"]) == series]
    view.forecasts = forecasts
    view.markets = markets
    view.trades = trades
    view.equity = _settled_curve(result.bankroll, markets, forecasts)
    view.counters = dataclasses.replace(
        counters, halts=result.counters.halts, market_events=result.counters.market_events
    )
    view.seconds, view.cpu_seconds = result.seconds, result.cpu_seconds
    return view


def _settled_curve(
    bankroll: Decimal, markets: Sequence[MarketResult], forecasts: Sequence[WindowForecasts]
) -> list[EquityPoint]:
    """Bankroll plus cumulative settled P&L after each settlement of a traded market."""
    settle_at = {f.ticker: f.close_time + DETERMINATION_DELAY for f in forecasts}
    pnl: dict[str, Decimal] = {}
    fees: dict[str, Decimal] = {}
    for m in markets:
        if m.settled and m.ticker in settle_at:
            pnl[m.ticker] = pnl.get(m.ticker, Decimal(0)) + m.pnl
            fees[m.ticker] = fees.get(m.ticker, Decimal(0)) + m.fees
    curve: list[EquityPoint] = []
    equity, paid = bankroll, Decimal(0)
    for ticker in sorted(pnl, key=lambda t: settle_at[t]):
        equity += pnl[ticker]
        paid += fees[ticker]
        curve.append(EquityPoint(settle_at[ticker], equity, paid))
    return curve
