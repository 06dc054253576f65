"""Typed, immutable events the WebSocket client delivers (shapes from ``asyncapi.yaml``).

Each ``from_wire`` takes the message's ``msg`` object plus the envelope's ``sid`` and
``seq``; a malformed message raises :class:`~kalshi.errors.ParseError` and the client
logs and skips it. Events are plain frozen values, safe to hand to another thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from kalshi.direction import book_side_of_outcome, direction_of, outcome_of
from kalshi.errors import ParseError
from kalshi.fields import Fields, to_decimal
from kalshi.models import Fill
from kalshi.orderbook import PriceLevel
from kalshi.units import ONE, PriceLevels, UnitError
from messages.vocabulary import SIDES, Action, BookSide, Side


@dataclass(frozen=True, slots=True)
class Connected:
    """The socket is up and authenticated; subscriptions are being (re)sent."""

    environment: str
    reconnect: bool  # False for the first connection


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The socket went down; every order book must be considered stale."""

    reason: str


@dataclass(frozen=True, slots=True)
class Subscribed:
    channel: str
    sid: int
    market_tickers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SubscriptionFailed:
    """The server refused a command (code from the asyncapi table)."""

    channel: str | None
    code: int
    message: str
    terminal: bool  # the subscription ended and will be re-created


@dataclass(frozen=True, slots=True)
class SequenceGap:
    channel: str
    sid: int
    expected: int
    received: int


@dataclass(frozen=True, slots=True)
class BookInvalidated:
    """Drop the local book of ``market_ticker``: a fresh snapshot has been requested."""

    market_ticker: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderbookSnapshotEvent:
    market_ticker: str
    yes: tuple[PriceLevel, ...]  # ascending, best bid last
    no: tuple[PriceLevel, ...]
    sid: int
    seq: int

    @classmethod
    def from_wire(cls, msg: object, sid: int, seq: int) -> OrderbookSnapshotEvent:
        f = Fields("orderbook_snapshot", msg)
        return cls(
            f.text("market_ticker"),
            f.levels("yes_dollars_fp"),
            f.levels("no_dollars_fp"),
            sid,
            seq,
        )


@dataclass(frozen=True, slots=True)
class OrderbookDeltaEvent:
    market_ticker: str
    side: str
    price: Decimal
    delta: Decimal  # signed change of the resting size at ``price``
    sid: int
    seq: int
    client_order_id: str | None = None  # present when our own order caused it
    ts_ms: int | None = None

    @classmethod
    def from_wire(cls, msg: object, sid: int, seq: int) -> OrderbookDeltaEvent:
        f = Fields("orderbook_delta", msg)
        return cls(
            f.text("market_ticker"),
            f.choice("side", ("yes", "no")),
            f.dollars("price_dollars"),
            f.count("delta_fp"),
            sid,
            seq,
            f.opt_text("client_order_id"),
            f.opt_integer("ts_ms"),
        )


@dataclass(frozen=True, slots=True)
class TickerEvent:
    market_ticker: str
    price: Decimal | None
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    yes_bid_size: Decimal | None
    yes_ask_size: Decimal | None
    volume: Decimal | None
    open_interest: Decimal | None
    last_trade_size: Decimal | None
    ts_ms: int | None
    sid: int

    @classmethod
    def from_wire(cls, msg: object, sid: int) -> TickerEvent:
        f = Fields("ticker", msg)
        ts_ms = f.opt_integer("ts_ms")
        if ts_ms is None and (seconds := f.opt_integer("ts")) is not None:
            ts_ms = seconds * 1000
        return cls(
            f.text("market_ticker"),
            f.opt_dollars("price_dollars"),
            f.opt_dollars("yes_bid_dollars"),
            f.opt_dollars("yes_ask_dollars"),
            f.opt_count("yes_bid_size_fp"),
            f.opt_count("yes_ask_size_fp"),
            f.opt_count("volume_fp"),
            f.opt_count("open_interest_fp"),
            f.opt_count("last_trade_size_fp"),
            ts_ms,
            sid,
        )


@dataclass(frozen=True, slots=True)
class TradeEvent:
    trade_id: str
    market_ticker: str
    yes_price: Decimal
    no_price: Decimal
    count: Decimal
    taker_side: str  # outcome side the taker bought into
    ts_ms: int | None
    sid: int
    seq: int | None

    @classmethod
    def from_wire(cls, msg: object, sid: int, seq: int | None) -> TradeEvent:
        f = Fields("trade", msg)
        ts_ms = f.opt_integer("ts_ms")
        if ts_ms is None and (seconds := f.opt_integer("ts")) is not None:
            ts_ms = seconds * 1000
        taker = f.opt_text("taker_outcome_side") or f.text("taker_side")
        return cls(
            f.text("trade_id"),
            f.text("market_ticker"),
            f.dollars("yes_price_dollars"),
            f.dollars("no_price_dollars"),
            f.count("count_fp"),
            taker,
            ts_ms,
            sid,
            seq,
        )


@dataclass(frozen=True, slots=True)
class FillEvent:
    fill: Fill
    sid: int

    @classmethod
    def from_wire(cls, msg: object, sid: int) -> FillEvent:
        return cls(Fill.from_wire(msg), sid)


@dataclass(frozen=True, slots=True)
class OrderUpdateEvent:
    """A ``user_order`` message: one of our orders was created, filled or cancelled.

    Direction comes from ``outcome_side``/``book_side`` (the legacy ``side`` tells a buy
    of one side from a sale of the other). A legacy-only message has no ``action``: then
    ``action`` is None rather than a guess.
    """

    order_id: str
    client_order_id: str | None
    ticker: str
    status: str  # resting | canceled | executed | unknown
    side: Side
    action: Action | None
    yes_price: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    initial_count: Decimal | None
    taker_fees: Decimal | None
    maker_fees: Decimal | None
    taker_fill_cost: Decimal | None
    maker_fill_cost: Decimal | None
    last_update_reason: str | None
    updated_ts_ms: int | None
    sid: int
    exchange_index: int | None = None
    order_group_id: str | None = None

    @property
    def outcome_side(self) -> Side | None:
        return None if self.action is None else outcome_of(self.side, self.action)

    @property
    def book_side(self) -> BookSide | None:
        outcome = self.outcome_side
        return None if outcome is None else book_side_of_outcome(outcome)

    @property
    def price(self) -> Decimal:
        """The limit price of the order's own side."""
        return self.yes_price if self.side == "yes" else ONE - self.yes_price

    @classmethod
    def from_wire(cls, msg: object, sid: int) -> OrderUpdateEvent:
        f = Fields("user_order", msg)
        updated = f.opt_integer("last_updated_ts_ms")
        side, action = _order_direction(f)
        return cls(
            order_id=f.text("order_id"),
            client_order_id=f.opt_text("client_order_id") or None,
            ticker=f.text("ticker"),
            status=f.text("status"),
            side=side,
            action=action,
            yes_price=f.dollars("yes_price_dollars"),
            fill_count=f.count("fill_count_fp"),
            remaining_count=f.count("remaining_count_fp"),
            initial_count=f.opt_count("initial_count_fp"),
            taker_fees=f.opt_dollars("taker_fees_dollars"),
            maker_fees=f.opt_dollars("maker_fees_dollars"),
            taker_fill_cost=f.opt_dollars("taker_fill_cost_dollars"),
            maker_fill_cost=f.opt_dollars("maker_fill_cost_dollars"),
            last_update_reason=f.opt_text("last_update_reason"),
            updated_ts_ms=updated if updated is not None else f.opt_integer("created_ts_ms"),
            sid=sid,
            exchange_index=f.opt_integer("exchange_index"),
            order_group_id=f.opt_text("order_group_id") or None,
        )


def _order_direction(f: Fields) -> tuple[Side, Action | None]:
    book_side, outcome_side = f.opt_text("book_side"), f.opt_text("outcome_side")
    legacy_side = f.opt_text("side")
    if book_side is None and outcome_side is None:
        side = f.choice("side", SIDES)  # legacy: the order's side, no action sent
        return ("yes" if side == "yes" else "no"), None
    try:
        return direction_of(book_side, outcome_side, legacy_side, f.opt_text("action"))
    except ParseError as exc:
        raise f.fail("direction", exc.message) from None


@dataclass(frozen=True, slots=True)
class PositionEvent:
    market_ticker: str
    position: Decimal
    position_cost: Decimal | None
    realized_pnl: Decimal | None
    fees_paid: Decimal | None
    volume: Decimal | None
    sid: int

    @classmethod
    def from_wire(cls, msg: object, sid: int) -> PositionEvent:
        f = Fields("market_position", msg)
        return cls(
            f.text("market_ticker"),
            f.count("position_fp"),
            f.opt_dollars("position_cost_dollars"),
            f.opt_dollars("realized_pnl_dollars"),
            f.opt_dollars("fees_paid_dollars"),
            f.opt_count("volume_fp"),
            sid,
        )


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """``market_lifecycle_v2``: created, activated, deactivated, determined, settled, …"""

    market_ticker: str
    event_type: str
    open_ts: int | None
    close_ts: int | None
    determination_ts: int | None
    settled_ts: int | None
    result: str | None
    settlement_value: Decimal | None
    is_deactivated: bool | None
    price_levels: PriceLevels | None
    event_ticker: str | None
    floor_strike: Decimal | None
    strike_type: str | None
    sid: int
    seq: int | None

    @classmethod
    def from_wire(cls, msg: object, sid: int, seq: int | None) -> LifecycleEvent:
        f = Fields("market_lifecycle_v2", msg)
        ranges = f.raw("price_ranges")
        levels = None
        if ranges is not None:
            try:
                levels = PriceLevels.from_wire(ranges)
            except (KeyError, TypeError, UnitError) as exc:
                raise f.fail("price_ranges", f"malformed: {exc}") from None
        meta_raw = f.raw("additional_metadata")
        meta = Fields("market_lifecycle_v2.additional_metadata", meta_raw or {})
        floor = meta.opt_number("floor_strike")
        if floor is None:
            floor = f.opt_number("floor_strike")  # metadata_updated carries it at the top
        return cls(
            market_ticker=f.text("market_ticker"),
            event_type=f.text("event_type"),
            open_ts=f.opt_integer("open_ts"),
            close_ts=f.opt_integer("close_ts"),
            determination_ts=f.opt_integer("determination_ts"),
            settled_ts=f.opt_integer("settled_ts"),
            result=f.opt_text("result") or None,
            settlement_value=f.opt_dollars("settlement_value"),
            is_deactivated=f.opt_flag("is_deactivated"),
            price_levels=levels,
            event_ticker=meta.opt_text("event_ticker"),
            floor_strike=floor,
            strike_type=meta.opt_text("strike_type") or f.opt_text("strike_type"),
            sid=sid,
            seq=seq,
        )


@dataclass(frozen=True, slots=True)
class IndexAverage:
    value: Decimal
    window_size: int
    window_start_ts_ms: int
    window_end_ts_ms: int  # exclusive

    @classmethod
    def from_wire(cls, data: object, model: str) -> IndexAverage:
        f = Fields(model, data)
        return cls(
            f.number("value"),
            f.integer("window_size"),
            f.integer("window_start_ts_ms"),
            f.integer("window_end_ts_exclusive"),
        )


INDEX_CHANNEL = "cfbenchmarks_value"
INDEX_5HZ_CHANNEL = "cfbenchmarks_value_5hz"


@dataclass(frozen=True, slots=True)
class IndexValueEvent:
    """A CF Benchmarks index print, from ``cfbenchmarks_value`` (about 1/s, with its
    60-s averages) or ``cfbenchmarks_value_5hz`` (up to 5/s, raw ticks: no averages).
    ``channel`` says which."""

    index_id: str
    value: Decimal
    source_ts_ms: int | None
    received_at_ms: int
    avg_60s: IndexAverage | None  # None on the 5 Hz channel
    final_minute_avg: IndexAverage | None  # only in the minute before a quarter-hour close
    sid: int
    seq: int | None
    channel: str = INDEX_CHANNEL

    @classmethod
    def from_wire(cls, msg: object, sid: int, seq: int | None) -> IndexValueEvent:
        """A ``cfbenchmarks_value`` message (the value is inside the raw ``data`` frame)."""
        f = Fields(INDEX_CHANNEL, msg)
        raw = f.text("data")
        try:
            frame = json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise f.fail("data", "not a JSON frame") from None
        inner = Fields(f"{INDEX_CHANNEL}.data", frame)
        value = inner.number("value")
        final_raw = f.raw("last_60s_windowed_average_15min")
        return cls(
            index_id=f.text("index_id"),
            value=value,
            source_ts_ms=inner.opt_integer("time"),
            received_at_ms=f.integer("received_at"),
            avg_60s=IndexAverage.from_wire(f.value("avg_60s_data", True), "avg_60s_data"),
            final_minute_avg=(
                None
                if final_raw is None
                else IndexAverage.from_wire(final_raw, "last_60s_windowed_average_15min")
            ),
            sid=sid,
            seq=seq,
        )

    @classmethod
    def from_wire_5hz(cls, msg: object, sid: int, seq: int | None) -> IndexValueEvent:
        """A ``cfbenchmarks_value_5hz`` message: ``value_usd`` at ``source_ts_ms``."""
        f = Fields(INDEX_5HZ_CHANNEL, msg)
        f.text("data")  # required by the spec; the parsed fields beside it are what we use
        return cls(
            index_id=f.text("index_id"),
            value=f.convert("value_usd", f.text("value_usd"), to_decimal),
            source_ts_ms=f.integer("source_ts_ms"),
            received_at_ms=f.integer("received_at"),
            avg_60s=None,
            final_minute_avg=None,
            sid=sid,
            seq=seq,
            channel=INDEX_5HZ_CHANNEL,
        )


@dataclass(frozen=True, slots=True)
class OrderGroupEvent:
    """An ``order_group_updates`` message: a group was created, triggered, reset, deleted
    or had its limit changed (``contracts_limit`` only for created and limit_updated)."""

    event_type: str
    order_group_id: str
    contracts_limit: Decimal | None
    ts_ms: int
    sid: int
    seq: int | None

    @classmethod
    def from_wire(cls, msg: object, sid: int, seq: int | None) -> OrderGroupEvent:
        f = Fields("order_group_updates", msg)
        return cls(
            f.choice("event_type", ORDER_GROUP_EVENTS),
            f.text("order_group_id"),
            f.opt_count("contracts_limit_fp"),
            f.integer("ts_ms"),
            sid,
            seq,
        )


ORDER_GROUP_EVENTS = ("created", "triggered", "reset", "deleted", "limit_updated")


WsEvent = (
    Connected
    | Disconnected
    | Subscribed
    | SubscriptionFailed
    | SequenceGap
    | BookInvalidated
    | OrderbookSnapshotEvent
    | OrderbookDeltaEvent
    | TickerEvent
    | TradeEvent
    | FillEvent
    | OrderUpdateEvent
    | PositionEvent
    | LifecycleEvent
    | IndexValueEvent
    | OrderGroupEvent
)
