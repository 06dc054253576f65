"""Client-side token buckets that keep us under Kalshi's rate limits.

Kalshi meters reads and writes in separate buckets. A request costs 10 tokens by default;
some cost otherwise (a V2 cancel 2, a batch create 10 per order, a batch cancel 2 per
item). The account's own buckets and costs come from ``GET /account/limits`` and
``GET /account/endpoint_costs`` (:meth:`RateLimiter.from_account`); a configured tier is
the fallback. We spend tokens before sending, so a burst waits here instead of earning
429s (which carry no Retry-After). Order creates and cancels may drain the write bucket;
every other write leaves one create's worth for them, so managing order groups or
amending never starves an order. The clock and the sleep are injectable.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from loguru import logger

from kalshi.account import AccountLimits, BucketLimit, EndpointCosts
from kalshi.errors import LocalRateLimited

DEFAULT_COST = 10
CANCEL_COST = 2
GET_ORDER_COST = 2
CREATE_ROUTE = ("POST", "/portfolio/events/orders")
CANCEL_ROUTE = ("DELETE", "/portfolio/events/orders/{order_id}")
CANCEL_ALL_ROUTE = ("DELETE", "/portfolio/events/orders")
BATCH_CREATE_ROUTE = ("POST", "/portfolio/events/orders/batched")
BATCH_CANCEL_ROUTE = ("DELETE", "/portfolio/events/orders/batched")
# Kalshi's CF Benchmarks passthrough (``kalshi.cfbenchmarks``): 50 read tokens a request.
PASSTHROUGH_ROUTE = ("GET", "/cfbenchmarks/{path}")
PASSTHROUGH_COST = 50
# Batches are billed per item: their cost is multiplied by the number of orders.
PER_ITEM_ROUTES = frozenset({BATCH_CREATE_ROUTE, BATCH_CANCEL_ROUTE})
# Writes that place or remove orders: they may use the whole write bucket.
ORDER_ROUTES = frozenset(
    {CREATE_ROUTE, CANCEL_ROUTE, CANCEL_ALL_ROUTE, BATCH_CREATE_ROUTE, BATCH_CANCEL_ROUTE}
)
_API_PREFIX = re.compile(r"^.*?/trade-api/v2(?=/|$)")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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

    def _need(self, tokens: float, reserve: float) -> float:
        """Tokens that must be in the bucket to take ``tokens`` and leave ``reserve``."""
        if tokens <= 0 or tokens > self.capacity:
            raise ValueError(f"cannot take {tokens} tokens from a bucket of {self.capacity}")
        return tokens + max(0.0, min(reserve, self.capacity - tokens))

    def try_acquire(self, tokens: float, reserve: float = 0) -> bool:
        """Take ``tokens`` now if they are there (and ``reserve`` would remain); never waits."""
        need = self._need(tokens, reserve)
        with self._lock:
            if self._refill() + self._slack >= need:
                self._tokens = max(0.0, self._tokens - tokens)
                return True
            return False

    def wait_time(self, tokens: float, reserve: float = 0) -> float:
        """Seconds until ``tokens`` (plus ``reserve``) will be available (0 when they are now)."""
        need = self._need(tokens, reserve)
        with self._lock:
            missing = need - self._refill()
        return 0.0 if missing <= self._slack else missing / self.rate

    def acquire(self, tokens: float, timeout: float | None = None, reserve: float = 0) -> float:
        """Wait (via the injected sleep) until ``tokens`` are taken; returns seconds waited.

        ``reserve`` tokens must remain afterwards (capped so the request can ever pass).
        Raises :class:`LocalRateLimited` when that would take longer than ``timeout``.
        """
        need = self._need(tokens, reserve)
        start = self._now()
        for _ in range(_MAX_WAIT_ROUNDS):
            with self._lock:
                missing = need - self._refill()
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


def route_of(path: str) -> str:
    """A request path relative to the API base, without query (``/trade-api/v2`` dropped)."""
    return _API_PREFIX.sub("", path.split("?", 1)[0]) or "/"


def _template(route: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^/{}]+\}", route_of(route))
    return re.compile("[^/]+".join(re.escape(part) for part in parts) + "$")


class RouteCosts:
    """The token cost of each request by method and route; the default for the rest."""

    def __init__(self, default_cost: int, costs: Iterable[tuple[str, str, int]]) -> None:
        if default_cost <= 0:
            raise ValueError("default_cost must be positive")
        self.default_cost = default_cost
        self._exact: dict[tuple[str, str], int] = {}
        self._templates: list[tuple[str, re.Pattern[str], int, int]] = []
        for method, route, cost in costs:
            key = (method.upper(), route_of(route))
            if "{" in key[1]:
                holes = key[1].count("{")
                self._templates.append((key[0], _template(key[1]), cost, holes))
            else:
                self._exact[key] = cost
        self._templates.sort(key=lambda entry: entry[3])  # the most specific route first

    @classmethod
    def builtin(
        cls, default_cost: int = DEFAULT_COST, cancel_cost: int = CANCEL_COST
    ) -> RouteCosts:
        """Kalshi's documented non-default costs, for when the account's are unknown."""
        return cls(
            default_cost,
            [
                (*CANCEL_ROUTE, cancel_cost),
                (*CANCEL_ALL_ROUTE, cancel_cost),
                (*BATCH_CANCEL_ROUTE, cancel_cost),
                (*BATCH_CREATE_ROUTE, default_cost),
                ("GET", "/portfolio/orders/{order_id}", GET_ORDER_COST),
                (*PASSTHROUGH_ROUTE, PASSTHROUGH_COST),
            ],
        )

    @classmethod
    def from_account(cls, costs: EndpointCosts) -> RouteCosts:
        """The account's list is complete: a route it omits costs the default."""
        return cls(costs.default_cost, [(c.method, c.path, c.cost) for c in costs.costs])

    def cost(self, method: str, path: str) -> int:
        """Tokens for one request (for a batch: for one of its items)."""
        method = method.upper()
        route = route_of(path)
        exact = self._exact.get((method, route))
        if exact is not None:
            return exact
        for candidate, pattern, cost, _ in self._templates:
            if candidate == method and pattern.match(route):
                return cost
        return self.default_cost


def _matcher(routes: Iterable[tuple[str, str]]) -> Callable[[str, str], bool]:
    compiled = [(method, _template(route)) for method, route in routes]

    def matches(method: str, path: str) -> bool:
        method, route = method.upper(), route_of(path)
        return any(m == method and pattern.match(route) for m, pattern in compiled)

    return matches


is_order_write = _matcher(ORDER_ROUTES)
"""Creates and cancels of orders: the writes that may use the whole write bucket."""
is_per_item = _matcher(PER_ITEM_ROUTES)
"""Batches, billed per item."""


class RateLimiter:
    """The read and write buckets of one API key and what each request costs."""

    def __init__(
        self,
        tier: RateLimitTier = BASIC,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        read: BucketLimit | None = None,
        write: BucketLimit | None = None,
        costs: RouteCosts | None = None,
    ) -> None:
        self.tier = tier
        self.costs = costs or RouteCosts.builtin(tier.request_cost, tier.cancel_cost)
        self.read = _bucket(read, tier.reads_per_second, tier, now, sleep)
        self.write = _bucket(write, tier.writes_per_second, tier, now, sleep)
        self.source = "account" if read is not None and write is not None else f"tier {tier.name}"

    @classmethod
    def from_account(
        cls,
        limits: AccountLimits | None,
        costs: EndpointCosts | None,
        *,
        tier: RateLimitTier = BASIC,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RateLimiter:
        """Buckets and costs as the account reports them; ``tier`` for what is unknown."""
        if limits is None:
            logger.warning("kalshi rate limits: account limits unknown; using tier {}", tier.name)
        if costs is None:
            logger.warning("kalshi rate limits: endpoint costs unknown; using the documented ones")
        return cls(
            tier,
            now=now,
            sleep=sleep,
            read=limits.read if limits is not None else None,
            write=limits.write if limits is not None else None,
            costs=RouteCosts.from_account(costs) if costs is not None else None,
        )

    @property
    def order_reserve(self) -> int:
        """Write tokens other writes must leave for orders: one create's cost."""
        return self.costs.cost(*CREATE_ROUTE)

    def cost(self, method: str, path: str, items: int = 1) -> tuple[TokenBucket, int]:
        """Which bucket a request draws from and how many tokens it costs."""
        if items < 1:
            raise ValueError("a request has at least one item")
        method = method.upper()
        bucket = self.read if method in _READ_METHODS else self.write
        cost = self.costs.cost(method, path)
        return bucket, cost * items if is_per_item(method, path) else cost

    def acquire(
        self, method: str, path: str, timeout: float | None = None, items: int = 1
    ) -> float:
        bucket, tokens = self.cost(method, path, items)
        if tokens == 0:
            return 0.0
        reserve = 0
        if bucket is self.write and not is_order_write(method, path):
            reserve = self.order_reserve
        return bucket.acquire(tokens, timeout, reserve)

    def penalize(self, method: str, path: str) -> None:
        """Empty the bucket a request used after the exchange answered 429."""
        self.cost(method, path)[0].drain()


def _bucket(
    limit: BucketLimit | None,
    per_second: float,
    tier: RateLimitTier,
    now: Callable[[], float],
    sleep: Callable[[float], None],
) -> TokenBucket:
    if limit is not None:
        return TokenBucket(limit.refill_rate, limit.bucket_capacity, now=now, sleep=sleep)
    rate = per_second * tier.request_cost
    return TokenBucket(rate, rate * tier.burst_seconds, now=now, sleep=sleep)
