"""The Brownian bridge: every bar's 60 prints start at its open, end at its close, touch its high and low."""

from __future__ import annotations

import numpy as np
import pytest

from backtest.bridge import PRINTS_PER_BAR, expand, parkinson_variance, variance_ratio
from backtest.history import Bars
from tests.backtest.backtest_builders import START, random_bars


def bars_of(rows: list[tuple[int, float, float, float, float]]) -> Bars:
    table = np.array([r[1:] for r in rows], dtype=np.float64)
    return Bars(
        np.array([r[0] for r in rows], dtype=np.int64),
        table[:, 0].copy(),
        table[:, 1].copy(),
        table[:, 2].copy(),
        table[:, 3].copy(),
        ("test",),
        (),
    )


EDGE_CASES = [
    (START, 100.0, 100.0, 100.0, 100.0),  # flat
    (START + 60, 100.0, 101.0, 99.0, 100.5),  # both extremes inside
    (START + 120, 101.0, 101.0, 99.0, 99.0),  # opens at the high, closes at the low
    (START + 180, 99.0, 101.0, 99.0, 101.0),  # opens at the low, closes at the high
    (START + 240, 100.0, 100.0, 98.0, 100.0),  # open = close = high
    (START + 300, 100.0, 102.0, 100.0, 100.0),  # open = close = low
    (START + 360, 100.0, 100.01, 99.99, 100.0),  # one tick each way
    (START + 420, 100.0, 100.5, 100.0, 100.2),  # opens at the low, high inside
]


def check_ohlc(bars: Bars, prices: np.ndarray) -> None:
    per_bar = prices.reshape(-1, PRINTS_PER_BAR)
    assert np.array_equal(per_bar[:, 0], bars.open)
    assert np.array_equal(per_bar[:, -1], bars.close)
    assert np.array_equal(per_bar.max(axis=1), bars.high)
    assert np.array_equal(per_bar.min(axis=1), bars.low)


def test_edge_case_bars_hit_their_open_high_low_and_close_exactly() -> None:
    bars = bars_of(EDGE_CASES)
    for seed in range(20):
        prints = expand(bars, seed, ratio=1.5)
        check_ohlc(bars, prints.price)
        assert np.array_equal(np.round(prints.price, 4), prints.price)  # 4-decimal prints


def test_random_bars_hit_ohlc_and_prints_are_one_second_apart() -> None:
    bars = bars_of(random_bars(3000, seed=4))
    prints = expand(bars, seed=9)
    check_ohlc(bars, prints.price)
    assert prints.ts.size == 60 * len(bars)
    assert np.all(np.diff(prints.ts) == 1)
    assert prints.ts[0] == bars.ts[0]


def test_the_bridge_is_deterministic_in_its_seed() -> None:
    bars = bars_of(random_bars(500, seed=2))
    a, b, c = expand(bars, 1), expand(bars, 1), expand(bars, 2)
    assert np.array_equal(a.price, b.price)
    assert not np.array_equal(a.price, c.price)


def test_a_bars_prints_do_not_depend_on_the_stretch_loaded() -> None:
    rows = random_bars(3 * 1440, seed=5)  # three days
    whole = bars_of(rows)
    ratio = variance_ratio(whole)
    part = whole.between(rows[2000][0], rows[2600][0])
    full = expand(whole, 3, ratio)
    cut = expand(part, 3, ratio)
    offset = 2000 * PRINTS_PER_BAR
    assert np.array_equal(full.price[offset : offset + cut.price.size], cut.price)


def test_realized_variance_of_the_prints_matches_the_bars() -> None:
    """The 1-second prints carry the variance of 1-minute close-to-close returns (the target)."""
    bars = bars_of(random_bars(5000, seed=6))
    ratio = variance_ratio(bars)
    prints = expand(bars, seed=1, ratio=ratio)
    returns = np.diff(np.log(prints.price))
    per_minute = float(np.mean(returns**2)) * 60
    target = ratio * float(parkinson_variance(bars).mean())
    assert per_minute == pytest.approx(target, rel=0.1)
