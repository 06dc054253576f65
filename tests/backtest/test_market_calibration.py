"""The backtest's simulated makers against Kalshi's real KXSOL15M market (KALSHI.md).

Quoted on the real SOL history of ``../shared/data`` (skipped where that folder is
absent): the mid's Brier score by minutes left, the spread, the size at the best price
and the favourite–longshot bias, each beside the real figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backtest.history_feed import HistoryData, prepare_history
from backtest.market import MarketModel, MarketParams
from backtest.market_check import (
    REAL_BEST_SIZE,
    REAL_BOOK,
    REAL_SPREAD,
    MarketCheck,
    check_market,
)
from scoring.forecasts import HORIZONS, REAL_SOL_MID_BRIER, SHARPNESS_TOLERANCE

SOL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sol"
TOLERANCE = SHARPNESS_TOLERANCE  # the bar: within ±7% of the real Brier score
TICK = 0.01


@pytest.fixture(scope="module")
def history() -> HistoryData:
    paths = sorted(SOL_DATA.rglob("*.csv"))
    if not paths:
        pytest.skip(f"no SOL history at {SOL_DATA}")
    return prepare_history(paths, seed=7, start=None, end=None, warmup=3600, lead=120)


def _check(history: HistoryData, **params: object) -> MarketCheck:
    model = MarketModel(MarketParams.model_validate(params), seed=7)
    return check_market(model, history.windows, history.price)


@pytest.fixture(scope="module")
def sharp(history: HistoryData) -> MarketCheck:
    return _check(history)


def test_the_mid_is_as_sharp_as_kalshis_at_every_horizon(sharp: MarketCheck) -> None:
    assert sharp.windows >= 400
    for minutes in HORIZONS:
        real = REAL_SOL_MID_BRIER[minutes]
        assert abs(sharp.brier[minutes] / real - 1) <= TOLERANCE, (minutes, sharp.brier)


def test_spread_and_size_at_the_best_are_the_real_ones(sharp: MarketCheck) -> None:
    for minutes, real in REAL_SPREAD.items():
        # within one tick: 1¢ in the middle band, 0.1¢ near 0 and 1
        assert abs(sharp.spread[minutes] - real) <= (TICK if real >= TICK else TICK / 10 + 1e-9)
    low, high = REAL_BEST_SIZE
    assert low <= sharp.best_size <= high


def test_favourites_win_more_often_than_their_price(sharp: MarketCheck) -> None:
    """The favourite–longshot bias: 85–95¢ favourites won 94.0% of real windows."""
    count, mid, won = sharp.bias[(0.85, 0.95)]
    assert count > 500
    assert 0.02 <= won - mid <= 0.06
    count, mid, won = sharp.bias[(0.05, 0.15)]
    assert count > 500
    assert won < mid  # longshots win less often than their price


def test_the_soft_preset_is_softer_at_every_horizon(
    history: HistoryData, sharp: MarketCheck
) -> None:
    soft = _check(history, preset="soft")
    for minutes in HORIZONS:
        assert soft.brier[minutes] > sharp.brier[minutes]
    assert soft.brier[1] > REAL_SOL_MID_BRIER[1] * (1 + TOLERANCE)  # the old makers' flaw


# --- BTC and ETH: each coin's makers on its own history (KALSHI.md's per-series table) ------

COIN_DATA = SOL_DATA.parent


@pytest.fixture(scope="module", params=["KXBTC15M", "KXETH15M"])
def coin(request: pytest.FixtureRequest) -> MarketCheck:
    series: str = request.param
    folder = COIN_DATA / series.removeprefix("KX").removesuffix("15M").lower()
    paths = sorted(folder.rglob("*.csv"))
    if not paths:
        pytest.skip(f"no history at {folder}")
    data = prepare_history(paths, seed=7, start=None, end=None, warmup=3600, lead=120)
    model = MarketModel(MarketParams.model_validate({"series": series}), seed=7)
    return check_market(model, data.windows, data.price)


def test_each_coins_mid_is_as_sharp_as_its_real_market(coin: MarketCheck) -> None:
    assert coin.windows >= 4000
    for minutes, ratio in coin.brier_ratio().items():
        assert abs(ratio - 1) <= TOLERANCE, (coin.series, minutes, coin.brier)


def test_each_coins_spread_and_depth_are_its_own(coin: MarketCheck) -> None:
    spreads, (low, high) = REAL_BOOK[coin.series]
    for minutes, real in spreads.items():
        assert abs(coin.spread[minutes] - real) <= (TICK if real >= TICK else TICK / 10 + 1e-9)
    assert low <= coin.best_size <= high
