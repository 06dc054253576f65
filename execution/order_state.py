"""An order's life as both the live OrderActor and the backtest track it."""

from __future__ import annotations

from messages.trading import OrderUpdate

TERMINAL = frozenset({"executed", "canceled", "rejected", "failed"})


def is_news(status: str, filled: int, remaining: int, update: OrderUpdate) -> bool:
    """Whether ``update`` changes an order now ``(status, filled, remaining)``: not a repeat,
    and not late news of a live state for an order that is already done."""
    if (status, filled, remaining) == (update.status, update.filled, update.remaining):
        return False
    return not (status in TERMINAL and update.status not in TERMINAL)
