"""One configuration's figures from its result rows: seeds averaged, spans combined.

Rows are the sweep's (research/sweep.py): P&L as Decimal text with a 95% interval,
Sharpe of daily P&L ×√365 with its interval, realized edge in cents per contract with
its interval and the cost floor, the number of daily returns and their moments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from research.rows import Row
from research.stats import (
    DAYS_PER_YEAR,
    DailyMoments,
    per_period,
    pool_moments,
    probabilistic_sharpe,
    sharpe_interval,
)

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Summary:
    """Figures of one configuration on one span (seeds averaged) or on several spans."""

    runs: int
    failed: int
    pnl: Decimal | None = None
    pnl_low: Decimal | None = None
    pnl_high: Decimal | None = None
    sharpe: float | None = None  # daily ×√365
    sharpe_low: float | None = None
    sharpe_high: float | None = None
    edge: float | None = None  # realized, cents per contract
    edge_low: float | None = None
    edge_high: float | None = None
    cost_floor: float | None = None
    contracts: float | None = None
    trades: float | None = None
    days: int = 0
    skew: float | None = None
    kurtosis: float | None = None
    psr: float | None = None  # P(true Sharpe > 0); only for combined spans
    rows: tuple[Row, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in Summary.__slots__:
            if name == "rows":
                continue
            value = getattr(self, name)
            if isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, float):
                value = None if math.isnan(value) else round(value, 4)
            out[name] = value
        return out


def _num(row: Row, column: str) -> float | None:
    value = row.get(column)
    if value in (None, ""):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _mean(rows: Sequence[Row], column: str) -> float | None:
    values = [v for r in rows if (v := _num(r, column)) is not None]
    return math.fsum(values) / len(values) if values else None


def _money(rows: Sequence[Row], column: str) -> Decimal | None:
    values = [Decimal(str(r[column])) for r in rows if r.get(column) not in (None, "")]
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT) if values else None


# Summary field → the row column averaged over seeds into it
MONEY = {"pnl": "pnl", "pnl_low": "pnl_low", "pnl_high": "pnl_high"}
NUMBERS = {
    "sharpe": "sharpe",
    "sharpe_low": "sharpe_low",
    "sharpe_high": "sharpe_high",
    "edge": "edge_realized",
    "edge_low": "edge_low",
    "edge_high": "edge_high",
    "cost_floor": "cost_floor",
    "contracts": "contracts",
    "trades": "trades",
    "skew": "ret_skew",
    "kurtosis": "ret_kurt",
}


def summarize(rows: Sequence[Row]) -> Summary:
    """Mean over the seeds that finished of each figure (interval bounds included: the
    typical seed's interval, not an interval of the mean)."""
    ok = [r for r in rows if r.get("status") == "ok"]
    days = _mean(ok, "days")
    money: dict[str, Any] = {name: _money(ok, column) for name, column in MONEY.items()}
    numbers: dict[str, Any] = {name: _mean(ok, column) for name, column in NUMBERS.items()}
    return Summary(
        runs=len(rows),
        failed=len(rows) - len(ok),
        days=round(days) if days is not None else 0,
        rows=tuple(ok),
        **money,
        **numbers,
    )


def moments_of(row: Row) -> DailyMoments | None:
    """A run's daily-P&L moments from its row: mean = P&L / days, sd = mean / Sharpe.

    None when they cannot be recovered (a Sharpe of exactly zero hides the spread).
    """
    days, pnl, sharpe = _num(row, "days"), _num(row, "pnl"), _num(row, "sharpe")
    if not days or pnl is None:
        return None
    mean = pnl / days
    if sharpe is None:  # no variation: every day the same
        return DailyMoments(int(days), mean, 0.0, 0.0, 3.0)
    if sharpe == 0.0:
        return None
    skew, kurt = _num(row, "ret_skew"), _num(row, "ret_kurt")
    return DailyMoments(
        int(days),
        mean,
        mean / per_period(sharpe),
        0.0 if skew is None else skew,
        3.0 if kurt is None else kurt,
        assumed=skew is None or kurt is None,
    )


def aggregate(parts: Sequence[Summary]) -> Summary | None:
    """Several spans (folds) as one: P&L summed with the parts' intervals combined in
    quadrature (independent spans, normal approximation), edge weighted by contracts,
    Sharpe over all the daily P&L together with a normal-approximation interval."""
    if not parts:
        return None
    rows = tuple(r for p in parts for r in p.rows)
    pnl, low, high = _summed_money(parts)
    edge, edge_low, edge_high = _weighted_edge(parts)
    moments = [m for r in rows if (m := moments_of(r)) is not None]
    pooled = pool_moments(moments) if len(moments) == len(rows) else None
    sharpe = pooled.sharpe if pooled else None
    band = (
        sharpe_interval(sharpe, pooled.days, pooled.skew, pooled.kurtosis)
        if pooled and sharpe is not None
        else None
    )
    root = math.sqrt(DAYS_PER_YEAR)
    return Summary(
        runs=sum(p.runs for p in parts),
        failed=sum(p.failed for p in parts),
        pnl=pnl,
        pnl_low=low,
        pnl_high=high,
        sharpe=None if sharpe is None else sharpe * root,
        sharpe_low=None if band is None else band[0] * root,
        sharpe_high=None if band is None else band[1] * root,
        edge=edge,
        edge_low=edge_low,
        edge_high=edge_high,
        cost_floor=_mean([{"c": p.cost_floor} for p in parts], "c"),
        contracts=sum(p.contracts or 0.0 for p in parts),
        trades=sum(p.trades or 0.0 for p in parts),
        days=sum(p.days for p in parts),
        skew=pooled.skew if pooled else None,
        kurtosis=pooled.kurtosis if pooled else None,
        psr=None
        if sharpe is None or pooled is None
        else probabilistic_sharpe(sharpe, 0.0, pooled.days, pooled.skew, pooled.kurtosis),
        rows=rows,
    )


def _summed_money(parts: Sequence[Summary]) -> tuple[Decimal | None, ...]:
    if any(p.pnl is None for p in parts):
        return None, None, None
    total = sum((p.pnl for p in parts if p.pnl is not None), Decimal(0))
    halves = [_half(p.pnl_low, p.pnl_high) for p in parts]
    if any(h is None for h in halves):
        return total, None, None
    half = Decimal(str(math.sqrt(math.fsum(h * h for h in halves if h is not None))))
    return total, (total - half).quantize(CENT), (total + half).quantize(CENT)


def _half(low: Decimal | float | None, high: Decimal | float | None) -> float | None:
    return None if low is None or high is None else (float(high) - float(low)) / 2


def _weighted_edge(parts: Sequence[Summary]) -> tuple[float | None, ...]:
    weighted = [p for p in parts if p.edge is not None and p.contracts]
    total = math.fsum(p.contracts or 0.0 for p in weighted)
    if not total:
        return None, None, None
    edge = math.fsum((p.edge or 0.0) * (p.contracts or 0.0) for p in weighted) / total
    halves = [_half(p.edge_low, p.edge_high) for p in weighted]
    if any(h is None for h in halves):
        return edge, None, None
    half = math.sqrt(
        math.fsum(
            ((p.contracts or 0.0) / total * (h or 0.0)) ** 2
            for p, h in zip(weighted, halves, strict=True)
        )
    )
    return edge, edge - half, edge + half
