"""Clocks for the server: the wall clock, or a manual one that moves only when told."""

from __future__ import annotations

import threading
import time


class ManualClock:
    """Unix seconds that change only through :meth:`set` / :meth:`advance` (tests)."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a manual clock cannot go back")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, now: float) -> None:
        with self._lock:
            if now < self._now:
                raise ValueError("a manual clock cannot go back")
            self._now = now


def wall_clock() -> float:
    return time.time()
