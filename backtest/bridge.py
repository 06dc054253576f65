"""1-minute bars to 1-second index prints: a seeded Brownian bridge through each bar's O, H, L, C.

Each bar's 60 prints (at its open time + 0 … 59 s) start at the open, end at
the close and touch the high and the low exactly, never leaving ``[low, high]``:

1. *Anchors*: the high and the low are placed at random distinct seconds
   inside the bar (at the first or last second when the open or the close is
   itself the extreme), giving up to four anchors ``open → extreme → extreme → close``.
2. *Path*: linear between anchors plus a Brownian bridge pinned to zero at
   every anchor, so anchors are hit exactly.
3. *Bounds*: values outside ``[low, high]`` are folded back in (reflection,
   which keeps the path continuous), then prints are rounded to 4 decimals.

Noise level. The prints feed the EWMA volatility, so their quadratic
variation must match real SOL: per bar the target variance is the range
(Parkinson) variance ``ln(H/L)²/(4 ln 2)`` times ``variance_ratio``, the
ratio of the data's mean squared 1-minute close-to-close log return to its mean
Parkinson variance (about 1.8 on the 2025 Binance files: ranges of 1-minute
bars understate the variance). The anchors' own moves count towards it.

Randomness comes from ``numpy.random.default_rng((seed, utc_day))`` drawn for
every minute of that day, so a bar's prints depend only on the seed and the
bar, not on which stretch (``--from``/``--to``) was loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from backtest.history import BAR_SECONDS, Bars

PRINTS_PER_BAR = BAR_SECONDS
DECIMALS = 4
_DAY = 86_400
_MINUTES_PER_DAY = _DAY // BAR_SECONDS
_LN2X4 = 4.0 * np.log(2.0)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Prints:
    """Index prints one second apart within each bar; ``ts`` in Unix seconds."""

    ts: IntArray
    price: FloatArray
    variance_ratio: float  # close-to-close / Parkinson variance used for the noise


def parkinson_variance(bars: Bars) -> FloatArray:
    """Per-bar range variance of the log price, ``ln(H/L)² / (4 ln 2)``."""
    span = np.log(bars.high / bars.low)
    out: FloatArray = span * span / _LN2X4
    return out


def variance_ratio(bars: Bars) -> float:
    """Mean squared 1-minute close-to-close log return over mean Parkinson variance (≥ 1)."""
    contiguous = np.diff(bars.ts) == BAR_SECONDS
    if not contiguous.any():
        return 1.0
    returns = np.log(bars.close[1:] / bars.close[:-1])[contiguous]
    park = float(parkinson_variance(bars).mean())
    if park <= 0.0:
        return 1.0
    return max(float(np.mean(returns * returns)) / park, 1.0)


def _draws(ts: IntArray, seed: int) -> tuple[FloatArray, FloatArray]:
    """Per bar: 2 uniforms (extreme positions) and 60 normals, from a per-day generator."""
    uniforms = np.empty((ts.size, 2), dtype=np.float64)
    normals = np.empty((ts.size, PRINTS_PER_BAR), dtype=np.float64)
    days = ts // _DAY
    minute = (ts % _DAY) // BAR_SECONDS
    for day in np.unique(days):
        rows = np.flatnonzero(days == day)
        rng = np.random.default_rng((seed, int(day)))
        day_uniforms = rng.random((_MINUTES_PER_DAY, 2))
        day_normals = rng.standard_normal((_MINUTES_PER_DAY, PRINTS_PER_BAR))
        uniforms[rows] = day_uniforms[minute[rows]]
        normals[rows] = day_normals[minute[rows]]
    return uniforms, normals


def _anchor_positions(bars: Bars, uniforms: FloatArray) -> tuple[IntArray, IntArray]:
    """Second (0 … 59) at which each bar prints its high and its low."""
    o, h, low, c = bars.open, bars.high, bars.low, bars.close
    last = PRINTS_PER_BAR - 1
    inner = last - 1  # interior seconds 1 … 58
    first = 1 + np.floor(uniforms[:, 0] * inner).astype(np.int64)
    second = 1 + np.floor(uniforms[:, 1] * (inner - 1)).astype(np.int64)
    second = np.where(second >= first, second + 1, second)  # distinct from ``first``
    high_pos = np.where(o == h, 0, np.where(c == h, last, first))
    low_interior = np.where((o != h) & (c != h), second, first)
    low_pos = np.where(o == low, 0, np.where(c == low, last, low_interior))
    return high_pos.astype(np.int64), low_pos.astype(np.int64)


def _anchors(bars: Bars, high_pos: IntArray, low_pos: IntArray) -> tuple[IntArray, FloatArray]:
    """Each bar's four anchors, in time order: second 0 at the open, the high and the low
    at their seconds (whichever comes first), second 59 at the close; positions, values."""
    n = len(bars)
    h, low = bars.high, bars.low
    high_first = high_pos <= low_pos
    p1 = np.where(high_first, high_pos, low_pos)
    p2 = np.where(high_first, low_pos, high_pos)
    v1 = np.where(high_first, h, low)
    v2 = np.where(high_first, low, h)
    pos = np.stack([np.zeros(n, dtype=np.int64), p1, p2, np.full(n, PRINTS_PER_BAR - 1)], axis=1)
    val = np.stack([bars.open, v1, v2, bars.close], axis=1)
    return pos, val


def _fold_into(path: FloatArray, low: FloatArray, high: FloatArray) -> FloatArray:
    """Fold each bar's path back into [low, high] by reflection, only where it left it, so
    no print contradicts the bar; rounded to the index's decimals."""
    lo = low[:, None]
    hi = high[:, None]
    span = np.maximum(hi - lo, 1e-12)
    outside = (path > hi) | (path < lo)
    folded = np.mod(path - lo, 2.0 * span)
    folded = lo + np.where(folded > span, 2.0 * span - folded, folded)
    path = np.where(outside, folded, path)
    return np.clip(np.round(path, DECIMALS), lo, hi)


def expand(bars: Bars, seed: int, ratio: float | None = None) -> Prints:
    """The 1-second prints of every bar (``60 × len(bars)``), deterministic in ``seed``."""
    n = len(bars)
    steps = np.arange(PRINTS_PER_BAR, dtype=np.int64)
    if n == 0:
        empty = np.empty(0)
        return Prints(empty.astype(np.int64), empty, 1.0)
    ratio = variance_ratio(bars) if ratio is None else ratio
    uniforms, normals = _draws(bars.ts, seed)
    high_pos, low_pos = _anchor_positions(bars, uniforms)
    o, h, low, c = bars.open, bars.high, bars.low, bars.close

    pos, val = _anchors(bars, high_pos, low_pos)
    p1, p2 = pos[:, 1], pos[:, 2]

    segment = (steps[None, :] > p1[:, None]).astype(np.int64) + (steps[None, :] > p2[:, None])
    left_pos = np.take_along_axis(pos, segment, axis=1)
    right_pos = np.take_along_axis(pos, segment + 1, axis=1)
    left_val = np.take_along_axis(val, segment, axis=1)
    right_val = np.take_along_axis(val, segment + 1, axis=1)
    length = right_pos - left_pos
    frac = np.where(length > 0, (steps[None, :] - left_pos) / np.maximum(length, 1), 1.0)
    linear = left_val + (right_val - left_val) * frac

    # noise: the target variance minus what the anchors' straight lines already move
    seg_len = np.diff(pos, axis=1)
    seg_move = np.diff(val, axis=1)
    drift_qv = np.sum(np.where(seg_len > 0, seg_move**2 / np.maximum(seg_len, 1), 0.0), axis=1)
    target = ratio * parkinson_variance(bars) * o * o
    free_steps = np.maximum(np.sum(np.maximum(seg_len - 1, 0), axis=1), 1)
    sd = np.sqrt(np.maximum(target - drift_qv, 0.0) / free_steps)
    normals[:, 0] = 0.0
    walk = np.cumsum(normals * sd[:, None], axis=1)
    walk_left = np.take_along_axis(walk, left_pos, axis=1)
    walk_right = np.take_along_axis(walk, right_pos, axis=1)
    bridge = walk - walk_left - frac * (walk_right - walk_left)
    path = linear + bridge

    path = _fold_into(path, low, h)

    rows = np.arange(n)
    path[rows, 0] = o
    path[rows, PRINTS_PER_BAR - 1] = c
    path[rows, high_pos] = h
    path[rows, low_pos] = low
    ts = (bars.ts[:, None] + steps[None, :]).reshape(-1)
    return Prints(ts, path.reshape(-1), ratio)
