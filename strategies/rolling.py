"""Rolling mean and standard deviation over the last N updates or the last N seconds.

O(1) per update with running sums; the sums are rebuilt from the window every
``rebuild_every`` updates so float cancellation cannot drift.
"""

from __future__ import annotations

import math
from collections import deque


class RollingStats:
    """Mean and (population) standard deviation of a sliding window of values."""

    __slots__ = ("_adds", "_sum", "_sum_sq", "_values", "by_time", "rebuild_every", "window")

    def __init__(self, window: float, by_time: bool = False, rebuild_every: int = 1024) -> None:
        if window <= 0:
            raise ValueError("window must be > 0")
        self.window = window
        self.by_time = by_time
        self.rebuild_every = rebuild_every
        self._values: deque[tuple[float, float]] = deque()
        self._sum = 0.0
        self._sum_sq = 0.0
        self._adds = 0

    def __len__(self) -> int:
        return len(self._values)

    def evict(self, now: float) -> None:
        """Drop values older than the window (time windows only)."""
        if not self.by_time:
            return
        values = self._values
        start = now - self.window
        while values and values[0][0] <= start:
            _, old = values.popleft()
            self._sum -= old
            self._sum_sq -= old * old

    def add(self, ts: float, value: float) -> None:
        values = self._values
        values.append((ts, value))
        self._sum += value
        self._sum_sq += value * value
        if self.by_time:
            self.evict(ts)
        elif len(values) > self.window:
            _, old = values.popleft()
            self._sum -= old
            self._sum_sq -= old * old
        self._adds += 1
        if self._adds % self.rebuild_every == 0:
            self._sum = math.fsum(v for _, v in values)
            self._sum_sq = math.fsum(v * v for _, v in values)

    @property
    def mean(self) -> float | None:
        n = len(self._values)
        return self._sum / n if n else None

    @property
    def std(self) -> float | None:
        n = len(self._values)
        if n < 2:
            return None
        mean = self._sum / n
        return math.sqrt(max(self._sum_sq / n - mean * mean, 0.0))

    def zscore(self, value: float, min_count: int = 2, min_std: float = 0.0) -> float | None:
        """(value − mean)/std, or None with too few values or a std below ``min_std``."""
        n = len(self._values)
        if n < max(min_count, 2):
            return None
        std = self.std
        if std is None or std <= 0.0 or std < min_std:
            return None
        return (value - self._sum / n) / std
