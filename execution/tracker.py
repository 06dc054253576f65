"""The order tracker: what we know of every order and position, whoever reports it.

Order news comes from several places at once — a broker's answer, the venue's order and
fill streams, a periodic reconciliation — late, twice, or out of order. The tracker is
the one place that decides what is news: each change is checked against the transition
table (:mod:`execution.transitions`), a fill is booked once by ``trade_id``, and the
signed position per market is netted as Kalshi nets it. It is pure (no I/O, no clock:
``now`` is passed in), so the live OrderActor and the backtest drive the same one.

An order whose outcome is unknown (the answer to its create was lost or malformed)
blocks its market: a second order there could double the position if the first did
arrive, so new ones wait until reconciliation finds it by ``client_order_id``. A lookup
that finds nothing proves the order absent only once no attempt can still arrive
(``absent_after`` seconds since it became unknown), and never while its market trades
if the venue said the id exists (``claimed``); once that market has closed, such an order
can no longer trade and ends ``canceled`` (``not_found_after_close``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from loguru import logger

from execution.positions import settlement_payout, signed_change
from execution.transitions import TRANSITIONS
from execution.updates import ZERO, order_update
from messages.trading import Fill, OrderIntent, OrderUpdate, Settlement
from messages.vocabulary import OPEN, TERMINAL, OrderStatus, Side

UNKNOWN = OrderStatus.UNKNOWN
NOT_AT_EXCHANGE = "not_at_exchange"  # reconciliation proved an order of unknown outcome absent
NOT_FOUND_AFTER_CLOSE = "not_found_after_close"  # claimed by the venue, never found; market over
ABSENT_AFTER = 10.0  # seconds after which a lookup that finds nothing proves an order absent


@dataclass(slots=True)
class TrackedOrder:
    """One order as the tracker knows it (mutated only by the tracker)."""

    intent: OrderIntent
    order_id: str | None = None
    status: OrderStatus = OrderStatus.PENDING
    filled: int = 0
    remaining: int = 0
    fees: Decimal = ZERO
    reason: str = ""
    updated_at: float = 0.0
    unknown_since: float = 0.0  # when its outcome became unknown (the last attempt, at most)
    claimed: bool = False  # the venue said an order with this id exists (a 409)

    @property
    def client_order_id(self) -> str:
        return self.intent.client_order_id

    @property
    def ticker(self) -> str:
        return self.intent.ticker

    def as_update(
        self, now: float, status: OrderStatus | None = None, *, reason: str | None = None
    ) -> OrderUpdate:
        """Its current state (or ``status``, the rest unchanged) as an update."""
        return order_update(
            self.intent,
            self.status if status is None else status,
            now,
            order_id=self.order_id,
            filled=self.filled,
            remaining=self.remaining,
            fees=self.fees,
            reason=self.reason if reason is None else reason,
        )


class OrderTracker:
    """Orders by ``client_order_id``, fills by ``trade_id``, signed positions by ticker."""

    def __init__(self, absent_after: float = ABSENT_AFTER) -> None:
        self.absent_after = absent_after
        self._orders: dict[str, TrackedOrder] = {}
        self._by_order_id: dict[str, str] = {}
        self._unknown: dict[str, set[str]] = {}  # ticker → orders there of unknown outcome
        self._trade_ids: set[str] = set()
        self._positions: dict[str, int] = {}
        self.last_fill_ts = 0.0
        self.counts: Counter[str] = Counter()  # applied, repeat, stale, illegal, untracked, …

    # -- orders ---------------------------------------------------------------------------

    def open(self, intent: OrderIntent) -> TrackedOrder:
        """Track a new intent as ``pending``; a ``client_order_id`` is tracked once."""
        coid = intent.client_order_id
        if coid in self._orders:
            raise ValueError(f"order {coid} is already tracked")
        order = self._orders[coid] = TrackedOrder(intent, remaining=intent.count)
        return order

    def adopt(self, intent: OrderIntent, update: OrderUpdate) -> TrackedOrder:
        """Track an order the venue has and we did not (found resting after a restart)."""
        coid = intent.client_order_id
        if coid in self._orders:
            raise ValueError(f"order {coid} is already tracked")
        status = OrderStatus(update.status)
        order = self._orders[coid] = TrackedOrder(
            intent,
            update.order_id,
            status,
            update.filled,
            update.remaining,
            update.fees,
            update.reason,
            update.timestamp,
        )
        if update.order_id:
            self._by_order_id[update.order_id] = coid
        if status is UNKNOWN:
            self._unknown.setdefault(intent.ticker, set()).add(coid)
        return order

    def get(self, client_order_id: str) -> TrackedOrder | None:
        return self._orders.get(client_order_id)

    def by_order_id(self, order_id: str) -> TrackedOrder | None:
        coid = self._by_order_id.get(order_id)
        return None if coid is None else self._orders.get(coid)

    def find(self, client_order_id: str | None, order_id: str | None) -> TrackedOrder | None:
        """By our id, else by the venue's."""
        order = self._orders.get(client_order_id) if client_order_id else None
        if order is None and order_id:
            order = self.by_order_id(order_id)
        return order

    def link(self, client_order_id: str, order_id: str) -> None:
        """The venue's id for one of our orders."""
        order = self._orders.get(client_order_id)
        if order is None:
            raise KeyError(f"unknown order {client_order_id!r}")
        order.order_id = order_id
        self._by_order_id[order_id] = client_order_id

    def apply(self, update: OrderUpdate) -> OrderUpdate | None:
        """Take ``update`` if it is news: the update to publish, or None.

        Ignored (and counted): repeats, updates for orders we do not track, a fill count
        that goes backwards, late news of a live state for a finished order, and any
        other move the transition table forbids (logged: it means a venue or us is wrong).
        """
        order = self.find(update.client_order_id, update.order_id)
        if order is None:
            self.counts["untracked"] += 1
            return None
        old, new = order.status, update.status
        if old == new and order.filled == update.filled and order.remaining == update.remaining:
            self.counts["repeat"] += 1
            return None
        if new not in TRANSITIONS[old]:
            self._refuse(order, new)
            return None
        if update.filled < order.filled:
            self.counts["stale"] += 1  # an older report overtaken by a newer one
            return None
        self._set_status(order, OrderStatus(new))
        order.filled, order.remaining = update.filled, update.remaining
        order.fees, order.reason, order.updated_at = update.fees, update.reason, update.timestamp
        if update.order_id and update.order_id != order.order_id:
            self.link(order.client_order_id, update.order_id)
        self.counts["applied"] += 1
        return update

    def _refuse(self, order: TrackedOrder, new: OrderStatus | str) -> None:
        if order.status in TERMINAL and new not in TERMINAL:
            self.counts["stale"] += 1  # e.g. the stream's "resting" after the create's "executed"
            return
        self.counts["illegal"] += 1
        logger.warning(
            "order {}: ignored an impossible change {} -> {}",
            order.client_order_id,
            order.status.value,
            new,
        )

    def _set_status(self, order: TrackedOrder, status: OrderStatus) -> None:
        if order.status is UNKNOWN:
            waiting = self._unknown.get(order.ticker)
            if waiting is not None:
                waiting.discard(order.client_order_id)
                if not waiting:
                    del self._unknown[order.ticker]
        if status is UNKNOWN:
            self._unknown.setdefault(order.ticker, set()).add(order.client_order_id)
        order.status = status

    # -- unknown outcomes -----------------------------------------------------------------

    def mark_unknown(
        self,
        client_order_id: str,
        reason: str,
        now: float,
        *,
        since: float | None = None,
        claimed: bool = False,
    ) -> bool:
        """The order may or may not be at the venue; its market waits until it is resolved.
        ``since``: when an attempt to create it was last made (default ``now``); ``claimed``:
        the venue said the id exists. False if its state cannot become unknown (it is
        already known to be done)."""
        order = self._orders.get(client_order_id)
        if order is None:
            raise KeyError(f"unknown order {client_order_id!r}")
        if order.status is not UNKNOWN:
            if UNKNOWN not in TRANSITIONS[order.status]:
                self._refuse(order, UNKNOWN)
                return False
            self._set_status(order, UNKNOWN)
            order.reason, order.updated_at = reason, now
        order.unknown_since = max(order.unknown_since, now if since is None else since)
        order.claimed = order.claimed or claimed
        return True

    def resolve(
        self, client_order_id: str, found: OrderUpdate | None, now: float, *, closed: bool = False
    ) -> OrderUpdate | None:
        """Settle an order of unknown outcome with what the venue says: its state as found.
        Not found, it stays unknown (None) unless that proves something: ``failed``
        (``not_at_exchange``) once ``absent_after`` seconds have passed since it became
        unknown; for an order the venue said exists, only once its market is over
        (``closed``): ``canceled`` (``not_found_after_close``), as it can trade no more."""
        order = self._orders.get(client_order_id)
        if order is None:
            return None
        if found is not None:
            return self.apply(found)
        if order.status is not UNKNOWN and order.status is not OrderStatus.PENDING:
            return None  # known meanwhile (a stream update won the race)
        if order.claimed:
            if not closed:
                return None
            ended = order.as_update(now, OrderStatus.CANCELED, reason=NOT_FOUND_AFTER_CLOSE)
            return self.apply(ended)
        if now - order.unknown_since < self.absent_after:
            return None  # an attempt may still be on its way
        return self.apply(order.as_update(now, OrderStatus.FAILED, reason=NOT_AT_EXCHANGE))

    def blocked(self, ticker: str) -> bool:
        """Whether new orders on ``ticker`` must wait: an order there has an unknown outcome."""
        return ticker in self._unknown

    # -- views ----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[TrackedOrder]:
        return iter(self._orders.values())

    def __len__(self) -> int:
        return len(self._orders)

    def open_orders(self) -> list[TrackedOrder]:
        """Pending, unknown and resting orders: everything that may still trade."""
        return [o for o in self._orders.values() if o.status in OPEN]

    def unknown_orders(self) -> list[TrackedOrder]:
        return [o for o in self._orders.values() if o.status is UNKNOWN]

    def resting(self) -> list[TrackedOrder]:
        return [o for o in self._orders.values() if o.status is OrderStatus.RESTING]

    def forget(self, ticker: str) -> int:
        """Drop the finished orders of a settled market (their fills stay de-duplicated)."""
        done = [
            coid
            for coid, o in self._orders.items()
            if o.intent.ticker == ticker and o.status in TERMINAL
        ]
        for coid in done:
            order = self._orders.pop(coid)
            if order.order_id is not None:
                self._by_order_id.pop(order.order_id, None)
        return len(done)

    # -- fills, positions, settlement -------------------------------------------------------

    def record_fill(self, fill: Fill) -> bool:
        """Book ``fill`` once: False if its ``trade_id`` was booked before."""
        if fill.trade_id in self._trade_ids:
            self.counts["duplicate_fill"] += 1
            return False
        self._trade_ids.add(fill.trade_id)
        self.last_fill_ts = max(self.last_fill_ts, fill.timestamp)
        positions = self._positions
        positions[fill.ticker] = positions.get(fill.ticker, 0) + signed_change(
            fill.side, fill.action, fill.count
        )
        order = self.find(fill.client_order_id, fill.order_id)
        if order is not None and fill.order_id and order.order_id is None:
            self.link(order.client_order_id, fill.order_id)
        return True

    @property
    def fills_booked(self) -> int:
        return len(self._trade_ids)

    @property
    def positions(self) -> Mapping[str, int]:
        """Signed contracts per market: YES positive, NO negative (read-only view)."""
        return MappingProxyType(self._positions)

    def position(self, ticker: str) -> int:
        return self._positions.get(ticker, 0)

    def settle(self, ticker: str, result: Side, now: float) -> Settlement | None:
        """The market settled: what the position there pays (None without a position)."""
        position = self._positions.pop(ticker, 0)
        if position == 0:
            return None
        payout = settlement_payout(position, result)
        return Settlement(ticker, result, max(position, 0), max(-position, 0), payout, now)
