"""Clocks: ``WallClock`` for production, ``SimClock`` that tests advance explicitly.

Everything time-dependent in the runtime (restart backoff, timers, chaos) asks a
clock, so a test can move time forward by exactly the amount it needs and
observe what happens, without sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Protocol

from loguru import logger


class TimerHandle:
    """A scheduled callback; ``cancel()`` makes sure it will not run."""

    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Clock(Protocol):
    def now(self) -> float:
        """Unix time in seconds."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` once, ``delay`` seconds from now, on the clock's own thread."""
        ...


def _run(handle: TimerHandle) -> None:
    try:
        handle.callback()
    except Exception:
        logger.exception("timer callback failed")


class _TimerHeap:
    """Due-time ordered timers; ties keep their scheduling order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()

    def push(self, handle: TimerHandle) -> None:
        heapq.heappush(self._heap, (handle.when, next(self._seq), handle))

    def next_due(self) -> float | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> TimerHandle | None:
        due = self.next_due()
        if due is None or due > now:
            return None
        return heapq.heappop(self._heap)[2]

    def __len__(self) -> int:
        return sum(1 for _, _, h in self._heap if not h.cancelled)


class WallClock:
    """Real time; timers run on one daemon thread, started on first use, ended by ``close``."""

    def __init__(self) -> None:
        self._timers = _TimerHeap()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def now(self) -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        handle = TimerHandle(time.monotonic() + max(0.0, delay), callback)
        with self._cond:
            if self._closed:
                handle.cancel()
                return handle
            self._timers.push(handle)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="wall-clock", daemon=True)
                self._thread.start()
            self._cond.notify()
        return handle

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                handle = self._timers.pop_due(time.monotonic())
                if handle is None:
                    due = self._timers.next_due()
                    self._cond.wait(None if due is None else max(0.0, due - time.monotonic()))
                    continue
            _run(handle)


class SimClock:
    """Simulated time that moves only when told; due timers run in the advancing thread, in order."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._timers = _TimerHeap()
        self._lock = threading.RLock()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        with self._lock:
            handle = TimerHandle(self._now + max(0.0, delay), callback)
            self._timers.push(handle)
        return handle

    def advance(self, seconds: float) -> int:
        """Move time forward, running every timer that falls due (at its own time); returns how many."""
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        return self.advance_to(self._now + seconds)

    def advance_to(self, moment: float) -> int:
        ran = 0
        while True:
            with self._lock:
                handle = self._timers.pop_due(moment)
                if handle is None:
                    self._now = max(self._now, moment)
                    return ran
                self._now = max(self._now, handle.when)
            _run(handle)
            ran += 1

    def next_timer(self) -> float | None:
        """When the earliest pending timer falls due, or ``None``."""
        with self._lock:
            return self._timers.next_due()

    def pending_timers(self) -> int:
        with self._lock:
            return len(self._timers)
