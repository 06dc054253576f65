"""Periodic timers that deliver ``Tick`` messages and coalesce the ones a busy actor has not handled.

A timer never lets ticks pile up behind a slow actor: while one tick is still in
the mailbox, later firings are merged into a count that the next delivered tick
carries (``Tick.coalesced``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from messages.system import Tick
    from runtime.address import Address
    from runtime.clock import Clock, TimerHandle


class PeriodicTimer:
    def __init__(self, clock: Clock, address: Address, tick: type[Tick], interval: float) -> None:
        if interval <= 0:
            raise ValueError(f"timer {tick.__name__}: interval must be > 0, got {interval}")
        self._clock = clock
        self._address = address
        self.tick = tick
        self.interval = interval
        self._lock = threading.Lock()
        self._pending = False
        self._skipped = 0
        self.fired = 0
        self.coalesced_total = 0
        self._cancelled = False
        self._next_due = clock.now() + interval
        self._handle: TimerHandle = clock.call_later(interval, self._fire)

    def _fire(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            scheduled = self._next_due
            self._next_due = scheduled + self.interval
            # Schedule against the intended grid so the period does not drift.
            self._handle = self._clock.call_later(self._next_due - self._clock.now(), self._fire)
            self.fired += 1
            if self._pending:
                self._skipped += 1
                self.coalesced_total += 1
                return
            self._pending = True
            coalesced, self._skipped = self._skipped, 0
        self._address.tell(self.tick(scheduled, coalesced))

    def acknowledge(self) -> None:
        """The actor handled the tick: the next firing is delivered again."""
        with self._lock:
            self._pending = False

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            self._handle.cancel()
