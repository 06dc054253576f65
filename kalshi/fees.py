"""Kalshi's trading fees, to the cent.

Taker fee per fill = ceil_to_cent(multiplier × 0.07 × C × P × (1 − P)); maker
fee is zero for ``quadratic`` series and ceil_to_cent(multiplier × 0.0175 × C ×
P × (1 − P)) for ``quadratic_with_maker_fees``.
"""

from __future__ import annotations

from decimal import Decimal

from kalshi.units import ONE, ZERO, ceil_to_cent

TAKER_RATE = Decimal("0.07")
MAKER_RATE = Decimal("0.0175")


def taker_fee(price: Decimal, count: Decimal, multiplier: Decimal = ONE) -> Decimal:
    """Fee in dollars for taking ``count`` contracts at ``price`` dollars."""
    return ceil_to_cent(multiplier * TAKER_RATE * count * price * (ONE - price))


def maker_fee(
    price: Decimal, count: Decimal, fee_type: str = "quadratic", multiplier: Decimal = ONE
) -> Decimal:
    """Fee in dollars for a resting order filled at ``price``."""
    if fee_type != "quadratic_with_maker_fees":
        return ZERO
    return ceil_to_cent(multiplier * MAKER_RATE * count * price * (ONE - price))


def taker_fee_per_contract(price: Decimal, multiplier: Decimal = ONE) -> Decimal:
    """The unrounded marginal taker fee of one contract (for edge maths, not booking)."""
    return multiplier * TAKER_RATE * price * (ONE - price)
