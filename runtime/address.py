"""Stable addresses: peers send to a name; a restart changes the ``ActorRef`` behind it, not the name.

While the actor behind a name is restarting, messages wait in a bounded buffer
and are delivered, in order, to the next incarnation. Messages that cannot be
delivered (no such actor, stopped for good, buffer full) are dead letters:
counted by kind (message type, address, reason) and kept in a short history, never
dropped silently. An ask made as a probe (the caller expects the actor may not be up
yet, and handles ``ActorUnavailable``) is no dead letter: nothing is lost unseen.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pykka
from loguru import logger


class AddressState(Enum):
    UNBOUND = "unbound"  # no actor has ever been started under this name
    RUNNING = "running"
    RESTARTING = "restarting"
    STOPPED = "stopped"


class ActorUnavailable(RuntimeError):
    """An ``ask`` to a name whose actor is not running."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    at: float
    name: str
    message_type: str
    reason: str


class DeadLetters:
    """Counts of undeliverable messages by address, plus the most recent few for inspection."""

    def __init__(self, history: int = 200) -> None:
        self._lock = threading.Lock()
        self.by_name: Counter[str] = Counter()
        self.by_kind: Counter[tuple[str, str, str]] = Counter()  # (to, message type, reason)
        self.recent: deque[DeadLetter] = deque(maxlen=history)

    @property
    def total(self) -> int:
        return sum(self.by_name.values())

    def kinds(self, limit: int = 20) -> list[dict[str, str | int]]:
        """What they were, most frequent first: the health panel says this, not just a count."""
        with self._lock:
            common = self.by_kind.most_common(limit)
        return [
            {"to": to, "message": message, "reason": reason, "count": count}
            for (to, message, reason), count in common
        ]

    def record(self, name: str, message: object, reason: str) -> None:
        letter = DeadLetter(time.time(), name, type(message).__name__, reason)
        with self._lock:
            self.by_name[name] += 1
            self.by_kind[name, letter.message_type, reason] += 1
            self.recent.append(letter)
        logger.debug("dead letter to {}: {} ({})", name, letter.message_type, reason)


class Address:
    """The one way to reach an actor by name; thread-safe."""

    def __init__(self, name: str, dead_letters: DeadLetters, buffer_size: int = 10_000) -> None:
        self.name = name
        self._dead_letters = dead_letters
        self._lock = threading.Lock()
        self._ref: pykka.ActorRef[Any] | None = None
        self._incarnation = 0
        self._buffer: deque[object] = deque()
        self._buffer_size = buffer_size
        self.state = AddressState.UNBOUND
        self.sent = 0  # messages offered to this address (read by quiescence checks)
        self.handled = 0  # written only by the actor thread currently bound here
        self.buffered_total = 0
        self.failing = False  # set while a failing actor hands back its mail and reports

    def busy_failing(self) -> bool:
        """Between a crash and its report reaching the supervisor (quiescence must wait)."""
        ref = self._ref
        return self.failing or (
            self.state is AddressState.RUNNING and ref is not None and not ref.is_alive()
        )

    def __repr__(self) -> str:
        return f"Address({self.name!r}, {self.state.value})"

    @property
    def ref(self) -> pykka.ActorRef[Any] | None:
        return self._ref

    @property
    def incarnation(self) -> int:
        return self._incarnation

    def mailbox_size(self) -> int:
        ref = self._ref
        return ref.actor_inbox.qsize() if ref is not None else 0  # type: ignore[attr-defined]

    def buffered(self) -> int:
        return len(self._buffer)

    def tell(self, message: object) -> None:
        with self._lock:
            self.sent += 1
            ref = self._ref
            if ref is not None:
                try:
                    ref.tell(message)
                except pykka.ActorDeadError:
                    # Died but its crash is not processed yet: hold the message for the next one.
                    self._hold(message)
                return
            if self.state is AddressState.RESTARTING:
                self._hold(message)
                return
        self._dead_letters.record(self.name, message, self.state.value)

    def ask(self, message: object, timeout: float | None = 5.0, *, probe: bool = False) -> Any:
        """Ask the current incarnation; errors it raises come back here, it keeps running.

        ``probe``: the caller expects this actor may not be running (a peer asked at
        start-up) and handles ``ActorUnavailable``; such an ask is not a dead letter.
        """
        return self.ask_future(message, probe=probe).get(timeout=timeout)

    def ask_future(self, message: object, *, probe: bool = False) -> pykka.Future[Any]:
        with self._lock:
            self.sent += 1
            ref = self._ref
        if ref is None:
            if not probe:
                self._dead_letters.record(self.name, message, self.state.value)
            raise ActorUnavailable(f"{self.name} is {self.state.value}")
        try:
            return ref.ask(message, block=False)
        except pykka.ActorDeadError:
            if not probe:
                self._dead_letters.record(self.name, message, "dead")
            raise ActorUnavailable(f"{self.name} is not running") from None

    def _hold(self, message: object) -> None:
        if len(self._buffer) >= self._buffer_size:
            self._dead_letters.record(self.name, message, "restart buffer full")
            return
        self._buffer.append(message)
        self.buffered_total += 1

    # -- used by the runtime only ------------------------------------------------

    def bind(self, ref: pykka.ActorRef[Any], incarnation: int) -> None:
        """A new incarnation takes over: buffered messages go to it first, in order."""
        with self._lock:
            while self._buffer:
                ref.tell(self._buffer.popleft())
            self._ref = ref
            self._incarnation = incarnation
            self.state = AddressState.RUNNING
            self.handled = 0

    def reclaim(self, incarnation: int, unhandled: list[object]) -> bool:
        """A failing incarnation gives back what it did not handle; later messages are held."""
        with self._lock:
            if incarnation != self._incarnation:
                return False
            self._ref = None
            self.state = AddressState.RESTARTING
            self._buffer.extendleft(reversed(unhandled))
            while len(self._buffer) > self._buffer_size:
                self._dead_letters.record(self.name, self._buffer.pop(), "restart buffer full")
            return True

    def hold_for_restart(self) -> None:
        """The supervisor is about to stop this actor in order to restart it."""
        with self._lock:
            self._ref = None
            self.state = AddressState.RESTARTING

    def close(self, reason: str) -> None:
        """Stopped for good: what is still held becomes dead letters."""
        with self._lock:
            self._ref = None
            self.state = AddressState.STOPPED
            held, self._buffer = list(self._buffer), deque()
        for message in held:
            self._dead_letters.record(self.name, message, reason)
