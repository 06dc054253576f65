"""The deflated Sharpe ratio against the paper's worked example and independent sums."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import kurtosis as scipy_kurtosis
from scipy.stats import norm
from scipy.stats import skew as scipy_skew

from research.stats import (
    DailyMoments,
    deflated_sharpe,
    expected_max_sharpe,
    per_period,
    pool_moments,
    probabilistic_sharpe,
)

# Bailey & López de Prado (2014), numerical example: 100 trials, annualized Sharpe
# variance ½ over 250-day years, five years of daily returns, skew −3, kurtosis 10.
PAPER_VARIANCE = 0.5 / 250
PAPER_SHARPE = 2.5 / math.sqrt(250)


def test_expected_maximum_matches_the_papers_example() -> None:
    assert expected_max_sharpe(100, PAPER_VARIANCE) == pytest.approx(0.1132, abs=5e-5)


def test_deflated_sharpe_matches_the_papers_example() -> None:
    result = deflated_sharpe(PAPER_SHARPE, 1250, -3.0, 10.0, 100, PAPER_VARIANCE)
    assert result.dsr == pytest.approx(0.9004, abs=5e-4)
    assert not result.moments_assumed


def test_psr_matches_a_value_computed_here_by_hand() -> None:
    sr, t, g3, g4, bench = 0.08, 400, 0.5, 6.0, 0.02
    z = (sr - bench) * math.sqrt(t - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    assert probabilistic_sharpe(sr, bench, t, g3, g4) == pytest.approx(norm.cdf(z), rel=1e-12)


def test_more_trials_lower_the_dsr() -> None:
    maybe = [deflated_sharpe(0.1, 60, 0.0, 3.0, n, 0.002).dsr for n in (1, 2, 10, 100, 1000)]
    values = [v for v in maybe if v is not None]
    assert len(values) == len(maybe)
    assert values == sorted(values, reverse=True)
    assert values[0] > values[-1] + 0.3


def test_one_trial_is_no_selection_so_dsr_is_the_psr_against_zero() -> None:
    result = deflated_sharpe(0.1, 60, 0.0, 3.0, 1, 0.0)
    assert result.benchmark == 0.0
    assert result.dsr == result.psr


def test_negative_skew_and_fat_tails_lower_the_psr() -> None:
    normal = probabilistic_sharpe(0.15, 0.0, 100, 0.0, 3.0)
    rough = probabilistic_sharpe(0.15, 0.0, 100, -2.0, 12.0)
    assert normal is not None and rough is not None
    assert rough < normal


def test_missing_moments_are_taken_as_normal_and_flagged() -> None:
    result = deflated_sharpe(0.1, 3, None, float("nan"), 4, 0.01)
    assert result.moments_assumed
    assert (result.skew, result.kurtosis) == (0.0, 3.0)


def test_too_few_returns_give_no_probability() -> None:
    assert probabilistic_sharpe(0.1, 0.0, 1, 0.0, 3.0) is None


def test_annualized_daily_sharpe_converts_back_by_root_365() -> None:
    assert per_period(math.sqrt(365) * 0.2) == pytest.approx(0.2)


def _moments(values: np.ndarray) -> DailyMoments:
    return DailyMoments(
        days=len(values),
        mean=float(values.mean()),
        sd=float(values.std(ddof=1)),
        skew=float(scipy_skew(values)),
        kurtosis=float(scipy_kurtosis(values, fisher=False)),
    )


def test_pooled_moments_equal_those_of_the_concatenated_series() -> None:
    rng = np.random.default_rng(3)
    parts = [rng.standard_t(4, size=n) * s + m for n, s, m in ((7, 2.0, 1.0), (9, 0.5, -2.0))]
    pooled = pool_moments([_moments(p) for p in parts])
    whole = _moments(np.concatenate(parts))
    assert pooled is not None
    for name in ("days", "mean", "sd", "skew", "kurtosis"):
        assert getattr(pooled, name) == pytest.approx(getattr(whole, name), rel=1e-9)
