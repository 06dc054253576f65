"""Client-side token buckets that keep us under Kalshi's per-tier rate limits.

Kalshi meters reads and writes in separate buckets. A request costs 10 tokens by
default and a cancel 2; a tier grants N requests per second of each kind. We spend
tokens before sending, so a burst waits here instead of earning 429s (which carry no
Retry-After). The clock and the sleep are injectable: tests drive them by hand.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kalshi.errors import LocalRateLimited

DEFAULT_COST = 10
CANCEL_COST = 2
_CANCEL_PATH = re.compile(r"/portfolio/orders/[^/]+$")
_MAX_WAIT_ROUNDS = 10_000
_EPSILON = 1e-9  # relative slack: float time sums must not leave a bucket 1e-13 short


@dataclass(frozen=True, slots=True)
class RateLimitTier:
    """Requests per second at the default cost; ⚠ tier figures beyond Basic are third-party."""

    name: str
    reads_per_second: float
    writes_per_second: float
    request_cost: int = DEFAULT_COST
    cancel_cost: int = CANCEL_COST
    burst_seconds: float = 1.0  # bucket capacity, in seconds of refill


BASIC = RateLimitTier("basic", 20, 10)
ADVANCED = RateLimitTier("advanced", 30, 30)
PREMIER = RateLimitTier("premier", 100, 100)
PRIME = RateLimitTier("prime", 400, 400)
TIERS = {tier.name: tier for tier in (BASIC, ADVANCED, PREMIER, PRIME)}


def tier_named(name: str) -> RateLimitTier:
    try:
        return TIERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown rate-limit tier {name!r}; known: {', '.join(TIERS)}") from None


class TokenBucket:
    """A thread-safe token bucket: ``rate`` tokens per second up to ``capacity``."""

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = rate
        self.capacity = capacity
        self._now = now
        self._sleep = sleep
        self._tokens = capacity
        self._stamp = now()
        self._lock = threading.Lock()
        self._slack = capacity * _EPSILON

    def _refill(self) -> float:
        moment = self._now()
        elapsed = moment - self._stamp
        if elapsed > 0:
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
            self._stamp = moment
        return self._tokens

    @property
    def tokens(self) -> float:
        with self._lock:
            return self._refill()

    def _check(self, tokens: float) -> None:
        if tokens <= 0 or tokens > self.capacity:
            raise ValueError(f"cannot take {tokens} tokens from a bucket of {self.capacity}")

    def try_acquire(self, tokens: float) -> bool:
        """Take ``tokens`` now if they are there; never waits."""
        self._check(tokens)
        with self._lock:
            if self._refill() + self._slack >= tokens:
                self._tokens = max(0.0, self._tokens - tokens)
                return True
            return False

    def wait_time(self, tokens: float) -> float:
        """Seconds until ``tokens`` will be available (0 when they are now)."""
        self._check(tokens)
        with self._lock:
            missing = tokens - self._refill()
        return 0.0 if missing <= self._slack else missing / self.rate

    def acquire(self, tokens: float, timeout: float | None = None) -> float:
        """Wait (via the injected sleep) until ``tokens`` are taken; returns seconds waited.

        Raises :class:`LocalRateLimited` when that would take longer than ``timeout``.
        """
        self._check(tokens)
        start = self._now()
        for _ in range(_MAX_WAIT_ROUNDS):
            with self._lock:
                missing = tokens - self._refill()
                if missing <= self._slack:
                    self._tokens = max(0.0, self._tokens - tokens)
                    return self._now() - start
            wait = missing / self.rate
            if timeout is not None and self._now() - start + wait > timeout:
                raise LocalRateLimited(
                    f"rate limit: {tokens} tokens not available within {timeout:.3f}s"
                )
            self._sleep(wait)
        raise LocalRateLimited("rate limit: the clock did not advance while waiting for tokens")

    def drain(self) -> None:
        """Empty the bucket: after a 429 the server's view is stricter than ours."""
        with self._lock:
            self._refill()
            self._tokens = 0.0


class RateLimiter:
    """The read and write buckets of one API key, sized from its tier."""

    def __init__(
        self,
        tier: RateLimitTier = BASIC,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tier = tier
        self.read = TokenBucket(
            tier.reads_per_second * tier.request_cost,
            tier.reads_per_second * tier.request_cost * tier.burst_seconds,
            now=now,
            sleep=sleep,
        )
        self.write = TokenBucket(
            tier.writes_per_second * tier.request_cost,
            tier.writes_per_second * tier.request_cost * tier.burst_seconds,
            now=now,
            sleep=sleep,
        )

    def cost(self, method: str, path: str) -> tuple[TokenBucket, int]:
        """Which bucket a request draws from and how many tokens it costs."""
        method = method.upper()
        if method in ("GET", "HEAD", "OPTIONS"):
            return self.read, self.tier.request_cost
        if method == "DELETE" and _CANCEL_PATH.search(path) and not path.endswith("/batched"):
            return self.write, self.tier.cancel_cost
        return self.write, self.tier.request_cost

    def acquire(self, method: str, path: str, timeout: float | None = None) -> float:
        bucket, tokens = self.cost(method, path)
        return bucket.acquire(tokens, timeout)

    def penalize(self, method: str, path: str) -> None:
        """Empty the bucket a request used after the exchange answered 429."""
        self.cost(method, path)[0].drain()
