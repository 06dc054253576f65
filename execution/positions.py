"""Signed contract positions per market, as Kalshi nets them (YES positive, NO negative)."""

from __future__ import annotations

from decimal import Decimal

from messages.vocabulary import Action, Side

ZERO = Decimal(0)


def signed_change(side: Side, action: Action, count: int) -> int:
    """How a fill moves the signed position: buying YES or selling NO adds; the others subtract."""
    adds = (side == "yes") == (action == "buy")
    return count if adds else -count


def settlement_payout(position: int, result: Side) -> Decimal:
    """$1 per contract on the winning side."""
    if result == "yes" and position > 0:
        return Decimal(position)
    if result == "no" and position < 0:
        return Decimal(-position)
    return ZERO
