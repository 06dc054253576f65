"""Rounding prices onto a market's tiered tick (its ``price_ranges``)."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from kalshi.units import ONE, ZERO, PriceLevels


def round_up(levels: PriceLevels, price: Decimal) -> Decimal:
    """The lowest valid price at or above ``price`` (for an ask); 1 when there is none."""
    for band in levels.ranges:
        if price <= band.end:
            start = max(price, band.start)
            steps = ((start - band.start) / band.step).to_integral_value(rounding=ROUND_CEILING)
            candidate = band.start + steps * band.step
            if candidate <= band.end:
                return candidate
    return ONE


def clamp_valid(levels: PriceLevels, price: Decimal, *, up: bool) -> Decimal | None:
    """Round onto the tick (down for bids, up for asks); ``None`` if no valid price is left."""
    rounded = round_up(levels, price) if up else levels.round_down(price)
    if levels.is_valid(rounded):
        return rounded
    return None


def _half_min_step(levels: PriceLevels) -> Decimal:
    return min(band.step for band in levels.ranges) / 2


def step_down(levels: PriceLevels, price: Decimal) -> Decimal:
    """The next valid price below ``price`` (0 when there is none)."""
    below = levels.round_down(price - _half_min_step(levels))
    return below if ZERO < below < price else ZERO


def step_up(levels: PriceLevels, price: Decimal) -> Decimal:
    """The next valid price above ``price`` (1 when there is none)."""
    above = round_up(levels, price + _half_min_step(levels))
    return above if price < above < ONE else ONE


def min_price(levels: PriceLevels) -> Decimal:
    return step_up(levels, ZERO)


def max_price(levels: PriceLevels) -> Decimal:
    return step_down(levels, ONE)
