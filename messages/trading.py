"""Trading messages: signals, risk decisions, order intents and their lifecycle, fills, settlements.

Field names follow the ▶ WebSocket contract (``trading_signal.data`` and
``trade_execution.data`` in DESIGN.md), so the hub can forward them as they are.
"""

from __future__ import annotations

from decimal import Decimal

from messages.base import Message, message
from messages.vocabulary import Action, OrderStatus, Side, TimeInForce


@message("trading_signal")
class Signal(Message):
    """A strategy wants to trade. ``model_prob`` is P(settles YES) whatever the direction."""

    signal_id: str
    strategy_name: str
    ticker: str
    direction: str  # "yes" | "no": the side bought (or sold, with action "sell")
    edge: Decimal  # expected value per contract after fees, in dollars
    model_prob: Decimal
    market_price: Decimal  # price paid for the chosen side
    quantity: int
    timestamp: float
    action: str = "buy"  # "sell" closes a position
    reason: str = ""
    # kelly_volatility inputs (None for other strategies)
    spot: Decimal | None = None
    strike: Decimal | None = None
    sigma: float | None = None  # annualized over a 365-day year
    seconds_left: float | None = None
    effective_seconds: float | None = None  # variance-equivalent horizon of the averaged payoff
    fee: Decimal | None = None  # taker fee per contract, dollars
    kelly_fraction: float | None = None
    # mean_reversion inputs
    zscore: float | None = None


@message("risk_decision")
class RiskDecision(Message):
    signal_id: str
    strategy_name: str
    ticker: str
    approved: bool
    reason: str  # "approved" or the rule that rejected it
    quantity: int  # approved quantity (may be less than asked)
    timestamp: float


@message("order_intent")
class OrderIntent(Message):
    """An approved order, exposure already reserved. ``client_order_id`` is made before sending."""

    client_order_id: str
    signal_id: str
    strategy_name: str
    ticker: str
    side: Side
    action: Action
    count: int
    price: Decimal  # limit price of ``side``, dollars
    time_in_force: TimeInForce
    expiration_ts: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    created_at: float = 0.0


@message("order_update")
class OrderUpdate(Message):
    """A change in an order's state as the exchange (or the paper engine) reports it."""

    client_order_id: str
    order_id: str | None
    ticker: str
    side: Side
    action: Action
    status: OrderStatus
    filled: int
    remaining: int
    price: Decimal
    strategy_name: str
    timestamp: float
    fees: Decimal = Decimal(0)
    reason: str = ""  # Kalshi's error code on a rejection
    count: int = 0  # the order's size (its intent's count): count − filled never filled; 0 unknown


@message("fill")
class Fill(Message):
    trade_id: str
    order_id: str
    client_order_id: str | None
    ticker: str
    side: Side
    action: Action
    count: int
    price: Decimal  # price of ``side``
    fee: Decimal
    is_taker: bool
    timestamp: float
    strategy_name: str = ""


@message("settlement")
class Settlement(Message):
    """A market settled: what our position paid."""

    ticker: str
    result: Side
    yes_contracts: int
    no_contracts: int
    payout: Decimal
    timestamp: float
