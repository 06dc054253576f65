"""A test actor that records what the bus delivers and lets a test wait for a condition.

Waiting is event-driven (a condition variable notified on every message), with a
timeout: no polling, no sleeps. Use it where messages cross a socket, which no
in-process barrier can see.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from runtime.actor import ActorContext, SupervisedActor

T = TypeVar("T")


class Probe(SupervisedActor):
    def __init__(self, context: ActorContext, topics: tuple[str, ...], log: ProbeLog) -> None:
        super().__init__(context)
        self.topics = topics
        self.log = log

    def setup(self) -> None:
        self.subscribe(*self.topics)

    def handle(self, message: Any) -> Any:
        self.log.add(message)
        return None


class ProbeLog:
    """Messages a ``Probe`` received, shared with the test thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.messages: list[Any] = []

    def add(self, message: Any) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def of(self, kind: type[T]) -> list[T]:
        with self._cond:
            return [m for m in self.messages if isinstance(m, kind)]

    def wait_for(
        self, kind: type[T], predicate: Callable[[T], bool] = lambda _: True, timeout: float = 10.0
    ) -> T:
        """The first ``kind`` message (already received or yet to come) that satisfies ``predicate``."""
        seen = 0
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.messages[seen:]:
                    if isinstance(message, kind) and predicate(message):
                        return message
                seen = len(self.messages)
                left = deadline - time.monotonic()
                if left <= 0 or not self._cond.wait(left):
                    raise AssertionError(
                        f"no {kind.__name__} matching the condition within {timeout} s"
                    )

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
