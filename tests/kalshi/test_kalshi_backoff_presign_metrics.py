"""Backoff delays, pre-signed header freshness and the latency ring."""

from __future__ import annotations

import random

import pytest

from kalshi.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER, Signer, verify_signature
from kalshi.backoff import Backoff
from kalshi.metrics import LatencyRecorder, RequestSample
from kalshi.presign import PresignedHeaders
from tests.kalshi.kalshi_fakes import FakeClock

PATH = "/trade-api/v2/portfolio/orders"


def test_backoff_is_exponential_capped_and_jittered() -> None:
    backoff = Backoff(base=0.1, maximum=1.0, rng=random.Random(1))
    caps = [backoff.cap(n) for n in range(6)]
    assert caps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    for attempt in range(6):
        for _ in range(50):
            delay = backoff.delay(attempt)
            assert caps[attempt] / 2 <= delay <= caps[attempt]


def test_seeded_backoff_is_reproducible() -> None:
    first = Backoff.seeded(7)
    second = Backoff.seeded(7)
    assert [first.delay(n) for n in range(5)] == [second.delay(n) for n in range(5)]
    assert [Backoff.seeded(8).delay(n) for n in range(5)] != [
        Backoff.seeded(7).delay(n) for n in range(5)
    ]


def test_backoff_validates() -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(base=2, maximum=1)


def test_presigned_headers_are_reused_while_fresh(signer: Signer) -> None:
    clock = FakeClock(1_700_000_000.0)
    cache = PresignedHeaders(signer, "post", PATH, max_age=1.0, now=clock)
    first = cache.get()  # nothing cached: signs inline
    assert cache.misses == 1
    clock.advance(0.9)
    assert cache.get() == first
    assert cache.hits == 1
    clock.advance(0.2)  # now 1.1 s old: too old, signed again inline
    second = cache.get()
    assert second[TIMESTAMP_HEADER] == str(int(clock.now * 1000))
    assert cache.misses == 2
    public = signer.private_key.public_key()
    for headers in (first, second):
        assert verify_signature(
            public, headers[TIMESTAMP_HEADER], "POST", PATH, headers[SIGNATURE_HEADER]
        )


def test_refresh_from_a_timer_keeps_the_hot_path_free_of_signing(signer: Signer) -> None:
    clock = FakeClock(1_700_000_000.0)
    cache = PresignedHeaders(signer, "POST", PATH, max_age=1.0, now=clock)
    for _ in range(10):
        cache.refresh()  # the owner's timer, every 0.5 s
        clock.advance(0.5)
        headers = cache.get()
        age = clock.now - int(headers[TIMESTAMP_HEADER]) / 1000
        assert 0 <= age <= 1.0
    assert cache.misses == 0 and cache.hits == 10
    assert cache.age() == pytest.approx(0.5, abs=0.001)
    assert "key-id" not in repr(cache)


def test_latency_recorder_ring_and_hook() -> None:
    seen: list[RequestSample] = []
    recorder = LatencyRecorder(maxlen=3, on_sample=seen.append)
    for i in range(5):
        recorder.record(RequestSample("get_market", "GET", 200, i / 10, 0))
    assert recorder.total == 5
    assert [s.seconds for s in recorder.samples()] == [0.2, 0.3, 0.4]
    assert len(seen) == 5
    assert recorder.quantile(0.5) == 0.3
    assert recorder.quantile(1.0) == 0.4
    assert recorder.last() == RequestSample("get_market", "GET", 200, 0.4, 0)
    assert len(recorder.drain()) == 3
    assert recorder.samples() == [] and recorder.quantile(0.5) is None


def test_failing_latency_hook_does_not_lose_the_sample() -> None:
    def boom(_sample: RequestSample) -> None:
        raise RuntimeError("hook broke")

    recorder = LatencyRecorder(on_sample=boom)
    recorder.record(RequestSample("x", "GET", 200, 0.1, 0))
    assert recorder.total == 1
