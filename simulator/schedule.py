"""Piecewise-linear schedules by seconds left: how the simulated market changes toward close."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal


def interpolate(schedule: Sequence[tuple[int, Decimal | float]], x: float) -> float:
    """Piecewise-linear value of a ``(seconds_left, value)`` schedule sorted by time, descending."""
    points = [(float(t), float(v)) for t, v in schedule]
    if x >= points[0][0]:
        return points[0][1]
    for (t_hi, v_hi), (t_lo, v_lo) in itertools.pairwise(points):
        if t_lo <= x <= t_hi:
            if t_hi == t_lo:
                return v_lo
            return v_lo + (v_hi - v_lo) * (x - t_lo) / (t_hi - t_lo)
    return points[-1][1]
