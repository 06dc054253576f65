"""Reading one JSON object of Kalshi's into typed values, with errors naming ``Model.field``.

Prices and counts are parsed exactly into Decimal from Kalshi's fixed-point strings; JSON
numbers (``floor_strike``, ``fee_multiplier``) go through their decimal text, never float.
A missing optional field is ``None``; a missing or malformed field we rely on raises
:class:`~kalshi.errors.ParseError`, never a default (a missing price must not silently
become a "phantom" price).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from kalshi.errors import ParseError
from kalshi.orderbook import PriceLevel
from kalshi.units import UnitError, parse_count, parse_dollars

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

    def fixed_count(self, key: str) -> Decimal:
        """A count that must be a fixed-point string (as every V2 answer sends it)."""
        value = self.value(key, True)
        if not isinstance(value, str):
            raise self.fail(key, f"expected a fixed-point string, got {type(value).__name__}")
        return self.convert(key, value, parse_count)

    def opt_fixed_count(self, key: str) -> Decimal | None:
        return None if self.value(key, False) is None else self.fixed_count(key)

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


def non_empty(value: str | None) -> str | None:
    return value or None
