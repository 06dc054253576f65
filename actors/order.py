"""OrderActor: the only code that sends orders, and the one that knows every order's state.

Every intent arrives with its ``client_order_id`` already made, so a retry (by
the client, or after a restart) can never double an order. Order state comes
from three places — the create/cancel answers, the ``user_orders`` and ``fill``
streams, and a periodic REST reconciliation — and fills are booked once by
``trade_id`` whichever arrives first. In paper mode the same actor fills
intents against the live book instead of sending them.

With a ledger (``database``), each intent is written to it — synchronously,
through :class:`storage.intents.IntentLog` — before the order is sent; if that
write fails the order is not sent (it ends ``failed``, reason
``ledger_unavailable``) and new trading halts until the ledger writes again. On
start it reconciles the ledger with the exchange: intents the exchange never
received end ``failed``; resting orders the ledger does not know are adopted
and reported as an alert; fills older than the usual look-back but newer than
the ledger's last one are handed to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from loguru import logger

from actors.discovery import known_markets
from actors.ledger import LEDGER, LedgerHealth
from app.connection import ExchangeConnection
from execution.order_state import TERMINAL, is_news
from execution.paper import PaperBroker
from execution.positions import settlement_payout, signed_change
from kalshi.errors import KalshiError, NotFound
from kalshi.models import Fill as WireFill
from kalshi.models import Order
from kalshi.rest import KalshiRestClient, OrderOutcomeUnknown
from kalshi.ws_events import FillEvent, OrderUpdateEvent
from messages.control import CancelAllOrders, CancelOrder
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle
from messages.status import Alert
from messages.system import Tick
from messages.trading import Fill, OrderIntent, OrderUpdate, Settlement
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import ALERTS, BOOK, FILLS, MARKETS, ORDERS
from storage import recovery
from storage.database import Database
from storage.errors import LedgerUnavailable
from storage.intents import IntentLog

FILL_LOOKBACK_SECONDS = 3600  # fills re-read from the exchange after a (re)start
FILL_PAGES = 50  # at most this many pages of fills (200 each) per reconciliation


@dataclass
class TrackedOrder:
    intent: OrderIntent
    order_id: str | None = None
    status: str = "pending"
    filled: int = 0
    remaining: int = 0
    fees: Decimal = field(default_factory=lambda: Decimal(0))
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Unsettled:
    """From a crashed incarnation to the next: orders it sent whose outcome it never learned."""

    intents: tuple[OrderIntent, ...]


def _count(value: Decimal) -> int:
    return int(value)


class OrderActor(SupervisedActor):
    def __init__(
        self,
        context: ActorContext,
        connection: ExchangeConnection | None,
        paper: bool = False,
        cancel_before_close: float = 10.0,
        reconcile_interval: float = 5.0,
        presign_interval: float = 0.5,
        database: Database | None = None,
    ) -> None:
        super().__init__(context)
        if connection is None and not paper:
            raise ValueError(
                "the order actor needs an exchange connection unless it trades on paper"
            )
        self.connection = connection
        self.paper = PaperBroker() if paper else None
        self.cancel_before_close = cancel_before_close
        self.reconcile_interval = reconcile_interval
        self.presign_interval = presign_interval
        self.rest: KalshiRestClient | None = None
        self.orders: dict[str, TrackedOrder] = {}  # by client_order_id
        self.by_exchange_id: dict[str, str] = {}
        self.trade_ids: set[str] = set()
        self.positions: dict[str, int] = {}
        self.close_times: dict[str, float] = {}
        self.books: dict[str, BookUpdate] = {}
        self.last_fill_ts = 0.0
        self.sent = 0
        self.database = database
        self.intents: IntentLog | None = None
        self._durable = True  # the last intent write succeeded (alerts only on a change)

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
        if self.paper is not None:
            self.subscribe(BOOK)
            self._drop_lost_paper_orders()
        elif self.connection is not None:
            self.rest = self.connection.rest(presign_orders=True)
            lookback = self.last_fill_ts = self.clock.now() - FILL_LOOKBACK_SECONDS
            ledger_readable = self._load_open_orders()
            self._adopt_resting(alert=ledger_readable)
            self._reconcile()
            self._hand_old_fills_to_ledger(lookback)
            self.every(self.presign_interval, "presign")
            self.every(self.reconcile_interval, "reconcile")
        self.every(1.0, "close-watch")

    def teardown(self) -> None:
        if self.crashed is None:  # an orderly stop (shutdown): nothing may be left resting
            self._cancel_all("shutdown")
        elif self.rest is not None:
            # Crashed: orders of unknown outcome would otherwise be forgotten, and risk would
            # keep their reservations for ever. Our address holds this for the next one.
            unsettled = tuple(
                o.intent for o in self.orders.values() if o.status in ("pending", "unknown")
            )
            if unsettled:
                self.address.tell(_Unsettled(unsettled))
        if self.rest is not None:
            self.rest.close()
        if self.intents is not None:
            self.intents.close()

    def handle(self, message: Any) -> Any:
        kind = type(message)
        if kind is OrderIntent:
            self._place(message)
        elif kind is FillEvent:
            self._on_wire_fill(message.fill)
        elif kind is OrderUpdateEvent:
            self._on_wire_update(message)
        elif kind is BookUpdate:
            self._on_book(message)
        elif kind is Tick:
            self._on_tick(message.timer)
        elif kind is MarketInfo:
            self.close_times[message.ticker] = message.close_time
        elif kind is MarketLifecycle:
            self._on_lifecycle(message)
        elif kind is CancelOrder:
            return self._cancel_one(message.order_id)
        elif kind is CancelAllOrders:
            return self._cancel_all(message.reason)
        elif kind is _Unsettled:
            self._take_over(message.intents)
        elif message == "orders":
            return {coid: replace(order) for coid, order in self.orders.items()}
        elif message == "positions":
            return dict(self.positions)
        elif message == "stats":
            filled = sum(1 for o in self.orders.values() if o.filled > 0)
            return {"orders": self.sent, "filled_orders": filled, "fills": len(self.trade_ids)}
        else:
            return super().handle(message)
        return None

    # -- placing -----------------------------------------------------------------------

    def _place(self, intent: OrderIntent) -> None:
        if intent.client_order_id in self.orders:
            logger.warning("order {} already placed; ignoring the repeat", intent.client_order_id)
            return
        tracked = self.orders[intent.client_order_id] = TrackedOrder(intent, remaining=intent.count)
        if self.intents is not None and not self._write_ahead(tracked):
            return
        self.sent += 1
        if self.paper is not None:
            update, fills = self.paper.submit(
                intent, self.books.get(intent.ticker), self.clock.now()
            )
            self._apply(tracked, update)
            for fill in fills:
                self._book_fill(fill)
            return
        assert self.rest is not None
        try:
            order = self.rest.create_order(
                intent.ticker,
                intent.side,
                intent.action,
                intent.count,
                client_order_id=intent.client_order_id,
                time_in_force=intent.time_in_force,
                expiration_ts=intent.expiration_ts,
                post_only=intent.post_only or None,
                reduce_only=intent.reduce_only or None,
                yes_price=intent.price if intent.side == "yes" else None,
                no_price=intent.price if intent.side == "no" else None,
            )
        except OrderOutcomeUnknown as exc:
            # It may or may not exist; reconciliation will find it by client_order_id.
            logger.error("order {} outcome unknown: {}", intent.client_order_id, exc)
            tracked.status = "unknown"
            return
        except KalshiError as exc:
            self._apply(
                tracked, self._update(tracked, "rejected", reason=exc.code or type(exc).__name__)
            )
            logger.warning("order {} rejected: {}", intent.client_order_id, exc)
            return
        self._on_order(order)

    def _write_ahead(self, tracked: TrackedOrder) -> bool:
        """Make the intent durable; False (the order ends ``failed``, unsent) when that fails."""
        assert self.intents is not None
        intent = tracked.intent
        try:
            self.intents.record(intent, self.clock.now())
        except LedgerUnavailable as exc:
            self._apply(tracked, self._update(tracked, "failed", reason="ledger_unavailable"))
            logger.error("order {} not sent: {}", intent.client_order_id, exc)
            if self._durable:
                self._durable = False
                now = self.clock.now()
                self.publish(LEDGER, LedgerHealth(False, "order", str(exc), now))
                self.publish(
                    ALERTS,
                    Alert(
                        "ledger_unavailable",
                        f"order {intent.client_order_id} was not sent: its intent could not be "
                        "written to the ledger; new trading is halted until the database returns",
                        "critical",
                        now,
                    ),
                )
            return False
        self._durable = True
        return True

    def _on_order(self, order: Order) -> None:
        coid = order.client_order_id
        tracked = self.orders.get(coid) if coid else None
        if tracked is None:
            return
        tracked.order_id = order.order_id
        self.by_exchange_id[order.order_id] = tracked.intent.client_order_id
        fees = (order.taker_fees or Decimal(0)) + (order.maker_fees or Decimal(0))
        self._apply(
            tracked,
            self._update(
                tracked,
                order.status,
                filled=_count(order.fill_count),
                remaining=_count(order.remaining_count),
                fees=fees,
            ),
        )

    def _update(
        self,
        tracked: TrackedOrder,
        status: str,
        *,
        filled: int | None = None,
        remaining: int | None = None,
        fees: Decimal | None = None,
        reason: str = "",
    ) -> OrderUpdate:
        intent = tracked.intent
        return OrderUpdate(
            client_order_id=intent.client_order_id,
            order_id=tracked.order_id,
            ticker=intent.ticker,
            side=intent.side,
            action=intent.action,
            status=status,
            filled=tracked.filled if filled is None else filled,
            remaining=0
            if status in TERMINAL
            else (tracked.remaining if remaining is None else remaining),
            price=intent.price,
            strategy_name=intent.strategy_name,
            timestamp=self.clock.now(),
            fees=tracked.fees if fees is None else fees,
            reason=reason,
        )

    def _apply(self, tracked: TrackedOrder, update: OrderUpdate) -> None:
        """Record and publish a state change, once per real change."""
        if not is_news(tracked.status, tracked.filled, tracked.remaining, update):
            return
        tracked.status, tracked.filled, tracked.remaining = (
            update.status,
            update.filled,
            update.remaining,
        )
        tracked.fees, tracked.reason = update.fees, update.reason
        if update.order_id:
            tracked.order_id = update.order_id
        self.publish(ORDERS, update)

    # -- fills ---------------------------------------------------------------------------

    def _on_wire_fill(self, wire: WireFill) -> None:
        if wire.trade_id in self.trade_ids:
            return
        fill = self._fill_of(wire)
        tracked = self.orders.get(fill.client_order_id) if fill.client_order_id else None
        if tracked is not None and tracked.status == "failed":
            # Marked failed as never received, yet it traded: the exchange is the truth.
            tracked.order_id = wire.order_id
            self.by_exchange_id[wire.order_id] = tracked.intent.client_order_id
            self._refresh(tracked)
        self._book_fill(fill)

    def _fill_of(self, wire: WireFill) -> Fill:
        coid = wire.client_order_id or self.by_exchange_id.get(wire.order_id)
        tracked = self.orders.get(coid) if coid else None
        return Fill(
            trade_id=wire.trade_id,
            order_id=wire.order_id,
            client_order_id=coid,
            ticker=wire.ticker,
            side=wire.side,
            action=wire.action,
            count=_count(wire.count),
            price=wire.yes_price if wire.side == "yes" else wire.no_price,
            fee=wire.fee,
            is_taker=wire.is_taker,
            timestamp=(wire.ts_ms / 1000) if wire.ts_ms else self.clock.now(),
            strategy_name=tracked.intent.strategy_name if tracked else "",
        )

    def _book_fill(self, fill: Fill) -> None:
        if fill.trade_id in self.trade_ids:
            return
        self.trade_ids.add(fill.trade_id)
        self.last_fill_ts = max(self.last_fill_ts, fill.timestamp)
        change = signed_change(fill.side, fill.action, fill.count)
        self.positions[fill.ticker] = self.positions.get(fill.ticker, 0) + change
        self.publish(FILLS, fill)

    def _on_wire_update(self, event: OrderUpdateEvent) -> None:
        coid = event.client_order_id or self.by_exchange_id.get(event.order_id)
        tracked = self.orders.get(coid) if coid else None
        if tracked is None:
            return
        tracked.order_id = event.order_id
        self.by_exchange_id[event.order_id] = tracked.intent.client_order_id
        fees = (event.taker_fees or Decimal(0)) + (event.maker_fees or Decimal(0))
        self._apply(
            tracked,
            self._update(
                tracked,
                event.status,
                filled=_count(event.fill_count),
                remaining=_count(event.remaining_count),
                fees=fees,
            ),
        )

    # -- cancelling ------------------------------------------------------------------------

    def _resting(self) -> list[TrackedOrder]:
        return [o for o in self.orders.values() if o.status in ("resting", "pending", "unknown")]

    def _cancel_one(self, order_id: str) -> OrderUpdate:
        coid = order_id if order_id in self.orders else self.by_exchange_id.get(order_id)
        if coid is None:
            raise KeyError(f"unknown order {order_id!r}")
        tracked = self.orders[coid]
        if tracked.status in TERMINAL:
            raise ValueError(f"order {order_id!r} is already {tracked.status}")
        self._cancel(tracked, "requested")
        return self._update(tracked, tracked.status)

    def _cancel_all(self, reason: str) -> int:
        resting = self._resting()
        for tracked in resting:
            self._cancel(tracked, reason)
        if resting:
            logger.info("cancelled {} resting orders ({})", len(resting), reason)
        return len(resting)

    def _cancel(self, tracked: TrackedOrder, reason: str) -> None:
        if self.paper is not None:
            update = self.paper.cancel(tracked.intent.client_order_id, self.clock.now())
            if update is not None:
                self._apply(tracked, update)
            return
        if self.rest is None or tracked.order_id is None:
            return
        try:
            result = self.rest.cancel_order(tracked.order_id)
        except NotFound:
            self._refresh(
                tracked
            )  # filled or gone just before the cancel (the cancel-vs-fill race)
            return
        except KalshiError as exc:
            logger.warning(
                "cancel of {} failed ({}): {}", tracked.intent.client_order_id, reason, exc
            )
            return
        self._on_order(result.order)

    def _refresh(self, tracked: TrackedOrder) -> None:
        if self.rest is None or tracked.order_id is None:
            return
        try:
            self._on_order(self.rest.get_order(tracked.order_id))
        except KalshiError as exc:
            logger.warning("could not refresh order {}: {}", tracked.intent.client_order_id, exc)

    # -- time ------------------------------------------------------------------------------

    def _on_tick(self, timer: str) -> None:
        if timer == "presign" and self.rest is not None:
            self.rest.refresh_presigned()
        elif timer == "reconcile":
            self._reconcile()
        elif timer == "close-watch":
            now = self.clock.now()
            for tracked in self._resting():
                close = self.close_times.get(tracked.intent.ticker)
                if close is not None and close - now <= self.cancel_before_close:
                    self._cancel(tracked, "market closing")

    def _adopt_resting(self, alert: bool = False) -> None:
        """Track orders resting at the exchange that this incarnation did not place (after a restart).

        With a ledger, each is recorded there; those the ledger did not know at all are
        reported (``alert``: only when the ledger could be read, or every order would be).
        """
        assert self.rest is not None
        try:
            resting = self.rest.get_orders(status="resting").items
        except KalshiError as exc:
            raise RuntimeError(f"cannot read resting orders from the exchange: {exc}") from exc
        new = [o for o in resting if (o.client_order_id or o.order_id) not in self.orders]
        known: dict[str, recovery.LedgerOrder] = {}
        if self.database is not None and new:
            try:
                known = recovery.orders_by_id(
                    self.database, [o.client_order_id or o.order_id for o in new]
                )
            except LedgerUnavailable as exc:
                logger.warning("order: {}", exc)
                alert = False
        unknown: list[str] = []
        for order in new:
            coid = order.client_order_id or order.order_id
            row = known.get(coid)
            intent = (
                row.intent()
                if row is not None
                else OrderIntent(
                    client_order_id=coid,
                    signal_id="",
                    strategy_name="",
                    ticker=order.ticker,
                    side=order.side,
                    action=order.action,
                    count=_count(order.remaining_count + order.fill_count),
                    price=order.yes_price if order.side == "yes" else order.no_price,
                    time_in_force="good_till_canceled",
                )
            )
            tracked = self.orders[coid] = TrackedOrder(
                intent,
                order.order_id,
                "resting",
                _count(order.fill_count),
                _count(order.remaining_count),
            )
            self.by_exchange_id[order.order_id] = coid
            if self.database is not None:  # the ledger learns its state from this update
                reason = "" if row is not None else "adopted"
                self.publish(ORDERS, self._update(tracked, "resting", reason=reason))
                if row is None:
                    unknown.append(coid)
        if new:
            logger.warning("adopted {} resting orders found at the exchange", len(new))
        if unknown and alert:
            shown = ", ".join(unknown[:5]) + (", …" if len(unknown) > 5 else "")
            self.publish(
                ALERTS,
                Alert(
                    "order_adopted",
                    f"{len(unknown)} resting orders at the exchange were unknown to the ledger "
                    f"and have been adopted: {shown}",
                    "warning",
                    self.clock.now(),
                ),
            )

    def _load_open_orders(self) -> bool:
        """Orders the ledger holds as open: checked with the exchange by the next reconciliation
        (an intent whose order never reached it ends ``failed``). False if it cannot be read."""
        if self.database is None:
            return False
        try:
            rows = recovery.open_orders(self.database, now=self.clock.now())
        except LedgerUnavailable as exc:
            logger.error("order: {}", exc)
            self.publish(LEDGER, LedgerHealth(False, "order", str(exc), self.clock.now()))
            return False
        for row in rows:
            coid = row.client_order_id
            if not row.in_orders:  # its bus copy died with the process: give it to the ledger
                self.system.tell(LEDGER, row.intent())
            if coid in self.orders:
                continue
            resting = row.status == "resting" and row.order_id is not None
            self.orders[coid] = TrackedOrder(
                row.intent(),
                row.order_id,
                "resting" if resting else "unknown",
                row.filled,
                row.remaining,
            )
            if row.order_id is not None:
                self.by_exchange_id[row.order_id] = coid
        if rows:
            logger.info("order: {} orders open in the ledger; checking them", len(rows))
        return True

    def _hand_old_fills_to_ledger(self, lookback: float) -> None:
        """Fills between the ledger's last one and the usual look-back (after a long downtime):
        the ledger needs them; risk and the strategies do not (their markets have settled)."""
        if self.database is None or self.rest is None:
            return
        try:
            newest = recovery.last_fill_ts(self.database)
        except LedgerUnavailable:
            return
        if newest is None or newest >= lookback:
            return
        try:
            old = self._fills_since(int(newest) - 60, max_ts=int(lookback) + 1)
        except KalshiError as exc:
            logger.warning("order: older fills not read: {}", exc)
            return
        for wire in old:
            self.system.tell(LEDGER, self._fill_of(wire))
        if old:
            logger.info("order: handed {} older fills to the ledger", len(old))

    def _drop_lost_paper_orders(self) -> None:
        """Paper orders live in memory: those still open in the ledger died with the process."""
        if self.database is None:
            return
        try:
            rows = recovery.open_orders(self.database, now=self.clock.now())
        except LedgerUnavailable as exc:
            logger.warning("order: {}", exc)
            return
        for row in rows:
            tracked = TrackedOrder(row.intent(), row.order_id, row.status, row.filled)
            self.publish(ORDERS, self._update(tracked, "canceled", reason="lost_on_restart"))

    def _fills_since(self, min_ts: int, max_ts: int | None = None) -> list[WireFill]:
        """Every fill since ``min_ts``, oldest first: all pages, not just the newest one."""
        assert self.rest is not None
        fills: list[WireFill] = []
        cursor: str | None = None
        for _ in range(FILL_PAGES):
            page = self.rest.get_fills(min_ts=min_ts, max_ts=max_ts, limit=200, cursor=cursor)
            fills.extend(page.items)
            if page.cursor is None or page.cursor == cursor:
                break
            cursor = page.cursor
        return sorted(fills, key=lambda f: f.ts_ms or 0)

    def _take_over(self, intents: tuple[OrderIntent, ...]) -> None:
        """Orders a crashed incarnation sent without learning their fate: look them up now."""
        for intent in intents:
            if intent.client_order_id not in self.orders:
                self.orders[intent.client_order_id] = TrackedOrder(
                    intent, status="unknown", remaining=intent.count
                )
        logger.warning("took over {} orders of unknown outcome", len(intents))
        self._reconcile()

    def _reconcile(self) -> None:
        """Catch up with the exchange: orders whose outcome is unknown, resting orders, missed fills."""
        if self.rest is None:
            return
        try:
            for tracked in [o for o in self.orders.values() if o.status == "unknown"]:
                found = self.rest.find_order_by_client_order_id(
                    tracked.intent.client_order_id, ticker=tracked.intent.ticker
                )
                if found is None:
                    self._apply(tracked, self._update(tracked, "failed", reason="not_at_exchange"))
                else:
                    self._on_order(found)
            for wire in self._fills_since(int(self.last_fill_ts) - 60):
                self._on_wire_fill(wire)
            for tracked in [o for o in self.orders.values() if o.status == "resting"]:
                self._refresh(tracked)
        except KalshiError as exc:
            logger.warning("order reconciliation incomplete: {}", exc)

    # -- paper and settlement ---------------------------------------------------------------

    def _on_book(self, book: BookUpdate) -> None:
        self.books[book.ticker] = book
        if self.paper is None or not self.paper.resting:
            return
        for update, fills in self.paper.on_book(book, self.clock.now()):
            tracked = self.orders.get(update.client_order_id)
            if tracked is not None:
                self._apply(tracked, update)
            for fill in fills:
                self._book_fill(fill)

    def _on_lifecycle(self, event: MarketLifecycle) -> None:
        if event.event_type != "settled" or event.result not in ("yes", "no"):
            return
        position = self.positions.pop(event.ticker, 0)
        self.close_times.pop(event.ticker, None)
        self.books.pop(event.ticker, None)
        if position == 0:
            return
        payout = settlement_payout(position, event.result)
        logger.info(
            "{} settled {}: position {}, payout ${}", event.ticker, event.result, position, payout
        )
        self.publish(
            FILLS,
            Settlement(
                event.ticker,
                event.result,
                max(position, 0),
                max(-position, 0),
                payout,
                self.clock.now(),
            ),
        )
