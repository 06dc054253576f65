"""Whether a backtest's P&L means anything: its intervals, its cost floor, its market.

Every headline figure of a report comes with what it was measured against and how
much it depends on which windows happened:

* **the market** — our simulated makers (and their preset) for CSV history, the books of
  a recording, or Kalshi's own quotes; the order latency and the fee;
* **the P&L's interval** — the settled P&L of every window (0 for a window not traded),
  windows resampled with replacement (``scoring.intervals``). It treats each window's
  P&L as it was traded, bet sizes included: it says how much the total owes to which
  windows happened, not what a re-run would have sized;
* **the Sharpe ratio's interval** — the daily figure's, resampling whole days;
* **the realized edge per contract against the cost floor** by minutes left, and the
  one-line verdict (``scoring.edge``);
* **the model's Brier score beside the market's** by minutes left, paired by window
  (``scoring.compare``).

Computed once per result (:func:`judge`) and shared by the console, JSON, HTML, CSV and
grid outputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from backtest.calibration import WindowForecasts, real_mid_brier
from backtest.ledger import MarketResult, Trade
from backtest.metrics import daily_pnl, sharpe
from scoring.compare import BrierRow, compare_brier
from scoring.edge import EdgeReport, Entry, edge_report, pnl_interval
from scoring.forecasts import Forecast
from scoring.intervals import Interval, by_window
from simulator.config import DEFAULT_MARKET_PRESET

if TYPE_CHECKING:
    from backtest.runner import BacktestResult

DEFAULT_PRESET = DEFAULT_MARKET_PRESET


@dataclass(frozen=True, slots=True)
class MarketAssumptions:
    """What the P&L was measured against."""

    market: str  # e.g. "our simulated makers (preset soft)"
    simulated: bool
    preset: str | None
    latency_seconds: float
    fee_multiplier: Decimal

    def line(self) -> str:
        return (
            f"{self.market}; orders reach the book {self.latency_seconds:g} s after the "
            f"decision; Kalshi's taker fee × {self.fee_multiplier}, rounded up to $0.0001 a fill"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "market": self.market,
            "simulated": self.simulated,
            "maker_preset": self.preset,
            "latency_seconds": self.latency_seconds,
            "fee_multiplier": str(self.fee_multiplier),
            "line": self.line(),
        }


def market_assumptions(result: BacktestResult) -> MarketAssumptions:
    market = result.config.market
    latency = result.config.execution.latency_seconds
    if result.kind == "history":
        preset = str(market.describe().get("preset", DEFAULT_PRESET))
        name = f"our simulated makers (preset {preset}), not Kalshi"
        return MarketAssumptions(name, True, preset, latency, market.fee_multiplier)
    if result.kind == "recording":
        name = (
            "the books of the recording, as the bot received them (Kalshi's, or our "
            "simulated makers' if it was recorded in sim mode)"
        )
    elif result.kind == "kalshi":
        name = "the real Kalshi market (its recorded quotes)"
    else:
        name = f"recorded quotes ({result.kind})"
    return MarketAssumptions(name, False, None, latency, market.fee_multiplier)


def entries_of(trades: Iterable[Trade], markets: Iterable[MarketResult]) -> tuple[list[Entry], int]:
    """The fills of settled markets as ``Entry``s, and how many fills had no settlement yet."""
    outcome = {(m.strategy, m.ticker): m.result for m in markets if m.settled}
    entries: list[Entry] = []
    unsettled = 0
    for trade in trades:
        result = outcome.get((trade.strategy, trade.ticker))
        if result is None or trade.count <= 0:
            unsettled += 1
            continue
        left = math.nan if trade.seconds_left is None else trade.seconds_left / 60.0
        entries.append(
            Entry(
                trade.ticker,
                left,
                trade.action,
                trade.count,
                trade.price,
                trade.fee,
                result == trade.side,
                trade.floor,
            )
        )
    return entries, unsettled


def forecasts_of(records: Sequence[WindowForecasts], source: str) -> list[Forecast]:
    """One source's (model, naive or market) forecasts of the scored windows."""
    made = []
    for record in records:
        outcome = record.outcome
        if outcome is None:
            continue
        for minutes, snap in record.snapshots.items():
            prob = getattr(snap, source)
            if prob is not None:
                made.append(Forecast(record.ticker, minutes, float(prob), outcome))
    return made


def sharpe_interval(days: Sequence[Decimal], seed: int = 0) -> Interval:
    """The daily Sharpe ratio (×√365) with an interval resampling whole days."""

    def statistic(sample: Sequence[tuple[int, Decimal]]) -> float:
        value = sharpe([pnl for _, pnl in sample])
        return math.nan if value is None else value

    return by_window(list(enumerate(days)), lambda day: str(day[0]), statistic, seed=seed)


@dataclass(frozen=True, slots=True)
class Honesty:
    assumptions: MarketAssumptions
    pnl: Interval  # settled P&L, dollars
    sharpe: Interval  # daily ×√365; ``windows`` counts days
    edge: EdgeReport
    brier: tuple[BrierRow, ...]
    strategy_pnl: dict[str, Interval]

    @property
    def verdict(self) -> str:
        return self.edge.verdict

    def as_dict(self) -> dict[str, Any]:
        return {
            "market_assumptions": self.assumptions.as_dict(),
            "pnl_interval": self.pnl.as_dict(2)
            | {"resampled": "windows' settled P&L, 0 for a window not traded"},
            "sharpe_interval": self.sharpe.as_dict(2) | {"resampled": "days"},
            "verdict": self.verdict,
            "edge_vs_cost_floor": self.edge.as_dict(),
            "brier_model_vs_market": {
                "market": self.assumptions.market,
                "horizons": [row.as_dict() for row in self.brier],
            },
        }


def judge(result: BacktestResult) -> Honesty:
    entries, unsettled = entries_of(result.trades, result.markets)
    windows = [record.ticker for record in result.forecasts]
    seed = result.config.seed
    first = result.first_ts or 0.0
    trading_days = {int(w.open_time // 86_400) for w in result.forecasts}
    days = daily_pnl(result.bankroll, result.equity, first, result.last_ts or first, trading_days)
    strategies = sorted({trade.strategy for trade in result.trades})
    per_strategy = {}
    for name in strategies:
        own, _ = entries_of((t for t in result.trades if t.strategy == name), result.markets)
        traded = {e.window for e in own}
        quiet = [w for w in windows if w not in traded]
        per_strategy[name] = pnl_interval(own, quiet, seed=seed)
    traded = {e.window for e in entries}
    return Honesty(
        market_assumptions(result),
        pnl_interval(entries, [w for w in windows if w not in traded], seed=seed),
        sharpe_interval(days, seed=seed),
        edge_report(entries, unsettled=unsettled, seed=seed),
        tuple(
            compare_brier(
                forecasts_of(result.forecasts, "model"),
                forecasts_of(result.forecasts, "market"),
                seed=seed,
                real=real_mid_brier(result.config.market.series),
            )
        ),
        per_strategy,
    )
