"""A fake Kalshi REST client for the execution tests: a tiny in-memory exchange with the
V2 write methods of /work/plan/v2-interfaces.md ("Wire layer"), and failure injection.

The V2 wire layer is written in parallel with the execution core. Until it lands, the
model and error classes the KalshiBroker imports (``kalshi.models.OrderRequestV2``,
``CreatedOrder``, ``CanceledOrder``; ``kalshi.errors.DeprecatedEndpoint``,
``OrderOutcomeUnknown``, ``MalformedOrderAnswer``) do not exist; minimal stand-ins with
the interface's names and fields are installed into those modules here — and only when
missing, so the real ones are used as soon as they exist. Wire Orders and Fills are
duck-typed records with the attributes the interface promises.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

from kalshi import errors, models
from kalshi.models import Page

ONE = D(1)


# -- stand-ins for the wire layer's new names (installed only while they are missing) ----------


def _install(module: Any, name: str, value: Any) -> None:
    if not hasattr(module, name):
        setattr(module, name, value)


class _DeprecatedEndpoint(errors.KalshiError):
    """HTTP 410 or a ``deprecated_*`` code."""


class _OrderOutcomeUnknown(errors.KalshiError):
    def __init__(
        self,
        message: str,
        *,
        client_order_id: str,
        cause: errors.KalshiError | None = None,
        raw: str | None = None,
    ) -> None:
        self.client_order_id = client_order_id
        self.raw = raw
        super().__init__(
            message,
            status=cause.status if cause else None,
            code=cause.code if cause else None,
        )


class _MalformedOrderAnswer(_OrderOutcomeUnknown):
    """A 2xx create answer without ``order_id`` or with a count that is not fixed-point."""


def _to_book(side: str, action: str, price: D) -> tuple[str, D]:
    bid = (side == "yes") == (action == "buy")
    return ("bid" if bid else "ask"), (price if side == "yes" else ONE - price)


@dataclass(frozen=True, slots=True)
class _OrderRequestV2:
    ticker: str
    client_order_id: str
    side: str
    count: D
    price: D
    time_in_force: str
    self_trade_prevention_type: str = "taker_at_cross"
    expiration_time: int | None = None
    post_only: bool | None = None
    reduce_only: bool | None = None
    cancel_order_on_pause: bool | None = None
    order_group_id: str | None = None
    subaccount: int | None = None
    exchange_index: int | None = None

    def __post_init__(self) -> None:
        if not D(0) < self.price < ONE:
            raise ValueError(f"price must be strictly between 0 and 1, not {self.price}")
        if self.count <= 0:
            raise ValueError(f"count must be positive, not {self.count}")
        if self.expiration_time is not None and self.time_in_force != "good_till_canceled":
            raise ValueError("expiration_time only with good_till_canceled")
        if self.reduce_only and self.time_in_force != "immediate_or_cancel":
            raise ValueError("reduce_only only with immediate_or_cancel")

    @classmethod
    def for_intent(
        cls,
        ticker: str,
        side: str,
        action: str,
        count: D,
        price: D,
        *,
        client_order_id: str,
        time_in_force: str,
        expiration_time: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        order_group_id: str | None = None,
        self_trade_prevention_type: str = "taker_at_cross",
    ) -> _OrderRequestV2:
        book_side, yes_price = _to_book(side, action, price)
        return cls(
            ticker,
            client_order_id,
            book_side,
            count,
            yes_price,
            time_in_force,
            self_trade_prevention_type,
            expiration_time,
            post_only or None,
            reduce_only or None,
            order_group_id=order_group_id,
        )


@dataclass(frozen=True, slots=True)
class _CreatedOrder:
    order_id: str
    client_order_id: str | None
    fill_count: D
    remaining_count: D
    ts_ms: int
    average_fill_price: D | None = None
    average_fee_paid: D | None = None


@dataclass(frozen=True, slots=True)
class _CanceledOrder:
    order_id: str
    client_order_id: str | None
    reduced_by: D
    ts_ms: int | None = None


@dataclass(frozen=True, slots=True)
class _OrderGroup:
    order_group_id: str
    contracts_limit: D | None = None
    is_auto_cancel_enabled: bool = False
    orders: tuple[str, ...] = ()
    exchange_index: int | None = None


_install(errors, "DeprecatedEndpoint", _DeprecatedEndpoint)
_install(errors, "OrderOutcomeUnknown", _OrderOutcomeUnknown)
_install(errors, "MalformedOrderAnswer", _MalformedOrderAnswer)
_install(models, "OrderRequestV2", _OrderRequestV2)
_install(models, "CreatedOrder", _CreatedOrder)
_install(models, "CanceledOrder", _CanceledOrder)
_install(models, "OrderGroup", _OrderGroup)


def make(cls: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Build ``cls`` with the keyword arguments its signature takes (stand-in or real)."""
    accepted = inspect.signature(cls).parameters
    return cls(*args, **{k: v for k, v in kwargs.items() if k in accepted})


def _model(name: str, **fields: Any) -> Any:
    """A wire model by its interface name, with the fields it declares."""
    cls = getattr(models, name)
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in fields.items() if k in names})


# -- wire records (the attributes the interface's Order and Fill expose) ------------------------


@dataclass
class WireOrder:
    order_id: str
    client_order_id: str | None
    ticker: str
    side: str  # derived from book_side / outcome_side, as the interface's Order exposes it
    action: str
    book_side: str
    outcome_side: str
    status: str
    yes_price: D
    no_price: D
    fill_count: D
    remaining_count: D
    taker_fees: D | None = None
    maker_fees: D | None = None
    order_group_id: str | None = None
    exchange_index: int | None = None


@dataclass(frozen=True)
class WireFill:
    trade_id: str
    order_id: str
    client_order_id: str | None
    ticker: str
    side: str
    action: str
    book_side: str
    outcome_side: str
    count: D
    yes_price: D
    no_price: D
    is_taker: bool
    fee: D
    ts_ms: int | None


def canonical(book_side: str) -> tuple[str, str]:
    """What a reader without the order's intent derives: a bid buys YES, an ask buys NO."""
    return ("yes", "buy") if book_side == "bid" else ("no", "buy")


# -- the fake exchange -------------------------------------------------------------------------


@dataclass
class FakeRest:
    """An exchange in memory. ``liquidity[ticker]`` contracts can be taken at once (then
    the rest rests, for GTC, or is cancelled); every fill costs ``fee`` per contract."""

    liquidity: dict[str, int] = field(default_factory=dict)
    fee: D = D("0.0168")
    page_size: int = 2  # small pages, so every reader has to page
    now_ms: int = 1_000_000
    orders: dict[str, WireOrder] = field(default_factory=dict)
    fills: list[WireFill] = field(default_factory=list)
    created: list[Any] = field(default_factory=list)  # every OrderRequestV2 that arrived
    calls: list[str] = field(default_factory=list)
    groups: dict[str, bool] = field(default_factory=dict)  # id → triggered
    # failure injection
    deprecated: bool = False  # every V2 write answers 410 (as if the path were retired)
    lose_answers: int = 0  # the next creates are made, but their answers are lost
    lose_requests: int = 0  # the next creates never arrive, and the client cannot tell
    malformed_answers: int = 0  # the next creates are made, their answers have no order_id
    refuse_next: errors.KalshiError | None = None  # the next create is refused with this
    failing_reads: int = 0  # the next reads fail with a 503
    closed: bool = False
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    # -- writes ------------------------------------------------------------------------

    def create_order(self, request: Any) -> Any:
        self.calls.append("create_order")
        if self.deprecated:
            raise errors.DeprecatedEndpoint(
                "V1 order endpoints were retired", status=410, code="deprecated_v1_order_endpoint"
            )
        if self.refuse_next is not None:
            error, self.refuse_next = self.refuse_next, None
            raise error
        if request.order_group_id is not None and self.groups.get(request.order_group_id):
            raise errors.OrderRejected(
                "order group triggered", status=400, code="order_group_triggered"
            )
        if self.lose_requests:
            self.lose_requests -= 1
            raise make(
                errors.OrderOutcomeUnknown,
                "create_order timed out and the lookup failed",
                client_order_id=request.client_order_id,
                cause=errors.TransportError("timed out"),
            )
        order = self._make(request)
        if self.lose_answers:
            self.lose_answers -= 1
            raise make(
                errors.OrderOutcomeUnknown,
                "create_order failed and the lookup failed",
                client_order_id=request.client_order_id,
                cause=errors.ServerError("unavailable", status=503),
            )
        if self.malformed_answers:
            self.malformed_answers -= 1
            raise make(
                errors.MalformedOrderAnswer,
                "a 2xx answer without order_id",
                client_order_id=request.client_order_id,
                cause=errors.ParseError("no order_id"),
                raw='{"client_order_id": "' + request.client_order_id + '"}',
            )
        filled = order.fill_count
        return _model(
            "CreatedOrder",
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            fill_count=filled,
            remaining_count=order.remaining_count,
            ts_ms=self.now_ms,
            average_fill_price=request.price if filled else None,
            average_fee_paid=self.fee if filled else None,
        )

    def _make(self, request: Any) -> WireOrder:
        self.created.append(request)
        n = next(self._ids)
        side, action = canonical(request.side)
        available = self.liquidity.get(request.ticker, 1_000_000)
        take = min(int(request.count), available)
        self.liquidity[request.ticker] = available - take
        rest = int(request.count) - take if request.time_in_force == "good_till_canceled" else 0
        status = "resting" if rest else ("executed" if take == int(request.count) else "canceled")
        order = WireOrder(
            order_id=f"o-{n}",
            client_order_id=request.client_order_id,
            ticker=request.ticker,
            side=side,
            action=action,
            book_side=request.side,
            outcome_side="yes" if request.side == "bid" else "no",
            status=status,
            yes_price=request.price,
            no_price=ONE - request.price,
            fill_count=D(take),
            remaining_count=D(rest),
            taker_fees=self.fee * take,
            order_group_id=request.order_group_id,
        )
        self.orders[order.order_id] = order
        if take:
            self._fill(order, take)
        return order

    def trade(self, order: WireOrder, count: int) -> WireFill:
        """A later fill of a resting ``order`` (someone took it)."""
        order.fill_count += count
        order.remaining_count -= count
        if order.remaining_count <= 0:
            order.status = "executed"
        return self._fill(order, count)

    def _fill(self, order: WireOrder, count: int) -> WireFill:
        self.now_ms += 1000
        wire = WireFill(
            trade_id=f"tr-{len(self.fills) + 1}",
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            ticker=order.ticker,
            side=order.side,
            action=order.action,
            book_side=order.book_side,
            outcome_side=order.outcome_side,
            count=D(count),
            yes_price=order.yes_price,
            no_price=order.no_price,
            is_taker=True,
            fee=self.fee * count,
            ts_ms=self.now_ms,
        )
        self.fills.append(wire)
        return wire

    def cancel_order(
        self,
        order_id: str,
        *,
        market_ticker: str | None = None,
        exchange_index: int | None = None,
        subaccount: int | None = None,
    ) -> Any:
        self.calls.append("cancel_order")
        if self.deprecated:
            raise errors.DeprecatedEndpoint(
                "retired", status=410, code="deprecated_v1_order_endpoint"
            )
        order = self.orders.get(order_id)
        if order is None or order.status != "resting":
            raise errors.NotFound("no such resting order", status=404, code="not_found")
        reduced = order.remaining_count
        order.status, order.remaining_count = "canceled", D(0)
        return _model(
            "CanceledOrder",
            order_id=order_id,
            client_order_id=order.client_order_id,
            reduced_by=reduced,
            ts_ms=self.now_ms,
        )

    def cancel_all_orders(self, *, subaccount: int | None = None) -> None:
        self.calls.append("cancel_all_orders")
        for order in self.orders.values():
            if order.status == "resting":
                order.status, order.remaining_count = "canceled", D(0)

    def create_order_group(self, contracts_limit: int) -> Any:
        self.calls.append(f"create_order_group:{contracts_limit}")
        group_id = f"g-{len(self.groups) + 1}"
        self.groups[group_id] = False
        return _model("OrderGroup", order_group_id=group_id, contracts_limit=D(contracts_limit))

    def trigger_order_group(self, order_group_id: str) -> None:
        self.calls.append("trigger_order_group")
        self.groups[order_group_id] = True
        for order in self.orders.values():
            if order.order_group_id == order_group_id and order.status == "resting":
                order.status, order.remaining_count = "canceled", D(0)

    def reset_order_group(self, order_group_id: str) -> None:
        self.calls.append("reset_order_group")
        self.groups[order_group_id] = False

    # -- reads -------------------------------------------------------------------------

    def _read(self, name: str) -> None:
        self.calls.append(name)
        if self.failing_reads:
            self.failing_reads -= 1
            raise errors.ServerError("unavailable", status=503)

    def get_order(self, order_id: str) -> WireOrder:
        self._read("get_order")
        order = self.orders.get(order_id)
        if order is None:
            raise errors.NotFound("no such order", status=404)
        return dataclasses.replace(order)

    def find_order_by_client_order_id(
        self, client_order_id: str, *, ticker: str | None = None, max_pages: int | None = None
    ) -> WireOrder | None:
        self._read("find_order_by_client_order_id")
        for order in self.orders.values():
            if order.client_order_id == client_order_id:
                return dataclasses.replace(order)
        return None

    def _page(self, items: list[Any], cursor: str | None, limit: int | None) -> Page[Any]:
        start = int(cursor or 0)
        size = min(limit or self.page_size, self.page_size)
        end = start + size
        return Page(tuple(items[start:end]), str(end) if end < len(items) else None)

    def get_orders(
        self,
        *,
        ticker: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **_: Any,
    ) -> Page[Any]:
        self._read("get_orders")
        found = [
            dataclasses.replace(o)
            for o in self.orders.values()
            if (status is None or o.status == status) and (ticker is None or o.ticker == ticker)
        ]
        return self._page(found, cursor, limit)

    def get_fills(
        self,
        *,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **_: Any,
    ) -> Page[Any]:
        self._read("get_fills")
        found = [
            f
            for f in reversed(self.fills)  # newest first, as Kalshi lists them
            if (min_ts is None or (f.ts_ms or 0) >= min_ts * 1000)
            and (max_ts is None or (f.ts_ms or 0) <= max_ts * 1000)
        ]
        return self._page(found, cursor, limit)

    def refresh_presigned(self) -> None:
        self.calls.append("refresh_presigned")

    def close(self) -> None:
        self.closed = True
