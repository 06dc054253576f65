"""The index a Kalshi replay gives the strategies: the folder's own CF Benchmarks values
first, else 1-minute history (``--data``) bridged to 1-second prints, aligned by time.

Nothing is filled in: a second neither source has stays empty, and a window whose span
has a hole longer than ``MAX_GAP`` is not covered (the replay skips and counts it when a
strategy needs the index).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from backtest.bridge import expand, variance_ratio
from backtest.errors import BacktestInputError
from backtest.history import BAR_SECONDS, load_bars
from backtest.windows import PRICE_EXPONENT
from storage.recording import is_recording

IntArray = npt.NDArray[np.int64]
MAX_GAP = 5  # seconds: the risk rules' default max_spot_age_seconds
_SCALE = 10**-PRICE_EXPONENT


@dataclass(frozen=True, slots=True)
class IndexTimeline:
    """Prints by whole second. ``own``: the folder's values; ``data_*``: bridged history."""

    own: dict[int, Decimal]
    data_ts: IntArray
    data_q: IntArray  # 1e-4 dollars
    ts: IntArray  # every second either source has, ascending

    @classmethod
    def build(cls, own: dict[int, Decimal], data_ts: IntArray, data_q: IntArray) -> IndexTimeline:
        mine = np.fromiter(sorted(own), dtype=np.int64, count=len(own))
        return cls(own, data_ts, data_q, np.union1d(mine, data_ts).astype(np.int64))

    @property
    def empty(self) -> bool:
        return self.ts.size == 0

    def covers(self, lo: int, hi: int, max_gap: int = MAX_GAP) -> bool:
        """Prints from ``lo`` to ``hi`` with no hole longer than ``max_gap`` seconds."""
        i = int(np.searchsorted(self.ts, lo, side="left"))
        j = int(np.searchsorted(self.ts, hi, side="right"))
        span = self.ts[i:j]
        if span.size == 0 or span[0] - lo > max_gap or hi - span[-1] > max_gap:
            return False
        return bool(span.size < 2 or int(np.diff(span).max()) <= max_gap)

    def prints(self, lo: int, hi: int) -> Iterator[tuple[int, Decimal]]:
        """Every print from ``lo`` to ``hi`` inclusive, the folder's first."""
        i = int(np.searchsorted(self.ts, lo, side="left"))
        j = int(np.searchsorted(self.ts, hi, side="right"))
        data_ts, data_q = self.data_ts, self.data_q
        k = int(np.searchsorted(data_ts, lo, side="left"))
        cache: dict[int, Decimal] = {}
        for t in self.ts[i:j].tolist():
            own = self.own.get(t)
            if own is not None:
                yield t, own
                continue
            while data_ts[k] < t:
                k += 1
            q = int(data_q[k])
            value = cache.get(q)
            if value is None:
                value = cache[q] = Decimal(q).scaleb(PRICE_EXPONENT)
            yield t, value


def data_prints(paths: Sequence[Path], lo: int, hi: int, seed: int) -> tuple[IntArray, IntArray]:
    """1-second prints of 1-minute CSV history between ``lo`` and ``hi`` (seeded bridge)."""
    empty = np.empty(0, dtype=np.int64)
    if not paths:
        return empty, empty
    if any(is_recording(Path(p)) for p in paths):
        raise BacktestInputError(
            "--data with --market kalshi:DIR takes 1-minute CSV history (the index), not recordings"
        )
    bars = load_bars(paths)
    ratio = variance_ratio(bars)
    part = bars.between(lo - BAR_SECONDS, hi + BAR_SECONDS)
    if len(part) == 0:
        return empty, empty
    prints = expand(part, seed, ratio)
    q = np.rint(prints.price * _SCALE).astype(np.int64)
    return prints.ts.astype(np.int64), q
