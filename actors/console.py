"""ConsoleReporter: what the bot decides and does, one console line each, plus a status line.

Under ``LOG_LEVEL=INFO`` an operator watching the terminal sees each signal's risk
decision (with the signal's side, price and edge), each order sent, each order that
ended short of filled ("canceled: filled 5 of 22"), each fill and settlement, and
every ``status_interval`` seconds one compact line: trading state, the day's P&L,
exposure, positions and what the session has done so far.

Printing must never compete with trading, so this actor borrows the ledger's mailbox
(:class:`actors.ledger._LazyInbox`): the events it is told are set aside without waking
its thread, and it writes their lines every ``flush_interval`` seconds, after the burst.
The order path pays one ``tell`` per event; the formatting and the writing happen here.

Wiring: a child of the root, ``ChildSpec.of("console", ConsoleReporter)``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loguru import logger

from actors.ledger import _LazyInbox
from messages.queries import FlushLines, GetStatus, Query, WriteStatusLine
from messages.status import RiskStatus
from messages.timers import FlushTick, StatusTick
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Settlement, Signal
from messages.vocabulary import TERMINAL, OrderStatus
from runtime.actor import ActorContext, SupervisedActor
from runtime.address import ActorUnavailable
from runtime.bus import FILLS, ORDERS, SIGNALS, STATUS
from runtime.inbox import OwnInbox

CONSOLE = "console"
RISK = "risk"
_MAX_SIGNALS = 1_000  # signals waiting for their decision; the oldest are forgotten


@dataclass
class Tally:
    """What the session has done, for the status line."""

    signals: int = 0
    approved: int = 0
    orders: int = 0
    fills: int = 0
    contracts: int = 0


CENT = Decimal("0.01")
SHOWN = Decimal("0.0001")  # Kalshi's fixed-point precision: edges and fees


def _money(value: Decimal) -> str:
    shown = value.quantize(CENT)
    return f"-${-shown}" if shown < 0 else f"${shown}"


def _decision_line(decision: RiskDecision, signal: Signal | None) -> tuple[str, tuple[Any, ...]]:
    verdict = f"approved {decision.quantity}" if decision.approved else "rejected"
    why = "" if decision.approved else f": {decision.reason}"
    if signal is None:
        return "signal {} {} → {}{}", (decision.strategy_name, decision.ticker, verdict, why)
    return "signal {} {}: {} {} {} @ ${}, model {}, edge ${} → {}{}", (
        decision.strategy_name,
        decision.ticker,
        signal.action,
        signal.direction,
        signal.quantity,
        signal.market_price,
        signal.model_prob.quantize(Decimal("0.001")),
        signal.edge.quantize(SHOWN),
        verdict,
        why,
    )


def ended_short(update: OrderUpdate, count: int) -> tuple[str, ...] | None:
    """A finished order's line: filled in full says nothing more (its fills did); short, it does."""
    if update.status is OrderStatus.EXECUTED and update.filled >= count:
        return None
    reason = f" ({update.reason})" if update.reason else ""
    return (
        "order {} {}: filled {} of {}{}",
        update.client_order_id[:8],
        update.status.value,
        str(update.filled),
        str(count or "?"),
        reason,
    )


class ConsoleReporter(OwnInbox, SupervisedActor):
    inbox_type = _LazyInbox

    def __init__(
        self, context: ActorContext, flush_interval: float = 0.5, status_interval: float = 60.0
    ) -> None:
        super().__init__(context)
        self.flush_interval = flush_interval
        self.status_interval = status_interval
        self.signals: OrderedDict[str, Signal] = OrderedDict()
        self.counts: dict[str, int] = {}  # client_order_id -> contracts ordered
        self.intents: dict[str, OrderIntent] = {}  # by signal id, until its decision's line
        self.tally = Tally()
        self.risk: RiskStatus | None = None
        self._writers: dict[type, Callable[[Any], None]] = {
            Signal: self._remember,
            RiskDecision: self._on_decision,
            OrderIntent: self._on_intent,
            OrderUpdate: self._on_update,
            Fill: self._on_fill,
            Settlement: self._on_settlement,
        }

    def setup(self) -> None:
        self.own_inbox(_LazyInbox).now = self.clock.now
        self.subscribe(SIGNALS, ORDERS, FILLS, STATUS, last=True)  # a record: no one waits
        self.every(self.flush_interval, FlushTick)  # writes what was set aside
        self.every(self.status_interval, StatusTick)

    def handle(self, message: Any) -> Any:
        self._write_aside()  # in order: what was set aside arrived before this message
        kind = type(message)
        if kind is RiskStatus:
            self.risk = message
        elif kind is StatusTick or kind is WriteStatusLine:
            self.status_line()
        elif kind is FlushTick or kind is FlushLines:
            return None
        elif isinstance(message, Query):
            return super().handle(message)  # not ours to answer: a dead letter
        else:
            self.on_event(message)
        return None

    def _write_aside(self) -> None:
        for event, _ in self.own_inbox(_LazyInbox).take_aside():
            self.on_event(event)
        for intent in self.intents.values():  # a decision seen before this actor started
            self._order_line(intent)
        self.intents.clear()

    def on_event(self, event: object) -> None:
        """One console line for a decision, an order, an order ending short, a fill."""
        write = self._writers.get(type(event))
        if write is not None:
            write(event)

    def _remember(self, signal: Signal) -> None:
        self.signals[signal.signal_id] = signal
        while len(self.signals) > _MAX_SIGNALS:
            self.signals.popitem(last=False)

    def _on_decision(self, decision: RiskDecision) -> None:
        self.tally.signals += 1
        self.tally.approved += decision.approved
        text, args = _decision_line(decision, self.signals.pop(decision.signal_id, None))
        logger.info(text, *args)
        intent = self.intents.pop(decision.signal_id, None)
        if intent is not None:
            self._order_line(intent)

    def _on_intent(self, intent: OrderIntent) -> None:
        """Risk publishes an order before its decision; the lines read decision, then order."""
        self.tally.orders += 1
        self.counts[intent.client_order_id] = intent.count
        self.intents[intent.signal_id] = intent

    def _order_line(self, intent: OrderIntent) -> None:
        logger.info(
            "order {} {} {}: {} {} {} @ ${} ({})",
            intent.client_order_id[:8],
            intent.strategy_name,
            intent.ticker,
            intent.action,
            intent.side,
            intent.count,
            intent.price,
            intent.time_in_force,
        )

    def _on_update(self, update: OrderUpdate) -> None:
        if update.status in TERMINAL:
            count = self.counts.pop(update.client_order_id, 0) or update.count
            line = ended_short(update, count)
            if line is not None:
                logger.info(*line)

    def _on_fill(self, fill: Fill) -> None:
        self.tally.fills += 1
        self.tally.contracts += fill.count
        logger.info(
            "fill {} {}: {} {} {} @ ${}, fee ${} ({})",
            fill.strategy_name or "-",
            fill.ticker,
            fill.action,
            fill.side,
            fill.count,
            fill.price,
            fill.fee,
            "taker" if fill.is_taker else "maker",
        )

    def _on_settlement(self, settlement: Settlement) -> None:
        logger.info(
            "settled {} → {}: yes {}, no {}, payout ${}",
            settlement.ticker,
            settlement.result,
            settlement.yes_contracts,
            settlement.no_contracts,
            settlement.payout,
        )

    def _ask_risk(self) -> RiskStatus | None:
        """Its status, when none was published since this actor started."""
        try:
            status = self.system.ask(RISK, GetStatus(), timeout=2.0, probe=True)
        except (ActorUnavailable, Exception):  # not up, or busy: the line says so
            return None
        return status if isinstance(status, RiskStatus) else None

    def status_line(self) -> None:
        """One compact line: how trading stands and what the session has done."""
        t, risk = self.tally, self.risk or self._ask_risk()
        if risk is None:
            state = "trading: no risk status yet"
        else:
            halt = f" ({risk.halt_reason})" if risk.halt_reason else ""
            state = (
                f"trading {risk.trading_state}{halt} · day P&L {_money(risk.daily_pnl)}"
                f" · exposure {_money(risk.exposure)} · {risk.open_positions} positions"
            )
        logger.info(
            "status: {} · session: {} signals ({} approved), {} orders, {} fills ({} contracts)",
            state,
            t.signals,
            t.approved,
            t.orders,
            t.fills,
            t.contracts,
        )
