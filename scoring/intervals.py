"""95% intervals by resampling whole windows (a cluster bootstrap).

The forecasts and trades of one 15-minute window are not independent — five horizons
of the same market share one outcome, several fills share one settlement — so the
resampling unit is the window: draw windows with replacement, recompute the statistic,
take the percentiles. Seeded, so a report is reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

T = TypeVar("T")
DRAWS = 2000
LEVEL = 0.95
# Fewer windows and a percentile bootstrap's interval is too narrow to trust (one window:
# no width at all); a verdict then says there are too few to judge.
MIN_WINDOWS = 10
_CELLS = 2_000_000  # windows × draws resampled at once: about 16 MB of indices


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with its two-sided interval; ``windows`` is the number resampled."""

    estimate: float
    low: float
    high: float
    windows: int

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    @property
    def too_few(self) -> bool:
        """Fewer than ``MIN_WINDOWS`` windows were resampled."""
        return self.windows < MIN_WINDOWS

    def as_dict(self, digits: int = 4) -> dict[str, float | int | None]:
        def shown(value: float) -> float | None:
            return None if math.isnan(value) else round(value, digits)

        return {
            "estimate": shown(self.estimate),
            "low": shown(self.low),
            "high": shown(self.high),
            "windows": self.windows,
        }


NO_DATA = Interval(math.nan, math.nan, math.nan, 0)


def by_window(
    items: Sequence[T],
    window_of: Callable[[T], str],
    statistic: Callable[[Sequence[T]], float],
    *,
    draws: int = DRAWS,
    level: float = LEVEL,
    seed: int = 0,
) -> Interval:
    """``statistic`` of ``items`` with a percentile interval over windows drawn with
    replacement. Draws whose statistic is NaN (e.g. an empty resample) are skipped."""
    clusters: dict[str, list[T]] = {}
    for item in items:
        clusters.setdefault(window_of(item), []).append(item)
    if not clusters:
        return NO_DATA
    groups = list(clusters.values())
    estimate = statistic(items)
    rng = random.Random(seed)
    values: list[float] = []
    for _ in range(draws):
        sample: list[T] = []
        for group in rng.choices(groups, k=len(groups)):
            sample.extend(group)
        value = statistic(sample)
        if not math.isnan(value):
            values.append(value)
    if not values:
        return Interval(estimate, math.nan, math.nan, len(groups))
    values.sort()
    tail = (1.0 - level) / 2.0
    return Interval(
        estimate, _percentile(values, tail), _percentile(values, 1.0 - tail), len(groups)
    )


def mean_by_window(
    items: Sequence[T],
    window_of: Callable[[T], str],
    value_of: Callable[[T], float],
    weight_of: Callable[[T], float] | None = None,
    *,
    draws: int = DRAWS,
    level: float = LEVEL,
    seed: int = 0,
) -> Interval:
    """``Σ value / Σ weight`` (weight 1 each without ``weight_of``) with :func:`by_window`'s
    interval: a Brier score, an edge per contract, a cost floor per contract.

    The same resampling of whole windows, computed from each window's two totals with
    numpy: a report needs a few dozen of these over thousands of windows, which the
    general :func:`by_window` takes about a second each to draw. Draws whose weights sum
    to zero are skipped."""
    return _totals_bootstrap(
        items, window_of, value_of, weight_of or _one, draws=draws, level=level, seed=seed
    )


def sum_by_window(
    items: Sequence[T],
    window_of: Callable[[T], str],
    value_of: Callable[[T], float],
    *,
    draws: int = DRAWS,
    level: float = LEVEL,
    seed: int = 0,
) -> Interval:
    """``Σ value`` (a total P&L) with :func:`by_window`'s interval; a window with nothing
    in it still counts when given as an item of value 0."""
    return _totals_bootstrap(items, window_of, value_of, None, draws=draws, level=level, seed=seed)


def _one(_: object) -> float:
    return 1.0


def _totals_bootstrap(
    items: Sequence[T],
    window_of: Callable[[T], str],
    value_of: Callable[[T], float],
    weight_of: Callable[[T], float] | None,
    *,
    draws: int,
    level: float,
    seed: int,
) -> Interval:
    totals: dict[str, list[float]] = {}
    for item in items:
        pair = totals.setdefault(window_of(item), [0.0, 0.0])
        pair[0] += value_of(item)
        if weight_of is not None:
            pair[1] += weight_of(item)
    if not totals:
        return NO_DATA
    values = np.array([pair[0] for pair in totals.values()])
    weights = np.array([pair[1] for pair in totals.values()])
    total_weight = math.fsum(weights)
    estimate = math.fsum(values)
    if weight_of is not None:
        estimate = estimate / total_weight if total_weight else math.nan
    n = len(values)
    rng = np.random.default_rng(seed)
    found: list[np.ndarray] = []
    step = max(1, _CELLS // n)
    for start in range(0, draws, step):
        picks = rng.integers(0, n, size=(min(step, draws - start), n))
        sums = values[picks].sum(axis=1)
        if weight_of is not None:
            drawn = weights[picks].sum(axis=1)
            sums = sums[drawn != 0] / drawn[drawn != 0]
        found.append(sums)
    resampled = np.concatenate(found)
    if resampled.size == 0:
        return Interval(estimate, math.nan, math.nan, n)
    tail = (1.0 - level) / 2.0
    low, high = np.percentile(resampled, [100 * tail, 100 * (1.0 - tail)])
    return Interval(estimate, float(low), float(high), n)


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    position = q * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    fraction = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * fraction
