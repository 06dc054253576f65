"""What trading costs and whether a result clears it.

A taker with no edge pays half the spread plus the fee on every contract: that is the
cost floor a model must beat before a strategy makes money. KALSHI.md measured it on
the real KXSOL15M market; a report shows a strategy's realized edge per contract beside
it, and one line saying whether that edge is distinguishable from zero.
"""

from __future__ import annotations

import math
from decimal import Decimal

from kalshi.fees import taker_fee_per_contract
from scoring.intervals import MIN_WINDOWS, Interval

# KALSHI.md "What it costs to trade", KXSOL15M: half the spread + the fee, cents/contract.
REAL_SOL_COST_FLOOR_CENTS = {14: 2.89, 10: 2.48, 5: 1.84, 2: 1.19, 1: 0.84}
REAL_SOL_MEDIAN_SPREAD = {14: Decimal("0.02"), 5: Decimal("0.01"), 1: Decimal("0.005")}


def cost_floor(bid: Decimal, ask: Decimal, fee_multiplier: Decimal = Decimal(1)) -> Decimal:
    """Dollars per contract a taker without edge loses buying at ``ask`` against the mid:
    half the spread plus the (unrounded) taker fee at that price."""
    return (ask - bid) / 2 + taker_fee_per_contract(ask, fee_multiplier)


def fill_floor(
    side: str,
    action: str,
    yes_bid: Decimal | None,
    yes_ask: Decimal | None,
    fee_multiplier: Decimal = Decimal(1),
) -> Decimal | None:
    """The cost floor of one taker fill, from the YES book it met: half the spread plus the
    fee at the price a taker without edge pays — the side's ask to buy, its bid to sell.
    None when the book had no two-sided quote."""
    if yes_bid is None or yes_ask is None:
        return None
    if side == "yes":
        bid, ask = yes_bid, yes_ask
    else:  # a NO bid at p is a YES ask at 1 − p
        bid, ask = 1 - yes_ask, 1 - yes_bid
    price = ask if action == "buy" else bid
    return (ask - bid) / 2 + taker_fee_per_contract(price, fee_multiplier)


def verdict(edge_cents: Interval, what: str = "realized edge") -> str:
    """One line for beside a headline P&L: the interval, or that it includes zero, or that
    there are too few windows (``MIN_WINDOWS``) for an interval to judge by."""
    if edge_cents.windows == 0 or math.isnan(edge_cents.estimate):
        return f"{what}: no settled trades to judge"
    if edge_cents.too_few:
        return (
            f"{what}: too few windows to judge ({edge_cents.estimate:+.2f}¢/contract over "
            f"{edge_cents.windows} windows; an interval needs at least {MIN_WINDOWS})"
        )
    span = f"{edge_cents.estimate:+.2f}¢/contract, 95% interval [{edge_cents.low:+.2f}, {edge_cents.high:+.2f}] over {edge_cents.windows} windows"
    if math.isnan(edge_cents.low) or edge_cents.contains(0.0):
        return f"{what} not distinguishable from zero ({span})"
    sign = "positive" if edge_cents.low > 0 else "negative"
    return f"{what} {sign} ({span})"
