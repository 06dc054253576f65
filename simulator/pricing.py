"""Fair value of a KXSOL15M market: P(settlement average >= strike).

The settlement value is the average of the 60 prints in the final minute, so
its variance is smaller than the spot's at close, and inside the final minute
part of the average is already known. A normal approximation of that average
(the index as an arithmetic Brownian motion from the last known print) is
accurate enough for simulated market makers; floats are fine here because
nothing is booked from it.
"""

from __future__ import annotations

import math

from simulator.config import SETTLEMENT_WINDOW_SECONDS


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def unknown_sum_variance_units(first_offset: int, count: int) -> float:
    """Σᵢⱼ min(dᵢ, dⱼ) for offsets dₖ = first_offset + k − 1 (k = 1..count).

    The variance of a sum of Brownian values at those offsets, per unit of
    per-second variance.
    """
    total = 0
    for k in range(1, count + 1):
        total += (first_offset + k - 1) * (2 * (count - k) + 1)
    return float(total)


def settlement_probability(
    *,
    spot: float,
    strike: float,
    now: int,
    close: int,
    known_window_prints: list[float],
    sigma_per_second: float,
) -> float:
    """P(average of prints in ``(close-60, close]`` >= strike) seen from time ``now``.

    ``known_window_prints`` are the prints of that window at or before ``now``;
    ``spot`` is the print at ``now``.
    """
    window = SETTLEMENT_WINDOW_SECONDS
    known = known_window_prints[-window:]
    unknown = window - len(known)
    mean = (sum(known) + unknown * spot) / window
    if unknown <= 0:
        return 1.0 if mean >= strike else 0.0
    first_unknown_ts = max(now + 1, close - window + 1)
    variance_units = unknown_sum_variance_units(first_unknown_ts - now, unknown)
    sd = spot * sigma_per_second * math.sqrt(variance_units) / window
    if sd <= 0.0:
        return 1.0 if mean >= strike else 0.0
    return _normal_cdf((mean - strike) / sd)


def shade_longshot(probability: float, shading: float) -> float:
    """``probability`` shaded toward 1/2 in log-odds: logit(out) = shading × logit(in).

    Below 1 this is a favourite–longshot bias: favourites quoted a little cheap,
    longshots a little dear. 0 and 1 stay where they are.
    """
    if shading == 1.0 or probability <= 0.0 or probability >= 1.0:
        return probability
    odds: float = (probability / (1.0 - probability)) ** shading
    return odds / (1.0 + odds)
