"""The Broker protocol: what the execution core asks of a venue, and how a venue answers.

A broker turns intents into venue orders and venue news into ``OrderUpdate``s and
``Fill``s; it keeps no order state of its own that the tracker does not also know (the
paper broker keeps its simulated book, as an exchange would). Every answer is a
:class:`BrokerReport`. Two outcomes are not reports, because the caller must act on them:

* :class:`OutcomeUnknown` — the order may or may not exist (a lost or malformed answer).
  The tracker marks it ``unknown`` and reconciliation looks it up by ``client_order_id``;
  with ``halt`` the venue answered in a way we do not understand and trading stops; with
  ``claimed`` the venue said the order exists although a lookup did not find it.
* :class:`VenueFailure` — the venue refuses the way we talk to it (a retired endpoint):
  no order can succeed, so trading halts with an alert naming ``cause``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from execution.tracker import TrackedOrder
from messages.market_data import BookUpdate
from messages.trading import Fill, OrderIntent, OrderUpdate


@dataclass(frozen=True, slots=True)
class BrokerReport:
    """What the venue said: the order's new state (if it changed) and any fills."""

    update: OrderUpdate | None
    fills: tuple[Fill, ...] = ()


NOTHING = BrokerReport(None)


class OutcomeUnknown(Exception):
    """The venue may or may not have the order; look it up by ``client_order_id``."""

    def __init__(
        self,
        reason: str,
        *,
        client_order_id: str | None = None,
        halt: bool = False,
        raw: str | None = None,
        claimed: bool = False,
    ) -> None:
        self.reason = reason
        self.client_order_id = client_order_id
        self.halt = halt
        self.claimed = claimed
        self.raw = raw  # the venue's answer as received, when there was one
        super().__init__(reason)


class VenueFailure(Exception):
    """The venue refuses the way we trade with it; trading must halt with an alert.

    ``cause`` is the venue's code (e.g. ``deprecated_v1_order_endpoint``); ``report``
    says what became of the order that met the failure, if any.
    """

    def __init__(self, cause: str, message: str, *, report: BrokerReport | None = None) -> None:
        self.cause = cause
        self.message = message
        self.report = report
        super().__init__(f"{cause}: {message}")


class VenueUnavailable(Exception):
    """A read or a cancel the venue could not answer now; nothing is known to have changed."""


class Broker(Protocol):
    """A venue as the execution core sees it. Time is passed in; nothing here sleeps."""

    @property
    def needs_books(self) -> bool:
        """Whether the broker must see every ``BookUpdate`` (it matches orders itself)."""
        ...

    def submit(self, intent: OrderIntent, now: float) -> BrokerReport:
        """Send an order. A refusal is a report with status ``rejected``.

        Raises :class:`OutcomeUnknown` or :class:`VenueFailure`."""
        ...

    def cancel(self, order: TrackedOrder, now: float) -> BrokerReport:
        """Cancel what is left of ``order``. Raises :class:`VenueUnavailable` or
        :class:`VenueFailure`."""
        ...

    def refresh(self, order: TrackedOrder, now: float) -> OrderUpdate | None:
        """The venue's current state of ``order`` (None: nothing to say)."""
        ...

    def lookup(self, intent: OrderIntent, now: float) -> OrderUpdate | None:
        """Find an order by ``client_order_id``; None means the venue does not have it."""
        ...

    def on_book(self, book: BookUpdate, now: float) -> list[BrokerReport]:
        """A new book: what resting orders did against it."""
        ...

    def forget(self, ticker: str) -> None:
        """The market settled: drop whatever the broker keeps about it."""
        ...

    def halt(self, reason: str, now: float) -> list[BrokerReport]:
        """The kill switch: the venue cancels our orders and accepts none until
        :meth:`resume` (a venue without one does nothing; the caller has already
        cancelled its open orders one by one)."""
        ...

    def resume(self) -> None:
        """Undo :meth:`halt`: orders may be accepted again."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
