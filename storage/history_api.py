"""What the history endpoints ask and a history reader answers, whoever reads it.

Two readers answer the same questions with the same dict shapes: the ledger
(``storage.history.LedgerHistory``) and the bus-fed ``hub.history.MemoryHistory``
when the bot has no ledger. The questions live here, in storage, so the hub calls
down into storage and storage never reaches up into the web layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from storage.schema import ALL_MODES, MODES

ACTIVE = frozenset({"pending", "resting"})
ORDER_STATUSES = frozenset({"pending", "resting", "executed", "canceled", "rejected", "failed"})
# What the dashboard of the original design called them, mapped to the exchange's words.
STATUS_ALIASES: dict[str, frozenset[str]] = {
    "active": ACTIVE,
    "open": ACTIVE,
    "filled": frozenset({"executed"}),
    "cancelled": frozenset({"canceled"}),
    "closed": frozenset({"executed", "canceled", "rejected", "failed"}),
    **{status: frozenset({status}) for status in ORDER_STATUSES},
}
SIGNAL_STATUSES = frozenset({"approved", "rejected", "pending"})
MODE_CHOICES = frozenset({ALL_MODES, *MODES})  # ``?mode=`` of the history reads


class HistoryUnavailable(Exception):
    """The history cannot be read right now (its database is down): the API answers 503."""


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """One page of a history list, newest first, and the filters that choose it."""

    ticker: str | None = None
    strategy: str | None = None
    status: str | None = None  # the list's own words (see the two kinds below)
    since: float | None = None  # Unix seconds; orders created (signals made) at or after
    limit: int = 100
    offset: int = 0  # skip this many matches, newest first (pagination)
    mode: str | None = None  # a MODE_CHOICES word; None: the mode the bot runs in
    series: str | None = None  # only markets of this series (KXBTC15M)


class TradeQuery(HistoryQuery):
    """Orders; ``status``: a key of :data:`STATUS_ALIASES`."""

    __slots__ = ()


class SignalQuery(HistoryQuery):
    """Signals; ``status``: approved | rejected | pending (no decision yet)."""

    __slots__ = ()


class HistoryReader(Protocol):
    """What ``/api/trades``, ``/api/trades/active``, ``/api/positions`` and ``/api/signals`` read."""

    def trades(self, query: TradeQuery) -> list[dict[str, Any]]: ...

    def active_orders(self) -> list[dict[str, Any]]: ...

    def find_order(self, order_id: str) -> dict[str, Any] | None:
        """An order by ``client_order_id`` or exchange ``order_id``."""
        ...

    def positions(self) -> list[dict[str, Any]]: ...

    def signals(self, query: SignalQuery) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class OrderCounts:
    active: int
    filled: int
    canceled: int
    rejected: int
    total: int
