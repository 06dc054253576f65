"""The exchange simulator's makers against Kalshi's real KXSOL15M mid (KALSHI.md).

The desk's quotes are read at 14, 10, 5, 2 and 1 minutes before close over thousands
of seeded 15-minute windows (``simulator.desk_check``). A few hundred windows are not
enough at 1 and 2 minutes: there the Brier score hangs on the handful of windows whose
index is near the strike, and its sampling error at 400 windows is about ±30%
(docs/market-model.md). So the check runs 6,000 windows, about a second per thousand.
"""

from __future__ import annotations

import statistics

import pytest

from scoring.forecasts import REAL_SOL_MID_BRIER, SHARPNESS_TOLERANCE
from simulator.config import SOFT_CALIBRATION, ExchangeConfig
from simulator.desk_check import HORIZON_MINUTES, DeskMids, desk_mids

WINDOWS = 6_000
TOLERANCE = SHARPNESS_TOLERANCE  # the bar: within ±7% of the real Brier score


@pytest.fixture(scope="module")
def sharp() -> DeskMids:
    return desk_mids(ExchangeConfig(seed=1), WINDOWS)


def test_the_simulated_mid_is_as_sharp_as_kalshis(sharp: DeskMids) -> None:
    assert len(sharp.outcomes) == WINDOWS
    for minutes in HORIZON_MINUTES:
        ratio = sharp.brier(minutes) / REAL_SOL_MID_BRIER[minutes]
        assert abs(ratio - 1) <= TOLERANCE, (minutes, sharp.brier(minutes))


def test_the_spread_follows_the_real_schedule(sharp: DeskMids) -> None:
    # KALSHI.md medians: 2¢ with 14 minutes left, 1¢ at 5, 0.5¢ in the last minute.
    assert statistics.median(sharp.spreads[14]) == pytest.approx(0.02)
    assert statistics.median(sharp.spreads[5]) == pytest.approx(0.01)
    assert 0.004 <= statistics.median(sharp.spreads[1]) <= 0.006


def test_the_soft_preset_is_the_old_softer_market() -> None:
    soft = desk_mids(ExchangeConfig(seed=1, calibration=SOFT_CALIBRATION), 1_000)
    sharp = desk_mids(ExchangeConfig(seed=1), 1_000)  # the same index paths
    for minutes in HORIZON_MINUTES:
        assert soft.brier(minutes) > sharp.brier(minutes)
