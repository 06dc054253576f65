"""Control messages: what the API, the dashboard and the operator ask of the trading actors."""

from __future__ import annotations

from messages.base import Message, message


@message("start_trading")
class StartTrading(Message):
    """Resume new entries (market data never stops)."""

    requested_by: str = "api"


@message("stop_trading")
class StopTrading(Message):
    """Stop new entries and cancel resting orders; positions are kept."""

    reason: str = "requested"
    requested_by: str = "api"


@message("reset_circuit_breaker")
class ResetCircuitBreaker(Message):
    requested_by: str = "api"


@message("set_strategy_enabled")
class SetStrategyEnabled(Message):
    name: str
    enabled: bool


@message("control_changed")
class ControlChanged(Message):
    """An operator's switch, as the ledger keeps it across restarts (``value``: JSON)."""

    name: str  # e.g. strategy:kelly_volatility:enabled
    value: str
    requested_by: str
    timestamp: float


@message("cancel_order")
class CancelOrder(Message):
    """Cancel one resting order, named by the exchange's ``order_id`` or our ``client_order_id``."""

    order_id: str


@message("cancel_all_orders")
class CancelAllOrders(Message):
    """Cancel every open order; with ``halt`` also pull the venue's kill switch (an order
    group triggered: nothing new is accepted until the next approved order resets it)."""

    reason: str = "requested"
    halt: bool = False


@message("halt_trading")
class HaltTrading(Message):
    """Halt new trading for ``reason`` (a venue failure such as a retired endpoint);
    cleared like the circuit breaker, by a reset. ``message`` says what happened."""

    reason: str
    message: str
