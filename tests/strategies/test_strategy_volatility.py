"""EWMA volatility: recovers a known σ, handles irregular prints, warm-up, floor and junk."""

from __future__ import annotations

import math

import numpy as np
import pytest

from strategies.pricing import SECONDS_PER_YEAR
from strategies.volatility import EwmaVolatility


def _gbm_prints(sigma: float, times: np.ndarray, seed: int, start: float = 75.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dts = np.diff(np.concatenate([[0.0], times]))
    s2 = sigma * sigma / SECONDS_PER_YEAR
    logs = np.cumsum(rng.standard_normal(len(times)) * np.sqrt(s2 * dts) - 0.5 * s2 * dts)
    return start * np.exp(logs)


@pytest.mark.parametrize("sigma", [0.3, 0.8, 1.5])
def test_recovers_a_known_sigma_from_one_second_prints(sigma: float) -> None:
    times = np.arange(1.0, 20_001.0)
    vol = EwmaVolatility(half_life_seconds=3600.0, warmup=30)
    for ts, price in zip(times, _gbm_prints(sigma, times, seed=int(sigma * 10)), strict=True):
        vol.update(float(price), float(ts))
    assert vol.sigma == pytest.approx(sigma, rel=0.05)


def test_recovers_sigma_from_irregular_prints() -> None:
    """Gaps of 1–6 s: each return is scaled by the time it covers."""
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.integers(1, 7, size=8_000).astype(float))
    vol = EwmaVolatility(half_life_seconds=7200.0, warmup=30)
    for ts, price in zip(times, _gbm_prints(0.6, times, seed=4), strict=True):
        vol.update(float(price), float(ts))
    assert vol.sigma is not None
    assert vol.sigma == pytest.approx(0.6, rel=0.05)
    # the same data read as if the prints were 1 s apart would be ~√3.5 too high
    assert vol.sigma < 0.6 * 1.2


def test_half_life_weights_recent_returns() -> None:
    """Returns of ±a for a long time, then ±b for one half-life: variance halfway between."""
    a, b = 1e-4, 3e-4
    vol = EwmaVolatility(half_life_seconds=100.0, warmup=1)
    price, ts = 75.0, 0.0
    vol.update(price, ts)
    for i in range(5_000):
        ts += 1.0
        price *= math.exp(a if i % 2 else -a)
        vol.update(price, ts)
    for i in range(100):
        ts += 1.0
        price *= math.exp(b if i % 2 else -b)
        vol.update(price, ts)
    assert vol.variance_per_second == pytest.approx((a * a + b * b) / 2, rel=0.01)


def test_warm_up_initial_value_and_floor() -> None:
    vol = EwmaVolatility(half_life_seconds=60.0, warmup=3)
    assert vol.sigma is None
    for i, p in enumerate([75.0, 75.01, 75.0, 75.01]):
        vol.update(p, float(i))
        assert (vol.sigma is None) == (i < 3)
    assert vol.ready and vol.count == 3

    seeded = EwmaVolatility(half_life_seconds=60.0, warmup=100, initial_sigma=0.7)
    assert seeded.sigma == pytest.approx(0.7)  # the prior reports at once
    seeded.update(75.0, 0.0)
    seeded.update(75.0, 1.0)  # a zero return pulls it down a little
    assert seeded.sigma is not None
    assert 0.69 < seeded.sigma < 0.7

    floored = EwmaVolatility(warmup=1, floor_sigma=0.25)
    floored.update(75.0, 0.0)
    floored.update(75.0, 1.0)
    assert floored.sigma == 0.25


def test_ignores_bad_duplicate_and_out_of_order_prints() -> None:
    vol = EwmaVolatility(warmup=1)
    assert not vol.update(75.0, 10.0)  # first print only anchors
    assert not vol.update(0.0, 11.0)
    assert not vol.update(-1.0, 11.0)
    assert not vol.update(math.nan, 11.0)
    assert not vol.update(math.inf, 11.0)
    assert not vol.update(80.0, 10.0)  # duplicate timestamp
    assert not vol.update(80.0, 9.0)  # older
    assert vol.count == 0
    assert vol.update(75.075, 11.0)
    expected = math.log(75.075 / 75.0) ** 2 * SECONDS_PER_YEAR
    assert vol.sigma == pytest.approx(math.sqrt(expected))
    assert vol.last_ts == 11.0


def test_long_gap_re_anchors() -> None:
    vol = EwmaVolatility(warmup=1, max_gap_seconds=60.0)
    vol.update(75.0, 0.0)
    assert not vol.update(90.0, 1_000.0)  # a 20 % jump over a feed outage is not a return
    assert vol.count == 0
    assert vol.update(90.0, 1_001.0)
    assert vol.sigma == 0.0


def test_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError, match="half_life"):
        EwmaVolatility(half_life_seconds=0)
    with pytest.raises(ValueError, match="warmup"):
        EwmaVolatility(warmup=0)
    with pytest.raises(ValueError, match="initial_sigma"):
        EwmaVolatility(initial_sigma=0.0)
