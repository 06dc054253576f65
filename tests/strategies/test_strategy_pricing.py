"""The averaged digital against a Monte Carlo of Kalshi's actual settlement rule.

The Monte Carlo simulates one-second GBM prints, averages the 60 in the final
minute (known prints included), and compares with the strike: exactly what
settles the contract. Common random numbers per horizon keep it fast; 200,000
paths give a standard error ≤ 0.0011, so a 0.005 tolerance is > 4 SE.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from strategies.pricing import (
    SECONDS_PER_YEAR,
    average_horizon,
    digital_probability,
    naive_probability,
    normal_cdf,
    window_horizon,
)

SIGMA = 0.5  # annualized; SOL's 15-minute moves (median |Δ| 0.14 %) imply ~0.4
SPOT = 75.0
PATHS = 200_000
TOL = 0.005
WINDOW = 60


def _known_path(count: int, end: float, seed: int) -> list[float]:
    """A plausible path of ``count`` past 1-s prints ending at ``end`` (oldest first)."""
    if count == 0:
        return []
    rng = np.random.default_rng(seed)
    s = SIGMA / math.sqrt(SECONDS_PER_YEAR)
    steps = rng.standard_normal(count - 1) * s
    logs = np.concatenate([[0.0], np.cumsum(steps[::-1])])[::-1]  # 0 at the last print
    return list(end * np.exp(logs))


def _simulate_average(
    seconds_left: float, known: list[float], sigma: float, seed: int
) -> np.ndarray:
    """Settlement averages of PATHS simulated futures: prints at close−59 … close."""
    remaining = WINDOW - len(known)
    offsets = seconds_left - np.arange(remaining - 1, -1, -1, dtype=float)  # from now, ascending
    assert offsets[0] > 0
    dts = np.diff(np.concatenate([[0.0], offsets]))
    s2 = sigma * sigma / SECONDS_PER_YEAR
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((PATHS, remaining))
    logs = np.cumsum(z * np.sqrt(s2 * dts) - 0.5 * s2 * dts, axis=1)
    future_sum: np.ndarray = SPOT * np.exp(logs).sum(axis=1)
    return (sum(known) + future_sum) / WINDOW


# seconds left, number of known prints in the window (spot = the latest)
HORIZONS = [(840.0, 0), (300.0, 0), (120.0, 0), (61.0, 0), (30.0, 30), (1.0, 59)]


@pytest.fixture(scope="module")
def simulations() -> dict[float, tuple[list[float], np.ndarray]]:
    out = {}
    for i, (left, n_known) in enumerate(HORIZONS):
        known = _known_path(n_known, SPOT * 1.0003, seed=100 + i)
        if known:
            known[-1] = SPOT
        out[left] = (known, _simulate_average(left, known, SIGMA, seed=i))
    return out


def _strikes(left: float, known: list[float]) -> list[float]:
    """Spot ±0.05 % and ±0.2 %, plus strikes at −1.5 … +1.5 model sd of the average."""
    fixed = [SPOT * (1 + d) for d in (-0.002, -0.0005, 0.0005, 0.002)]
    n_known = len(known)
    mean = (sum(known) + (WINDOW - n_known) * SPOT) / WINDOW
    remaining = WINDOW - n_known
    first = left - (remaining - 1)
    horizon = average_horizon(first, remaining)
    sd = mean * SIGMA * math.sqrt(horizon / SECONDS_PER_YEAR) * remaining / WINDOW
    return fixed + [mean + k * sd for k in (-1.5, -0.5, 0.0, 0.5, 1.5)]


@pytest.mark.parametrize(("left", "n_known"), HORIZONS)
def test_matches_monte_carlo_of_the_settlement_rule(
    simulations: dict[float, tuple[list[float], np.ndarray]], left: float, n_known: int
) -> None:
    known, averages = simulations[left]
    assert len(known) == n_known
    worst = 0.0
    for strike in _strikes(left, known):
        mc = float(np.mean(averages >= strike))
        model = digital_probability(SPOT, strike, SIGMA, left, known).prob
        worst = max(worst, abs(model - mc))
        assert model == pytest.approx(mc, abs=TOL), (left, strike, model, mc)
    assert worst < TOL


def test_matches_monte_carlo_at_a_fractional_second_and_high_vol() -> None:
    """Half a second past a print, with σ = 150 %: the first remaining print is 0.5 s away."""
    left, sigma = 30.5, 1.5
    known = _known_path(30, SPOT, seed=9)
    averages = _simulate_average(left, known, sigma, seed=77)
    for strike in (SPOT * 0.9997, SPOT * 0.99995, SPOT, SPOT * 1.0001, SPOT * 1.0004):
        mc = float(np.mean(averages >= strike))
        model = digital_probability(SPOT, strike, sigma, left, known).prob
        assert model == pytest.approx(mc, abs=TOL), (strike, model, mc)


def test_naive_model_misses_where_the_averaged_one_does_not(
    simulations: dict[float, tuple[list[float], np.ndarray]],
) -> None:
    """Two minutes out, 0.05 % out of the money: the spot-at-close model is visibly off."""
    _, averages = simulations[120.0]
    strike = SPOT * 1.0005
    mc = float(np.mean(averages >= strike))
    averaged = digital_probability(SPOT, strike, SIGMA, 120.0).prob
    naive = naive_probability(SPOT, strike, SIGMA, 120.0)
    assert abs(averaged - mc) < TOL
    assert abs(naive - mc) > 2 * TOL
    assert naive > averaged  # more variance puts more mass beyond an OTM strike


@pytest.mark.parametrize("left", [840.0, 300.0, 120.0, 61.0])
@pytest.mark.parametrize("offset", [-0.002, -0.0005, 0.0005, 0.002])
def test_averaging_pulls_probabilities_toward_certainty(left: float, offset: float) -> None:
    """Lower variance: OTM strikes are less likely, ITM ones more likely, than at-close pricing."""
    strike = SPOT * (1 + offset)
    averaged = digital_probability(SPOT, strike, SIGMA, left).prob
    naive = naive_probability(SPOT, strike, SIGMA, left)
    if offset > 0:
        assert averaged < naive
    else:
        assert averaged > naive


def test_effective_seconds() -> None:
    w = window_horizon(60.0, 60)
    assert w == pytest.approx(60 * 61 * 121 / (6 * 3600))  # 20.5083…
    assert window_horizon(60.0, 1_000_000) == pytest.approx(20.0, abs=1e-4)  # window / 3
    assert digital_probability(SPOT, SPOT, SIGMA, 840.0).effective_seconds == pytest.approx(780 + w)
    assert digital_probability(SPOT, SPOT, SIGMA, 60.0).effective_seconds == pytest.approx(w)
    # continuous across the start of the window
    inside = digital_probability(SPOT, SPOT, SIGMA, 59.999, [SPOT]).effective_seconds
    assert inside == pytest.approx(w, abs=1e-2)
    # inside: the remaining prints' own horizon; 30 prints from 1 s away: 31·61/180
    price = digital_probability(SPOT, SPOT, SIGMA, 30.0, [SPOT] * 30)
    assert price.effective_seconds == pytest.approx(31 * 61 / 180)
    assert (price.known_prints, price.remaining_prints) == (30, 30)
    assert digital_probability(SPOT, SPOT, SIGMA, 1.0, [SPOT] * 59).effective_seconds == 1.0


def test_effective_strike_reproduces_the_probability() -> None:
    known = [74.9] * 20 + [75.1] * 20
    price = digital_probability(75.05, 75.0, SIGMA, 20.0, known)
    assert price.effective_strike == pytest.approx((60 * 75.0 - sum(known)) / 20)
    v = SIGMA**2 * price.effective_seconds / SECONDS_PER_YEAR
    z = (math.log(75.05 / price.effective_strike) - v / 2) / math.sqrt(v)
    assert price.prob == pytest.approx(normal_cdf(z))


def test_settled_when_every_print_is_known() -> None:
    prints = [75.0] * 30 + [75.2] * 30  # average 75.1
    assert digital_probability(75.2, 75.1, SIGMA, 0.0, prints).prob == 1.0  # ≥: ties pay YES
    assert digital_probability(75.2, 75.1001, SIGMA, 0.0, prints).prob == 0.0
    assert digital_probability(75.2, 75.0, SIGMA, -5.0, prints).prob == 1.0
    # only the last 60 prints count
    assert digital_probability(75.2, 75.15, SIGMA, 0.0, [1.0] * 10 + prints).prob == 0.0


def test_known_sum_can_already_decide() -> None:
    """The known prints alone exceed 60 × strike: YES is certain whatever comes."""
    known = [80.0] * 59
    assert digital_probability(0.01, 75.0, SIGMA, 1.0, known).prob == 1.0


def test_missing_known_prints_count_at_spot() -> None:
    full = digital_probability(75.0, 75.01, SIGMA, 30.0, [75.0] * 30).prob
    assert digital_probability(75.0, 75.01, SIGMA, 30.0, [75.0] * 10).prob == pytest.approx(full)
    # prints before the window are ignored before the final minute
    assert digital_probability(75.0, 75.01, SIGMA, 90.0, [1.0] * 60).prob == pytest.approx(
        digital_probability(75.0, 75.01, SIGMA, 90.0).prob
    )


def test_degenerate_inputs() -> None:
    # no volatility: the average is the spot
    assert digital_probability(75.0, 75.0, 0.0, 600.0).prob == 1.0
    assert digital_probability(75.0, 75.01, 0.0, 600.0).prob == 0.0
    assert naive_probability(75.0, 74.99, 0.0, 600.0) == 1.0
    # non-positive strike: the average of positive prints always beats it
    assert digital_probability(75.0, 0.0, SIGMA, 600.0).prob == 1.0
    assert digital_probability(75.0, -3.0, SIGMA, 600.0).prob == 1.0
    # at the money far out: a little below 1/2 (lognormal median below the mean)
    assert 0.49 < digital_probability(75.0, 75.0, SIGMA, 900.0).prob < 0.5
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="spot"):
            digital_probability(bad, 75.0, SIGMA, 60.0)
    with pytest.raises(ValueError, match="sigma"):
        digital_probability(75.0, 75.0, -0.1, 60.0)
    with pytest.raises(ValueError, match="strike"):
        digital_probability(75.0, math.nan, 0.5, 60.0)


def test_normal_cdf_tails() -> None:
    assert normal_cdf(0.0) == 0.5
    assert normal_cdf(-40.0) == 0.0
    assert normal_cdf(-10.0) == pytest.approx(7.6198530241605e-24, rel=1e-9)
    assert normal_cdf(1.959963984540054) == pytest.approx(0.975)


def test_fast_enough_for_the_hot_path() -> None:
    import time

    known = [75.0] * 30
    start = time.perf_counter()
    for i in range(10_000):
        digital_probability(75.0 + i * 1e-5, 75.01, SIGMA, 30.0, known)
    per_call = (time.perf_counter() - start) / 10_000
    assert per_call < 50e-6
