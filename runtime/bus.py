"""Topic publish/subscribe between actors, by address name so subscriptions survive restarts."""

from __future__ import annotations

import threading
from collections.abc import Callable

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


class Bus:
    """Delivers each published message by ``tell`` to every subscriber of its topic."""

    def __init__(self, resolve: Callable[[str], Address]) -> None:
        self._resolve = resolve
        self._lock = threading.Lock()
        # Copy-on-write tuples: publishing reads without taking the lock.
        self._subscribers: dict[str, tuple[Address, ...]] = {}
        self._last: set[str] = set()  # subscribers served after every other one

    def subscribe(self, topic: str, name: str, *, last: bool = False) -> None:
        """``last``: an observer (the ledger, the dashboard) that no one waits for; it is
        told after the actors that act on the message, so the order path never waits while
        a record of it is queued."""
        address = self._resolve(name)
        with self._lock:
            current = self._subscribers.get(topic, ())
            if address in current:
                return
            if last:
                self._last.add(name)
                self._subscribers[topic] = (*current, address)
                return
            cut = next((i for i, a in enumerate(current) if a.name in self._last), len(current))
            self._subscribers[topic] = (*current[:cut], address, *current[cut:])

    def unsubscribe(self, topic: str, name: str) -> None:
        with self._lock:
            current = self._subscribers.get(topic, ())
            self._subscribers[topic] = tuple(a for a in current if a.name != name)

    def subscribers(self, topic: str) -> tuple[str, ...]:
        return tuple(a.name for a in self._subscribers.get(topic, ()))

    def publish(self, topic: str, message: object) -> int:
        """Send to every subscriber; returns how many were addressed."""
        targets = self._subscribers.get(topic, ())
        for address in targets:
            address.tell(message)
        return len(targets)
