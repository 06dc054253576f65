"""Topic publish/subscribe between actors, by address name so subscriptions survive restarts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from runtime.address import Address

# Topics the system uses; any other string works too.
SPOT = "spot"
BOOK = "book"
SIGNALS = "signals"
ORDERS = "orders"
FILLS = "fills"
SYSTEM = "system"
MARKETS = "markets"  # MarketInfo and lifecycle changes
STATUS = "status"  # RiskStatus, StrategyStatus
ALERTS = "alerts"
SCOREBOARD = "scoreboard"  # the live scoreboard: window records (ledger), reports (hub)


# A subscriber and the keys it takes on a topic (None: every message).
_Subscriber = tuple[Address, frozenset[str] | None]


class Bus:
    """Delivers each published message by ``tell`` to every subscriber of its topic.

    A message may be published under a key (a book under its series): a subscriber that
    gave ``keys`` is told only messages under one of them, so an actor that trades two
    series is not woken for the books of five others. Messages published without a key go
    to every subscriber.
    """

    def __init__(self, resolve: Callable[[str], Address]) -> None:
        self._resolve = resolve
        self._lock = threading.Lock()
        # Copy-on-write tuples: publishing reads without taking the lock.
        self._subscribers: dict[str, tuple[_Subscriber, ...]] = {}
        self._last: set[str] = set()  # subscribers served after every other one

    def subscribe(
        self, topic: str, name: str, *, last: bool = False, keys: Iterable[str] | None = None
    ) -> None:
        """``last``: an observer (the ledger, the dashboard) that no one waits for; it is
        told after the actors that act on the message, so the order path never waits while
        a record of it is queued. ``keys``: only messages published under one of these (and
        those published without a key); a second subscription replaces the keys."""
        address = self._resolve(name)
        entry = (address, None if keys is None else frozenset(keys))
        with self._lock:
            current = self._subscribers.get(topic, ())
            at = next((i for i, s in enumerate(current) if s[0] == address), None)
            if at is not None:  # again (a restarted actor): same place, the keys it gives now
                self._subscribers[topic] = (*current[:at], entry, *current[at + 1 :])
                return
            if last:
                self._last.add(name)
                self._subscribers[topic] = (*current, entry)
                return
            cut = next((i for i, s in enumerate(current) if s[0].name in self._last), len(current))
            self._subscribers[topic] = (*current[:cut], entry, *current[cut:])

    def unsubscribe(self, topic: str, name: str) -> None:
        with self._lock:
            current = self._subscribers.get(topic, ())
            self._subscribers[topic] = tuple(s for s in current if s[0].name != name)

    def subscribers(self, topic: str) -> tuple[str, ...]:
        return tuple(s[0].name for s in self._subscribers.get(topic, ()))

    def publish(self, topic: str, message: object, key: str | None = None) -> int:
        """Send to every subscriber that takes ``key``; returns how many were addressed."""
        told = 0
        for address, keys in self._subscribers.get(topic, ()):
            if keys is None or key is None or key in keys:
                address.tell(message)
                told += 1
        return told
