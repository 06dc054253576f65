"""What the core reports after each step, for the WebSocket feed.

Immutable values; the server turns each into channel messages. The core keeps
them in an outbox (``Exchange.drain_events``) in the order they happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from messages.vocabulary import Side
from simulator.index import IndexPrint, WindowAverage
from simulator.orders import OrderSnapshot
from simulator.portfolio import Fill

LifecycleType = Literal["created", "activated", "metadata_updated", "determined", "settled"]
GroupEventType = Literal["created", "triggered", "reset", "deleted", "limit_updated"]


@dataclass(frozen=True, slots=True)
class BookDelta:
    """A signed change of resting size at one price of one side (``orderbook_delta``)."""

    ticker: str
    side: Side
    price: Decimal
    delta: Decimal
    ts: float
    cause_user_id: str
    cause_client_order_id: str


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """A public trade (``trade``)."""

    trade_id: str
    ticker: str
    yes_price: Decimal
    count: Decimal
    taker_outcome: Side
    ts: float


@dataclass(frozen=True, slots=True)
class FillEvent:
    """A user's fill (``fill``)."""

    fill: Fill


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """A user's order was created or changed (``user_orders``)."""

    order: OrderSnapshot


@dataclass(frozen=True, slots=True)
class PositionEvent:
    """A user's position changed (``market_positions``)."""

    user_id: str
    ticker: str
    position: Decimal
    position_cost: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class TickerEvent:
    """Top of book, last price, volume or open interest of a market changed (``ticker``)."""

    ticker: str
    market_id: str
    last_price: Decimal
    yes_bid: Decimal
    yes_ask: Decimal
    yes_bid_size: Decimal
    yes_ask_size: Decimal
    volume: Decimal
    open_interest: Decimal
    dollar_volume: int
    dollar_open_interest: int
    last_trade_size: Decimal
    ts: float


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """A market changed state (``market_lifecycle_v2``)."""

    ticker: str
    event_type: LifecycleType
    ts: int


@dataclass(frozen=True, slots=True)
class EventCreated:
    """A new event (window) was listed (``event_lifecycle`` on ``market_lifecycle_v2``)."""

    event_ticker: str
    ts: int


@dataclass(frozen=True, slots=True)
class IndexTick:
    """A new index print with its averages (``cfbenchmarks_value``)."""

    index_id: str
    print: IndexPrint
    avg_60s: WindowAverage
    final_minute: WindowAverage | None


@dataclass(frozen=True, slots=True)
class FastIndexTick:
    """One tick of the 5-per-second index feed (``cfbenchmarks_value_5hz``)."""

    index_id: str
    ts_ms: int
    value: Decimal


@dataclass(frozen=True, slots=True)
class OrderGroupEvent:
    """A user's order group changed (``order_group_updates``)."""

    user_id: str
    group_id: str
    event_type: GroupEventType
    limit: Decimal | None  # for "created" and "limit_updated"
    ts: float


Event = (
    BookDelta
    | TradeEvent
    | FillEvent
    | OrderEvent
    | PositionEvent
    | TickerEvent
    | LifecycleEvent
    | EventCreated
    | IndexTick
    | FastIndexTick
    | OrderGroupEvent
)


class Outbox:
    """The core's event queue; a no-op when events are not wanted (benchmarks)."""

    __slots__ = ("_events", "enabled")

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._events: list[Event] = []

    def emit(self, event: Event) -> None:
        if self.enabled:
            self._events.append(event)

    def drain(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def __len__(self) -> int:
        return len(self._events)
