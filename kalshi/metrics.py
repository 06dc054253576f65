"""Per-request latency samples the REST client leaves for whoever exports metrics.

A bounded ring (old samples fall off) plus an optional callback, so the hot path never
blocks on a metrics consumer and memory stays flat however long the bot runs.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from loguru import logger


@dataclass(frozen=True, slots=True)
class RequestSample:
    endpoint: str  # a fixed name such as "create_order" (no ids: bounded label space)
    method: str
    status: int | None  # None when no HTTP answer arrived
    seconds: float
    attempt: int  # 0 for the first try
    error: str | None = None  # exception class name when the attempt failed


class LatencyRecorder:
    """Thread-safe ring of :class:`RequestSample`; ``on_sample`` sees each one as it lands."""

    def __init__(
        self,
        maxlen: int = 2048,
        on_sample: Callable[[RequestSample], None] | None = None,
    ) -> None:
        self._samples: deque[RequestSample] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._on_sample = on_sample
        self.total = 0

    def record(self, sample: RequestSample) -> None:
        with self._lock:
            self._samples.append(sample)
            self.total += 1
        if self._on_sample is not None:
            try:
                self._on_sample(sample)
            except Exception:
                logger.exception("latency hook failed; sample kept")

    def samples(self, endpoint: str | None = None) -> list[RequestSample]:
        with self._lock:
            items = list(self._samples)
        return items if endpoint is None else [s for s in items if s.endpoint == endpoint]

    def drain(self) -> list[RequestSample]:
        """All samples so far, leaving the ring empty (for a periodic exporter)."""
        with self._lock:
            items = list(self._samples)
            self._samples.clear()
        return items

    def last(self) -> RequestSample | None:
        with self._lock:
            return self._samples[-1] if self._samples else None

    def quantile(self, q: float, endpoint: str | None = None) -> float | None:
        """Nearest-rank quantile of the kept samples' latency, in seconds."""
        if not 0 <= q <= 1:
            raise ValueError("q must be within [0, 1]")
        values = sorted(s.seconds for s in self.samples(endpoint))
        if not values:
            return None
        return values[min(len(values) - 1, max(0, round(q * len(values) + 0.5) - 1))]
