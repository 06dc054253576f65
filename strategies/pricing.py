"""Fair probability that a KXSOL15M market settles YES, following Kalshi's settlement rule.

The contract pays YES iff the simple average of the ``n`` (60) one-second prints
of the index in the final ``window`` (60 s) before close is at least
``floor_strike``. Pricing the spot at close instead (the naive model) overstates
the variance: an average of prints moves less than its last print.

Model: the index is a driftless GBM, ``dS = σ S dW`` (σ annualized over a
365-day year). For prints at offsets ``d_j = d_1 + (j−1)Δ`` seconds from now
(``j = 1..m``), the log-variance of their average equals that of the spot at the
*variance-equivalent horizon*

    T(d_1, m) = (1/m²) Σ_ij min(d_i, d_j) = (d_1 − Δ) + Δ (m+1)(2m+1) / (6m)

(exactly for the geometric average; for the arithmetic average the moments
agree to O(σ²T) ≈ 1e-5 relative at these vols). Before the final minute
``m = n`` and ``d_1 = τ + Δ`` with τ the time to the start of the window, so
``T = τ + window·(n+1)(2n+1)/(6n²)`` (20.5 s for 60 prints; window/3 as n → ∞).
The average is then approximated by a lognormal with mean ``S`` (a martingale)
and log-variance ``v = σ²T``:

    P(YES) = Φ((ln(S/K) − v/2) / √v)

Inside the final minute ``k`` prints are already known (sum ``Σ_known``) and
only the ``m = n − k`` remaining ones are random: YES iff their average is at
least ``K' = (n·K − Σ_known) / m``, priced as above with their own horizon.
``K' ≤ 0`` means YES is already certain; no remaining prints means the result
is known (0 or 1). Checked against a Monte Carlo of the settlement rule in
``tests/strategies/test_pricing.py``.

Floats throughout: this is the hot path (a few µs, ``math.erfc`` rather than
scipy) and nothing here is booked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

SECONDS_PER_YEAR = 365.0 * 86_400.0
SETTLEMENT_WINDOW_SECONDS = 60.0
_SQRT2 = math.sqrt(2.0)
_EPS = 1e-9


def normal_cdf(x: float) -> float:
    """Φ(x) via ``erfc`` (accurate in both tails, unlike ``1 + erf``)."""
    return 0.5 * math.erfc(-x / _SQRT2)


def average_horizon(first_offset: float, count: int, spacing: float = 1.0) -> float:
    """Variance-equivalent horizon (s) of the average of ``count`` prints.

    The prints are at ``first_offset + j·spacing`` seconds from now,
    ``j = 0..count−1``: ``(first_offset − spacing) + spacing·(m+1)(2m+1)/(6m)``.
    """
    if count <= 0:
        return 0.0
    return (first_offset - spacing) + spacing * (count + 1) * (2 * count + 1) / (6.0 * count)


def window_horizon(window: float = SETTLEMENT_WINDOW_SECONDS, prints: int = 60) -> float:
    """The averaging window's own contribution: ``window·(n+1)(2n+1)/(6n²)`` (≈ window/3)."""
    return window * (prints + 1) * (2 * prints + 1) / (6.0 * prints * prints)


class DigitalPrice(NamedTuple):
    """The model's answer, with what is needed to reproduce it.

    ``prob = Φ((ln(spot/effective_strike) − v/2)/√v)``, ``v = σ²·effective_seconds/year``.
    ``effective_seconds`` is the variance-equivalent horizon of the prints still
    to come (all ``n`` before the final minute); ``effective_strike`` the level
    their average must reach (the floor strike before the final minute).
    """

    prob: float
    effective_seconds: float
    effective_strike: float
    known_prints: int
    remaining_prints: int


def _check(spot: float, strike: float, sigma: float, seconds_left: float) -> None:
    if not (math.isfinite(spot) and spot > 0.0):
        raise ValueError(f"spot must be a positive finite number, got {spot!r}")
    if not math.isfinite(strike):
        raise ValueError(f"strike must be finite, got {strike!r}")
    if not (math.isfinite(sigma) and sigma >= 0.0):
        raise ValueError(f"sigma must be a non-negative finite number, got {sigma!r}")
    if math.isnan(seconds_left):
        raise ValueError("seconds_left is NaN")


def lognormal_digital(spot: float, threshold: float, sigma: float, horizon: float) -> float:
    """P(X ≥ threshold) for X lognormal with mean ``spot`` and log-variance σ²·horizon/year."""
    if threshold <= 0.0:
        return 1.0
    variance = sigma * sigma * max(horizon, 0.0) / SECONDS_PER_YEAR
    if variance <= 0.0:
        return 1.0 if spot >= threshold else 0.0
    sd = math.sqrt(variance)
    return normal_cdf((math.log(spot / threshold) - 0.5 * variance) / sd)


def digital_probability(
    spot: float,
    strike: float,
    sigma: float,
    seconds_left: float,
    known_prints: Sequence[float] = (),
    *,
    window: float = SETTLEMENT_WINDOW_SECONDS,
    prints: int | None = None,
) -> DigitalPrice:
    """P(the settlement average of the final ``window`` seconds ≥ ``strike``).

    ``spot`` is the latest index print, ``sigma`` the annualized volatility,
    ``seconds_left`` the time to close. ``known_prints`` are the window's prints
    already published (oldest first; only used inside the final minute, the
    last ``n − m`` are kept). Prints the caller missed are taken at ``spot``.
    ``prints`` defaults to one a second.
    """
    # One chained test on the hot path (NaN fails every comparison); _check names what is bad.
    finite = -math.inf < strike < math.inf and not math.isnan(seconds_left)
    if not (finite and 0.0 < spot < math.inf and 0.0 <= sigma < math.inf):
        _check(spot, strike, sigma, seconds_left)
    n = prints if prints is not None else round(window)
    if n <= 0 or window <= 0.0:
        raise ValueError("window and prints must be positive")
    spacing = window / n

    if seconds_left >= window:  # before the final minute: all n prints to come
        first = seconds_left - window + spacing  # average_horizon(first, n, spacing), inlined
        horizon = (first - spacing) + spacing * (n + 1) * (2 * n + 1) / (6.0 * n)
        prob = lognormal_digital(spot, strike, sigma, horizon)
        return DigitalPrice(prob, horizon, strike, 0, n)

    remaining = 0 if seconds_left <= 0.0 else min(n, math.ceil(seconds_left / spacing - _EPS))
    first = seconds_left - (remaining - 1) * spacing
    known_count = n - remaining
    used = known_prints[len(known_prints) - known_count :] if known_count else ()
    known_sum = math.fsum(used) + (known_count - len(used)) * spot
    if remaining == 0:
        settled = known_sum >= n * strike
        return DigitalPrice(1.0 if settled else 0.0, 0.0, strike, known_count, 0)
    threshold = (n * strike - known_sum) / remaining
    horizon = average_horizon(first, remaining, spacing)
    prob = lognormal_digital(spot, threshold, sigma, horizon)
    return DigitalPrice(prob, horizon, threshold, known_count, remaining)


def naive_probability(spot: float, strike: float, sigma: float, seconds_left: float) -> float:
    """Baseline: P(spot at close ≥ strike) under the same GBM, ignoring the averaging."""
    _check(spot, strike, sigma, seconds_left)
    return lognormal_digital(spot, strike, sigma, seconds_left)
