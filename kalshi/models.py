"""Typed, immutable wire models for the REST answers the bot reads.

Shapes follow ``openapi.yaml`` (3.31.0); :mod:`kalshi.fields` does the exact parsing.
Unknown fields are ignored, so additions to the API do not break us. Order and fill
direction comes from ``outcome_side``/``book_side`` when present (``side``/``action`` are
deprecated) and is exposed as our (side, action) through :func:`kalshi.direction.direction_of`,
so payloads from before and after the change read alike. The V2 order-write shapes live
in :mod:`kalshi.orders`, the account's limits in :mod:`kalshi.account`; both are
re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from kalshi.account import AccountLimits, BucketLimit, EndpointCost, EndpointCosts
from kalshi.direction import book_side_of_outcome, direction_of, outcome_of
from kalshi.errors import ParseError
from kalshi.fields import Fields, non_empty, parse_levels, parse_time, to_decimal
from kalshi.indices import index_from_sources
from kalshi.orderbook import ONE, PriceLevel
from kalshi.orders import (
    AmendedOrder,
    BatchCancelEntry,
    BatchCreateEntry,
    CanceledOrder,
    CreatedOrder,
    DecreasedOrder,
    OrderGroup,
    OrderRequestV2,
)
from kalshi.units import PriceLevels, UnitError, cents_to_dollars
from messages.vocabulary import Action, BookSide, Side

__all__ = [
    "AccountLimits",
    "AmendedOrder",
    "Balance",
    "BatchCancelEntry",
    "BatchCreateEntry",
    "BucketLimit",
    "CanceledOrder",
    "CreatedOrder",
    "DecreasedOrder",
    "EndpointCost",
    "EndpointCosts",
    "ExchangeStatus",
    "Fields",
    "Fill",
    "Market",
    "MarketPosition",
    "Order",
    "OrderGroup",
    "OrderRequestV2",
    "OrderbookSnapshot",
    "Page",
    "PortfolioSettlement",
    "Series",
    "parse_levels",
    "parse_time",
    "to_decimal",
]

T = TypeVar("T")


def _direction(f: Fields) -> tuple[Side, Action]:
    """(side, action) from the new direction fields, the legacy ones as a tie-break."""
    try:
        return direction_of(
            f.opt_text("book_side"),
            f.opt_text("outcome_side"),
            f.opt_text("side"),
            f.opt_text("action"),
        )
    except ParseError as exc:
        raise f.fail("direction", exc.message) from None


@dataclass(frozen=True, slots=True)
class ExchangeStatus:
    exchange_active: bool
    trading_active: bool
    exchange_estimated_resume_time: datetime | None = None

    @classmethod
    def from_wire(cls, data: object) -> ExchangeStatus:
        f = Fields("ExchangeStatus", data)
        return cls(
            f.flag("exchange_active"),
            f.flag("trading_active"),
            f.opt_time("exchange_estimated_resume_time"),
        )


@dataclass(frozen=True, slots=True)
class Series:
    ticker: str
    fee_type: str  # quadratic | quadratic_with_maker_fees | flat
    fee_multiplier: Decimal
    title: str | None = None
    frequency: str | None = None
    category: str | None = None
    # The index its settlement source names (``…/indices/BRTI``); None when it names none.
    settlement_index: str | None = None

    @classmethod
    def from_wire(cls, data: object) -> Series:
        f = Fields("Series", data)
        sources = f.raw("settlement_sources")
        listed = sources if isinstance(sources, list) else []
        return cls(
            ticker=f.text("ticker"),
            fee_type=f.text("fee_type"),
            fee_multiplier=f.number("fee_multiplier"),
            title=f.opt_text("title"),
            frequency=f.opt_text("frequency"),
            category=f.opt_text("category"),
            settlement_index=index_from_sources(s for s in listed if isinstance(s, dict)),
        )


@dataclass(frozen=True, slots=True)
class Market:
    """A market. Bid/ask fields are required: a market without prices is skipped, not zeroed."""

    ticker: str
    event_ticker: str
    status: str
    open_time: datetime
    close_time: datetime
    yes_bid: Decimal
    yes_ask: Decimal
    no_bid: Decimal
    no_ask: Decimal
    price_levels: PriceLevels
    floor_strike: Decimal | None = None
    cap_strike: Decimal | None = None
    strike_type: str | None = None
    result: str | None = None  # "yes" | "no" | "scalar"; None until determined
    expiration_value: Decimal | None = None
    settlement_value: Decimal | None = None
    yes_bid_size: Decimal | None = None
    yes_ask_size: Decimal | None = None
    last_price: Decimal | None = None
    volume: Decimal | None = None
    open_interest: Decimal | None = None
    market_type: str | None = None
    price_level_structure: str | None = None
    latest_expiration_time: datetime | None = None
    expected_expiration_time: datetime | None = None
    settlement_ts: datetime | None = None
    can_close_early: bool | None = None
    fractional_trading_enabled: bool | None = None

    @classmethod
    def from_wire(cls, data: object) -> Market:
        f = Fields("Market", data)
        ranges = f.raw("price_ranges")
        if ranges is not None and not isinstance(ranges, list):
            raise f.fail("price_ranges", "expected a list")
        try:
            levels = PriceLevels.from_wire(ranges)
        except (KeyError, TypeError, UnitError) as exc:
            raise f.fail("price_ranges", f"malformed: {exc}") from None
        expiration = non_empty(f.opt_text("expiration_value"))
        return cls(
            ticker=f.text("ticker"),
            event_ticker=f.text("event_ticker"),
            status=f.text("status"),
            open_time=f.time("open_time"),
            close_time=f.time("close_time"),
            yes_bid=f.dollars("yes_bid_dollars"),
            yes_ask=f.dollars("yes_ask_dollars"),
            no_bid=f.dollars("no_bid_dollars"),
            no_ask=f.dollars("no_ask_dollars"),
            price_levels=levels,
            floor_strike=f.opt_number("floor_strike"),
            cap_strike=f.opt_number("cap_strike"),
            strike_type=f.opt_text("strike_type"),
            result=non_empty(f.opt_text("result")),
            expiration_value=(
                None
                if expiration is None
                else f.convert("expiration_value", expiration, to_decimal)
            ),
            settlement_value=f.opt_dollars("settlement_value_dollars"),
            yes_bid_size=f.opt_count("yes_bid_size_fp"),
            yes_ask_size=f.opt_count("yes_ask_size_fp"),
            last_price=f.opt_dollars("last_price_dollars"),
            volume=f.opt_count("volume_fp"),
            open_interest=f.opt_count("open_interest_fp"),
            market_type=f.opt_text("market_type"),
            price_level_structure=f.opt_text("price_level_structure"),
            latest_expiration_time=f.opt_time("latest_expiration_time"),
            expected_expiration_time=f.opt_time("expected_expiration_time"),
            settlement_ts=f.opt_time("settlement_ts"),
            can_close_early=f.opt_flag("can_close_early"),
            fractional_trading_enabled=f.opt_flag("fractional_trading_enabled"),
        )


@dataclass(frozen=True, slots=True)
class OrderbookSnapshot:
    """Bids of both sides as Kalshi sends them: ascending, best bid last."""

    ticker: str
    yes: tuple[PriceLevel, ...]
    no: tuple[PriceLevel, ...]

    @classmethod
    def from_wire(cls, data: object, ticker: str) -> OrderbookSnapshot:
        """From ``GET /markets/{ticker}/orderbook`` (``{"orderbook_fp": {...}}``)."""
        outer = Fields("Orderbook", data)
        inner = Fields("Orderbook.orderbook_fp", outer.value("orderbook_fp", True))
        return cls(ticker, inner.levels("yes_dollars"), inner.levels("no_dollars"))


class _Directed:
    """The direction of an Order or a Fill, in both vocabularies, and the price of its side."""

    __slots__ = ()
    side: Side
    action: Action
    yes_price: Decimal
    no_price: Decimal

    @property
    def outcome_side(self) -> Side:
        return outcome_of(self.side, self.action)

    @property
    def book_side(self) -> BookSide:
        return book_side_of_outcome(self.outcome_side)

    @property
    def price(self) -> Decimal:
        """The price of the side bought or sold (the order's limit, the fill's price)."""
        return self.yes_price if self.side == "yes" else self.no_price


@dataclass(frozen=True, slots=True)
class Order(_Directed):
    """An order as ``GET /portfolio/orders`` reports it; ``side``/``action`` are ours."""

    order_id: str
    ticker: str
    side: Side
    action: Action
    status: str  # resting | canceled | executed
    yes_price: Decimal
    no_price: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    client_order_id: str | None = None
    type: str | None = None
    initial_count: Decimal | None = None
    taker_fees: Decimal | None = None
    maker_fees: Decimal | None = None
    taker_fill_cost: Decimal | None = None
    maker_fill_cost: Decimal | None = None
    created_time: datetime | None = None
    last_update_time: datetime | None = None
    expiration_time: datetime | None = None
    exchange_index: int | None = None
    order_group_id: str | None = None
    self_trade_prevention_type: str | None = None

    @property
    def fees(self) -> Decimal | None:
        if self.taker_fees is None and self.maker_fees is None:
            return None
        return (self.taker_fees or Decimal(0)) + (self.maker_fees or Decimal(0))

    @classmethod
    def from_wire(cls, data: object) -> Order:
        f = Fields("Order", data)
        side, action = _direction(f)
        return cls(
            order_id=f.text("order_id"),
            ticker=f.text("ticker"),
            side=side,
            action=action,
            status=f.text("status"),
            yes_price=f.dollars("yes_price_dollars"),
            no_price=f.dollars("no_price_dollars"),
            fill_count=f.count("fill_count_fp"),
            remaining_count=f.count("remaining_count_fp"),
            client_order_id=non_empty(f.opt_text("client_order_id")),
            type=f.opt_text("type"),
            initial_count=f.opt_count("initial_count_fp"),
            taker_fees=f.opt_dollars("taker_fees_dollars"),
            maker_fees=f.opt_dollars("maker_fees_dollars"),
            taker_fill_cost=f.opt_dollars("taker_fill_cost_dollars"),
            maker_fill_cost=f.opt_dollars("maker_fill_cost_dollars"),
            created_time=f.opt_time("created_time"),
            last_update_time=f.opt_time("last_update_time"),
            expiration_time=f.opt_time("expiration_time"),
            exchange_index=f.opt_integer("exchange_index"),
            order_group_id=non_empty(f.opt_text("order_group_id")),
            self_trade_prevention_type=f.opt_text("self_trade_prevention_type"),
        )


@dataclass(frozen=True, slots=True)
class Fill(_Directed):
    """One of our fills, from ``GET /portfolio/fills`` or the ``fill`` WebSocket channel."""

    trade_id: str
    order_id: str
    ticker: str
    side: Side
    action: Action
    count: Decimal
    yes_price: Decimal
    no_price: Decimal
    is_taker: bool
    fee: Decimal  # ``fee_cost``: dollars, up to 6 decimals
    fill_id: str
    client_order_id: str | None = None
    created_time: datetime | None = None
    ts_ms: int | None = None
    post_position: Decimal | None = None
    exchange_index: int | None = None

    @classmethod
    def from_wire(cls, data: object) -> Fill:
        f = Fields("Fill", data)
        trade_id = f.text("trade_id")
        ticker = f.opt_text("ticker") or f.text("market_ticker")
        yes_price = f.dollars("yes_price_dollars")
        no_price = f.opt_dollars("no_price_dollars")
        ts_ms = f.opt_integer("ts_ms")
        if ts_ms is None:
            seconds = f.opt_integer("ts")
            ts_ms = None if seconds is None else seconds * 1000
        side, action = _direction(f)
        return cls(
            trade_id=trade_id,
            order_id=f.text("order_id"),
            ticker=ticker,
            side=side,
            action=action,
            count=f.count("count_fp"),
            yes_price=yes_price,
            no_price=ONE - yes_price if no_price is None else no_price,
            is_taker=f.flag("is_taker"),
            fee=f.dollars("fee_cost"),
            fill_id=f.opt_text("fill_id") or trade_id,
            client_order_id=non_empty(f.opt_text("client_order_id")),
            created_time=f.opt_time("created_time"),
            ts_ms=ts_ms,
            post_position=f.opt_count("post_position_fp"),
            exchange_index=f.opt_integer("exchange_index"),
        )


@dataclass(frozen=True, slots=True)
class MarketPosition:
    """Position in one market; ``position`` > 0 is YES contracts, < 0 is NO contracts."""

    ticker: str
    position: Decimal
    market_exposure: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    total_traded: Decimal | None = None
    resting_orders_count: int | None = None
    last_updated: datetime | None = None
    exchange_index: int | None = None

    @classmethod
    def from_wire(cls, data: object) -> MarketPosition:
        f = Fields("MarketPosition", data)
        return cls(
            ticker=f.text("ticker"),
            position=f.count("position_fp"),
            market_exposure=f.dollars("market_exposure_dollars"),
            realized_pnl=f.dollars("realized_pnl_dollars"),
            fees_paid=f.dollars("fees_paid_dollars"),
            total_traded=f.opt_dollars("total_traded_dollars"),
            resting_orders_count=f.opt_integer("resting_orders_count"),
            last_updated=f.opt_time("last_updated_ts"),
            exchange_index=f.opt_integer("exchange_index"),
        )


@dataclass(frozen=True, slots=True)
class PortfolioSettlement:
    """One settled market of ours, from ``GET /portfolio/settlements``."""

    ticker: str
    event_ticker: str
    market_result: str  # yes | no | scalar
    yes_count: Decimal
    yes_total_cost: Decimal
    no_count: Decimal
    no_total_cost: Decimal
    revenue_cents: int
    settled_time: datetime
    fee_cost: Decimal
    value_cents: int | None = None
    exchange_index: int | None = None

    @property
    def revenue(self) -> Decimal:
        return cents_to_dollars(self.revenue_cents)

    @classmethod
    def from_wire(cls, data: object) -> PortfolioSettlement:
        f = Fields("Settlement", data)
        return cls(
            ticker=f.text("ticker"),
            event_ticker=f.text("event_ticker"),
            market_result=f.choice("market_result", ("yes", "no", "scalar")),
            yes_count=f.count("yes_count_fp"),
            yes_total_cost=f.dollars("yes_total_cost_dollars"),
            no_count=f.count("no_count_fp"),
            no_total_cost=f.dollars("no_total_cost_dollars"),
            revenue_cents=f.integer("revenue"),
            settled_time=f.time("settled_time"),
            fee_cost=f.dollars("fee_cost"),
            value_cents=f.opt_integer("value"),
            exchange_index=f.opt_integer("exchange_index"),
        )


@dataclass(frozen=True, slots=True)
class Balance:
    """Available balance and portfolio value, sent by Kalshi in integer cents."""

    balance_cents: int
    portfolio_value_cents: int
    updated_ts: int | None = None

    @property
    def balance(self) -> Decimal:
        return cents_to_dollars(self.balance_cents)

    @property
    def portfolio_value(self) -> Decimal:
        return cents_to_dollars(self.portfolio_value_cents)

    @classmethod
    def from_wire(cls, data: object) -> Balance:
        f = Fields("Balance", data)
        return cls(f.integer("balance"), f.integer("portfolio_value"), f.opt_integer("updated_ts"))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list endpoint. ``cursor`` is None on the last page."""

    items: tuple[T, ...]
    cursor: str | None
    skipped: int = 0  # malformed items that were logged and left out
