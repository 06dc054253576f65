"""One backtest run: a data source, a configuration, a seed → a :class:`BacktestResult`.

Sources are either 1-minute OHLCV CSV files (history: bridged prints, modelled
books) or the bot's own recordings (``.jsonl.gz``: replayed as received);
mixing the two is refused. The strategies, ``RiskEngine`` and ``PaperBroker``
are fresh for every run, so the same data, configuration and seed always give
the same result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from loguru import logger

from backtest import calibration as calib
from backtest.calibration import CalibrationCollector, WindowForecasts
from backtest.errors import BacktestInputError
from backtest.history import Bars
from backtest.history_feed import HistoryData, HistoryFeed, prepare_history
from backtest.honesty import Honesty, judge
from backtest.ledger import MarketResult, Trade
from backtest.market import MarketModel
from backtest.metrics import StrategyFigures, daily_pnl, max_drawdown, sharpe, strategy_figures
from backtest.params import RunConfig
from backtest.replay import replay
from backtest.session import Counters, EquityPoint, Session
from messages.trading import Signal
from storage.recording import ReadStats, is_recording, read_recordings
from strategies.base import Strategy
from strategies.kelly_volatility import KellyVolatility, KellyVolatilityParams

QUIET_MODULES = ("strategies", "risk", "execution")
Progress = Callable[[float], None]


@dataclass(slots=True)
class BacktestResult:
    """Everything a report needs, as plain data (picklable, for parallel grids)."""

    config: RunConfig
    kind: str  # history | recording
    paths: list[str]
    bankroll: Decimal
    first_ts: float | None = None
    last_ts: float | None = None
    windows_listed: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    variance_ratio: float | None = None
    counters: Counters = field(default_factory=Counters)
    equity: list[EquityPoint] = field(default_factory=list)
    markets: list[MarketResult] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    forecasts: list[WindowForecasts] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    kalshi: dict[str, Any] | None = None  # --market kalshi:DIR: the real market's own figures
    seconds: float = 0.0  # wall time of the run
    cpu_seconds: float = 0.0
    honesty: Honesty | None = None  # computed once, by ``judged``

    def judged(self) -> Honesty:
        """The intervals, cost floor, verdict and market of this run (computed once)."""
        if self.honesty is None:
            self.honesty = judge(self)
        return self.honesty

    @property
    def final_equity(self) -> Decimal:
        return self.equity[-1].equity if self.equity else self.bankroll

    @property
    def pnl(self) -> Decimal:
        return self.final_equity - self.bankroll

    def summary(self) -> dict[str, Any]:
        """The headline figures, JSON-ready (floats for display, strings for exact money)."""
        figures = strategy_figures(self.markets)
        first = self.first_ts or 0.0
        last = self.last_ts or first
        trading_days = {int(w.open_time // 86_400) for w in self.forecasts}
        days = daily_pnl(self.bankroll, self.equity, first, last, trading_days)
        dd = max_drawdown(self.bankroll, self.equity)
        overall = figures.get("all")
        c = self.counters
        honesty = self.judged()
        return {
            "label": self.config.label,
            "kind": self.kind,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "days": round((last - first) / 86_400, 3),
            "market_days": round(self.windows_listed * 900 / 86_400, 2),
            "windows_listed": self.windows_listed,
            "windows_skipped": len(self.skipped),
            "bankroll": str(self.bankroll),
            "final_equity": str(self.final_equity),
            "pnl": str(self.pnl),
            "return": float(self.pnl / self.bankroll),
            "fees": str(sum((t.fee for t in self.trades), Decimal(0))),
            "orders": c.orders,
            "fills": c.fills,
            "signals": dict(c.signals),
            "decisions": dict(c.decisions),
            "contracts": overall.contracts if overall else 0,
            "markets_traded": overall.markets_traded if overall else 0,
            "win_rate": overall.win_rate if overall else None,
            "edge_expected_per_contract": overall.edge_expected if overall else None,
            "edge_realized_per_contract": overall.edge_realized if overall else None,
            "max_drawdown": str(dd.amount),
            "max_drawdown_pct": dd.fraction,
            "sharpe_daily_annualized": sharpe(days),
            "halts": c.halts,
            "breaker_resets": c.breaker_resets,
            "market_events": c.market_events,
            "events_per_s": c.market_events / self.seconds if self.seconds else None,
            "seconds": round(self.seconds, 3),
            "strategies": _strategy_rows(figures, honesty),
            "calibration": calib.summary(
                self.forecasts, calib.real_mid_brier(self.config.market.series)
            )["buckets"],
            **honesty.as_dict(),
            "kalshi": self.kalshi,
        }


def _strategy_rows(
    figures: dict[str, StrategyFigures], honesty: Honesty
) -> dict[str, dict[str, Any]]:
    """The summary's figures per strategy (the "all" row is the headline, not repeated)."""
    return {
        name: {
            "markets_traded": f.markets_traded,
            "win_rate": f.win_rate,
            "contracts": f.contracts,
            "pnl": str(f.pnl),
            "fees": str(f.fees),
            "edge_expected_per_contract": f.edge_expected,
            "edge_realized_per_contract": f.edge_realized,
            "open_markets": f.open_markets,
            "pnl_interval": honesty.strategy_pnl[name].as_dict(2)
            if name in honesty.strategy_pnl
            else None,
        }
        for name, f in figures.items()
        if name != "all"
    }


def source_kind(paths: Sequence[Path]) -> str:
    """``history`` (CSV) or ``recording``; a mix is refused."""
    if not paths:
        raise BacktestInputError("no data files given (--data FILE ...)")
    kinds = {"recording" if is_recording(Path(p)) else "history" for p in paths}
    if len(kinds) > 1:
        raise BacktestInputError(
            "--data mixes 1-minute CSV history with recordings (.jsonl / .jsonl.gz); "
            "run them as separate backtests"
        )
    return kinds.pop()


@contextmanager
def quiet_libraries() -> Iterator[None]:
    """The strategies and risk code log for operators; in a backtest that is noise."""
    for module in QUIET_MODULES:
        logger.disable(module)
    try:
        yield
    finally:
        for module in QUIET_MODULES:
            logger.enable(module)


def collector_for(strategies: Sequence[Strategy]) -> CalibrationCollector:
    """Calibration of the first ``kelly_volatility``'s model, reading its own σ."""
    for strategy in strategies:
        if isinstance(strategy, KellyVolatility):
            return CalibrationCollector(strategy.p, vol=strategy.vol)
    return CalibrationCollector(KellyVolatilityParams.model_validate({}))


def run_backtest(
    config: RunConfig,
    paths: Sequence[Path],
    *,
    start: int | None = None,
    end: int | None = None,
    progress: Progress | None = None,
    keep_signals: bool = False,
    on_range: Callable[[float, float], None] | None = None,
    bars: Bars | None = None,
) -> BacktestResult:
    """Run ``config`` on ``paths`` between ``start`` and ``end`` (Unix seconds, None = all).

    ``on_range(first, last)`` is told the time span before the replay starts
    (history only), so a progress bar can show a fraction. ``bars``: ``paths``
    already loaded (a sweep loads them once per worker, not once per run).
    """
    kind = source_kind(paths)
    result = BacktestResult(config, kind, [str(p) for p in paths], config.risk.bankroll)
    strategies = config.build_strategies()
    collector = collector_for(strategies)
    session = Session(
        strategies,
        config.risk,
        config.execution,
        fee_multiplier=config.market.fee_multiplier,
        calibration=collector,
        keep_signals=keep_signals,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    with quiet_libraries():
        if kind == "history":
            wall, cpu = _run_history(result, paths, start, end, session, progress, on_range, bars)
        else:
            _run_recordings(result, paths, start, end, session, collector, progress)
    finish(result, session, collector, wall, cpu)
    return result


def _run_history(
    result: BacktestResult,
    paths: Sequence[Path],
    start: int | None,
    end: int | None,
    session: Session,
    progress: Progress | None,
    on_range: Callable[[float, float], None] | None,
    bars: Bars | None = None,
) -> tuple[float, float]:
    """Replay 1-minute CSV history through the market model; returns the wall and CPU
    clocks at the replay's start, so that loading the files is not counted as its speed."""
    config = result.config
    data = history_for(config, paths, start, end, bars)
    add_history(result, data)
    result.variance_ratio = data.variance_ratio
    result.first_ts = float(data.windows[0].open_ts)
    result.last_ts = float(data.windows[-1].close_ts)
    if on_range is not None:
        on_range(float(data.ts[0]), float(data.ts[-1]))
    feed = HistoryFeed(
        data,
        MarketModel(config.market, config.seed),
        session,
        index=config.data.index,
        progress=progress,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    feed.run()
    return wall, cpu


def _run_recordings(
    result: BacktestResult,
    paths: Sequence[Path],
    start: int | None,
    end: int | None,
    session: Session,
    collector: CalibrationCollector,
    progress: Progress | None,
) -> None:
    """Replay recorded market messages as they came; what is not market data is counted
    in the result's warnings, not silently dropped."""
    stats = ReadStats()
    first, last = replay(
        session,
        read_recordings([Path(p) for p in paths], stats),
        start=start,
        end=end,
        warmup=result.config.data.warmup_seconds,
        progress=progress,
    )
    if first is None:
        raise BacktestInputError(
            "no market messages to replay"
            + (" in the chosen --from/--to range" if start or end else "")
        )
    result.first_ts, result.last_ts = first, last
    result.windows_listed = len(collector.windows)
    result.warnings = stats.warnings
    if stats.skipped:
        result.warnings.append(
            "not replayed (not market data): "
            + ", ".join(f"{k} × {v}" for k, v in sorted(stats.skipped.items()))
        )


def history_for(
    config: RunConfig,
    paths: Sequence[Path | str],
    start: int | None,
    end: int | None,
    bars: Bars | None = None,
) -> HistoryData:
    """The prints and windows ``config`` trades: its series, warm-up and makers' lead."""
    return prepare_history(
        [Path(p) for p in paths],
        bars=bars,
        seed=config.seed,
        start=start,
        end=end,
        warmup=config.data.warmup_seconds,
        lead=config.market.lead_seconds(),
        series=config.market.series,
    )


def add_history(result: BacktestResult, data: HistoryData) -> None:
    """Count ``data``'s windows, skipped windows and gaps into ``result``."""
    result.windows_listed += len(data.windows)
    result.skipped += [
        {"ticker": s.ticker, "open_ts": s.open_ts, "reason": s.reason} for s in data.skipped
    ]
    result.gaps += [g.describe() for g in data.gaps]


def finish(
    result: BacktestResult,
    session: Session,
    collector: CalibrationCollector,
    wall: float,
    cpu: float,
) -> None:
    """What the session did, into ``result`` (``wall``/``cpu``: when the replay started)."""
    result.seconds = time.perf_counter() - wall
    result.cpu_seconds = time.process_time() - cpu
    result.counters = session.counters
    result.equity = session.equity
    result.markets = session.ledger.results()
    result.trades = session.ledger.trades
    result.forecasts = collector.scored()
    result.signals = session.signals
