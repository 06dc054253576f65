"""Token buckets per tier, driven by a manual clock: no real time passes."""

from __future__ import annotations

import threading

import pytest
from kalshi_fakes import FakeClock

from kalshi.errors import LocalRateLimited, RateLimited
from kalshi.rate_limit import (
    ADVANCED,
    BASIC,
    RateLimiter,
    RateLimitTier,
    TokenBucket,
    tier_named,
)


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
        assert limiter.acquire("POST", "/portfolio/orders") == 0
    assert clock.sleeps == []
    limiter.acquire("GET", "/markets")
    assert clock.sleeps == [pytest.approx(1 / 20)]
    limiter.acquire("POST", "/portfolio/orders")
    assert clock.sleeps[-1] == pytest.approx(1 / 10 - 1 / 20)  # the read's wait refilled some


def test_cancels_cost_two_tokens_and_share_the_write_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(BASIC, now=clock, sleep=clock.sleep)
    bucket, cost = limiter.cost("DELETE", "/trade-api/v2/portfolio/orders/abc")
    assert (bucket, cost) == (limiter.write, 2)
    assert limiter.cost("GET", "/portfolio/orders/abc") == (limiter.read, 10)
    assert limiter.cost("POST", "/portfolio/orders")[1] == 10
    for _ in range(50):  # 100 write tokens / 2 per cancel
        limiter.acquire("DELETE", "/portfolio/orders/abc")
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
