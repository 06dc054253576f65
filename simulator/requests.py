"""Reading request bodies and query strings into validated values.

Every malformed field becomes a 400 with Kalshi's error body that names the
field; nothing reaches the core half-parsed. The V2 order bodies built from
these readers are in :mod:`simulator.order_entry`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar, cast

import orjson

from kalshi.units import UnitError, parse_count, parse_dollars
from simulator import errors

T = TypeVar("T")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def json_object(raw: bytes, *, empty_ok: bool = False) -> dict[str, Any]:
    """A request body that must be a JSON object (``{}`` when empty and allowed)."""
    if not raw.strip() and empty_ok:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.bad_request("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.bad_request("request body must be a JSON object")
    return body


class Fields:
    """Reads the fields of one JSON object; every error names the field (with ``prefix``).

    A field sent as ``null`` counts as absent. A required field that is absent
    is ``missing_parameters``; one of the wrong type or value is
    ``invalid_parameters`` (prices: ``invalid_price``).
    """

    def __init__(self, body: Mapping[str, Any], prefix: str = "") -> None:
        self._body = body
        self._prefix = prefix

    def name(self, field: str) -> str:
        return self._prefix + field

    def _get(self, field: str, required: bool) -> Any:
        value = self._body.get(field)
        if value is None and required:
            raise errors.missing(self.name(field))
        return value

    def _bad(self, field: str, what: str, value: object) -> errors.ExchangeError:
        name = self.name(field)
        return errors.invalid(f"{name} must be {what}", f"{name}={value!r}")

    def string(self, field: str, *, required: bool = False, max_length: int = 200) -> str | None:
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > max_length or (required and not value):
            raise self._bad(field, f"a non-empty string of at most {max_length} characters", value)
        return value

    def enum(self, field: str, allowed: Sequence[str], *, required: bool = False) -> str | None:
        value = self._get(field, required)
        if value is None:
            return None
        if value not in allowed:
            raise self._bad(field, "one of " + ", ".join(allowed), value)
        return cast(str, value)

    def boolean(self, field: str) -> bool:
        value = self._get(field, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self._bad(field, "a boolean", value)
        return value

    def integer(self, field: str, *, minimum: int | None = None) -> int | None:
        value = self._get(field, False)
        if value is None:
            return None
        if not _is_int(value) or (minimum is not None and value < minimum):
            at_least = "" if minimum is None else f" >= {minimum}"
            raise self._bad(field, f"an integer{at_least}", value)
        return cast(int, value)

    def count(self, field: str, *, required: bool = False) -> Decimal | None:
        """A ``FixedPointCount``: a string with 0 to 2 decimals (``"10.00"``)."""
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._bad(field, 'a fixed-point count string such as "10.00"', value)
        try:
            return parse_count(value)
        except UnitError:
            raise self._bad(field, 'a fixed-point count string such as "10.00"', value) from None

    def price(self, field: str, *, required: bool = False) -> Decimal | None:
        """A ``FixedPointDollars`` price strictly between $0 and $1."""
        value = self._get(field, required)
        if value is None:
            return None
        name = self.name(field)
        if not isinstance(value, str):
            raise errors.invalid_price(
                f'{name} must be a fixed-point dollar string such as "0.5600"', f"{name}={value!r}"
            )
        try:
            price = parse_dollars(value)
        except UnitError:
            raise errors.invalid_price(
                f"{name} is not a valid dollar amount", f"{name}={value!r}"
            ) from None
        if not Decimal(0) < price < Decimal(1):
            raise errors.invalid_price(
                f"{name} must be strictly between 0 and 1", f"{name}={value}"
            )
        return price


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
