"""How an estimate and its interval are written, the same in every report and summary."""

from __future__ import annotations

import math
from decimal import Decimal

from scoring.intervals import Interval


def plural(count: int, word: str) -> str:
    """``1 window``, ``3 windows``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def dollars(value: float | Decimal, digits: int = 2) -> str:
    """``$4.26``, ``-$3.15``."""
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):.{digits}f}"


def interval_text(
    interval: Interval, digits: int = 4, *, money: bool = False, signed: bool = False
) -> str:
    """``0.2360 [0.2224, 0.2497]``, ``+1.20 [-0.40, +2.80]``, ``$4.26 [-$3.15, $11.66]``;
    ``–`` for a figure that could not be computed."""

    def one(value: float) -> str:
        if math.isnan(value):
            return "–"
        if money:
            return dollars(value, digits)
        return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"

    if math.isnan(interval.estimate):
        return "–"
    return f"{one(interval.estimate)} [{one(interval.low)}, {one(interval.high)}]"
