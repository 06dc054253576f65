"""The V2 order bodies (``/portfolio/events/orders``) read into the core's requests.

V2 quotes everything on one YES book: ``side: bid`` buys YES at ``price``;
``side: ask`` sells YES at ``price``, which is buying NO at ``1 − price``.
Both map onto the matching engine's outcome model (:mod:`simulator.orders`):
a bid bets on YES, an ask on NO, and position netting closes held contracts
as Kalshi's does. ``price`` and ``count`` are fixed-point strings;
``time_in_force`` and ``self_trade_prevention_type`` are required;
``expiration_time`` goes only with good-till-canceled and ``reduce_only`` only
with immediate-or-cancel. The simulator is one shard (``exchange_index`` 0;
-1 asks for routing by ticker, which lands there too) with one subaccount (0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from messages.vocabulary import (
    BOOK_SIDES,
    SELF_TRADE_PREVENTION,
    TIMES_IN_FORCE,
    BookSide,
    SelfTradePrevention,
    TimeInForce,
)
from simulator import errors
from simulator.modify import KEEP_EXPIRY, Amendment
from simulator.orders import OrderRequest, legacy_direction
from simulator.requests import Fields

AUTO_ROUTE = -1  # exchange_index: route by the market ticker


def check_routing(fields: Fields, ticker_given: bool) -> None:
    """``exchange_index`` and ``subaccount`` of a V2 body, against a one-shard exchange."""
    index = fields.integer("exchange_index")
    if index == AUTO_ROUTE and not ticker_given:
        raise errors.invalid(
            f"{fields.name('exchange_index')} -1 routes by market ticker, which is missing",
            "send market_ticker, or exchange_index 0",
        )
    if index not in (None, AUTO_ROUTE, 0):
        raise errors.invalid(
            f"{fields.name('exchange_index')} {index} does not exist: this exchange has one "
            "shard (0)",
            f"exchange_index={index}",
        )
    check_subaccount(fields.integer("subaccount", minimum=0), fields.name("subaccount"))


def check_subaccount(subaccount: int | None, name: str = "subaccount") -> None:
    if subaccount not in (None, 0):
        raise errors.invalid(
            f"{name} {subaccount} does not exist: only the primary subaccount (0)",
            f"{name}={subaccount}",
        )


def parse_create(body: Mapping[str, Any], prefix: str = "") -> OrderRequest:
    """A ``CreateOrderV2Request`` → :class:`OrderRequest` (``prefix`` names batch items)."""
    fields = Fields(body, prefix)
    ticker = cast(str, fields.string("ticker", required=True))
    side = cast(BookSide, fields.enum("side", BOOK_SIDES, required=True))
    count = cast(Decimal, fields.count("count", required=True))
    price = cast(Decimal, fields.price("price", required=True))
    tif = cast(TimeInForce, fields.enum("time_in_force", TIMES_IN_FORCE, required=True))
    stp = cast(
        SelfTradePrevention,
        fields.enum("self_trade_prevention_type", SELF_TRADE_PREVENTION, required=True),
    )
    expiration = fields.integer("expiration_time", minimum=0)
    if expiration is not None and tif != "good_till_canceled":
        raise errors.invalid(
            f"{fields.name('expiration_time')} is only allowed with good_till_canceled",
            f"time_in_force={tif}",
        )
    reduce_only = fields.boolean("reduce_only")
    if reduce_only and tif != "immediate_or_cancel":
        raise errors.invalid(
            f"{fields.name('reduce_only')} is only allowed with immediate_or_cancel",
            f"time_in_force={tif}",
        )
    check_routing(fields, ticker_given=True)
    legacy_side, legacy_action = legacy_direction(side, reduce_only)
    return OrderRequest(
        ticker=ticker,
        side=legacy_side,
        action=legacy_action,
        count=count,
        yes_price=price,
        client_order_id=fields.string("client_order_id") or "",
        time_in_force=tif,
        expiration_ts=expiration,
        post_only=fields.boolean("post_only"),
        reduce_only=reduce_only,
        self_trade_prevention=stp,
        cancel_order_on_pause=fields.boolean("cancel_order_on_pause"),
        order_group_id=fields.string("order_group_id"),
    )


def parse_amend(body: Mapping[str, Any]) -> Amendment:
    """An ``AmendOrderV2Request``: the new price and total fillable count."""
    fields = Fields(body)
    ticker = cast(str, fields.string("ticker", required=True))
    side = cast(BookSide, fields.enum("side", BOOK_SIDES, required=True))
    price = cast(Decimal, fields.price("price", required=True))
    count = cast(Decimal, fields.count("count", required=True))
    expiration = fields.integer("expiration_time", minimum=0)
    check_routing(fields, ticker_given=True)
    return Amendment(
        ticker=ticker,
        book_side=side,
        yes_price=price,
        count=count,
        expiration_ts=KEEP_EXPIRY if expiration is None else expiration,
        client_order_id=fields.string("client_order_id"),
        updated_client_order_id=fields.string("updated_client_order_id"),
    )


@dataclass(frozen=True, slots=True)
class Decrease:
    """A ``DecreaseOrderV2Request``: exactly one of ``reduce_by`` and ``reduce_to``."""

    reduce_by: Decimal | None
    reduce_to: Decimal | None
    market_ticker: str | None


def parse_decrease(body: Mapping[str, Any]) -> Decrease:
    fields = Fields(body)
    reduce_by = fields.count("reduce_by")
    reduce_to = fields.count("reduce_to")
    if (reduce_by is None) == (reduce_to is None):
        raise errors.invalid("exactly one of reduce_by and reduce_to is required")
    if reduce_by is not None and reduce_by <= 0:
        raise errors.invalid("reduce_by must be at least 1 contract", f"reduce_by={reduce_by}")
    market_ticker = fields.string("market_ticker")
    check_routing(fields, ticker_given=market_ticker is not None)
    return Decrease(reduce_by, reduce_to, market_ticker)


def parse_orders_list(body: Mapping[str, Any], max_items: int) -> list[dict[str, Any]]:
    """The ``orders`` array of a batch body: objects, at least one, at most ``max_items``."""
    orders = body.get("orders")
    if orders is None:
        raise errors.missing("orders")
    if not isinstance(orders, list) or not all(isinstance(o, dict) for o in orders):
        raise errors.invalid("orders must be an array of objects")
    if not 1 <= len(orders) <= max_items:
        raise errors.invalid(
            f"orders must hold from 1 to {max_items} items", f"{len(orders)} given"
        )
    return orders


@dataclass(frozen=True, slots=True)
class CancelTarget:
    """One order to cancel (a path and query, or a batch item)."""

    order_id: str
    market_ticker: str | None


def parse_cancel_item(body: Mapping[str, Any], prefix: str) -> CancelTarget:
    fields = Fields(body, prefix)
    order_id = cast(str, fields.string("order_id", required=True))
    market_ticker = fields.string("market_ticker")
    check_routing(fields, ticker_given=market_ticker is not None)
    return CancelTarget(order_id, market_ticker)


def _routing_values(query: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("exchange_index", "subaccount"):
        raw = query.get(name)
        if raw:
            try:
                values[name] = int(raw)
            except ValueError:
                raise errors.invalid(f"{name} must be an integer", f"{name}={raw!r}") from None
    return values


def check_routing_query(query: Mapping[str, str]) -> None:
    """``exchange_index`` and ``subaccount`` query parameters (order groups, cancel-all)."""
    check_routing(Fields(_routing_values(query)), ticker_given=False)


def parse_cancel_query(order_id: str, query: Mapping[str, str]) -> CancelTarget:
    """``DELETE /portfolio/events/orders/{order_id}?market_ticker=&exchange_index=``."""
    values = _routing_values(query)
    values["order_id"] = order_id
    if query.get("market_ticker"):
        values["market_ticker"] = query["market_ticker"]
    return parse_cancel_item(values, "")


def parse_contracts_limit(body: Mapping[str, Any]) -> Decimal:
    """``contracts_limit`` (integer) and/or ``contracts_limit_fp`` (string); both must match."""
    fields = Fields(body)
    whole = fields.integer("contracts_limit", minimum=1)
    fixed = fields.count("contracts_limit_fp")
    if whole is None and fixed is None:
        raise errors.missing("contracts_limit")
    if whole is not None and fixed is not None and Decimal(whole) != fixed:
        raise errors.invalid(
            "contracts_limit and contracts_limit_fp disagree",
            f"contracts_limit={whole}, contracts_limit_fp={fixed}",
        )
    return fixed if fixed is not None else Decimal(cast(int, whole))
