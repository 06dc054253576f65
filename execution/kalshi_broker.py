"""The Kalshi broker: the execution core's orders on Kalshi's V2 order endpoints.

The one place that knows how Kalshi answers. An intent becomes an ``OrderRequestV2``
(one YES book: ``bid``/``ask`` at a YES price), attached to the session's order group
so the exchange can cancel everything if this process dies or halts. The create answer
is flat, not an Order; it is the order's first state. Answers map to the execution core
as follows:

* ``DeprecatedEndpoint`` (HTTP 410, ``deprecated_*``): the order is ``rejected`` with the
  code, and :class:`~execution.broker.VenueFailure` halts trading — no order can land.
* ``MalformedOrderAnswer`` (a 2xx without ``order_id``, a count that is not fixed-point):
  :class:`~execution.broker.OutcomeUnknown` with ``halt`` — looked up, never guessed.
* ``OrderOutcomeUnknown`` (lost answer, 5xx after retries): ``OutcomeUnknown``; after a
  409 "already exists" whose lookup found nothing, ``claimed`` (reason ``exists_not_found``).
* Any other refusal (400/403/404, our own rate limiter): a ``rejected`` report.

Reads (orders, fills) raise :class:`~execution.broker.VenueUnavailable` when Kalshi
cannot answer, so the caller tries again on its next reconciliation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from loguru import logger

from execution.broker import NOTHING, BrokerReport, OutcomeUnknown, VenueFailure, VenueUnavailable
from execution.positions import signed_change
from execution.tracker import TrackedOrder
from execution.updates import ZERO, order_update
from kalshi.errors import (
    DeprecatedEndpoint,
    KalshiError,
    MalformedOrderAnswer,
    NotFound,
    OrderOutcomeUnknown,
    ServerError,
    TransportError,
)
from kalshi.models import CanceledOrder, CreatedOrder, OrderRequestV2, Page
from kalshi.models import Fill as WireFill
from kalshi.models import Order as WireOrder
from kalshi.rest import KalshiRestClient, every_page
from messages.market_data import BookUpdate
from messages.trading import Fill, OrderIntent, OrderUpdate
from messages.vocabulary import OrderStatus

T = TypeVar("T")
PAGES = 50  # at most this many pages of orders or fills (200 each) per read
PAGE_SIZE = 200
DEPRECATED = "deprecated_endpoint"  # the cause when a 410 carries no code
MALFORMED = "malformed_order_answer"
LOST = "order_outcome_unknown"
CLAIMED = "exists_not_found"  # Kalshi said the client_order_id exists; the lookup missed it
_VENUE_STATES = frozenset({OrderStatus.RESTING, OrderStatus.CANCELED, OrderStatus.EXECUTED})


@dataclass(slots=True)
class SessionOrderGroup:
    """The session's order group (Kalshi's exchange-side kill switch), made by the first
    broker that needs it and kept for the session, so a restarted order actor's orders
    join the same group as its predecessor's."""

    contracts_limit: int
    order_group_id: str | None = None


class VenueOrderState(Protocol):
    """What an Order (REST) and a ``user_order`` event (WebSocket) both say of an order."""

    @property
    def order_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def fill_count(self) -> Decimal: ...
    @property
    def remaining_count(self) -> Decimal: ...
    @property
    def taker_fees(self) -> Decimal | None: ...
    @property
    def maker_fees(self) -> Decimal | None: ...


def first_state(intent: OrderIntent, created: CreatedOrder, now: float) -> OrderUpdate:
    """The create answer as the order's first state: resting while something remains,
    executed when all filled, otherwise cancelled (an IOC's unfilled rest)."""
    filled, remaining = int(created.fill_count), int(created.remaining_count)
    if remaining > 0:
        status = OrderStatus.RESTING
    elif filled >= intent.count:
        status = OrderStatus.EXECUTED
    else:
        status = OrderStatus.CANCELED
    fees = ZERO
    if created.average_fee_paid is not None:
        fees = created.average_fee_paid * created.fill_count
    return order_update(
        intent,
        status,
        now,
        order_id=created.order_id,
        filled=filled,
        remaining=remaining,
        fees=fees,
    )


def _every_page(read: Callable[[str | None], Page[T]], what: str) -> list[T]:
    """Read a list endpoint to its end (at most ``PAGES`` pages)."""
    try:
        return list(every_page(read, PAGES, what))
    except KalshiError as exc:
        raise VenueUnavailable(f"cannot read {what}: {exc}") from exc


class KalshiBroker:
    """A :class:`~execution.broker.Broker` over :class:`kalshi.rest.KalshiRestClient`."""

    needs_books = False

    def __init__(self, rest: KalshiRestClient, *, order_group_id: str | None = None) -> None:
        self.rest = rest
        self.order_group_id = order_group_id

    @classmethod
    def for_session(cls, rest: KalshiRestClient, group: SessionOrderGroup | None) -> KalshiBroker:
        """A broker whose orders join the session's order group: the group made by an
        earlier broker of this session, or a new one capping ``group.contracts_limit``
        contracts over Kalshi's rolling window. Without a group (none asked, or Kalshi
        will not make one) :meth:`halt` has no exchange-side switch to pull."""
        if group is None:
            return cls(rest)
        if group.order_group_id is None:
            try:
                made = rest.create_order_group(group.contracts_limit)
            except KalshiError as exc:
                logger.error("kalshi: no order group for this session: {}", exc)
                return cls(rest)
            group.order_group_id = made.order_group_id
            logger.info(
                "kalshi: order group {} caps {} contracts per 15 s",
                made.order_group_id,
                group.contracts_limit,
            )
        return cls(rest, order_group_id=group.order_group_id)

    # -- the Broker protocol ------------------------------------------------------------

    def submit(self, intent: OrderIntent, now: float) -> BrokerReport:
        coid = intent.client_order_id
        try:
            request = self.request_for(intent)
        except ValueError as exc:  # Kalshi would refuse it: say why, send nothing
            logger.warning("order {} not sent: {}", coid, exc)
            return BrokerReport(
                order_update(intent, OrderStatus.REJECTED, now, reason="invalid_order")
            )
        try:
            created = self.rest.create_order(request)
        except DeprecatedEndpoint as exc:
            cause = exc.code or DEPRECATED
            rejected = order_update(intent, OrderStatus.REJECTED, now, reason=cause)
            raise VenueFailure(cause, str(exc), report=BrokerReport(rejected)) from exc
        except MalformedOrderAnswer as exc:
            raise OutcomeUnknown(MALFORMED, client_order_id=coid, halt=True, raw=exc.raw) from exc
        except (OrderOutcomeUnknown, ServerError, TransportError) as exc:
            # It may have arrived: only a lookup by client_order_id can tell.
            raw = exc.raw if isinstance(exc, OrderOutcomeUnknown) else None
            claimed = isinstance(exc, OrderOutcomeUnknown) and exc.claimed
            raise OutcomeUnknown(
                CLAIMED if claimed else LOST, client_order_id=coid, raw=raw, claimed=claimed
            ) from exc
        except KalshiError as exc:
            logger.warning("order {} rejected: {}", coid, exc)
            reason = exc.code or type(exc).__name__
            return BrokerReport(order_update(intent, OrderStatus.REJECTED, now, reason=reason))
        return BrokerReport(first_state(intent, created, now))

    def request_for(self, intent: OrderIntent) -> OrderRequestV2:
        """The V2 request for ``intent``, flags as they are: a combination Kalshi refuses
        (``reduce_only`` without IOC, ``expiration_time`` without GTC) is a ValueError."""
        return OrderRequestV2.for_intent(
            intent.ticker,
            intent.side,
            intent.action,
            Decimal(intent.count),
            intent.price,
            client_order_id=intent.client_order_id,
            time_in_force=intent.time_in_force,
            expiration_time=intent.expiration_ts,
            post_only=intent.post_only,
            reduce_only=intent.reduce_only,
            order_group_id=self.order_group_id,
        )

    def cancel(self, order: TrackedOrder, now: float) -> BrokerReport:
        if order.order_id is None:
            return NOTHING  # never acknowledged: reconciliation finds it first
        try:
            canceled = self.rest.cancel_order(order.order_id, market_ticker=order.ticker)
        except NotFound:  # filled or gone just before the cancel (the cancel-vs-fill race)
            return BrokerReport(self.refresh(order, now))
        except DeprecatedEndpoint as exc:
            raise VenueFailure(exc.code or DEPRECATED, str(exc)) from exc
        except KalshiError as exc:
            raise VenueUnavailable(f"cancel of {order.client_order_id} failed: {exc}") from exc
        return BrokerReport(self._canceled(order, canceled, now))

    def _canceled(
        self, order: TrackedOrder, canceled: CanceledOrder, now: float
    ) -> OrderUpdate | None:
        """What a cancel answer says: the rest (``reduced_by``) is gone, so what filled is
        the order's count less it; nothing reduced means it was done already: ask."""
        if canceled.reduced_by is None or canceled.reduced_by <= 0:
            return self.refresh(order, now)  # a retried cancel, or nothing was left: ask
        reduced = int(canceled.reduced_by)
        return order_update(
            order.intent,
            OrderStatus.CANCELED,
            now,
            order_id=order.order_id,
            filled=max(order.filled, order.intent.count - reduced),
            fees=order.fees,
        )

    def refresh(self, order: TrackedOrder, now: float) -> OrderUpdate | None:
        if order.order_id is None:
            return None
        try:
            wire = self.rest.get_order(order.order_id)
        except KalshiError as exc:
            raise VenueUnavailable(f"could not read order {order.client_order_id}: {exc}") from exc
        return self.update_of(wire, order.intent, now)

    def lookup(self, intent: OrderIntent, now: float) -> OrderUpdate | None:
        try:
            found = self.rest.find_order_by_client_order_id(
                intent.client_order_id, ticker=intent.ticker
            )
        except KalshiError as exc:
            raise VenueUnavailable(
                f"could not look up order {intent.client_order_id}: {exc}"
            ) from exc
        return None if found is None else self.update_of(found, intent, now)

    def on_book(self, book: BookUpdate, now: float) -> list[BrokerReport]:
        return []  # the exchange matches; its news arrives on the order and fill streams

    def forget(self, ticker: str) -> None:
        """Nothing kept per market."""

    def halt(self, reason: str, now: float) -> list[BrokerReport]:
        """Trigger the order group: the exchange cancels its orders and accepts no new ones
        until reset. Without a group nothing is done at the venue — cancelling every order
        of the account would take a person's manual orders too; the caller cancels ours
        one by one. Never raises: a halt must not fail."""
        if self.order_group_id is None:
            logger.warning(
                "kalshi: halt ({}): no exchange-side kill switch exists (no order group); "
                "only the orders cancelled one by one are gone",
                reason,
            )
            return []
        try:
            self.rest.trigger_order_group(self.order_group_id)
        except KalshiError as exc:
            logger.error("kalshi: the kill switch failed ({}): {}", reason, exc)
        else:
            logger.warning("kalshi: kill switch pulled ({})", reason)
        return []  # the cancellations arrive on the user_orders stream

    def resume(self) -> None:
        if self.order_group_id is None:
            return
        try:
            self.rest.reset_order_group(self.order_group_id)
        except KalshiError as exc:
            logger.error("kalshi: the order group could not be reset: {}", exc)

    def close(self) -> None:
        self.rest.close()

    # -- the venue's own news -------------------------------------------------------------

    def update_of(self, wire: VenueOrderState, intent: OrderIntent, now: float) -> OrderUpdate:
        """An Order or a ``user_order`` event as an update of ``intent``."""
        if wire.status not in _VENUE_STATES:
            raise VenueUnavailable(f"order {wire.order_id}: unreadable status {wire.status!r}")
        fees = (wire.taker_fees or ZERO) + (wire.maker_fees or ZERO)
        return order_update(
            intent,
            OrderStatus(wire.status),
            now,
            order_id=wire.order_id,
            filled=int(wire.fill_count),
            remaining=int(wire.remaining_count),
            fees=fees,
        )

    def fill_of(self, wire: WireFill, intent: OrderIntent | None, now: float) -> Fill:
        """A fill as ours. Kalshi's single book names a buy of YES and a sell of NO alike
        (``bid``); when the order's intent says which it was, the fill says so too."""
        side, action = wire.side, wire.action
        if intent is not None and signed_change(side, action, 1) == signed_change(
            intent.side, intent.action, 1
        ):
            side, action = intent.side, intent.action
        return Fill(
            trade_id=wire.trade_id,
            order_id=wire.order_id,
            client_order_id=wire.client_order_id or (intent.client_order_id if intent else None),
            ticker=wire.ticker,
            side=side,
            action=action,
            count=int(wire.count),
            price=wire.yes_price if side == "yes" else wire.no_price,
            fee=wire.fee,
            is_taker=wire.is_taker,
            timestamp=wire.ts_ms / 1000 if wire.ts_ms else now,
            strategy_name=intent.strategy_name if intent is not None else "",
        )

    def intent_of(self, wire: WireOrder) -> OrderIntent:
        """The intent a resting order we did not place stands for (adopted after a restart)."""
        return OrderIntent(
            client_order_id=wire.client_order_id or wire.order_id,
            signal_id="",
            strategy_name="",
            ticker=wire.ticker,
            side=wire.side,
            action=wire.action,
            count=int(wire.remaining_count + wire.fill_count),
            price=wire.yes_price if wire.side == "yes" else wire.no_price,
            time_in_force="good_till_canceled",
        )

    def resting_orders(self) -> list[WireOrder]:
        """Every order resting at Kalshi (all pages)."""

        def page(cursor: str | None) -> Page[WireOrder]:
            return self.rest.get_orders(status="resting", limit=PAGE_SIZE, cursor=cursor)

        return _every_page(page, "resting orders")

    def fills_since(self, min_ts: int, max_ts: int | None = None) -> list[WireFill]:
        """Every fill since ``min_ts`` (all pages, not just the newest), oldest first."""

        def page(cursor: str | None) -> Page[WireFill]:
            return self.rest.get_fills(min_ts=min_ts, max_ts=max_ts, limit=PAGE_SIZE, cursor=cursor)

        return sorted(_every_page(page, "fills"), key=lambda f: f.ts_ms or 0)

    def refresh_presigned(self) -> None:
        """Keep the create-order signature fresh (signing is off the order's hot path)."""
        self.rest.refresh_presigned()
