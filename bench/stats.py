"""Small helpers for benchmark figures."""

from __future__ import annotations

import os
import resource
from collections.abc import Sequence
from pathlib import Path


def nearest_rank(count: int, q: float) -> int:
    """The 0-based index of the nearest-rank ``q`` percentile (q in 0..100) among ``count``
    sorted samples."""
    if count < 1:
        raise ValueError("no samples")
    return max(0, min(count - 1, round(q / 100 * count + 0.5) - 1))


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``samples``."""
    return sorted(samples)[nearest_rank(len(samples), q)]


def rss_mb() -> float:
    """Peak resident set size of this process, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
