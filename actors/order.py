"""OrderActor: the only code that sends orders — a thin shell over the execution core.

It receives an intent, asks the :class:`~execution.tracker.OrderTracker` whether it may
go, writes it ahead to the ledger, hands it to a :class:`~execution.broker.Broker`
(``PaperBroker`` in paper mode, ``KalshiBroker`` otherwise), applies what the broker
reports to the tracker and publishes what the tracker takes as news. Every intent
arrives with its ``client_order_id`` already made, so a retry can never double an order.

Order state comes from the broker's answers, the venue's ``user_orders`` and ``fill``
streams, and a periodic reconciliation; the tracker books each fill once by
``trade_id``, whichever arrives first. An order whose outcome is unknown (its answer was
lost) is never taken for refused: it is published ``unknown``, keeps its reservation and
holds back new intents on its market until reconciliation finds it by
``client_order_id`` (or proves it absent); one still unknown when its market closes is
looked up, and cancelled if it rests. An intent approved longer than ``max_intent_age``
ago (it waited behind a slow create) is not sent: it ends ``failed`` (``stale_intent``)
and its reservation is released. A venue failure (Kalshi answering 410 on a retired
endpoint) or an answer that cannot be read halts trading: an alert names the cause, the
RiskActor is told (``HaltTrading``) and the broker's kill switch is pulled.

With a ledger (``database``), each intent is written to it — synchronously, through
:class:`storage.intents.IntentLog` — before the order is sent; if that write fails the
order is not sent (it ends ``failed``, reason ``ledger_unavailable``) and new trading
halts until the ledger writes again. On start it reconciles the ledger with the
exchange: intents the exchange never received end ``failed``; resting orders the ledger
does not know are adopted and reported as an alert; fills older than the usual look-back
but newer than the ledger's last one are handed to the ledger.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from loguru import logger

from actors.discovery import known_markets
from execution.broker import Broker, BrokerReport, OutcomeUnknown, VenueFailure, VenueUnavailable
from execution.kalshi_broker import CLAIMED, KalshiBroker, SessionOrderGroup
from execution.paper import PaperBroker
from execution.tracker import ABSENT_AFTER, NOT_FOUND_AFTER_CLOSE, OrderTracker, TrackedOrder
from execution.updates import order_update
from kalshi.connection import ExchangeConnection
from kalshi.rest import FILL_LOOKBACK_SECONDS
from kalshi.tickers import parse_market_ticker
from kalshi.ws_events import FillEvent, OrderGroupEvent, OrderUpdateEvent
from messages.control import CancelAllOrders, CancelOrder, HaltTrading
from messages.ledger import LEDGER, LedgerHealth
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle
from messages.queries import GetOpenOrders, GetOrders, GetPositions, GetStats
from messages.status import Alert
from messages.system import Tick
from messages.timers import CloseWatchTick, PresignTick, ReconcileTick
from messages.trading import Fill, OrderIntent, OrderUpdate
from messages.vocabulary import TERMINAL, OrderStatus, is_side
from runtime.actor import ActorContext
from runtime.bus import ALERTS, BOOK, FILLS, MARKETS, ORDERS
from runtime.dispatch import Dispatch, DispatchedActor
from storage import recovery
from storage.database import Database
from storage.errors import LedgerUnavailable
from storage.intents import IntentLog

if TYPE_CHECKING:
    from kalshi.models import Fill as WireFill

RISK = "risk"
ORDER_GROUP_TRIGGERED = "order_group_triggered"  # the exchange's kill switch fired
LEDGER_UNAVAILABLE = "ledger_unavailable"
NOT_SENT = "not_sent"  # a held intent cancelled before it could be sent
STALE_INTENT = "stale_intent"  # approved too long ago to be sent (MAX_INTENT_AGE_SECONDS)


@dataclass(frozen=True, slots=True)
class _Unsettled:
    """From a crashed incarnation to the next: orders it sent whose outcome it never learned
    (``claimed``: those the venue said exist)."""

    intents: tuple[OrderIntent, ...]
    claimed: frozenset[str] = frozenset()


class OrderActor(DispatchedActor):
    def __init__(
        self,
        context: ActorContext,
        connection: ExchangeConnection | None,
        paper: bool = False,
        cancel_before_close: float = 10.0,
        reconcile_interval: float = 5.0,
        presign_interval: float = 0.5,
        database: Database | None = None,
        order_group: SessionOrderGroup | None = None,
        max_intent_age: float = 2.0,
        absent_after: float = ABSENT_AFTER,
    ) -> None:
        """``max_intent_age``: seconds after its approval an intent may still be sent;
        ``absent_after``: seconds after an uncertain create that a lookup finding nothing
        proves the order absent."""
        super().__init__(context)
        if connection is None and not paper:
            raise ValueError(
                "the order actor needs an exchange connection unless it trades on paper"
            )
        self.connection = connection
        self._open_broker: Callable[[], Broker] = PaperBroker if paper else self._kalshi_broker
        self.order_group = order_group  # the session's exchange-side kill switch
        self.cancel_before_close = cancel_before_close
        self.reconcile_interval = reconcile_interval
        self.presign_interval = presign_interval
        self.max_intent_age = max_intent_age
        self.tracker = OrderTracker(absent_after)
        self._broker: Broker | None = None
        self.venue: KalshiBroker | None = None  # the broker, when it is an exchange's
        self.held: dict[str, deque[str]] = {}  # ticker → intents waiting for an unknown order
        self.close_times: dict[str, float] = {}
        self.sent = 0
        self.halt_cause = ""  # the broker's kill switch is pulled ("" = it is not)
        self._own_halt = False  # we pulled it; the RiskActor has not confirmed the halt yet
        self.database = database
        self.intents: IntentLog | None = None
        self._durable = True  # the last intent write succeeded (alerts only on a change)

    @property
    def broker(self) -> Broker:
        if self._broker is None:
            raise RuntimeError("the order actor has not started")
        return self._broker

    # -- lifecycle -------------------------------------------------------------------

    def setup(self) -> None:
        self.subscribe(MARKETS)
        self.close_times.update({t: m.close_time for t, m in known_markets(self.system).items()})
        if self.database is not None:
            self.intents = IntentLog(self.database)
            try:
                self.intents.connect()
            except LedgerUnavailable as exc:  # the first intent will try again
                logger.warning("order: {}", exc)
        broker = self._broker = self._open_broker()
        if broker.needs_books:
            self.subscribe(BOOK)
        if self.venue is None:
            self._drop_lost_orders()
        else:
            lookback = self.tracker.last_fill_ts = self.clock.now() - FILL_LOOKBACK_SECONDS
            ledger_readable = self._load_open_orders()
            self._adopt_resting(self.venue, alert=ledger_readable)
            self._reconcile()
            self._hand_old_fills_to_ledger(self.venue, lookback)
            self.every(self.presign_interval, PresignTick)
            self.every(self.reconcile_interval, ReconcileTick)
        self.every(1.0, CloseWatchTick)

    def _kalshi_broker(self) -> Broker:
        assert self.connection is not None
        rest = self.connection.rest(presign_orders=True)
        venue = self.venue = KalshiBroker.for_session(rest, self.order_group)
        if self.order_group is not None and venue.order_group_id is None:
            self._alert(
                "order_group_unavailable",
                "no order group could be made: a halt cancels orders one by one and "
                "the exchange will not cap this session if it dies",
                "warning",
            )
        return venue

    def teardown(self) -> None:
        broker = self._broker
        if broker is not None:
            if self.crashed is None and not self.restarting:  # a shutdown: nothing may rest
                self._cancel_all("shutdown", halt=True)
            elif self.venue is not None:
                # Crashed or restarting: orders of unknown outcome would otherwise be forgotten,
                # and risk would keep their reservations for ever. Our address holds this for
                # the next incarnation.
                unsettled = [
                    o
                    for o in self.tracker.open_orders()
                    if o.status in (OrderStatus.PENDING, OrderStatus.UNKNOWN)
                ]
                if unsettled:
                    claimed = frozenset(o.client_order_id for o in unsettled if o.claimed)
                    self.address.tell(_Unsettled(tuple(o.intent for o in unsettled), claimed))
            broker.close()
        if self.intents is not None:
            self.intents.close()

    def _on_fill_event(self, event: FillEvent) -> None:
        self._on_wire_fill(event.fill)
        self._release()

    def _on_update_event(self, event: OrderUpdateEvent) -> None:
        self._on_wire_update(event)
        self._release()

    def _on_book(self, book: BookUpdate) -> None:
        for report in self.broker.on_book(book, self.clock.now()):
            self._apply(report)

    def _on_market(self, info: MarketInfo) -> None:
        self.close_times[info.ticker] = info.close_time

    def _on_cancel(self, message: CancelOrder) -> OrderUpdate:
        return self._cancel_one(message.order_id)

    def _on_cancel_all(self, message: CancelAllOrders) -> int:
        return self._cancel_all(message.reason, halt=message.halt)

    def _on_halt(self, message: HaltTrading) -> int:
        return self._cancel_all(message.reason, halt=True)

    def _on_unsettled(self, message: _Unsettled) -> None:
        self._take_over(message.intents, message.claimed)

    def _get_orders(self, _: GetOrders) -> dict[str, TrackedOrder]:
        return {o.client_order_id: replace(o) for o in self.tracker}

    def _get_positions(self, _: GetPositions) -> dict[str, int]:
        return dict(self.tracker.positions)

    def _get_open_orders(self, _: GetOpenOrders) -> list[OrderUpdate]:
        """A restarted strategy's orders on their way."""
        now = self.clock.now()
        return [o.as_update(now) for o in self.tracker.open_orders()]

    def _get_stats(self, _: GetStats) -> dict[str, int]:
        filled = sum(1 for o in self.tracker if o.filled > 0)
        return {"orders": self.sent, "filled_orders": filled, "fills": self.tracker.fills_booked}

    # -- placing -----------------------------------------------------------------------

    def _on_intent(self, intent: OrderIntent) -> None:
        coid = intent.client_order_id
        if self.tracker.get(coid) is not None:
            logger.warning("order {} already placed; ignoring the repeat", coid)
            return
        tracked = self.tracker.open(intent)
        if self.halt_cause:
            if self._own_halt:  # approved before the RiskActor learned of our halt
                self._publish(
                    tracked.as_update(
                        self.clock.now(), OrderStatus.REJECTED, reason=self.halt_cause
                    )
                )
                return
            self._resume()  # the RiskActor approved it after the halt: it may go
        ticker = intent.ticker
        if self.tracker.blocked(ticker) or ticker in self.held:  # in order, behind the others
            logger.warning("order {} waits: an order on {} has an unknown outcome", coid, ticker)
            self.held.setdefault(ticker, deque()).append(coid)
            self._release()
            return
        self._send(tracked)

    def _send(self, tracked: TrackedOrder) -> None:
        intent = tracked.intent
        if self._too_old(tracked):
            return
        if self.intents is not None and not self._write_ahead(tracked):
            return
        self.sent += 1
        try:
            report = self.broker.submit(intent, self.clock.now())
        except OutcomeUnknown as exc:
            # It may or may not exist; reconciliation will find it by client_order_id.
            logger.error("order {} outcome unknown: {}", intent.client_order_id, exc)
            self._mark_unknown(tracked, exc.reason, claimed=exc.claimed)
            if exc.halt:
                raw = f"; the answer was {exc.raw}" if exc.raw else ""
                self._halt(
                    exc.reason,
                    f"{exc.reason}: the exchange's answer to order {intent.client_order_id} "
                    f"could not be read ({exc.__cause__ or exc}){raw}; trading halted",
                )
            return
        except VenueFailure as exc:
            if exc.report is not None:
                self._apply(exc.report)
            self._halt(
                exc.cause,
                f"{exc.cause}: Kalshi answered {exc.message} to order {intent.client_order_id}; "
                "no order can be placed, trading halted",
            )
            return
        self._apply(report)

    def _too_old(self, tracked: TrackedOrder) -> bool:
        """An intent approved longer than ``max_intent_age`` ago (it waited behind a slow
        create): the prices it was approved at have moved on, so it ends unsent (True)."""
        intent, now = tracked.intent, self.clock.now()
        age = now - intent.created_at
        if not intent.created_at or age <= self.max_intent_age:
            return False
        logger.warning(
            "order {} not sent: approved {:.1f} s ago, longer than MAX_INTENT_AGE_SECONDS ({:g})",
            intent.client_order_id,
            age,
            self.max_intent_age,
        )
        self._publish(tracked.as_update(now, OrderStatus.FAILED, reason=STALE_INTENT))
        return True

    def _mark_unknown(
        self,
        tracked: TrackedOrder,
        reason: str,
        *,
        claimed: bool = False,
        since: float | None = None,
    ) -> None:
        """Its create's outcome is not known: say so (the ledger records it; risk keeps its
        reservation, or makes one again after a restart) and let reconciliation find it by
        ``client_order_id``."""
        now = self.clock.now()
        coid = tracked.client_order_id
        if self.tracker.mark_unknown(coid, reason, now, since=since, claimed=claimed):
            self._announce(tracked.as_update(now))

    def _write_ahead(self, tracked: TrackedOrder) -> bool:
        """Make the intent durable; False (the order ends ``failed``, unsent) when that fails."""
        assert self.intents is not None
        intent, now = tracked.intent, self.clock.now()
        try:
            self.intents.record(intent, now)
        except LedgerUnavailable as exc:
            self._publish(tracked.as_update(now, OrderStatus.FAILED, reason=LEDGER_UNAVAILABLE))
            logger.error("order {} not sent: {}", intent.client_order_id, exc)
            if self._durable:
                self._durable = False
                self.publish(LEDGER, LedgerHealth(False, "order", str(exc), now))
                self._alert(
                    LEDGER_UNAVAILABLE,
                    f"order {intent.client_order_id} was not sent: its intent could not be "
                    "written to the ledger; new trading is halted until the database returns",
                    "critical",
                )
            return False
        self._durable = True
        return True

    def _release(self) -> None:
        """Send the intents held back on markets whose unknown orders are now resolved."""
        if not self.held:
            return
        for ticker in list(self.held):
            waiting = self.held[ticker]
            while waiting and not self.tracker.blocked(ticker):
                tracked = self.tracker.get(waiting.popleft())
                if tracked is not None and tracked.status is OrderStatus.PENDING:
                    self._send(tracked)
            if not waiting:
                del self.held[ticker]

    # -- what the broker and the venue report ------------------------------------------------

    def _apply(self, report: BrokerReport) -> None:
        if report.update is not None:
            self._publish(report.update)
        for fill in report.fills:
            self._book_fill(fill)

    def _publish(self, update: OrderUpdate | None) -> None:
        """Publish a state change, once per real change (the tracker decides)."""
        if update is not None:
            self._announce(self.tracker.apply(update))

    def _announce(self, news: OrderUpdate | None) -> None:
        """Publish what the tracker has already taken as news."""
        if news is not None:
            self.publish(ORDERS, news)

    def _book_fill(self, fill: Fill) -> bool:
        if not self.tracker.record_fill(fill):
            return False
        self.publish(FILLS, fill)
        return True

    def _on_wire_fill(self, wire: WireFill) -> None:
        venue = self.venue
        if venue is None:
            return
        tracked = self.tracker.find(wire.client_order_id, wire.order_id)
        in_doubt = tracked is not None and tracked.status in (
            OrderStatus.FAILED,
            OrderStatus.UNKNOWN,
        )
        fill = venue.fill_of(wire, tracked.intent if tracked else None, self.clock.now())
        if self._book_fill(fill) and in_doubt and tracked is not None:
            # Unknown, or marked failed as never received, yet it traded: the fill names
            # its exchange id, and the exchange is the truth.
            self._refresh(tracked)

    def _on_wire_update(self, event: OrderUpdateEvent) -> None:
        venue = self.venue
        tracked = self.tracker.find(event.client_order_id, event.order_id)
        if venue is None or tracked is None:
            return
        try:
            self._publish(venue.update_of(event, tracked.intent, self.clock.now()))
        except VenueUnavailable as exc:
            logger.warning("order: user_order event skipped: {}", exc)

    def _on_order_group(self, event: OrderGroupEvent) -> None:
        """The exchange fired the session's kill switch by itself: its cap on contracts
        matched in 15 s was reached. Something traded far more than the limits allow, so
        trading halts until an operator resets it."""
        venue = self.venue
        if event.event_type != "triggered" or venue is None or self.halt_cause:
            return  # not news, or our own trigger (a halt already under way)
        if event.order_group_id != venue.order_group_id:
            return
        limit = self.order_group.contracts_limit if self.order_group is not None else "its"
        self._halt(
            ORDER_GROUP_TRIGGERED,
            f"{ORDER_GROUP_TRIGGERED}: Kalshi cancelled every order of this session's order "
            f"group {event.order_group_id} after {limit} contracts matched within 15 s; "
            "trading halted",
        )

    def _refresh(self, tracked: TrackedOrder) -> None:
        try:
            self._publish(self.broker.refresh(tracked, self.clock.now()))
        except VenueUnavailable as exc:
            logger.warning("could not refresh order {}: {}", tracked.client_order_id, exc)

    # -- cancelling and halting ------------------------------------------------------------

    def _cancel_one(self, order_id: str) -> OrderUpdate:
        tracked = self.tracker.find(order_id, order_id)
        if tracked is None:
            raise KeyError(f"unknown order {order_id!r}")
        if tracked.status in TERMINAL:
            raise ValueError(f"order {order_id!r} is already {tracked.status}")
        self._cancel(tracked, "requested")
        return tracked.as_update(self.clock.now())

    def _cancel_all(self, reason: str, *, halt: bool = False) -> int:
        """Cancel every open order; with ``halt`` pull the kill switch too (the RiskActor
        halted or stopped trading, which also confirms a halt we started)."""
        pull = halt and not self.halt_cause
        if pull:
            self.halt_cause = reason or "halted"
        cancelled = self._cancel_open(reason)
        if pull:
            self._pull_kill_switch(reason)
        if halt:
            self._own_halt = False
        return cancelled

    def _cancel_open(self, reason: str) -> int:
        open_orders = self.tracker.open_orders()
        for tracked in open_orders:
            self._cancel(tracked, reason)
        if open_orders:
            logger.info("cancelled {} open orders ({})", len(open_orders), reason)
        return len(open_orders)

    def _cancel(self, tracked: TrackedOrder, reason: str) -> None:
        now = self.clock.now()
        if tracked.status is OrderStatus.PENDING:  # held back, never sent
            self._publish(tracked.as_update(now, OrderStatus.CANCELED, reason=NOT_SENT))
            return
        if tracked.status is OrderStatus.UNKNOWN and not self._found_resting(tracked, reason):
            return  # not found (yet), or done: nothing to cancel now
        try:
            self._apply(self.broker.cancel(tracked, now))
        except VenueUnavailable as exc:
            logger.warning("cancel of {} failed ({}): {}", tracked.client_order_id, reason, exc)
        except VenueFailure as exc:
            logger.error("cancel of {} failed ({}): {}", tracked.client_order_id, reason, exc)
            if not self.halt_cause:
                self._halt(exc.cause, f"{exc.cause}: Kalshi refused a cancel ({exc.message})")

    def _found_resting(self, tracked: TrackedOrder, reason: str) -> bool:
        """An order of unknown outcome may rest: look it up; True if it does."""
        try:
            self._look_up(tracked, self.clock.now())
        except VenueUnavailable as exc:
            logger.warning("cancel of {} ({}): {}", tracked.client_order_id, reason, exc)
        return tracked.status is OrderStatus.RESTING

    def _halt(self, cause: str, message: str) -> None:
        """A venue failure: an alert naming it, the RiskActor told, every order cancelled
        and the kill switch pulled. Intents already on their way are refused until the
        RiskActor confirms the halt (its ``CancelAllOrders``)."""
        logger.critical("order: {}", message)
        self._alert(cause, message, "critical")
        self.system.tell(RISK, HaltTrading(cause, message))
        pull = not self.halt_cause
        self.halt_cause, self._own_halt = cause, True
        self._cancel_open(cause)
        if pull:
            self._pull_kill_switch(cause)

    def _pull_kill_switch(self, reason: str) -> None:
        for report in self.broker.halt(reason, self.clock.now()):
            self._apply(report)

    def _resume(self) -> None:
        logger.info("order: trading resumes after the halt ({})", self.halt_cause)
        self.halt_cause = ""
        self.broker.resume()

    def _alert(self, kind: str, message: str, level: str) -> None:
        self.publish(ALERTS, Alert(kind, message, level, self.clock.now()))

    # -- time ------------------------------------------------------------------------------

    def _on_tick(self, tick: Tick) -> None:
        kind = type(tick)
        if kind is PresignTick and self.venue is not None:
            self.venue.refresh_presigned()
        elif kind is ReconcileTick:
            self._reconcile()
        elif kind is CloseWatchTick:
            now = self.clock.now()
            for tracked in self.tracker.open_orders():
                close = self.close_times.get(tracked.ticker)
                if close is not None and close - now <= self.cancel_before_close:
                    self._cancel(tracked, "market closing")

    def _reconcile(self) -> None:
        """Catch up with the venue: orders of unknown outcome, missed fills, resting orders;
        then send what waited for the unknown ones."""
        now = self.clock.now()
        tracker, broker = self.tracker, self.broker
        try:
            for tracked in tracker.unknown_orders():
                self._look_up(tracked, now)
            if self.venue is not None:
                for wire in self.venue.fills_since(int(tracker.last_fill_ts) - 60):
                    self._on_wire_fill(wire)
            for tracked in tracker.resting():
                self._publish(broker.refresh(tracked, now))
        except VenueUnavailable as exc:
            logger.warning("order reconciliation incomplete: {}", exc)
        self._release()

    def _look_up(self, tracked: TrackedOrder, now: float) -> None:
        """Ask the venue for an order of unknown outcome by ``client_order_id`` and take what
        that proves (raises :class:`VenueUnavailable` when it cannot answer)."""
        found = self.broker.lookup(tracked.intent, now)
        closed = self._closed(tracked.ticker, now)
        news = self.tracker.resolve(tracked.client_order_id, found, now, closed=closed)
        self._announce(news)
        if news is not None and news.reason == NOT_FOUND_AFTER_CLOSE:
            self._alert(
                NOT_FOUND_AFTER_CLOSE,
                f"order {tracked.client_order_id} on {tracked.ticker}: the exchange said it "
                "exists but it was never found; its market has closed, so it can trade no "
                "more: marked canceled (its fills, if any, are booked from the fill list)",
                "warning",
            )

    def _closed(self, ticker: str, now: float) -> bool:
        """Whether ``ticker``'s market closed more than ``absent_after`` seconds ago (no order
        can rest or trade there; the last reports have had time to arrive)."""
        close = self.close_times.get(ticker)
        if close is None:
            try:
                close = parse_market_ticker(ticker).close_time.timestamp()
            except ValueError:
                return False  # not a window ticker: its close is unknown
        return now - close >= self.tracker.absent_after

    def _take_over(self, intents: tuple[OrderIntent, ...], claimed: frozenset[str]) -> None:
        """Orders a crashed incarnation sent without learning their fate: look them up now."""
        for intent in intents:
            coid = intent.client_order_id
            if self.tracker.get(coid) is None:
                tracked = self.tracker.open(intent)
                reason = CLAIMED if coid in claimed else "taken_over"
                self._mark_unknown(tracked, reason, claimed=coid in claimed)
        logger.warning("took over {} orders of unknown outcome", len(intents))
        self._reconcile()

    def _on_lifecycle(self, event: MarketLifecycle) -> None:
        if event.event_type != "settled" or not is_side(event.result):
            return
        self.close_times.pop(event.ticker, None)
        self.broker.forget(event.ticker)
        settlement = self.tracker.settle(event.ticker, event.result, self.clock.now())
        if settlement is None:
            return
        logger.info(
            "{} settled {}: position {}, payout ${}",
            event.ticker,
            event.result,
            settlement.yes_contracts - settlement.no_contracts,
            settlement.payout,
        )
        self.publish(FILLS, settlement)

    # -- recovery after a restart ---------------------------------------------------------

    def _load_open_orders(self) -> bool:
        """Orders the ledger holds as open: checked with the exchange by the next reconciliation
        (an intent whose order never reached it ends ``failed``). False if it cannot be read."""
        if self.database is None:
            return False
        now = self.clock.now()
        try:
            rows = recovery.open_orders(self.database, now=now)
        except LedgerUnavailable as exc:
            logger.error("order: {}", exc)
            self.publish(LEDGER, LedgerHealth(False, "order", str(exc), now))
            return False
        for row in rows:
            intent = row.intent()
            if not row.in_orders:  # its bus copy died with the process: give it to the ledger
                self.system.tell(LEDGER, intent)
            if self.tracker.get(row.client_order_id) is not None:
                continue
            if row.status == "resting" and row.order_id is not None:
                resting = order_update(
                    intent,
                    OrderStatus.RESTING,
                    now,
                    order_id=row.order_id,
                    filled=row.filled,
                    remaining=row.remaining,
                )
                self.tracker.adopt(intent, resting)
                continue
            tracked = self.tracker.open(intent)
            if row.order_id is not None:
                self.tracker.link(row.client_order_id, row.order_id)
            claimed = row.reason == CLAIMED  # the exchange said it exists: keep looking
            reason = CLAIMED if claimed else "recovered"
            self._mark_unknown(tracked, reason, claimed=claimed, since=row.created_at)
        if rows:
            logger.info("order: {} orders open in the ledger; checking them", len(rows))
        return True

    def _adopt_resting(self, venue: KalshiBroker, alert: bool = False) -> None:
        """Track orders resting at the exchange that this incarnation did not place (after a restart).

        With a ledger, each is recorded there; those the ledger did not know at all are
        reported (``alert``: only when the ledger could be read, or every order would be).
        """
        try:
            resting = venue.resting_orders()
        except VenueUnavailable as exc:
            raise RuntimeError(f"cannot read resting orders from the exchange: {exc}") from exc
        new = [o for o in resting if self.tracker.find(o.client_order_id, o.order_id) is None]
        known: dict[str, recovery.LedgerOrder] = {}
        if self.database is not None and new:
            try:
                known = recovery.orders_by_id(
                    self.database, [o.client_order_id or o.order_id for o in new]
                )
            except LedgerUnavailable as exc:
                logger.warning("order: {}", exc)
                alert = False
        now = self.clock.now()
        unknown: list[str] = []
        for order in new:
            row = known.get(order.client_order_id or order.order_id)
            intent = row.intent() if row is not None else venue.intent_of(order)
            update = replace(
                venue.update_of(order, intent, now), reason="" if row is not None else "adopted"
            )
            self.tracker.adopt(intent, update)
            if self.database is not None:  # the ledger learns its state from this update
                self.publish(ORDERS, update)
                if row is None:
                    unknown.append(intent.client_order_id)
        if new:
            logger.warning("adopted {} resting orders found at the exchange", len(new))
        if unknown and alert:
            shown = ", ".join(unknown[:5]) + (", …" if len(unknown) > 5 else "")
            self._alert(
                "order_adopted",
                f"{len(unknown)} resting orders at the exchange were unknown to the ledger "
                f"and have been adopted: {shown}",
                "warning",
            )

    def _hand_old_fills_to_ledger(self, venue: KalshiBroker, lookback: float) -> None:
        """Fills between the ledger's last one and the usual look-back (after a long downtime):
        the ledger needs them; risk and the strategies do not (their markets have settled)."""
        if self.database is None:
            return
        try:
            newest = recovery.last_fill_ts(self.database)
        except LedgerUnavailable:
            return
        if newest is None or newest >= lookback:
            return
        try:
            old = venue.fills_since(int(newest) - 60, max_ts=int(lookback) + 1)
        except VenueUnavailable as exc:
            logger.warning("order: older fills not read: {}", exc)
            return
        now = self.clock.now()
        for wire in old:
            tracked = self.tracker.find(wire.client_order_id, wire.order_id)
            self.system.tell(LEDGER, venue.fill_of(wire, tracked.intent if tracked else None, now))
        if old:
            logger.info("order: handed {} older fills to the ledger", len(old))

    def _drop_lost_orders(self) -> None:
        """Orders of a broker without a venue (paper) live in memory: those still open in
        the ledger died with the process."""
        if self.database is None:
            return
        now = self.clock.now()
        try:
            rows = recovery.open_orders(self.database, now=now)
        except LedgerUnavailable as exc:
            logger.warning("order: {}", exc)
            return
        for row in rows:
            lost = order_update(
                row.intent(),
                OrderStatus.CANCELED,
                now,
                order_id=row.order_id,
                filled=row.filled,
                reason="lost_on_restart",
            )
            self.publish(ORDERS, lost)

    _DISPATCH: ClassVar[Dispatch[OrderActor]] = Dispatch(
        {
            OrderIntent: _on_intent,
            FillEvent: _on_fill_event,
            OrderUpdateEvent: _on_update_event,
            OrderGroupEvent: _on_order_group,
            BookUpdate: _on_book,
            MarketInfo: _on_market,
            MarketLifecycle: _on_lifecycle,
            CancelOrder: _on_cancel,
            CancelAllOrders: _on_cancel_all,
            HaltTrading: _on_halt,
            _Unsettled: _on_unsettled,
            GetOrders: _get_orders,
            GetPositions: _get_positions,
            GetOpenOrders: _get_open_orders,
            GetStats: _get_stats,
        },
        inherited={Tick: _on_tick},  # every timer: each kind picks its own work
    )
