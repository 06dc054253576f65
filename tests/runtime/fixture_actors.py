"""Test actors: they record what happens to them in a shared, thread-safe journal."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from runtime.actor import ActorContext, SupervisedActor


class Journal:
    """An append-only list of events shared by test actors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[tuple[str, ...]] = []

    def add(self, *event: str) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: str) -> list[str]:
        with self._lock:
            return [e[1] for e in self.events if e[0] == kind]

    def clear(self) -> None:
        with self._lock:
            self.events.clear()


@dataclass(frozen=True, slots=True)
class Add:
    amount: int


@dataclass(frozen=True, slots=True)
class Get:
    pass


@dataclass(frozen=True, slots=True)
class Fail:
    """Raise while handling this message (a bug in a handler)."""

    text: str = "boom"


@dataclass(frozen=True, slots=True)
class Block:
    """Hold the actor busy until ``release`` is set (to pile messages up behind it)."""

    release: threading.Event
    entered: threading.Event = field(default_factory=threading.Event)

    def hold(self) -> None:
        self.entered.set()
        self.release.wait(timeout=10)


class Recorder(SupervisedActor):
    """Counts ``Add``s and records start/stop/messages in the journal."""

    def __init__(self, context: ActorContext, journal: Journal) -> None:
        super().__init__(context)
        self.journal = journal
        self.total = 0
        self.seen: list[Any] = []

    def setup(self) -> None:
        self.journal.add("start", self.name, str(self.context.incarnation))

    def teardown(self) -> None:
        self.journal.add("stop", self.name, str(self.context.incarnation))

    def handle(self, message: Any) -> Any:
        self.seen.append(message)
        if isinstance(message, Add):
            self.total += message.amount
            self.journal.add("add", self.name, str(message.amount))
            return None
        if isinstance(message, Get):
            return self.total
        if isinstance(message, Fail):
            raise RuntimeError(message.text)
        if isinstance(message, Block):
            message.hold()
            return None
        return super().handle(message)


class FailingStart(Recorder):
    """Fails in ``setup`` while the shared ``failures_left`` counter is positive."""

    def __init__(self, context: ActorContext, journal: Journal, failures_left: list[int]) -> None:
        super().__init__(context, journal)
        self.failures_left = failures_left

    def setup(self) -> None:
        super().setup()
        if self.failures_left[0] > 0:
            self.failures_left[0] -= 1
            raise ConnectionError("exchange unreachable")
