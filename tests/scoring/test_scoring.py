"""Brier scores, window-resampled intervals, the cost floor and the verdict, by hand."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest

from scoring.costs import cost_floor, verdict
from scoring.forecasts import Forecast, brier, brier_of, by_horizon, log_loss, reliability
from scoring.intervals import NO_DATA, Interval, by_window


def test_brier_and_log_loss_by_hand() -> None:
    assert brier([0.8, 0.3], [1, 0]) == pytest.approx((0.04 + 0.09) / 2)
    assert math.isnan(brier([], []))
    assert log_loss([0.5], [1]) == pytest.approx(math.log(2))
    assert log_loss([0.0], [1]) == pytest.approx(-math.log(1e-6))  # clipped, finite


def test_reliability_bins() -> None:
    bins = reliability([0.05, 0.15, 0.12], [0, 1, 0], bins=10)
    assert (bins[0].count, bins[1].count) == (1, 2)
    assert bins[1].frequency == pytest.approx(0.5)
    assert math.isnan(bins[5].mean_prob)


def test_forecasts_group_by_horizon_in_the_usual_order() -> None:
    made = [Forecast("a", m, 0.5, 1) for m in (1, 14, 3, 5)]
    assert list(by_horizon(made)) == [14, 5, 1, 3]
    assert brier_of(made) == pytest.approx(0.25)


def test_the_interval_resamples_whole_windows() -> None:
    # two windows: one scored 0 at every horizon, one 1 — a window's forecasts move together
    made = [Forecast("a", m, 1.0, 1) for m in (14, 5)] + [Forecast("b", m, 1.0, 0) for m in (14, 5)]
    interval = by_window(made, lambda f: f.window, brier_of, draws=500, seed=3)
    assert interval.estimate == pytest.approx(0.5) and interval.windows == 2
    assert (interval.low, interval.high) == (0.0, 1.0)  # only all-a, mixed and all-b draws
    again = by_window(made, lambda f: f.window, brier_of, draws=500, seed=3)
    assert again == interval  # seeded


def test_no_windows_no_interval() -> None:
    assert by_window([], lambda f: "", brier_of) is NO_DATA


def test_cost_floor_is_half_the_spread_plus_the_fee() -> None:
    # 2¢ spread at 50¢: 1¢ + 0.07 × 0.51 × 0.49 = 1.74930¢
    assert cost_floor(D("0.49"), D("0.51")) == D("0.01") + D("0.07") * D("0.51") * D("0.49")


@pytest.mark.parametrize(
    ("interval", "start"),
    [
        (Interval(0.4, -0.2, 1.0, 30), "realized edge not distinguishable from zero"),
        (Interval(1.5, 0.3, 2.7, 30), "realized edge positive"),
        (Interval(-2.0, -3.1, -0.9, 30), "realized edge negative"),
        (NO_DATA, "realized edge: no settled trades to judge"),
    ],
)
def test_the_verdict_says_whether_zero_is_inside(interval: Interval, start: str) -> None:
    line = verdict(interval)
    assert line.startswith(start)
    if interval.windows:
        assert "95% interval" in line and f"{interval.windows} windows" in line
