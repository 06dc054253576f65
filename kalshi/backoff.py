"""Exponential backoff with jitter, shared by REST retries and WebSocket reconnects.

"Equal jitter": the n-th delay is uniform in [cap/2, cap] with cap = min(max, base × 2ⁿ),
so retries always back off yet many clients never retry in lockstep. The random source
is injectable so tests can predict every delay.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    base: float = 0.25
    maximum: float = 10.0
    factor: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.base < 0 or self.maximum < self.base or self.factor < 1:
            raise ValueError("backoff needs 0 <= base <= maximum and factor >= 1")

    def cap(self, attempt: int) -> float:
        """The ceiling of the delay before retry number ``attempt`` (0-based)."""
        return min(self.maximum, self.base * self.factor ** min(attempt, 64))

    def delay(self, attempt: int) -> float:
        ceiling = self.cap(attempt)
        with self._lock:  # random.Random is shared by actor threads
            return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    @classmethod
    def seeded(cls, seed: int, base: float = 0.25, maximum: float = 10.0) -> Backoff:
        return cls(base=base, maximum=maximum, rng=random.Random(seed))
