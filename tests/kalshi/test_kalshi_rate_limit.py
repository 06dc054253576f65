"""Token buckets per tier, driven by a manual clock: no real time passes."""

from __future__ import annotations

import threading

import pytest

from kalshi.account import AccountLimits, BucketLimit, EndpointCost, EndpointCosts
from kalshi.auth import Signer
from kalshi.errors import LocalRateLimited, RateLimited
from kalshi.rate_limit import (
    ADVANCED,
    BASIC,
    RateLimiter,
    RateLimitTier,
    TokenBucket,
    tier_named,
)
from kalshi.rest import KalshiRestClient
from tests.kalshi.kalshi_fakes import BASE, FakeClock, FakeKalshi


def test_bucket_refills_at_rate_up_to_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=100, capacity=200, now=clock, sleep=clock.sleep)
    assert bucket.try_acquire(200)
    assert not bucket.try_acquire(10)
    assert bucket.wait_time(10) == pytest.approx(0.1)
    clock.advance(0.05)
    assert not bucket.try_acquire(10)
    clock.advance(0.05)
    assert bucket.try_acquire(10)
    clock.advance(100)
    assert bucket.tokens == 200  # capped


def test_acquire_waits_through_the_injected_sleep() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=100, capacity=100, now=clock, sleep=clock.sleep)
    assert bucket.acquire(100) == 0
    waited = bucket.acquire(50)
    assert waited == pytest.approx(0.5)
    assert clock.sleeps == [pytest.approx(0.5)]


def test_acquire_timeout_raises_local_rate_limited() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, capacity=10, now=clock, sleep=clock.sleep)
    bucket.acquire(10)
    with pytest.raises(LocalRateLimited) as info:
        bucket.acquire(10, timeout=0.5)
    assert isinstance(info.value, RateLimited)
    assert clock.sleeps == []  # it did not wait in vain


def test_frozen_clock_cannot_hang_acquire() -> None:
    frozen = FakeClock()
    bucket = TokenBucket(rate=10, capacity=10, now=frozen, sleep=lambda _s: None)
    bucket.acquire(10)
    with pytest.raises(LocalRateLimited, match="clock did not advance"):
        bucket.acquire(10)


def test_bad_sizes_are_refused() -> None:
    bucket = TokenBucket(rate=1, capacity=5)
    with pytest.raises(ValueError, match="cannot take"):
        bucket.try_acquire(6)
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(rate=0, capacity=1)


def test_basic_tier_budgets() -> None:
    clock = FakeClock()
    limiter = RateLimiter(BASIC, now=clock, sleep=clock.sleep)
    # 20 reads and 10 writes in the first second, then each next one waits.
    for _ in range(20):
        assert limiter.acquire("GET", "/markets") == 0
    for _ in range(10):
        assert limiter.acquire("POST", "/portfolio/events/orders") == 0
    assert clock.sleeps == []
    limiter.acquire("GET", "/markets")
    assert clock.sleeps == [pytest.approx(1 / 20)]
    limiter.acquire("POST", "/portfolio/events/orders")
    assert clock.sleeps[-1] == pytest.approx(1 / 10 - 1 / 20)  # the read's wait refilled some


def test_cancels_cost_two_tokens_and_share_the_write_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(BASIC, now=clock, sleep=clock.sleep)
    bucket, cost = limiter.cost("DELETE", "/trade-api/v2/portfolio/events/orders/abc")
    assert (bucket, cost) == (limiter.write, 2)
    assert limiter.cost("GET", "/portfolio/orders/abc") == (limiter.read, 2)
    assert limiter.cost("GET", "/portfolio/orders") == (limiter.read, 10)
    assert limiter.cost("POST", "/portfolio/events/orders")[1] == 10
    assert limiter.cost("DELETE", "/portfolio/events/orders") == (limiter.write, 2)
    assert limiter.cost("POST", "/portfolio/events/orders/batched", items=3)[1] == 30
    assert limiter.cost("DELETE", "/portfolio/events/orders/batched", items=4)[1] == 8
    assert limiter.cost("POST", "/portfolio/events/orders/abc/amend")[1] == 10
    for _ in range(50):  # 100 write tokens / 2 per cancel
        limiter.acquire("DELETE", "/portfolio/events/orders/abc")
    assert clock.sleeps == []
    assert not limiter.write.try_acquire(2)


def test_penalize_drains_the_bucket_after_a_429() -> None:
    clock = FakeClock()
    limiter = RateLimiter(BASIC, now=clock, sleep=clock.sleep)
    limiter.penalize("GET", "/markets")
    assert limiter.read.tokens == 0
    assert limiter.write.tokens == 100


def test_tiers_are_configurable() -> None:
    assert tier_named("Advanced") is ADVANCED
    with pytest.raises(ValueError, match="unknown rate-limit tier"):
        tier_named("gold")
    custom = RateLimitTier("custom", reads_per_second=2, writes_per_second=1)
    clock = FakeClock()
    limiter = RateLimiter(custom, now=clock, sleep=clock.sleep)
    limiter.acquire("GET", "/x")
    limiter.acquire("GET", "/x")
    limiter.acquire("GET", "/x")
    assert clock.sleeps == [pytest.approx(0.5)]


def test_bucket_is_thread_safe() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1, capacity=1000, now=clock, sleep=clock.sleep)
    taken: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(200):
            ok = bucket.try_acquire(1)
            with lock:
                taken.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sum(taken) == 1000  # never more tokens than the bucket held


LIMITS = AccountLimits("advanced", BucketLimit(300, 300), BucketLimit(150, 300))
COSTS = EndpointCosts(
    12,
    (
        EndpointCost("DELETE", "/trade-api/v2/portfolio/events/orders/{order_id}", 3),
        EndpointCost("POST", "/trade-api/v2/portfolio/events/orders/batched", 11),
        EndpointCost("DELETE", "/portfolio/events/orders/batched", 1),
        EndpointCost("GET", "/portfolio/orders/{order_id}", 4),
        EndpointCost("GET", "/portfolio/orders/queue_positions", 0),
    ),
)


def test_buckets_and_costs_come_from_the_account() -> None:
    clock = FakeClock()
    limiter = RateLimiter.from_account(LIMITS, COSTS, now=clock, sleep=clock.sleep)
    assert limiter.source == "account"
    assert (limiter.read.rate, limiter.read.capacity) == (300, 300)
    assert (limiter.write.rate, limiter.write.capacity) == (150, 300)
    assert limiter.cost("DELETE", "/portfolio/events/orders/o-1") == (limiter.write, 3)
    assert limiter.cost("POST", "/portfolio/events/orders/batched", items=2)[1] == 22
    assert limiter.cost("DELETE", "/trade-api/v2/portfolio/events/orders/batched", 5)[1] == 5
    assert limiter.cost("GET", "/portfolio/orders/o-1") == (limiter.read, 4)
    # The exact route wins over the template that would also match it.
    assert limiter.cost("GET", "/portfolio/orders/queue_positions")[1] == 0
    assert limiter.acquire("GET", "/portfolio/orders/queue_positions") == 0
    # The account's list is complete: what it omits costs its default, not ours.
    assert limiter.cost("POST", "/portfolio/events/orders")[1] == 12
    assert limiter.cost("DELETE", "/portfolio/events/orders")[1] == 12
    assert limiter.cost("GET", "/portfolio/orders?ticker=X")[1] == 12
    assert limiter.order_reserve == 12


def test_unknown_account_falls_back_to_the_configured_tier() -> None:
    clock = FakeClock()
    limiter = RateLimiter.from_account(None, None, tier=ADVANCED, now=clock, sleep=clock.sleep)
    assert limiter.source == "tier advanced"
    assert limiter.write.rate == ADVANCED.writes_per_second * 10
    assert limiter.cost("DELETE", "/portfolio/events/orders/o")[1] == 2
    only_costs = RateLimiter.from_account(None, COSTS, now=clock, sleep=clock.sleep)
    assert only_costs.write.capacity == 100 and only_costs.cost("POST", "/x")[1] == 12


def test_other_writes_leave_one_create_for_orders() -> None:
    clock = FakeClock()
    limiter = RateLimiter.from_account(
        AccountLimits("basic", BucketLimit(200, 200), BucketLimit(100, 100)),
        None,
        now=clock,
        sleep=clock.sleep,
    )
    for _ in range(9):  # 90 of 100 write tokens go to orders
        assert limiter.acquire("POST", "/portfolio/events/orders") == 0
    # Managing an order group must leave 10: it waits for 20 tokens (0.1 s at 100/s).
    waited = limiter.acquire("PUT", "/portfolio/order_groups/og/trigger")
    assert waited == pytest.approx(0.1)
    assert limiter.write.tokens == pytest.approx(10)
    # An order create may still take the last 10 at once; a cancel its 2 after that.
    assert limiter.acquire("POST", "/portfolio/events/orders") == 0
    assert limiter.write.try_acquire(2) is False
    clock.advance(0.02)
    assert limiter.acquire("DELETE", "/portfolio/events/orders/o") == 0
    # Amend and decrease are writes that keep the reserve too.
    before = len(clock.sleeps)
    limiter.acquire("POST", "/portfolio/events/orders/o/amend")
    assert clock.sleeps[before] == pytest.approx(0.2)  # waits for 20, not 10


def test_reads_never_touch_the_write_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(BASIC, now=clock, sleep=clock.sleep)
    for _ in range(40):
        limiter.acquire("GET", "/portfolio/orders")
    assert limiter.write.tokens == 100
    assert len(clock.sleeps) == 20  # the read bucket paced them


def test_a_batch_larger_than_the_bucket_is_refused() -> None:
    limiter = RateLimiter(BASIC)
    with pytest.raises(ValueError, match="cannot take 110"):
        limiter.acquire("POST", "/portfolio/events/orders/batched", items=11)
    with pytest.raises(ValueError, match="at least one item"):
        limiter.cost("POST", "/portfolio/events/orders/batched", items=0)


def test_rest_client_adopts_the_account_limits(fake: FakeKalshi, signer: Signer) -> None:
    fake.routes[("GET", "/account/limits")] = {
        "usage_tier": "premier",
        "read": {"refill_rate": 1000, "bucket_capacity": 1000},
        "write": {"refill_rate": 1000, "bucket_capacity": 2000},
        "grants": [],
    }
    fake.routes[("GET", "/account/endpoint_costs")] = {
        "default_cost": 10,
        "endpoint_costs": [
            {
                "method": "DELETE",
                "path": "/trade-api/v2/portfolio/events/orders/{order_id}",
                "cost": 2,
            }
        ],
    }
    with KalshiRestClient(BASE, signer, transport=fake.transport(), sleep=lambda _s: None) as rest:
        limiter = rest.adopt_account_limits()
        assert limiter is not None and rest.rate_limiter is limiter
        assert limiter.source == "account" and limiter.write.capacity == 2000
        assert limiter.cost("DELETE", "/portfolio/events/orders/o")[1] == 2
    fake.routes.clear()
    fake.fail("GET", "/account/limits", status=404, code="not_found")
    with KalshiRestClient(BASE, signer, transport=fake.transport(), tier=ADVANCED) as rest:
        fallback = rest.adopt_account_limits()
        assert fallback is not None and fallback.source == "tier advanced"
    with KalshiRestClient(BASE, signer, transport=fake.transport(), rate_limit=False) as rest:
        assert rest.adopt_account_limits() is None
