"""P&L figures from a backtest's equity curve and per-market results: drawdown, Sharpe, win rate, edge.

Conventions (stated in every report): P&L is net of fees; the equity curve is
cash + positions at mid after each settlement; Sharpe is the mean over the
standard deviation of *daily* P&L (UTC days, quiet days count as 0) times
√365; a "win" is a market in which a strategy's settled P&L is positive;
edge per contract is averaged over contracts bought (expected at the fill
from the signal's model probability, realized from what the market paid).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from backtest.ledger import MarketResult
from backtest.session import EquityPoint

DAY = 86_400
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Drawdown:
    amount: Decimal  # largest fall from a running peak, dollars
    fraction: float  # of that peak
    peak_ts: float | None
    trough_ts: float | None


def max_drawdown(start: Decimal, curve: Sequence[EquityPoint]) -> Drawdown:
    peak, peak_ts = start, None
    worst = Drawdown(ZERO, 0.0, None, None)
    for point in curve:
        if point.equity > peak:
            peak, peak_ts = point.equity, point.ts
        fall = peak - point.equity
        if fall > worst.amount:
            worst = Drawdown(fall, float(fall / peak) if peak > 0 else 0.0, peak_ts, point.ts)
    return worst


def drawdown_series(start: Decimal, curve: Sequence[EquityPoint]) -> list[float]:
    """Dollars below the running peak after each point."""
    peak = start
    out = []
    for point in curve:
        peak = max(peak, point.equity)
        out.append(float(point.equity - peak))
    return out


def daily_pnl(
    start: Decimal,
    curve: Sequence[EquityPoint],
    first: float,
    last: float,
    trading_days: Collection[int] | None = None,
) -> list[Decimal]:
    """P&L of every UTC day from ``first`` to ``last`` (equity change; 0 on a quiet day).

    With ``trading_days`` (day numbers, ``ts // 86400``), days without markets — a
    hole in the data — are left out instead of counting as flat days.
    """
    if last < first:
        return []
    first_day, last_day = int(first // DAY), int(last // DAY)
    closing: dict[int, Decimal] = {}
    for point in curve:
        closing[int(point.ts // DAY)] = point.equity
    out = []
    equity = start
    for day in range(first_day, last_day + 1):
        end = closing.get(day, equity)
        if trading_days is None or day in trading_days or end != equity:
            out.append(end - equity)
        equity = end
    return out


def sharpe(daily: Sequence[Decimal]) -> float | None:
    """Annualized (√365) Sharpe of daily P&L; None with fewer than 2 days or no variation."""
    if len(daily) < 2:
        return None
    values = [float(d) for d in daily]
    mean = math.fsum(values) / len(values)
    var = math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
    if var <= 0.0:
        return None
    return mean / math.sqrt(var) * math.sqrt(365.0)


@dataclass(frozen=True, slots=True)
class StrategyFigures:
    strategy: str
    markets_traded: int
    markets_won: int
    contracts: int
    pnl: Decimal
    fees: Decimal
    expected: Decimal
    open_markets: int  # not settled when the data ended

    @property
    def win_rate(self) -> float | None:
        settled = self.markets_traded - self.open_markets
        return self.markets_won / settled if settled else None

    @property
    def edge_expected(self) -> float | None:
        """Average expected profit per contract bought, at the fill."""
        return float(self.expected / self.contracts) if self.contracts else None

    @property
    def edge_realized(self) -> float | None:
        """Average realized profit per contract bought (settled markets' P&L included)."""
        return float(self.pnl / self.contracts) if self.contracts else None


def strategy_figures(results: Sequence[MarketResult]) -> dict[str, StrategyFigures]:
    """Per strategy, plus ``"all"`` for every strategy together."""
    groups: dict[str, list[MarketResult]] = {}
    for result in results:
        groups.setdefault(result.strategy, []).append(result)
    if results:
        groups["all"] = list(results)
    out = {}
    for name, group in groups.items():
        out[name] = StrategyFigures(
            strategy=name,
            markets_traded=len(group),
            markets_won=sum(1 for r in group if r.settled and r.pnl > 0),
            contracts=sum(r.contracts_bought for r in group),
            pnl=sum((r.pnl for r in group), ZERO),
            fees=sum((r.fees for r in group), ZERO),
            expected=sum((r.expected for r in group), ZERO),
            open_markets=sum(1 for r in group if not r.settled),
        )
    return out
