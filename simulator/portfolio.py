"""Users' money and positions, booked exactly in Decimal dollars.

Kalshi nets YES against NO: a position is one signed number (positive = YES
contracts, negative = NO). Buying the outcome opposite to what you hold closes
contracts — each YES+NO pair pays $1 at once — which is how "sell YES at p" and
"buy NO at 1 − p" come to the same thing. Held contracts keep FIFO lots so
realized P&L and exposure are exact.

``balance`` is the *available* cash: a resting order that would open a
position holds its cost out of it until it fills or is canceled; contracts that
close an existing position need no cash.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from kalshi.units import ONE, ZERO
from messages.vocabulary import Side
from simulator.orders import Order


@dataclass(frozen=True, slots=True)
class Fill:
    """One side of one match, as ``GET /portfolio/fills`` and the fill channel show it."""

    fill_id: str
    order_id: str
    user_id: str
    client_order_id: str
    ticker: str
    side: Side
    action: str
    outcome: Side
    count: Decimal
    yes_price: Decimal
    is_taker: bool
    fee: Decimal
    ts: float
    post_position: Decimal
    seq: int

    @property
    def no_price(self) -> Decimal:
        return ONE - self.yes_price


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    """A market's settlement for one user (``GET /portfolio/settlements``)."""

    ticker: str
    event_ticker: str
    result: Side
    yes_count: Decimal
    no_count: Decimal
    yes_total_cost: Decimal
    no_total_cost: Decimal
    revenue: Decimal
    fees: Decimal
    settled_ts: float
    value: Decimal


@dataclass(slots=True)
class PositionState:
    """A user's position in one market."""

    ticker: str
    event_ticker: str
    position: Decimal = ZERO
    lots: deque[list[Decimal]] = field(default_factory=deque)  # [count, price] FIFO
    realized_pnl: Decimal = ZERO
    fees_paid: Decimal = ZERO
    total_traded: Decimal = ZERO  # dollars spent buying contracts (own-side price)
    volume: Decimal = ZERO  # contracts traded
    resting_count: Decimal = ZERO  # contracts resting in open orders
    committed_yes: Decimal = ZERO  # contracts of resting YES-outcome orders closing NO
    committed_no: Decimal = ZERO  # contracts of resting NO-outcome orders closing YES
    last_updated_ts: float = 0.0

    def held(self, outcome: Side) -> Decimal:
        """Contracts held of ``outcome``."""
        if outcome == "yes":
            return max(self.position, ZERO)
        return max(-self.position, ZERO)

    def committed(self, outcome: Side) -> Decimal:
        return self.committed_yes if outcome == "yes" else self.committed_no

    def add_committed(self, outcome: Side, amount: Decimal) -> None:
        if outcome == "yes":
            self.committed_yes += amount
        else:
            self.committed_no += amount

    @property
    def exposure(self) -> Decimal:
        """Cost of the contracts held (``market_exposure_dollars``)."""
        return sum((count * price for count, price in self.lots), ZERO)


@dataclass(slots=True)
class Account:
    """A user: cash, positions, orders and fills."""

    user_id: str
    balance: Decimal
    internal: bool = False  # simulated traders: not listed, not rate-limited
    positions: dict[str, PositionState] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    order_list: list[Order] = field(default_factory=list)  # creation order
    client_order_ids: set[str] = field(default_factory=set)
    fills: list[Fill] = field(default_factory=list)
    settlements: list[SettlementRecord] = field(default_factory=list)
    updated_ts: float = 0.0
    keep_history: bool = True  # internal traders drop finished orders and fills

    def position(self, ticker: str, event_ticker: str, now: float = 0.0) -> PositionState:
        state = self.positions.get(ticker)
        if state is None:
            state = PositionState(ticker, event_ticker, last_updated_ts=now)
            self.positions[ticker] = state
        return state

    # --- collateral -----------------------------------------------------------------

    def reducible(self, state: PositionState, outcome: Side, count: Decimal) -> Decimal:
        """How much of a new ``outcome`` order would close contracts not already spoken for."""
        opposite: Side = "no" if outcome == "yes" else "yes"
        free = state.held(opposite) - state.committed(outcome)
        return min(count, max(free, ZERO))

    def hold(self, order: Order, state: PositionState, reducible: Decimal) -> None:
        """Hold cash for the opening part of a new order."""
        order.reduce_left = reducible
        order.reserved = (order.remaining - reducible) * order.book_price
        self.balance -= order.reserved
        state.add_committed(order.outcome, reducible)

    def release(self, order: Order, state: PositionState) -> None:
        """Give back what a finished (canceled or filled) order still holds."""
        self.balance += order.reserved
        order.reserved = ZERO
        state.add_committed(order.outcome, -order.reduce_left)
        order.reduce_left = ZERO

    # --- trades ---------------------------------------------------------------------

    def book_fill(
        self,
        order: Order,
        state: PositionState,
        count: Decimal,
        own_price: Decimal,
        fee: Decimal,
        *,
        now: float,
    ) -> None:
        """Book ``count`` contracts of ``order``'s outcome bought at ``own_price``."""
        closing_quota = min(count, order.reduce_left)
        order.reduce_left -= closing_quota
        state.add_committed(order.outcome, -closing_quota)
        release = (count - closing_quota) * order.book_price
        order.reserved -= release
        self.balance += release

        held_opposite = state.held("no" if order.outcome == "yes" else "yes")
        closing = min(count, held_opposite)
        opening = count - closing
        self.balance += closing * ONE - count * own_price - fee
        proceeds = ONE - own_price  # each closed pair pays $1; we paid own_price for it
        left = closing
        lots = state.lots
        while left > ZERO:
            lot = lots[0]
            take = min(left, lot[0])
            state.realized_pnl += take * (proceeds - lot[1])
            lot[0] -= take
            left -= take
            if lot[0] == ZERO:
                lots.popleft()
        if opening > ZERO:
            lots.append([opening, own_price])
        state.position += count if order.outcome == "yes" else -count
        state.fees_paid += fee
        state.total_traded += count * own_price
        state.volume += count
        state.last_updated_ts = now
        self.updated_ts = now

    def settle(self, state: PositionState, result: Side, now: float) -> SettlementRecord | None:
        """Pay out a determined market: $1 per contract of the winning side."""
        if state.position == ZERO and not state.lots:
            return None
        held: Side = "yes" if state.position > ZERO else "no"
        count = abs(state.position)
        cost = state.exposure
        revenue = count if held == result else ZERO
        self.balance += revenue
        state.realized_pnl += revenue - cost
        state.lots.clear()
        state.position = ZERO
        state.last_updated_ts = now
        self.updated_ts = now
        return SettlementRecord(
            ticker=state.ticker,
            event_ticker=state.event_ticker,
            result=result,
            yes_count=count if held == "yes" else ZERO,
            no_count=count if held == "no" else ZERO,
            yes_total_cost=cost if held == "yes" else ZERO,
            no_total_cost=cost if held == "no" else ZERO,
            revenue=revenue,
            fees=state.fees_paid,
            settled_ts=now,
            value=ONE if result == "yes" else ZERO,
        )
