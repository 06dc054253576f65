"""Parsing of request bodies and query strings into validated values.

Every malformed field becomes a 400 with Kalshi's error body that names the
field; nothing reaches the core half-parsed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar, cast

from kalshi.units import UnitError, parse_count, parse_dollars
from simulator import errors
from simulator.orders import TIME_IN_FORCE, OrderRequest, SelfTradePrevention, Side, TimeInForce

T = TypeVar("T")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_CENT = Decimal("0.01")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_bool(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise errors.invalid(f"{name} must be a boolean", f"{name}={value!r}")
    return value


def _cents_price(body: Mapping[str, Any], name: str) -> Decimal | None:
    value = body.get(name)
    if value is None:
        return None
    if not _is_int(value):
        raise errors.invalid(f"{name} must be an integer number of cents", f"{name}={value!r}")
    if not 1 <= value <= 99:
        raise errors.invalid(f"{name} must be between 1 and 99 cents", f"{name}={value}")
    return Decimal(value) * _CENT


def _dollars_price(body: Mapping[str, Any], name: str) -> Decimal | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.invalid(f"{name} must be a fixed-point dollar string", f"{name}={value!r}")
    try:
        price = parse_dollars(value)
    except UnitError as exc:
        raise errors.invalid(f"{name} is not a valid dollar amount", str(exc)) from None
    if not Decimal(0) < price < Decimal(1):
        raise errors.invalid(f"{name} must be strictly between 0 and 1", f"{name}={value}")
    return price


def _one_price(cents: Decimal | None, dollars: Decimal | None, side: str) -> Decimal | None:
    if cents is not None and dollars is not None and cents != dollars:
        raise errors.invalid(
            f"{side}_price and {side}_price_dollars disagree",
            f"{side}_price={cents}, {side}_price_dollars={dollars}",
        )
    return dollars if dollars is not None else cents


def parse_count_fields(body: Mapping[str, Any]) -> Decimal:
    """``count`` (integer) and/or ``count_fp`` (string); both given must match."""
    count_int = body.get("count")
    count_fp = body.get("count_fp")
    parsed: Decimal | None = None
    if count_int is not None:
        if not _is_int(count_int):
            raise errors.invalid("count must be an integer", f"count={count_int!r}")
        parsed = Decimal(count_int)
    if count_fp is not None:
        if not isinstance(count_fp, str):
            raise errors.invalid("count_fp must be a fixed-point string", f"count_fp={count_fp!r}")
        try:
            fp = parse_count(count_fp)
        except UnitError as exc:
            raise errors.invalid("count_fp is not a valid count", str(exc)) from None
        if parsed is not None and fp != parsed:
            raise errors.invalid(
                "count and count_fp disagree", f"count={count_int}, count_fp={count_fp}"
            )
        parsed = fp
    if parsed is None:
        raise errors.invalid("count or count_fp is required")
    if parsed <= 0:
        raise errors.invalid("count must be at least 1 contract", f"count={parsed}")
    return parsed


def _limit_price(
    body: Mapping[str, Any], side: str, max_price: Decimal
) -> tuple[Decimal, Decimal | None]:
    """The order's limit as a YES price, and its ``buy_max_cost`` in dollars."""
    yes = _one_price(
        _cents_price(body, "yes_price"), _dollars_price(body, "yes_price_dollars"), "yes"
    )
    no = _one_price(_cents_price(body, "no_price"), _dollars_price(body, "no_price_dollars"), "no")
    if yes is not None and no is not None and yes + no != 1:
        raise errors.invalid("yes and no prices must add up to $1", f"yes={yes}, no={no}")

    buy_max_cost = body.get("buy_max_cost")
    max_cost: Decimal | None = None
    if buy_max_cost is not None:
        if not _is_int(buy_max_cost):
            raise errors.invalid("buy_max_cost must be an integer number of cents")
        max_cost = Decimal(buy_max_cost) * _CENT
    if yes is None and no is None:
        if max_cost is None:
            raise errors.invalid(
                "a price is required: yes_price, no_price, yes_price_dollars or no_price_dollars"
            )
        # A buy with only a cost cap may pay up to the highest valid price.
        own = max_price
        yes = own if side == "yes" else 1 - own
    yes_price = yes if yes is not None else 1 - cast(Decimal, no)
    return yes_price, max_cost


def parse_order_request(body: object, max_price: Decimal) -> OrderRequest:
    """A ``CreateOrderRequest`` body → :class:`OrderRequest` (prices as a YES limit)."""
    if not isinstance(body, dict):
        raise errors.bad_request("request body must be a JSON object")
    ticker = body.get("ticker")
    if not isinstance(ticker, str) or not ticker:
        raise errors.invalid("ticker is required", f"ticker={ticker!r}")
    side = body.get("side")
    if side not in ("yes", "no"):
        raise errors.invalid("side must be 'yes' or 'no'", f"side={side!r}")
    action = body.get("action")
    if action not in ("buy", "sell"):
        raise errors.invalid("action must be 'buy' or 'sell'", f"action={action!r}")
    order_type = body.get("type")
    if order_type is not None and order_type not in ("limit", "market"):
        raise errors.invalid("type must be 'limit' or 'market'", f"type={order_type!r}")
    count = parse_count_fields(body)

    yes_price, max_cost = _limit_price(body, side, max_price)

    tif = body.get("time_in_force")
    if tif is None:
        tif = "good_till_canceled"
    if tif not in TIME_IN_FORCE:
        raise errors.invalid(
            "time_in_force must be fill_or_kill, good_till_canceled or immediate_or_cancel",
            f"time_in_force={tif!r}",
        )
    expiration = body.get("expiration_ts")
    if expiration is not None and not _is_int(expiration):
        raise errors.invalid("expiration_ts must be an integer Unix timestamp")
    client_order_id = body.get("client_order_id", "")
    if client_order_id is None:
        client_order_id = ""
    if not isinstance(client_order_id, str) or len(client_order_id) > 200:
        raise errors.invalid("client_order_id must be a string of at most 200 characters")
    stp = body.get("self_trade_prevention_type") or "taker_at_cross"
    if stp not in ("taker_at_cross", "maker"):
        raise errors.invalid("self_trade_prevention_type must be taker_at_cross or maker")
    floor = body.get("sell_position_floor")
    if floor is not None and floor != 0:
        raise errors.invalid("sell_position_floor only accepts 0 (use reduce_only)")
    subaccount = body.get("subaccount", 0)
    if subaccount not in (0, None):
        raise errors.invalid(
            "subaccounts are not supported by the simulator", f"subaccount={subaccount}"
        )
    return OrderRequest(
        ticker=ticker,
        side=cast(Side, side),
        action="buy" if action == "buy" else "sell",
        count=count,
        yes_price=yes_price,
        client_order_id=client_order_id,
        time_in_force=cast(TimeInForce, tif),
        expiration_ts=expiration,
        post_only=_optional_bool(body, "post_only"),
        reduce_only=_optional_bool(body, "reduce_only") or floor == 0,
        buy_max_cost=max_cost,
        self_trade_prevention=cast(SelfTradePrevention, stp),
        cancel_order_on_pause=_optional_bool(body, "cancel_order_on_pause"),
    )


# --- query strings ----------------------------------------------------------------------


def query_int(query: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise errors.invalid(f"{name} must be an integer", f"{name}={raw!r}") from None


def query_limit(query: Mapping[str, str], allow_zero: bool = False) -> int:
    limit = query_int(query, "limit", DEFAULT_LIMIT)
    assert limit is not None
    if allow_zero and limit == 0:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.invalid(f"limit must be between 1 and {MAX_LIMIT}", f"limit={limit}")
    return limit


def query_bool(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return False
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise errors.invalid(f"{name} must be true or false", f"{name}={raw!r}")


def encode_cursor(key: int | str) -> str:
    return base64.urlsafe_b64encode(f"v1:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid("cursor is not valid", f"cursor={cursor!r}") from None
    if not text.startswith("v1:"):
        raise errors.invalid("cursor is not valid", f"cursor={cursor!r}")
    return text[3:]


def paginate(
    items: Sequence[T],
    key: Callable[[T], int] | Callable[[T], str],
    limit: int,
    cursor: str | None,
    descending: bool,
) -> tuple[list[T], str]:
    """A page of ``items`` (sorted by ``key``) after the cursor; and the next cursor.

    The cursor holds the last item's key and the next page starts after that
    key, so items added or changed meanwhile are neither repeated nor skipped.
    """
    start = 0
    if cursor:
        after_text = decode_cursor(cursor)
        after: int | str = after_text
        if items and isinstance(key(items[0]), int):
            try:
                after = int(after_text)
            except ValueError:
                raise errors.invalid("cursor is not valid", f"cursor={cursor!r}") from None
        start = len(items)
        for position, item in enumerate(items):
            value = key(item)
            if (value < after) if descending else (value > after):  # type: ignore[operator]
                start = position
                break
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, encode_cursor(key(page[-1])) if more and page else ""
