"""Orders: the validated request, the live order the engine mutates, and its snapshot.

Kalshi's book holds only bids: a YES bid at p and a NO bid at q. Every order
maps onto one of them by its *outcome side* — buying YES and selling NO both
bet on YES (a YES bid); buying NO and selling YES both bet on NO (a NO bid).
Selling YES at p is therefore a NO bid at 1 − p, and a YES bid at p crosses a
NO bid at q when p + q >= 1. Kalshi's V2 API names the same two books from the
YES side: a ``bid`` bets on YES, an ``ask`` on NO (:func:`book_side_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from kalshi.units import ONE, ZERO
from messages.vocabulary import Action, BookSide, SelfTradePrevention, Side, TimeInForce

# The exchange's own order states (the bot's vocabulary adds its own for the edges).
OrderStatus = Literal["resting", "canceled", "executed"]
# Reasons as the user_orders channel names them (asyncapi ``lastUpdateReason``).
UpdateReason = Literal[
    "",
    "Amend",
    "Decrease",
    "ExpiryCancel",
    "CloseCancel",
    "Trade",
    "PostOnlyCrossCancel",
    "ReduceOnlyCancel",
    "SelfTradeCancel",
]


def outcome_of(side: Side, action: Action) -> Side:
    """The outcome an order bets on: buy YES / sell NO → yes; buy NO / sell YES → no."""
    if action == "buy":
        return side
    return "no" if side == "yes" else "yes"


def other(side: Side) -> Side:
    return "no" if side == "yes" else "yes"


def book_side_of(outcome: Side) -> BookSide:
    """V2's single YES book: betting on YES is a bid, betting on NO an ask."""
    return "bid" if outcome == "yes" else "ask"


def legacy_direction(book_side: BookSide, reduce_only: bool) -> tuple[Side, Action]:
    """The deprecated ``side``/``action`` a V2 order is shown with.

    A reduce-only ask can only close YES contracts, so it reads as "sell YES";
    any other ask buys NO at ``1 − price`` (netting closes held YES contracts
    all the same). Bids mirror this.
    """
    if book_side == "bid":
        return ("no", "sell") if reduce_only else ("yes", "buy")
    return ("yes", "sell") if reduce_only else ("no", "buy")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A create-order request after wire parsing; prices in dollars, counts in contracts.

    ``yes_price`` is the limit as a YES price whatever the side: a NO order at
    $0.40 carries ``yes_price = 0.60``.
    """

    ticker: str
    side: Side
    action: Action
    count: Decimal
    yes_price: Decimal
    client_order_id: str = ""
    time_in_force: TimeInForce = "good_till_canceled"
    expiration_ts: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    self_trade_prevention: SelfTradePrevention = "taker_at_cross"
    cancel_order_on_pause: bool = False
    order_group_id: str | None = None

    @property
    def outcome(self) -> Side:
        return outcome_of(self.side, self.action)

    @property
    def book_price(self) -> Decimal:
        """The bid price on the order's own outcome book."""
        return self.yes_price if self.outcome == "yes" else ONE - self.yes_price


@dataclass(slots=True)
class Order:
    """A live order; only the engine mutates it. Snapshots leave as :class:`OrderSnapshot`."""

    order_id: str
    user_id: str
    client_order_id: str
    ticker: str
    side: Side
    action: Action
    outcome: Side
    yes_price: Decimal
    book_price: Decimal
    initial_count: Decimal
    remaining: Decimal
    time_in_force: TimeInForce
    expiration_ts: int | None
    post_only: bool
    reduce_only: bool
    self_trade_prevention: SelfTradePrevention
    cancel_order_on_pause: bool
    created_ts: float
    seq: int
    order_group_id: str | None = None
    status: OrderStatus = "resting"
    fill_count: Decimal = ZERO
    taker_fill_cost: Decimal = ZERO
    maker_fill_cost: Decimal = ZERO
    taker_fees: Decimal = ZERO
    maker_fees: Decimal = ZERO
    last_update_ts: float = 0.0
    last_update_reason: UpdateReason = ""
    reserved: Decimal = ZERO  # cash held for the part that opens a position
    reduce_left: Decimal = ZERO  # contracts of this order that close an opposite position
    on_book: bool = False  # resting in a ladder (a taker being matched is not yet)

    @property
    def book_side(self) -> BookSide:
        return book_side_of(self.outcome)

    def snapshot(self) -> OrderSnapshot:
        return OrderSnapshot(
            order_id=self.order_id,
            user_id=self.user_id,
            client_order_id=self.client_order_id,
            ticker=self.ticker,
            side=self.side,
            action=self.action,
            outcome=self.outcome,
            yes_price=self.yes_price,
            status=self.status,
            initial_count=self.initial_count,
            fill_count=self.fill_count,
            remaining=self.remaining,
            taker_fill_cost=self.taker_fill_cost,
            maker_fill_cost=self.maker_fill_cost,
            taker_fees=self.taker_fees,
            maker_fees=self.maker_fees,
            time_in_force=self.time_in_force,
            expiration_ts=self.expiration_ts,
            post_only=self.post_only,
            reduce_only=self.reduce_only,
            self_trade_prevention=self.self_trade_prevention,
            cancel_order_on_pause=self.cancel_order_on_pause,
            created_ts=self.created_ts,
            last_update_ts=self.last_update_ts,
            last_update_reason=self.last_update_reason,
            seq=self.seq,
            order_group_id=self.order_group_id,
        )


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """An order as it was at one moment: what REST and the user_orders channel show."""

    order_id: str
    user_id: str
    client_order_id: str
    ticker: str
    side: Side
    action: Action
    outcome: Side
    yes_price: Decimal
    status: OrderStatus
    initial_count: Decimal
    fill_count: Decimal
    remaining: Decimal
    taker_fill_cost: Decimal
    maker_fill_cost: Decimal
    taker_fees: Decimal
    maker_fees: Decimal
    time_in_force: TimeInForce
    expiration_ts: int | None
    post_only: bool
    reduce_only: bool
    self_trade_prevention: SelfTradePrevention
    cancel_order_on_pause: bool
    created_ts: float
    last_update_ts: float
    last_update_reason: UpdateReason
    seq: int
    order_group_id: str | None

    @property
    def no_price(self) -> Decimal:
        return ONE - self.yes_price

    @property
    def book_side(self) -> BookSide:
        return book_side_of(self.outcome)
