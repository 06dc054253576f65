"""The order an approved signal becomes: one construction for the RiskActor and the backtest."""

from __future__ import annotations

from messages.trading import OrderIntent, RiskDecision, Signal
from messages.vocabulary import TimeInForce, is_action, is_side


def intent_for(
    signal: Signal,
    decision: RiskDecision,
    client_order_id: str,
    time_in_force: TimeInForce,
    now: float,
) -> OrderIntent:
    """The intent for an approved ``decision`` on ``signal`` (sized by the decision)."""
    side, action = signal.direction, signal.action
    if not is_side(side) or not is_action(action):
        raise ValueError(
            f"signal {signal.signal_id}: no order for direction {side!r}, action {action!r}"
        )
    return OrderIntent(
        client_order_id=client_order_id,
        signal_id=signal.signal_id,
        strategy_name=signal.strategy_name,
        ticker=signal.ticker,
        side=side,
        action=action,
        count=decision.quantity,
        price=signal.market_price,
        time_in_force=time_in_force,
        # Kalshi takes reduce_only only with immediate_or_cancel
        reduce_only=action == "sell" and time_in_force == "immediate_or_cancel",
        created_at=now,
    )
