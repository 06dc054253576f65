"""One way to say what happened to an order: the ``OrderUpdate`` every broker and the
tracker build, so a terminal state always reports nothing left to fill."""

from __future__ import annotations

from decimal import Decimal

from messages.trading import OrderIntent, OrderUpdate
from messages.vocabulary import TERMINAL, OrderStatus

ZERO = Decimal(0)


def order_update(
    intent: OrderIntent,
    status: OrderStatus,
    now: float,
    *,
    order_id: str | None = None,
    filled: int = 0,
    remaining: int | None = None,
    fees: Decimal = ZERO,
    reason: str = "",
) -> OrderUpdate:
    """The update for ``intent`` now in ``status``; ``remaining`` defaults to the unfilled
    rest while the order lives and is 0 once it is done."""
    if status in TERMINAL:
        left = 0
    elif remaining is None:
        left = max(intent.count - filled, 0)
    else:
        left = remaining
    return OrderUpdate(
        client_order_id=intent.client_order_id,
        order_id=order_id,
        ticker=intent.ticker,
        side=intent.side,
        action=intent.action,
        status=status,
        filled=filled,
        remaining=left,
        price=intent.price,
        strategy_name=intent.strategy_name,
        timestamp=now,
        fees=fees,
        reason=reason,
        count=intent.count,
    )
