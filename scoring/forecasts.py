"""Scores of probability forecasts against outcomes.

A forecast here is "the market settles YES" with probability p, taken at a fixed number
of minutes before a window closes. The Brier score ``mean((p − y)²)`` is what
``../shared/KALSHI.md`` reports for the real Kalshi mid, so every comparison in sol15
(the backtest's calibration, the simulated makers, the live scoreboard) uses it.
Log-loss clips p to ``[1e-6, 1 − 1e-6]``: one confident miss is costly but finite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

HORIZONS = (14, 10, 5, 2, 1)  # minutes before close, as KALSHI.md measures the market
LOG_LOSS_EPS = 1e-6
# KALSHI.md: Brier of the real KXSOL15M mid against the outcome, 945 windows, May–Aug 2026.
REAL_SOL_MID_BRIER = {14: 0.229, 10: 0.183, 5: 0.106, 2: 0.046, 1: 0.022}
# A simulated mid within this fraction of those figures counts as as sharp as the real one.
SHARPNESS_TOLERANCE = 0.07


@dataclass(frozen=True, slots=True)
class Forecast:
    """One probability of YES for one window, ``minutes`` before its close."""

    window: str  # the market's ticker: resampling keeps a window's forecasts together
    minutes: int
    prob: float
    outcome: int  # 1 = settled YES


def brier(probs: Sequence[float], outcomes: Sequence[int]) -> float:
    """Mean squared error of the probabilities; NaN without forecasts."""
    if not probs:
        return math.nan
    return math.fsum((p - y) ** 2 for p, y in zip(probs, outcomes, strict=True)) / len(probs)


def log_loss(probs: Sequence[float], outcomes: Sequence[int], eps: float = LOG_LOSS_EPS) -> float:
    if not probs:
        return math.nan
    total = 0.0
    for p, y in zip(probs, outcomes, strict=True):
        q = min(max(p, eps), 1.0 - eps)
        total -= math.log(q) if y else math.log(1.0 - q)
    return total / len(probs)


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    lo: float
    hi: float
    count: int
    mean_prob: float
    frequency: float


def reliability(
    probs: Sequence[float], outcomes: Sequence[int], bins: int = 10
) -> list[ReliabilityBin]:
    """Equal-width bins of forecast probability: mean forecast vs observed YES frequency."""
    sums = [0.0] * bins
    hits = [0] * bins
    counts = [0] * bins
    for p, y in zip(probs, outcomes, strict=True):
        i = min(int(p * bins), bins - 1)
        sums[i] += p
        hits[i] += y
        counts[i] += 1
    return [
        ReliabilityBin(
            i / bins,
            (i + 1) / bins,
            counts[i],
            sums[i] / counts[i] if counts[i] else math.nan,
            hits[i] / counts[i] if counts[i] else math.nan,
        )
        for i in range(bins)
    ]


def brier_of(forecasts: Sequence[Forecast]) -> float:
    return brier([f.prob for f in forecasts], [f.outcome for f in forecasts])


def by_horizon(forecasts: Sequence[Forecast]) -> dict[int, list[Forecast]]:
    """The forecasts of each horizon, horizons in ``HORIZONS`` order first."""
    groups: dict[int, list[Forecast]] = {}
    for forecast in forecasts:
        groups.setdefault(forecast.minutes, []).append(forecast)
    order = [m for m in HORIZONS if m in groups] + sorted(m for m in groups if m not in HORIZONS)
    return {minutes: groups[minutes] for minutes in order}
