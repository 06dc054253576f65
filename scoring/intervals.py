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

T = TypeVar("T")
DRAWS = 2000
LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with its two-sided interval; ``windows`` is the number resampled."""

    estimate: float
    low: float
    high: float
    windows: int

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

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


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    position = q * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    fraction = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * fraction
