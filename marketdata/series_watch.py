"""When a traded series counts as missing: its markets stopped appearing.

One rule for the health monitor's log and report and for ``/api/health``: a series is
missing once its latest known market closed ``grace`` seconds ago and no later one has
been heard of. The grace covers the seconds between a market closing and discovery
hearing of the next (Kalshi opens it as the previous one closes), so a healthy series
never flaps at the quarter hour.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

SERIES_GRACE_SECONDS = 60.0


def overdue_series(
    last_close: Mapping[str, float], now: float, grace: float = SERIES_GRACE_SECONDS
) -> list[str]:
    """The series (sorted) whose latest known market closed at least ``grace`` s before ``now``."""
    return sorted(name for name, close in last_close.items() if now >= close + grace)


def missing_text(name: str, last_close: float | None) -> str:
    """The line naming a missing series, for the health reasons and the log."""
    if not last_close:
        return f"series {name}: no market has appeared"
    since = time.strftime("%H:%M:%S", time.gmtime(last_close))
    return f"series {name}: no open market since {since} UTC (its markets stopped appearing)"


def series_problems(
    health: Mapping[str, Mapping[str, object]], now: float, grace: float = SERIES_GRACE_SECONDS
) -> list[str]:
    """``/api/health`` reasons from the hub's per-series view (``last_close`` per series)."""
    closes = {name: _seconds(info.get("last_close")) for name, info in health.items()}
    return [missing_text(name, closes[name]) for name in overdue_series(closes, now, grace)]


def _seconds(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
