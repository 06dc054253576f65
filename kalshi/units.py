"""Exact parsing and formatting of Kalshi's fixed-point strings.

Kalshi sends prices as dollar strings (``"0.5600"``, up to 6 decimals) and
counts as contract strings (``"10.00"``). We keep both as :class:`Decimal`
so that accounting never passes through a float.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
_DOLLARS_QUANTUM = Decimal("0.0001")
_MAX_DOLLAR_DECIMALS = 6
_COUNT_QUANTUM = Decimal("0.01")


class UnitError(ValueError):
    """A fixed-point string that is not a valid dollar amount or count."""


def _parse(value: object, what: str, max_decimals: int) -> Decimal:
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, str | int) and not isinstance(value, bool):
        try:
            result = Decimal(value)
        except InvalidOperation as exc:
            raise UnitError(f"{what}: not a number: {value!r}") from exc
    else:
        raise UnitError(f"{what}: expected a fixed-point string, got {type(value).__name__}")
    if not result.is_finite():
        raise UnitError(f"{what}: not finite: {value!r}")
    exponent = result.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_decimals:
        raise UnitError(f"{what}: more than {max_decimals} decimals: {value!r}")
    return result


def parse_dollars(value: object) -> Decimal:
    """Parse a ``FixedPointDollars`` string (``"0.5600"``) exactly."""
    return _parse(value, "dollars", _MAX_DOLLAR_DECIMALS)


def parse_count(value: object) -> Decimal:
    """Parse a ``FixedPointCount`` string (``"10.00"``, 0–2 decimals) exactly."""
    return _parse(value, "count", 2)


def format_dollars(value: Decimal) -> str:
    """Format dollars as Kalshi does: at least 4 decimals, more only when needed."""
    if value == value.quantize(_DOLLARS_QUANTUM):
        return str(value.quantize(_DOLLARS_QUANTUM))
    return str(value.quantize(Decimal(10) ** -_MAX_DOLLAR_DECIMALS).normalize())


def format_count(value: Decimal | int) -> str:
    """Format a contract count with exactly 2 decimals (``"10.00"``)."""
    return str(Decimal(value).quantize(_COUNT_QUANTUM))


def dollars_to_cents(value: Decimal) -> int:
    """Whole cents of a dollar amount; raises when it is not a whole number of cents."""
    cents = value * 100
    if cents != cents.to_integral_value():
        raise UnitError(f"dollars: {value} is not a whole number of cents")
    return int(cents)


def cents_to_dollars(cents: int) -> Decimal:
    return Decimal(cents) / 100


def ceil_to_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class PriceRange:
    """One band of a market's price level structure: prices in [start, end] step by ``step``."""

    start: Decimal
    end: Decimal
    step: Decimal


# The tiered tick the 15-minute crypto markets use: $0.001 in the tails, $0.01 in the middle.
DEFAULT_PRICE_RANGES: tuple[PriceRange, ...] = (
    PriceRange(Decimal("0.000"), Decimal("0.100"), Decimal("0.001")),
    PriceRange(Decimal("0.100"), Decimal("0.900"), Decimal("0.010")),
    PriceRange(Decimal("0.900"), Decimal("1.000"), Decimal("0.001")),
)


@dataclass(frozen=True, slots=True)
class PriceLevels:
    """A market's valid prices, from its ``price_ranges``."""

    ranges: tuple[PriceRange, ...] = DEFAULT_PRICE_RANGES

    @classmethod
    def from_wire(cls, ranges: Iterable[Mapping[str, object]] | None) -> PriceLevels:
        if not ranges:
            return cls()
        parsed = tuple(
            PriceRange(parse_dollars(r["start"]), parse_dollars(r["end"]), parse_dollars(r["step"]))
            for r in ranges
        )
        return cls(parsed)

    def to_wire(self) -> list[dict[str, str]]:
        return [
            {
                "start": format_dollars(r.start),
                "end": format_dollars(r.end),
                "step": format_dollars(r.step),
            }
            for r in self.ranges
        ]

    def tick_at(self, price: Decimal) -> Decimal:
        """The step of the band holding ``price`` (the first band on a shared edge)."""
        for band in self.ranges:
            if band.start <= price <= band.end:
                return band.step
        raise UnitError(f"price {price} is outside every price range")

    def is_valid(self, price: Decimal) -> bool:
        """A tradable price: strictly between 0 and 1, on the tick of some band."""
        if not ZERO < price < ONE:
            return False
        return any(
            band.start <= price <= band.end and (price - band.start) % band.step == 0
            for band in self.ranges
        )

    def round_down(self, price: Decimal) -> Decimal:
        """The highest valid price at or below ``price`` (for a buyer's limit)."""
        for band in reversed(self.ranges):
            if band.start <= price:
                top = min(price, band.end)
                steps = ((top - band.start) / band.step).to_integral_value(rounding=ROUND_FLOOR)
                return band.start + steps * band.step
        return ZERO
