"""A one-line progress bar on stderr for long runs; silent when stderr is not a terminal.

It appears only after ``delay`` seconds (short runs stay clean) and redraws at
most ``interval`` times a second, so it costs nothing measurable.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TextIO


class ProgressBar:
    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        delay: float = 2.0,
        interval: float = 0.2,
        width: int = 30,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.delay = delay
        self.interval = interval
        self.width = width
        self.lo: float | None = None
        self.hi: float | None = None
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def set_range(self, lo: float, hi: float) -> None:
        """The span of simulated time (or of runs) that makes up 100 %."""
        self.lo, self.hi = lo, hi

    def __call__(self, position: float, note: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._start < self.delay or now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self._draw(position, now, note)

    def _draw(self, position: float, now: float, note: str) -> None:
        elapsed = now - self._start
        text = f"{self.label} "
        if self.lo is not None and self.hi is not None and self.hi > self.lo:
            done = min(max((position - self.lo) / (self.hi - self.lo), 0.0), 1.0)
            filled = int(done * self.width)
            eta = elapsed * (1 - done) / done if done > 0 else 0.0
            text += f"[{'#' * filled}{'.' * (self.width - filled)}] {done:6.1%}  eta {eta:5.0f}s"
        if position > 1e9:  # a Unix time: show the simulated date
            text += f"  {datetime.fromtimestamp(position, tz=UTC):%Y-%m-%d %H:%M}"
        text += f"  {elapsed:5.0f}s {note}"
        self.stream.write("\r" + text[:120].ljust(80))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * 120 + "\r")
            self.stream.flush()
            self._drawn = False
