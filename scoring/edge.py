"""Realized edge per contract against the cost floor, by minutes left at the fill.

Every fill is judged against its market's settlement: a buy made ``payout − price`` per
contract, a sell ``price − payout``, each less its fee (``payout`` is $1 if the side
traded settled its way, else 0). Summed over a market's fills this is exactly the
market's settled P&L, so the edge per contract and the P&L tell one story. Beside it, the
cost floor of the same fills — half the spread plus the fee, from the book each one met —
and the real KXSOL15M floor from KALSHI.md: a strategy with no edge loses about the
floor, so a realized edge inside the floor's reach is no evidence of skill.

A fill counts at the horizon nearest its minutes left (``ENTRY_BUCKETS``): 14 for 12
minutes or more, 10 for [7.5, 12), 5 for [3.5, 7.5), 2 for [1.5, 3.5), 1 under 1.5.
Intervals resample whole windows (``scoring.intervals``); figures are in cents.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scoring.costs import REAL_SOL_COST_FLOOR_CENTS, verdict
from scoring.intervals import NO_DATA, Interval, mean_by_window, sum_by_window

# (horizon, lowest minutes left, below this many minutes left): the nearest horizon
ENTRY_BUCKETS: tuple[tuple[int, float, float], ...] = (
    (14, 12.0, math.inf),
    (10, 7.5, 12.0),
    (5, 3.5, 7.5),
    (2, 1.5, 3.5),
    (1, -math.inf, 1.5),
)
CENTS = 100.0


def bucket_of(minutes_left: float) -> int | None:
    """The horizon of ``ENTRY_BUCKETS`` a fill with ``minutes_left`` counts under (None:
    not known — such a fill counts only in the overall edge)."""
    for minutes, low, high in ENTRY_BUCKETS:
        if low <= minutes_left < high:
            return minutes
    return None


def bucket_label(minutes: int) -> str:
    for horizon, low, high in ENTRY_BUCKETS:
        if horizon == minutes:
            if math.isinf(high):
                return f"{horizon} (≥{low:g})"
            if math.isinf(low):
                return f"{horizon} (<{high:g})"
            return f"{horizon} ({low:g}–{high:g})"
    return str(minutes)


@dataclass(frozen=True, slots=True)
class Entry:
    """One fill of a settled market, as the edge table needs it."""

    window: str  # the market's ticker
    minutes_left: float  # before close, at the fill
    action: str  # buy | sell
    count: int
    price: Decimal  # of the side traded
    fee: Decimal  # of the whole fill
    won: bool  # the side traded settled its way
    floor: Decimal | None  # per contract, from the book at the fill (None: one-sided book)

    @property
    def pnl(self) -> Decimal:
        """Dollars this fill made by settlement, net of its fee."""
        payout = Decimal(1) if self.won else Decimal(0)
        per_contract = payout - self.price if self.action == "buy" else self.price - payout
        return per_contract * self.count - self.fee

    @property
    def edge(self) -> Decimal:
        """Realized edge per contract, dollars."""
        return self.pnl / self.count


@dataclass(frozen=True, slots=True)
class EdgeRow:
    """One minutes-left bucket: the fills' cost floor, the real one, the realized edge (¢)."""

    minutes: int
    fills: int
    contracts: int
    floor: Interval
    real_floor: float | None
    edge: Interval

    @property
    def label(self) -> str:
        return bucket_label(self.minutes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "minutes_left": self.minutes,
            "bucket": self.label,
            "fills": self.fills,
            "contracts": self.contracts,
            "cost_floor_cents": self.floor.as_dict(3),
            "real_kxsol15m_cost_floor_cents": self.real_floor,
            "realized_edge_cents": self.edge.as_dict(3),
        }


@dataclass(frozen=True, slots=True)
class EdgeReport:
    rows: tuple[EdgeRow, ...]
    overall: Interval  # realized edge, ¢/contract, every fill
    floor: Interval  # cost floor, ¢/contract, every fill with a two-sided book
    unsettled: int = 0  # fills in markets with no settlement yet: not judged

    @property
    def verdict(self) -> str:
        return verdict(self.overall)

    def as_dict(self) -> dict[str, Any]:
        return {
            "buckets": [row.as_dict() for row in self.rows],
            "realized_edge_cents": self.overall.as_dict(3),
            "cost_floor_cents": self.floor.as_dict(3),
            "fills_not_settled": self.unsettled,
            "verdict": self.verdict,
            "bucket_rule": "a fill counts at the horizon nearest its minutes left",
        }


def _edge(entries: Sequence[Entry], seed: int) -> Interval:
    return mean_by_window(
        entries,
        _window,
        lambda e: float(e.pnl) * CENTS,
        lambda e: float(e.count),
        seed=seed,
    )


def _floor(entries: Sequence[Entry], seed: int) -> Interval:
    priced = [e for e in entries if e.floor is not None]
    return mean_by_window(
        priced,
        _window,
        lambda e: float(e.floor or 0) * e.count * CENTS,
        lambda e: float(e.count),
        seed=seed,
    )


def _window(entry: Entry) -> str:
    return entry.window


def edge_report(entries: Sequence[Entry], *, unsettled: int = 0, seed: int = 0) -> EdgeReport:
    """The table of every ``ENTRY_BUCKETS`` row (empty ones too) and the overall edge."""
    groups: dict[int, list[Entry]] = {minutes: [] for minutes, _, _ in ENTRY_BUCKETS}
    for entry in entries:
        bucket = bucket_of(entry.minutes_left)
        if bucket is not None:
            groups[bucket].append(entry)
    rows = tuple(
        EdgeRow(
            minutes,
            len(group),
            sum(e.count for e in group),
            _floor(group, seed) if group else NO_DATA,
            REAL_SOL_COST_FLOOR_CENTS.get(minutes),
            _edge(group, seed) if group else NO_DATA,
        )
        for minutes, group in groups.items()
    )
    return EdgeReport(rows, _edge(entries, seed), _floor(entries, seed), unsettled)


def pnl_interval(
    entries: Iterable[Entry], quiet_windows: Iterable[str] = (), seed: int = 0
) -> Interval:
    """Settled P&L in dollars, resampling whole windows; ``quiet_windows`` (no fills) count
    as windows that made 0, so the number of windows traded varies between draws too."""
    items: list[tuple[str, float]] = [(e.window, float(e.pnl)) for e in entries]
    items += [(window, 0.0) for window in quiet_windows]
    return sum_by_window(items, lambda item: item[0], lambda item: item[1], seed=seed)
