"""Status messages: what the dashboard shows — risk state, positions, strategies, alerts."""

from __future__ import annotations

from decimal import Decimal

from messages.base import Message, message


@message("position")
class Position(Message):
    ticker: str
    side: str  # yes | no
    contracts: int
    average_price: Decimal
    cost: Decimal  # dollars paid including fees
    market_value: Decimal | None  # marked at the best bid of the side, when known
    unrealized_pnl: Decimal | None
    realized_pnl: Decimal


@message("risk_status")
class RiskStatus(Message):
    """The RiskActor's view, published on every change (``/api/status`` ``risk_metrics``)."""

    trading_state: str  # running | stopped | halted
    daily_pnl: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees_paid: Decimal
    exposure: Decimal
    reserved: Decimal
    open_positions: int
    bankroll: Decimal
    starting_bankroll: Decimal
    circuit_breaker_triggered: bool
    halt_reason: str
    positions: tuple[Position, ...]
    timestamp: float


@message("strategy_status")
class StrategyStatus(Message):
    name: str
    enabled: bool
    params: tuple[tuple[str, str], ...]  # (name, value as text), in declaration order
    metrics: tuple[tuple[str, str], ...]
    timestamp: float


@message("alert")
class Alert(Message):
    """Something an operator should see now (``alert`` on the WebSocket)."""

    alert_type: str
    message: str
    level: str  # info | warning | error | critical
    timestamp: float
