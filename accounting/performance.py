"""What the bot earned, from the ledger's fills and settlements (pure: no I/O, no clock).

The fills and settlements are replayed, in time order, through the risk engine's own
:class:`risk.exposure.ExposureBook` — the same netting, average cost, fees and
settlement rules the limits are enforced with — so the figures here and the risk
status cannot disagree about what a trade made. On top of it this module keeps:

- *round trips* ("trades"): a market's position from flat to flat again, closed by
  sells or by settlement, with its entry and exit prices, fees and result;
- the realized equity after every event (start + realized P&L, positions held at
  cost), bucketed by hour and by day, and its largest fall from a peak;
- the edge the signals expected at entry against the P&L per contract realized.

Money is ``Decimal`` throughout; :func:`report` renders it as fixed-point strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kalshi.units import ONE, ZERO, format_dollars
from messages.trading import Fill, Settlement
from risk.exposure import ExposureBook, other_side

HOUR = 3600
DAY = 86_400
AVERAGE = Decimal("0.0001")  # averages shown to 1/100 of a cent


@dataclass(slots=True)
class Trip:
    """One round trip in one market: opened from flat, closed by sells or by settlement."""

    ticker: str
    strategy: str
    side: str  # the side held
    opened_at: float
    closed_at: float | None = None
    bought: int = 0
    buy_cost: Decimal = ZERO  # Σ price × count of the side held
    sold: int = 0
    sell_value: Decimal = ZERO  # Σ exit price × count, in the held side's terms
    settled: int = 0
    settlement: str | None = None  # yes | no once the market settled with contracts held
    fees: Decimal = ZERO
    pnl: Decimal = ZERO  # realized, fees included
    edge_sum: Decimal = ZERO  # Σ expected edge × contracts, over entries whose edge is known
    edge_contracts: int = 0

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def result(self) -> str:
        if not self.closed:
            return "open"
        return "win" if self.pnl > 0 else "loss" if self.pnl < 0 else "even"


@dataclass(frozen=True, slots=True)
class Point:
    """The realized equity at the end of a bucket (hour or day) and its change in it."""

    start: float
    equity: Decimal
    pnl: Decimal


@dataclass(slots=True)
class Performance:
    starting_balance: Decimal
    balance: Decimal  # cash: what is not in positions
    equity: Decimal  # cash + open positions at their value (cost when no value is known)
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    trips: list[Trip]
    hourly: list[Point]
    daily: list[Point]
    max_drawdown: Decimal
    max_drawdown_pct: float
    peak_equity: Decimal
    events: int = 0
    by_market: dict[str, list[Trip]] = field(default_factory=dict)


class _Replay:
    """The book, the trips and the equity series as the events are applied in turn."""

    def __init__(self, start: Decimal, edges: Mapping[str, Decimal]) -> None:
        self.start = start
        self.edges = edges
        self.book = ExposureBook(start)
        self.open: dict[str, Trip] = {}
        self.trips: list[Trip] = []
        self.series: list[tuple[float, Decimal]] = []

    def fill(self, fill: Fill) -> None:
        side = fill.side if fill.action == "buy" else other_side(fill.side)
        price = fill.price if fill.action == "buy" else ONE - fill.price
        trip = self.open.get(fill.ticker)
        count, fee = fill.count, fill.fee
        before = self.book.realized_pnl
        self.book.on_fill(fill)
        if trip is not None and trip.side != side:  # closes contracts held
            closing = min(count, trip.bought - trip.sold)
            trip.sold += closing
            trip.sell_value += closing * (ONE - price)
            count -= closing
            self._book(trip, before, fee, fill.timestamp)
            if count == 0:
                return
            # the rest opens the other side (its fee is booked with the closing part)
            trip, before, fee = None, self.book.realized_pnl, ZERO
        if trip is None:
            trip = Trip(fill.ticker, fill.strategy_name, side, fill.timestamp)
            self.open[fill.ticker] = trip
            self.trips.append(trip)
        trip.bought += count
        trip.buy_cost += price * count
        edge = self.edges.get(fill.client_order_id or "")
        if edge is not None:
            trip.edge_sum += edge * count
            trip.edge_contracts += count
        self._book(trip, before, fee, fill.timestamp)

    def settle(self, settlement: Settlement) -> None:
        trip = self.open.get(settlement.ticker)
        before = self.book.realized_pnl
        self.book.on_settlement(settlement)
        if trip is None:  # nothing held here: only a payout the book did not expect
            self.series.append((settlement.timestamp, self.start + self.book.realized_pnl))
            return
        trip.settled = trip.bought - trip.sold
        trip.settlement = settlement.result
        self._book(trip, before, ZERO, settlement.timestamp)

    def _book(self, trip: Trip, before: Decimal, fee: Decimal, ts: float) -> None:
        trip.pnl += self.book.realized_pnl - before
        trip.fees += fee
        if trip.bought - trip.sold - trip.settled <= 0 or trip.ticker not in self.book.positions:
            trip.closed_at = ts
            self.open.pop(trip.ticker, None)
        self.series.append((ts, self.start + self.book.realized_pnl))


def _events(
    fills: Iterable[Fill], settlements: Iterable[Settlement]
) -> list[tuple[float, int, str, Fill | Settlement]]:
    """Time order; at one instant fills before settlements (a market trades, then settles)."""
    ordered: list[tuple[float, int, str, Fill | Settlement]] = [
        (f.timestamp, 0, f.trade_id, f) for f in fills
    ]
    ordered += [(s.timestamp, 1, s.ticker, s) for s in settlements]
    ordered.sort(key=lambda e: (e[0], e[1], e[2]))
    return ordered


def _buckets(series: list[tuple[float, Decimal]], start: Decimal, width: int) -> list[Point]:
    """The equity at the end of each ``width``-second bucket that saw an event (UTC-aligned)."""
    points: list[Point] = []
    previous = start
    for ts, equity in series:
        bucket = float(int(ts // width) * width)
        if points and points[-1].start == bucket:
            last = points[-1]
            points[-1] = Point(bucket, equity, last.pnl + equity - last.equity)
        else:
            points.append(Point(bucket, equity, equity - previous))
        previous = equity
    return points


def _drawdown(
    series: list[tuple[float, Decimal]], start: Decimal
) -> tuple[Decimal, float, Decimal]:
    """The largest fall from a running peak: dollars, as a fraction of that peak, the peak."""
    peak, worst, worst_pct = start, ZERO, 0.0
    for _, equity in series:
        peak = max(peak, equity)
        fall = peak - equity
        if fall > worst:
            worst = fall
            worst_pct = float(fall / peak) if peak > 0 else 0.0
    return worst, worst_pct, peak


def compute(
    fills: Iterable[Fill],
    settlements: Iterable[Settlement],
    *,
    starting_balance: Decimal,
    edges: Mapping[str, Decimal] | None = None,
    values: Mapping[str, Decimal] | None = None,
) -> Performance:
    """Replay the ledger. ``edges``: a client order id's expected edge per contract (its
    signal's); ``values``: an open position's current market value (else it counts at cost)."""
    replay = _Replay(starting_balance, edges or {})
    events = _events(fills, settlements)
    for _, _, _, event in events:
        if isinstance(event, Fill):
            replay.fill(event)
        else:
            replay.settle(event)
    book = replay.book
    held = {t: values.get(t) if values else None for t in book.positions}
    open_value = sum(
        (v if v is not None else book.positions[t].cost for t, v in held.items()), ZERO
    )
    at_cost = sum((p.cost for p in book.positions.values()), ZERO)
    worst, worst_pct, peak = _drawdown(replay.series, starting_balance)
    by_market: dict[str, list[Trip]] = {}
    for trip in replay.trips:
        by_market.setdefault(trip.ticker, []).append(trip)
    return Performance(
        starting_balance=starting_balance,
        balance=book.cash,
        equity=book.cash + open_value,
        realized_pnl=book.realized_pnl,
        unrealized_pnl=open_value - at_cost,
        fees=book.fees,
        trips=replay.trips,
        hourly=_buckets(replay.series, starting_balance, HOUR),
        daily=_buckets(replay.series, starting_balance, DAY),
        max_drawdown=worst,
        max_drawdown_pct=worst_pct,
        peak_equity=peak,
        events=len(events),
        by_market=by_market,
    )


# -- the report: money as fixed-point strings, ratios as numbers ------------------------------


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format_dollars(value)


def _avg(total: Decimal, count: int) -> str | None:
    return format_dollars((total / count).quantize(AVERAGE)) if count else None


def trip_dict(trip: Trip) -> dict[str, Any]:
    closed_contracts = trip.sold + trip.settled
    return {
        "ticker": trip.ticker,
        "strategy_name": trip.strategy,
        "side": trip.side,
        "opened_at": trip.opened_at,
        "closed_at": trip.closed_at,
        "contracts": trip.bought,
        "entry_price": _avg(trip.buy_cost, trip.bought),
        "exited": trip.sold,
        "exit_price": _avg(trip.sell_value, trip.sold),
        "settled": trip.settled,
        "settlement": trip.settlement,
        "fees": _money(trip.fees),
        "pnl": _money(trip.pnl),
        "result": trip.result,
        "expected_edge": _avg(trip.edge_sum, trip.edge_contracts),
        "realized_edge": _avg(trip.pnl, closed_contracts) if trip.closed else None,
    }


def market_dict(ticker: str, trips: list[Trip]) -> dict[str, Any]:
    closed = [t for t in trips if t.closed]
    settled = next((t.settlement for t in reversed(trips) if t.settlement), None)
    return {
        "ticker": ticker,
        "trades": len(trips),
        "open": len(trips) - len(closed),
        "contracts": sum(t.bought for t in trips),
        "entry_price": _avg(sum((t.buy_cost for t in trips), ZERO), sum(t.bought for t in trips)),
        "exit_price": _avg(sum((t.sell_value for t in trips), ZERO), sum(t.sold for t in trips)),
        "settlement": settled,
        "fees": _money(sum((t.fees for t in trips), ZERO)),
        "pnl": _money(sum((t.pnl for t in trips), ZERO)),
        "wins": sum(1 for t in closed if t.result == "win"),
        "losses": sum(1 for t in closed if t.result == "loss"),
        "last_at": max((t.closed_at or t.opened_at) for t in trips),
    }


def record(trips: list[Trip]) -> dict[str, Any]:
    """Win/loss record and expected vs realized edge per contract, over closed trips."""
    closed = [t for t in trips if t.closed]
    wins = sum(1 for t in closed if t.result == "win")
    losses = sum(1 for t in closed if t.result == "loss")
    with_edge = [t for t in closed if t.edge_contracts]
    contracts = sum(t.sold + t.settled for t in closed)
    return {
        "trades": len(closed),
        "open_trades": len(trips) - len(closed),
        "wins": wins,
        "losses": losses,
        "even": len(closed) - wins - losses,
        "win_rate": wins / len(closed) if closed else None,
        "avg_expected_edge": _avg(
            sum((t.edge_sum for t in with_edge), ZERO), sum(t.edge_contracts for t in with_edge)
        ),
        "avg_realized_edge": _avg(sum((t.pnl for t in closed), ZERO), contracts),
        "contracts": contracts,
    }


def _curve(points: list[Point]) -> list[dict[str, Any]]:
    return [{"start": p.start, "equity": _money(p.equity), "pnl": _money(p.pnl)} for p in points]


def report(perf: Performance, trade_limit: int = 500) -> dict[str, Any]:
    """``/api/performance``: newest trades and markets first."""
    markets = [market_dict(t, trips) for t, trips in perf.by_market.items()]
    markets.sort(key=lambda m: m["last_at"], reverse=True)
    trips = sorted(perf.trips, key=lambda t: t.closed_at or t.opened_at, reverse=True)
    return {
        "starting_balance": _money(perf.starting_balance),
        "balance": _money(perf.balance),
        "equity": _money(perf.equity),
        "realized_pnl": _money(perf.realized_pnl),
        "unrealized_pnl": _money(perf.unrealized_pnl),
        "fees": _money(perf.fees),
        "max_drawdown": _money(perf.max_drawdown),
        "max_drawdown_pct": perf.max_drawdown_pct,
        "peak_equity": _money(perf.peak_equity),
        "record": record(perf.trips),
        "markets": markets,
        "trades": [trip_dict(t) for t in trips[:trade_limit]],
        "trade_count": len(perf.trips),
        "equity_curve": {"hourly": _curve(perf.hourly), "daily": _curve(perf.daily)},
        "events": perf.events,
    }
