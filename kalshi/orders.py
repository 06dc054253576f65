"""The V2 order writes: what we send (``OrderRequestV2``) and what each write answers.

V2 quotes everything on the YES book (:mod:`kalshi.direction`): ``side`` is the book side
and ``price`` the YES price, both fixed-point strings. The create answer is flat — an id,
counts and a timestamp, not an Order — and is the first state of the order. A request is
validated when built, so a wrong one fails here and never costs a round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kalshi.direction import to_book
from kalshi.errors import KalshiError
from kalshi.fields import Fields, non_empty
from kalshi.units import ONE, ZERO, format_count, format_dollars
from messages.vocabulary import (
    BOOK_SIDES,
    SELF_TRADE_PREVENTION,
    TIMES_IN_FORCE,
    Action,
    BookSide,
    SelfTradePrevention,
    Side,
    TimeInForce,
)

if TYPE_CHECKING:
    from kalshi.models import Order

_MAX_PRICE_DECIMALS = 4  # "request fields accept 2-4 decimal places"
_MAX_COUNT_DECIMALS = 2


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _as_decimal(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"{name} must be a Decimal, not {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, not {value}")
    return result


def check_price(price: object) -> Decimal:
    """A YES price strictly inside (0, 1) with at most 4 decimals."""
    value = _as_decimal("price", price)
    if not ZERO < value < ONE:
        raise ValueError(f"price must be strictly between 0 and 1 dollars, not {value}")
    if _decimals(value) > _MAX_PRICE_DECIMALS:
        raise ValueError(f"price {value} has more than {_MAX_PRICE_DECIMALS} decimals")
    return value


def check_count(count: object, name: str = "count") -> Decimal:
    """A positive contract count in hundredths (Kalshi's fixed-point granularity)."""
    value = _as_decimal(name, count)
    if value <= ZERO:
        raise ValueError(f"{name} must be positive, not {value}")
    if _decimals(value) > _MAX_COUNT_DECIMALS:
        raise ValueError(f"{name} {value} is finer than 0.01 contracts")
    return value


@dataclass(frozen=True, slots=True)
class OrderRequestV2:
    """A ``CreateOrderV2Request``. ``side`` is the book side, ``price`` the YES price."""

    ticker: str
    client_order_id: str
    side: BookSide
    count: Decimal
    price: Decimal
    time_in_force: TimeInForce
    self_trade_prevention_type: SelfTradePrevention = "taker_at_cross"
    expiration_time: int | None = None  # Unix seconds; good_till_canceled only
    post_only: bool | None = None
    reduce_only: bool | None = None  # immediate_or_cancel only
    cancel_order_on_pause: bool | None = None
    order_group_id: str | None = None
    subaccount: int | None = None
    exchange_index: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.ticker, str) or not self.ticker:
            raise ValueError("ticker must be a non-empty string")
        if not isinstance(self.client_order_id, str) or not self.client_order_id:
            raise ValueError("client_order_id must be a non-empty string")
        if self.side not in BOOK_SIDES:
            raise ValueError(f"side must be bid or ask, not {self.side!r}")
        if self.time_in_force not in TIMES_IN_FORCE:
            raise ValueError(f"unknown time_in_force {self.time_in_force!r}")
        if self.self_trade_prevention_type not in SELF_TRADE_PREVENTION:
            raise ValueError(
                f"unknown self_trade_prevention_type {self.self_trade_prevention_type!r}"
            )
        object.__setattr__(self, "count", check_count(self.count))
        object.__setattr__(self, "price", check_price(self.price))
        self._check_options()

    def _check_options(self) -> None:
        if self.expiration_time is not None:
            if self.time_in_force != "good_till_canceled":
                raise ValueError("expiration_time needs time_in_force good_till_canceled")
            if isinstance(self.expiration_time, bool) or self.expiration_time <= 0:
                raise ValueError("expiration_time must be a positive Unix time in seconds")
        if self.reduce_only and self.time_in_force != "immediate_or_cancel":
            raise ValueError("reduce_only needs time_in_force immediate_or_cancel")
        if self.subaccount is not None and self.subaccount < 0:
            raise ValueError(f"subaccount must not be negative, not {self.subaccount}")
        if self.exchange_index is not None and self.exchange_index < -1:
            raise ValueError(f"exchange_index must be -1 or more, not {self.exchange_index}")
        if self.order_group_id is not None and not self.order_group_id:
            raise ValueError("order_group_id must not be empty")

    def to_wire(self) -> dict[str, Any]:
        """The JSON body: fixed-point strings, optional keys only when set."""
        body: dict[str, Any] = {
            "ticker": self.ticker,
            "client_order_id": self.client_order_id,
            "side": self.side,
            "count": format_count(self.count),
            "price": format_dollars(self.price),
            "time_in_force": self.time_in_force,
            "self_trade_prevention_type": self.self_trade_prevention_type,
        }
        optional = {
            "expiration_time": self.expiration_time,
            "post_only": self.post_only,
            "reduce_only": self.reduce_only,
            "cancel_order_on_pause": self.cancel_order_on_pause,
            "order_group_id": self.order_group_id,
            "subaccount": self.subaccount,
            "exchange_index": self.exchange_index,
        }
        body.update((key, value) for key, value in optional.items() if value is not None)
        return body

    @classmethod
    def for_intent(
        cls,
        ticker: str,
        side: Side,
        action: Action,
        count: Decimal,
        price: Decimal,
        *,
        client_order_id: str,
        time_in_force: TimeInForce,
        expiration_time: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        order_group_id: str | None = None,
        self_trade_prevention_type: SelfTradePrevention = "taker_at_cross",
    ) -> OrderRequestV2:
        """Our (side, action, price of our side) as a V2 request on the YES book."""
        book_side, yes_price = to_book(side, action, _as_decimal("price", price))
        return cls(
            ticker=ticker,
            client_order_id=client_order_id,
            side=book_side,
            count=count,
            price=yes_price,
            time_in_force=time_in_force,
            self_trade_prevention_type=self_trade_prevention_type,
            expiration_time=expiration_time,
            post_only=post_only or None,
            reduce_only=reduce_only or None,
            order_group_id=order_group_id,
        )


@dataclass(frozen=True, slots=True)
class CreatedOrder:
    """A ``CreateOrderV2Response``: the first state of a new order.

    ``found`` is set instead when the answer was lost and the order was recovered by
    looking it up (then the averages are unknown: read the fills for prices and fees).
    """

    order_id: str
    client_order_id: str | None
    fill_count: Decimal
    remaining_count: Decimal
    ts_ms: int
    average_fill_price: Decimal | None = None
    average_fee_paid: Decimal | None = None
    found: Order | None = None

    @classmethod
    def from_wire(cls, data: object, model: str = "CreateOrderV2Response") -> CreatedOrder:
        f = Fields(model, data)
        return cls(
            order_id=f.text("order_id"),
            client_order_id=non_empty(f.opt_text("client_order_id")),
            fill_count=f.fixed_count("fill_count"),
            remaining_count=f.fixed_count("remaining_count"),
            ts_ms=f.integer("ts_ms"),
            average_fill_price=f.opt_dollars("average_fill_price"),
            average_fee_paid=f.opt_dollars("average_fee_paid"),
        )

    @classmethod
    def from_order(cls, order: Order, ts_ms: int) -> CreatedOrder:
        """The answer a lost create would have given, rebuilt from the order found later."""
        return cls(
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            fill_count=order.fill_count,
            remaining_count=order.remaining_count,
            ts_ms=ts_ms,
            found=order,
        )


@dataclass(frozen=True, slots=True)
class CanceledOrder:
    """A ``CancelOrderV2Response``. ``reduced_by``/``ts_ms`` are None when a retried cancel
    had to be confirmed by reading the order (the first answer was lost)."""

    order_id: str
    client_order_id: str | None
    reduced_by: Decimal | None
    ts_ms: int | None

    @classmethod
    def from_wire(cls, data: object, model: str = "CancelOrderV2Response") -> CanceledOrder:
        f = Fields(model, data)
        return cls(
            f.text("order_id"),
            non_empty(f.opt_text("client_order_id")),
            f.fixed_count("reduced_by"),
            f.opt_integer("ts_ms"),
        )


@dataclass(frozen=True, slots=True)
class AmendedOrder:
    """An ``AmendOrderV2Response``; counts and averages only when the amend changed them."""

    order_id: str
    client_order_id: str | None
    remaining_count: Decimal | None
    fill_count: Decimal | None
    average_fill_price: Decimal | None
    average_fee_paid: Decimal | None
    ts_ms: int

    @classmethod
    def from_wire(cls, data: object) -> AmendedOrder:
        f = Fields("AmendOrderV2Response", data)
        return cls(
            f.text("order_id"),
            non_empty(f.opt_text("client_order_id")),
            f.opt_fixed_count("remaining_count"),
            f.opt_fixed_count("fill_count"),
            f.opt_dollars("average_fill_price"),
            f.opt_dollars("average_fee_paid"),
            f.integer("ts_ms"),
        )


@dataclass(frozen=True, slots=True)
class DecreasedOrder:
    order_id: str
    client_order_id: str | None
    remaining_count: Decimal
    ts_ms: int

    @classmethod
    def from_wire(cls, data: object) -> DecreasedOrder:
        f = Fields("DecreaseOrderV2Response", data)
        return cls(
            f.text("order_id"),
            non_empty(f.opt_text("client_order_id")),
            f.fixed_count("remaining_count"),
            f.integer("ts_ms"),
        )


@dataclass(frozen=True, slots=True)
class BatchCreateEntry:
    """One order of a batch create: its first state, or why it has none."""

    result: CreatedOrder | None
    error: KalshiError | None
    client_order_id: str


@dataclass(frozen=True, slots=True)
class BatchCancelEntry:
    order_id: str
    reduced_by: Decimal  # zero when the cancel of this order failed
    error: KalshiError | None
    client_order_id: str | None = None
    ts_ms: int | None = None


@dataclass(frozen=True, slots=True)
class OrderGroup:
    """An order group: an exchange-side cap on contracts matched over a rolling 15 s.

    ``is_auto_cancel_enabled`` is None when the answer did not say (a create's answer).
    ``orders`` is filled only by ``get_order_group``.
    """

    order_group_id: str
    contracts_limit: Decimal | None
    is_auto_cancel_enabled: bool | None
    orders: tuple[str, ...] = ()
    exchange_index: int | None = None

    @classmethod
    def from_wire(cls, data: object) -> OrderGroup:
        """An entry of ``GET /portfolio/order_groups`` (``OrderGroup``: the id is ``id``)."""
        f = Fields("OrderGroup", data)
        return cls(
            f.text("id"),
            f.opt_count("contracts_limit_fp"),
            f.flag("is_auto_cancel_enabled"),
            (),
            f.opt_integer("exchange_index"),
        )

    @classmethod
    def from_detail(cls, order_group_id: str, data: object) -> OrderGroup:
        """``GET /portfolio/order_groups/{id}``, which does not repeat the id."""
        f = Fields("GetOrderGroupResponse", data)
        orders = f.value("orders", True)
        if not isinstance(orders, list) or not all(isinstance(o, str) for o in orders):
            raise f.fail("orders", "expected a list of order ids")
        return cls(
            order_group_id,
            f.opt_count("contracts_limit_fp"),
            f.flag("is_auto_cancel_enabled"),
            tuple(orders),
            f.opt_integer("exchange_index"),
        )

    @classmethod
    def from_created(cls, data: object, contracts_limit: int) -> OrderGroup:
        """``CreateOrderGroupResponse`` plus the limit we asked for."""
        f = Fields("CreateOrderGroupResponse", data)
        return cls(
            f.text("order_group_id"),
            Decimal(contracts_limit),
            None,
            (),
            f.opt_integer("exchange_index"),
        )
