"""Typed, immutable wire models for the REST answers the bot uses.

Shapes follow ``openapi.yaml`` (v3.13). Prices and counts are parsed exactly into
Decimal from Kalshi's fixed-point strings; JSON numbers (``floor_strike``,
``fee_multiplier``) are taken through their decimal text, never through float maths.
Unknown fields are ignored, so additions to the API do not break us. A missing
optional field is ``None``. A missing or malformed field we rely on raises
:class:`~kalshi.errors.ParseError` naming the model and field, never a default: a
missing price must not silently become a "phantom" price.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from kalshi.errors import ParseError
from kalshi.orderbook import ONE, PriceLevel
from kalshi.units import PriceLevels, UnitError, cents_to_dollars, parse_count, parse_dollars

T = TypeVar("T")
_MISSING = object()


class Fields:
    """Reads one JSON object for one model, with errors that name ``Model.field``."""

    __slots__ = ("_data", "model")

    def __init__(self, model: str, data: object) -> None:
        if not isinstance(data, Mapping):
            raise ParseError(f"{model}: expected a JSON object, got {type(data).__name__}")
        self.model = model
        self._data: Mapping[str, Any] = data

    def fail(self, key: str, problem: str) -> ParseError:
        return ParseError(f"{self.model}.{key}: {problem}")

    def raw(self, key: str) -> Any:
        return self._data.get(key)

    def value(self, key: str, required: bool) -> Any:
        value = self._data.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise self.fail(key, "missing")
            return None
        return value

    def convert(self, key: str, value: Any, convert: Callable[[Any], T]) -> T:
        try:
            return convert(value)
        except (UnitError, ValueError, TypeError, InvalidOperation, ArithmeticError) as exc:
            raise self.fail(key, str(exc) or f"invalid value {value!r}") from None

    def text(self, key: str) -> str:
        value = self.value(key, True)
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type(value).__name__}")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.value(key, False)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type(value).__name__}")
        return value

    def choice(self, key: str, allowed: Iterable[str]) -> str:
        value = self.text(key)
        if value not in allowed:
            raise self.fail(key, f"unexpected value {value!r}")
        return value

    def dollars(self, key: str) -> Decimal:
        return self.convert(key, self.value(key, True), parse_dollars)

    def opt_dollars(self, key: str) -> Decimal | None:
        value = self.value(key, False)
        return None if value is None else self.convert(key, value, parse_dollars)

    def count(self, key: str) -> Decimal:
        return self.convert(key, self.value(key, True), parse_count)

    def opt_count(self, key: str) -> Decimal | None:
        value = self.value(key, False)
        return None if value is None else self.convert(key, value, parse_count)

    def number(self, key: str) -> Decimal:
        return self.convert(key, self.value(key, True), to_decimal)

    def opt_number(self, key: str) -> Decimal | None:
        value = self.value(key, False)
        return None if value is None else self.convert(key, value, to_decimal)

    def integer(self, key: str) -> int:
        value = self.value(key, True)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {type(value).__name__}")
        return value

    def opt_integer(self, key: str) -> int | None:
        return None if self.value(key, False) is None else self.integer(key)

    def flag(self, key: str) -> bool:
        value = self.value(key, True)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected a boolean, got {type(value).__name__}")
        return value

    def opt_flag(self, key: str) -> bool | None:
        return None if self.value(key, False) is None else self.flag(key)

    def time(self, key: str) -> datetime:
        return self.convert(key, self.value(key, True), parse_time)

    def opt_time(self, key: str) -> datetime | None:
        value = self.value(key, False)
        if value is None or value == "":
            return None
        return self.convert(key, value, parse_time)

    def levels(self, key: str, *, required: bool = False) -> tuple[PriceLevel, ...]:
        value = self.value(key, required)
        if value is None:
            return ()
        return self.convert(key, value, parse_levels)


def to_decimal(value: object) -> Decimal:
    """A JSON number or numeric string as an exact Decimal (floats via their shortest text)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"not finite: {value!r}")
    return result


def parse_time(value: object) -> datetime:
    """An RFC 3339 timestamp (``Z`` or offset, any fraction) as an aware UTC datetime."""
    if not isinstance(value, str):
        raise ValueError(f"expected an RFC 3339 string, got {type(value).__name__}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_levels(value: object) -> tuple[PriceLevel, ...]:
    """``[["0.4200", "13.00"], …]`` as price levels (wire order kept)."""
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected a list of [price, count], got {type(value).__name__}")
    levels = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError(f"expected [price, count], got {item!r}")
        levels.append(PriceLevel(parse_dollars(item[0]), parse_count(item[1])))
    return tuple(levels)


def _non_empty(value: str | None) -> str | None:
    return value or None


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

    @classmethod
    def from_wire(cls, data: object) -> Series:
        f = Fields("Series", data)
        return cls(
            ticker=f.text("ticker"),
            fee_type=f.text("fee_type"),
            fee_multiplier=f.number("fee_multiplier"),
            title=f.opt_text("title"),
            frequency=f.opt_text("frequency"),
            category=f.opt_text("category"),
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
        expiration = _non_empty(f.opt_text("expiration_value"))
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
            result=_non_empty(f.opt_text("result")),
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


_SIDES = ("yes", "no")
_ACTIONS = ("buy", "sell")


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    ticker: str
    side: str  # yes | no
    action: str  # buy | sell
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

    @property
    def price(self) -> Decimal:
        """The limit price of the order's own side."""
        return self.yes_price if self.side == "yes" else self.no_price

    @property
    def fees(self) -> Decimal | None:
        if self.taker_fees is None and self.maker_fees is None:
            return None
        return (self.taker_fees or Decimal(0)) + (self.maker_fees or Decimal(0))

    @classmethod
    def from_wire(cls, data: object) -> Order:
        f = Fields("Order", data)
        return cls(
            order_id=f.text("order_id"),
            ticker=f.text("ticker"),
            side=f.choice("side", _SIDES),
            action=f.choice("action", _ACTIONS),
            status=f.text("status"),
            yes_price=f.dollars("yes_price_dollars"),
            no_price=f.dollars("no_price_dollars"),
            fill_count=f.count("fill_count_fp"),
            remaining_count=f.count("remaining_count_fp"),
            client_order_id=_non_empty(f.opt_text("client_order_id")),
            type=f.opt_text("type"),
            initial_count=f.opt_count("initial_count_fp"),
            taker_fees=f.opt_dollars("taker_fees_dollars"),
            maker_fees=f.opt_dollars("maker_fees_dollars"),
            taker_fill_cost=f.opt_dollars("taker_fill_cost_dollars"),
            maker_fill_cost=f.opt_dollars("maker_fill_cost_dollars"),
            created_time=f.opt_time("created_time"),
            last_update_time=f.opt_time("last_update_time"),
            expiration_time=f.opt_time("expiration_time"),
        )


@dataclass(frozen=True, slots=True)
class CancelResult:
    order: Order
    reduced_by: Decimal | None  # None when a retried cancel had to be confirmed by lookup

    @classmethod
    def from_wire(cls, data: object) -> CancelResult:
        f = Fields("CancelOrderResponse", data)
        return cls(Order.from_wire(f.value("order", True)), f.opt_count("reduced_by_fp"))


@dataclass(frozen=True, slots=True)
class Fill:
    """One of our fills, from ``GET /portfolio/fills`` or the ``fill`` WebSocket channel."""

    trade_id: str
    order_id: str
    ticker: str
    side: str
    action: str
    count: Decimal
    yes_price: Decimal
    no_price: Decimal
    is_taker: bool
    fee: Decimal
    fill_id: str
    client_order_id: str | None = None
    created_time: datetime | None = None
    ts_ms: int | None = None
    post_position: Decimal | None = None
    outcome_side: str | None = None

    @property
    def price(self) -> Decimal:
        return self.yes_price if self.side == "yes" else self.no_price

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
        return cls(
            trade_id=trade_id,
            order_id=f.text("order_id"),
            ticker=ticker,
            side=f.choice("side", _SIDES),
            action=f.text("action"),
            count=f.count("count_fp"),
            yes_price=yes_price,
            no_price=ONE - yes_price if no_price is None else no_price,
            is_taker=f.flag("is_taker"),
            fee=f.dollars("fee_cost"),
            fill_id=f.opt_text("fill_id") or trade_id,
            client_order_id=_non_empty(f.opt_text("client_order_id")),
            created_time=f.opt_time("created_time"),
            ts_ms=ts_ms,
            post_position=f.opt_count("post_position_fp"),
            outcome_side=f.opt_text("outcome_side"),
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
