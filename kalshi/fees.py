"""Kalshi's trading fees, rounded up to $0.0001 as Kalshi charges them.

Taker fee per fill = ceil_to_ten_thousandth(multiplier × 0.07 × C × P × (1 − P)). The
maker fee depends on the series' ``fee_type``: none for ``quadratic`` (the 15-minute
crypto series) and ``flat``; a quarter of the taker rate (0.0175) for
``quadratic_with_maker_fees``; half of it (0.035) for ``quadratic_with_combo_maker_fees``.
Rounding is per fill, to the ten-thousandth of a dollar — not to the cent (240 of 256
real 15-minute taker fills matched this exactly; the rest were fractional fills, which
Kalshi rounds its own way). Edge, sizing, paper fills, the simulator and P&L all charge
fees through this module.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from kalshi.units import ONE, ZERO

TAKER_RATE = Decimal("0.07")
MAKER_RATE = Decimal("0.0175")  # quadratic_with_maker_fees: 0.25 × the taker rate
COMBO_MAKER_RATE = Decimal("0.035")  # quadratic_with_combo_maker_fees: 0.5 × the taker rate
FEE_QUANTUM = Decimal("0.0001")
FEE_TYPES = frozenset(
    {"quadratic", "quadratic_with_maker_fees", "quadratic_with_combo_maker_fees", "flat"}
)
_MAKER_RATES = {
    "quadratic_with_maker_fees": MAKER_RATE,
    "quadratic_with_combo_maker_fees": COMBO_MAKER_RATE,
}


def round_fee(value: Decimal) -> Decimal:
    """Up to the next $0.0001, as Kalshi rounds each fill's fee."""
    return value.quantize(FEE_QUANTUM, rounding=ROUND_CEILING)


def taker_fee(price: Decimal, count: Decimal, multiplier: Decimal = ONE) -> Decimal:
    """Fee in dollars for taking ``count`` contracts at ``price`` dollars (either side)."""
    return round_fee(multiplier * TAKER_RATE * count * price * (ONE - price))


def maker_fee(
    price: Decimal, count: Decimal, fee_type: str = "quadratic", multiplier: Decimal = ONE
) -> Decimal:
    """Fee in dollars for a resting order filled at ``price``, by the series' ``fee_type``."""
    rate = _MAKER_RATES.get(fee_type)
    if rate is None:
        return ZERO
    return round_fee(multiplier * rate * count * price * (ONE - price))


def fill_fee(
    price: Decimal,
    count: Decimal,
    *,
    is_taker: bool,
    fee_type: str = "quadratic",
    multiplier: Decimal = ONE,
) -> Decimal:
    """The fee of one fill, taker or maker."""
    if is_taker:
        return taker_fee(price, count, multiplier)
    return maker_fee(price, count, fee_type, multiplier)


def taker_fee_per_contract(price: Decimal, multiplier: Decimal = ONE) -> Decimal:
    """The unrounded marginal taker fee of one contract (for edge maths, not booking)."""
    return multiplier * TAKER_RATE * price * (ONE - price)
