"""Control messages: what the API, the dashboard and the operator ask of the trading actors."""

from __future__ import annotations

from decimal import Decimal

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


@message("set_risk_limits")
class SetRiskLimits(Message):
    """Change risk limits at runtime (``changes``: a JSON object of setting → value); kept in
    the ledger across restarts until :class:`ResetRiskLimits`. ``requested_by``: who asked."""

    changes: str
    requested_by: str


@message("reset_risk_limits")
class ResetRiskLimits(Message):
    """Drop every runtime change: back to the limits the bot started with."""

    requested_by: str


@message("get_risk_limits")
class GetRiskLimits(Message):
    """Ask the risk actor for its limits, the start-up ones and who changed them."""


@message("flatten_position")
class FlattenPosition(Message):
    """Sell a whole position at the best bid, through risk like any order. The price guard:
    refuse when the bid is below ``min_price`` (if given) or more than ``max_slippage``
    under the market's mid."""

    ticker: str
    requested_by: str
    min_price: Decimal | None = None
    max_slippage: Decimal = Decimal("0.05")


@message("set_strategy_params")
class SetStrategyParams(Message):
    """Change a strategy's parameters at runtime (``changes``: a JSON object); validated by
    its parameter model, kept in the ledger until :class:`ResetStrategyParams`."""

    name: str
    changes: str
    requested_by: str


@message("reset_strategy_params")
class ResetStrategyParams(Message):
    """Back to the parameters the strategy started with."""

    name: str
    requested_by: str
