"""Pre-signed auth headers for a hot path (placing orders).

An RSA-PSS signature costs around a millisecond. Kalshi signs only
``timestamp + METHOD + path``, not the body, so headers signed a moment ago are valid
for any order sent to the same path. The owner calls :meth:`refresh` from a timer;
a request takes the cached headers and signs inline only when they are older than
``max_age`` (about a second, well inside the server's freshness window).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kalshi.auth import Signer


class PresignedHeaders:
    def __init__(
        self,
        signer: Signer,
        method: str,
        path: str,
        *,
        max_age: float = 1.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        if max_age <= 0:
            raise ValueError("max_age must be positive")
        self._signer = signer
        self.method = method.upper()
        self.path = path
        self.max_age = max_age
        self._now = now
        self._lock = threading.Lock()
        self._stamp_ms: int | None = None
        self._headers: dict[str, str] = {}
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"PresignedHeaders({self.method} {self.path}, max_age={self.max_age})"

    def _sign(self) -> dict[str, str]:
        stamp = int(self._now() * 1000)
        headers = self._signer.headers(self.method, self.path, stamp)
        with self._lock:
            if self._stamp_ms is None or stamp >= self._stamp_ms:
                self._stamp_ms, self._headers = stamp, headers
        return headers

    def refresh(self) -> None:
        """Sign now and keep the result (call from a timer, off the request path)."""
        self._sign()

    def age(self) -> float | None:
        """Seconds since the cached headers were signed, or None if there are none."""
        with self._lock:
            stamp = self._stamp_ms
        return None if stamp is None else self._now() - stamp / 1000

    def get(self) -> dict[str, str]:
        """Headers no older than ``max_age``: the cached ones, or freshly signed ones."""
        now_ms = int(self._now() * 1000)
        with self._lock:
            stamp = self._stamp_ms
            if stamp is not None and 0 <= now_ms - stamp <= self.max_age * 1000:
                self.hits += 1
                return dict(self._headers)
            self.misses += 1
        return dict(self._sign())
