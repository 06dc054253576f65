"""Pure restart rules: how long to wait before a restart, and when to give up and escalate."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from enum import Enum


class Restart(Enum):
    """When a child is restarted (Erlang/OTP's names)."""

    PERMANENT = "permanent"  # always, after a crash
    TRANSIENT = "transient"  # after a crash, but not after it stopped normally
    TEMPORARY = "temporary"  # never: a crash removes it


class Strategy(Enum):
    ONE_FOR_ONE = "one_for_one"  # restart only the child that failed
    REST_FOR_ONE = "rest_for_one"  # restart it and every child started after it


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: ``initial × factor^(attempt−1)``, capped, ±``jitter``."""

    initial: float = 0.05
    factor: float = 2.0
    maximum: float = 5.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.initial < 0 or self.maximum < self.initial or self.factor < 1:
            raise ValueError(f"invalid backoff {self}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {self.jitter}")

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Delay before restart number ``attempt`` (1-based) of a child within the window."""
        base = min(self.maximum, self.initial * self.factor ** max(0, attempt - 1))
        return max(0.0, base * (1 + self.jitter * rng.uniform(-1.0, 1.0)))

    def bounds(self, attempt: int) -> tuple[float, float]:
        base = min(self.maximum, self.initial * self.factor ** max(0, attempt - 1))
        return base * (1 - self.jitter), base * (1 + self.jitter)


class RestartWindow:
    """Restart times inside a sliding window of ``within`` seconds."""

    def __init__(self, within: float) -> None:
        if within <= 0:
            raise ValueError(f"restart window must be > 0 s, got {within}")
        self.within = within
        self._times: deque[float] = deque()

    def record(self, now: float) -> int:
        """Add a restart at ``now``; returns how many fall inside the window, this one included."""
        self._times.append(now)
        while self._times and self._times[0] <= now - self.within:
            self._times.popleft()
        return len(self._times)


class RestartIntensity:
    """At most ``max_restarts`` restarts in ``within`` seconds; one more means escalate."""

    def __init__(self, max_restarts: int, within: float) -> None:
        if max_restarts < 0:
            raise ValueError(f"max_restarts must be >= 0, got {max_restarts}")
        self.max_restarts = max_restarts
        self._window = RestartWindow(within)

    @property
    def within(self) -> float:
        return self._window.within

    def allow(self, now: float) -> bool:
        """Record a restart; ``False`` when it exceeds the intensity."""
        return self._window.record(now) <= self.max_restarts
