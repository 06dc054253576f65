"""The order an approved signal becomes: one construction for the RiskActor and the backtest."""

from __future__ import annotations

from messages.trading import OrderIntent, RiskDecision, Signal


def intent_for(
    signal: Signal,
    decision: RiskDecision,
    client_order_id: str,
    time_in_force: str,
    now: float,
) -> OrderIntent:
    """The intent for an approved ``decision`` on ``signal`` (sized by the decision)."""
    return OrderIntent(
        client_order_id=client_order_id,
        signal_id=signal.signal_id,
        strategy_name=signal.strategy_name,
        ticker=signal.ticker,
        side=signal.direction,
        action=signal.action,
        count=decision.quantity,
        price=signal.market_price,
        time_in_force=time_in_force,
        reduce_only=signal.action == "sell",
        created_at=now,
    )
