"""A simulated CF Benchmarks real-time index (SOLUSD_RTI, BRTI, …): one print per second.

A seeded geometric Brownian motion with occasional jumps. Prints are kept (for
a bounded time) so the trailing 60-second averages that set strikes and settle
markets can be taken exactly, in Decimal. When the exchange runs several series,
each index's per-second shock is a shared crypto factor (:class:`CommonFactor`)
plus its own noise, so the coins move together as the real ones do.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from simulator.config import (
    MAX_LEAD_SECONDS,
    SECONDS_PER_YEAR,
    SETTLEMENT_WINDOW_SECONDS,
    IndexConfig,
)

AVERAGE_QUANTUM = Decimal("0.00000001")  # averages carry 8 decimals, as CF Benchmarks' do
TICKS_PER_SECOND = 5  # the cfbenchmarks_value_5hz feed


@dataclass(frozen=True, slots=True)
class IndexPrint:
    ts: int  # Unix seconds
    value: Decimal


@dataclass(frozen=True, slots=True)
class WindowAverage:
    """An average of prints with the bounds it was taken over (Unix ms)."""

    value: Decimal
    count: int
    start_ms: int
    end_ms_exclusive: int


class CommonFactor:
    """The shared N(0, 1) shock of each second, the same for every index that reads it.

    Drawn in time order from a generator of its own and kept for ``keep_seconds`` behind
    the latest second asked for, so indices drawing at different moments (one reads ahead
    for its makers, another starts later) still see the same shock for the same second.
    """

    def __init__(self, seed: int, first_ts: int, keep_seconds: int) -> None:
        self._rng = random.Random(f"index-factor:{seed}")
        self._first_ts = first_ts
        self._values: deque[float] = deque()
        self._keep = keep_seconds

    def at(self, ts: int) -> float:
        """The shock of the second ending at ``ts``."""
        if ts < self._first_ts:
            raise ValueError(f"the common factor at {ts} is no longer kept")
        while self._first_ts + len(self._values) <= ts:
            self._values.append(self._rng.gauss(0.0, 1.0))
        excess = len(self._values) - 2 * self._keep
        if excess > 0:
            for _ in range(excess):
                self._values.popleft()
            self._first_ts += excess
        return self._values[ts - self._first_ts]


class IndexProcess:
    """Generates and keeps the prints; all times are whole Unix seconds.

    ``stream`` names this index's generators beside the seed (empty for the exchange's
    first series, so a single-series run draws exactly what it always drew);
    ``factor``: the shared shock, mixed in with the index's ``factor_loading``.
    """

    def __init__(
        self,
        config: IndexConfig,
        seed: int,
        first_ts: int,
        retain_seconds: int,
        *,
        stream: str = "",
        factor: CommonFactor | None = None,
    ) -> None:
        self._config = config
        self._rng = random.Random(f"index:{seed}{stream}")
        self._stream = stream
        self._factor = factor
        self._own_weight = math.sqrt(1.0 - config.factor_loading**2)
        self._quantum = Decimal(1).scaleb(-config.decimals)
        dt = 1.0 / SECONDS_PER_YEAR
        self._drift = -0.5 * config.volatility**2 * dt
        self._step_sd = config.volatility * math.sqrt(dt)
        self._jump_probability = config.jumps_per_day / 86_400
        self._log_price = math.log(float(config.start_price))
        self._retain = max(retain_seconds, 2 * SETTLEMENT_WINDOW_SECONDS + 1)
        self._first_ts = first_ts
        self._values: list[Decimal] = [config.start_price.quantize(self._quantum)]
        self._seed = seed
        # Prints drawn before they are published: the next one (the sub-second ticks lead
        # up to it) and those the makers read ahead. Drawing a print early does not change
        # it: the same draws, in the same order.
        self._future: deque[tuple[float, Decimal]] = deque()
        self._fast: tuple[int, list[Decimal]] | None = None

    @property
    def sigma_per_second(self) -> float:
        """The per-second log-return standard deviation of the diffusion part."""
        return self._step_sd

    @property
    def first_ts(self) -> int:
        return self._first_ts

    @property
    def last_ts(self) -> int:
        return self._first_ts + len(self._values) - 1

    def latest(self) -> IndexPrint:
        return IndexPrint(self.last_ts, self._values[-1])

    def extend_to(self, ts: int) -> list[IndexPrint]:
        """Generate every print up to and including ``ts``; returns the new ones."""
        new: list[IndexPrint] = []
        first = self.last_ts + 1
        for at in range(first, ts + 1):
            if not self._future:
                self._draw_ahead()
            self._log_price, value = self._future.popleft()
            self._values.append(value)
            new.append(IndexPrint(at, value))
        self._trim()
        return new

    def _next(self) -> tuple[float, Decimal]:
        """The print after the last one (log price and value), drawn once."""
        if not self._future:
            self._draw_ahead()
        return self._future[0]

    def _draw_ahead(self) -> None:
        """Draw the print after the last one drawn."""
        rng = self._rng
        shock = rng.gauss(0.0, 1.0)
        if self._factor is not None:
            ts = self.last_ts + len(self._future) + 1
            loading = self._config.factor_loading
            shock = loading * self._factor.at(ts) + self._own_weight * shock
        step = self._drift + self._step_sd * shock
        if self._jump_probability and rng.random() < self._jump_probability:
            step += rng.gauss(0.0, self._config.jump_sd)
        log_price = (self._future[-1][0] if self._future else self._log_price) + step
        value = Decimal(repr(math.exp(log_price))).quantize(self._quantum)
        self._future.append((log_price, value))

    def peek(self, ts: int) -> Decimal:
        """The print at ``ts``, drawn ahead if it is not published yet (at most a minute ahead).

        The simulated makers read the index a little ahead (see
        ``MarketCalibration.fair_value_lead_schedule``); nothing else may.
        """
        ahead = ts - self.last_ts
        if ahead <= 0:
            value = self.value_at(ts)
            assert value is not None
            return value
        if ahead > MAX_LEAD_SECONDS:
            raise ValueError(f"cannot read the index {ahead} s ahead (at most {MAX_LEAD_SECONDS})")
        while len(self._future) < ahead:
            self._draw_ahead()
        return self._future[ahead - 1][1]

    def path_between(self, after: int, upto: int) -> list[Decimal]:
        """``prints_between`` including prints drawn ahead (``upto`` ≤ what ``peek`` reached)."""
        kept = self.prints_between(after, upto)
        extra = upto - self.last_ts
        if extra <= 0:
            return kept
        first = max(after + 1 - self.last_ts, 1)
        return kept + [value for _, value in list(self._future)[first - 1 : extra]]

    def fast_ticks(self, ts: int) -> list[Decimal]:
        """The ticks between the print at ``ts`` and the next, at each fifth of a second.

        A Brownian bridge (in log price) from one print to the next, from a
        generator of its own keyed by ``ts``: the once-a-second prints stay
        exactly what they were, and the fast feed agrees with them at every
        whole second. ``ts`` must be a kept print (the next may not exist yet).
        """
        if self._fast is not None and self._fast[0] == ts:
            return self._fast[1]
        start = self.value_at(ts)
        if start is None or ts < self._first_ts:
            raise ValueError(f"no index print at {ts}")
        end = self._next()[1] if ts == self.last_ts else self._values[ts + 1 - self._first_ts]
        rng = random.Random(f"index-fast:{self._seed}{self._stream}:{ts}")
        n = TICKS_PER_SECOND
        walk = [0.0]
        for _ in range(n):
            walk.append(walk[-1] + rng.gauss(0.0, self._step_sd / math.sqrt(n)))
        low, high = math.log(start), math.log(end)
        ticks = []
        for k in range(1, n):
            bridge = walk[k] - walk[n] * k / n
            log_price = low + (high - low) * k / n + bridge
            ticks.append(Decimal(repr(math.exp(log_price))).quantize(self._quantum))
        self._fast = (ts, ticks)
        return ticks

    def _trim(self) -> None:
        excess = len(self._values) - self._retain
        if excess > 1024:  # trim in chunks: deleting a list prefix is O(n)
            del self._values[:excess]
            self._first_ts += excess

    def value_at(self, ts: int) -> Decimal | None:
        """The print at ``ts``; the earliest kept one before that; ``None`` after the last."""
        if ts > self.last_ts:
            return None
        return self._values[max(0, ts - self._first_ts)]

    def prints_between(self, after: int, upto: int) -> list[Decimal]:
        """Prints with ``after < ts <= upto`` that exist (and are still kept)."""
        lo = max(after + 1, self._first_ts)
        hi = min(upto, self.last_ts)
        if hi < lo:
            return []
        return self._values[lo - self._first_ts : hi - self._first_ts + 1]

    def settlement_average(self, close_ts: int) -> Decimal:
        """The simple average of the prints in ``(close - 60, close]``.

        This is the settlement value of a market closing at ``close_ts`` and the
        strike of the one opening then. With fewer prints (the index started
        recently) it averages those there are; with none, the earliest print.
        """
        values = self.prints_between(close_ts - SETTLEMENT_WINDOW_SECONDS, close_ts)
        if not values:
            first = self.value_at(close_ts)
            values = [first if first is not None else self._values[-1]]
        return (sum(values, Decimal(0)) / len(values)).quantize(AVERAGE_QUANTUM)

    def trailing_average(self, ts: int) -> WindowAverage:
        """``avg_60s_data`` of the print at ``ts``: prior prints in ``[ts - 60, ts)``.

        Falls back to the print itself when there is no prior one, as the
        cfbenchmarks_value channel specifies.
        """
        values = self.prints_between(ts - SETTLEMENT_WINDOW_SECONDS - 1, ts - 1)
        if values:
            average = sum(values, Decimal(0)) / len(values)
        else:
            current = self.value_at(ts)
            average = current if current is not None else self._values[-1]
        return WindowAverage(
            average.quantize(AVERAGE_QUANTUM),
            len(values),
            (ts - SETTLEMENT_WINDOW_SECONDS) * 1000,
            ts * 1000,
        )

    def final_minute_average(self, ts: int, close_ts: int) -> WindowAverage | None:
        """``last_60s_windowed_average_15min``: prints in ``(close - 60, ts]``, in the final minute."""
        if not close_ts - SETTLEMENT_WINDOW_SECONDS < ts <= close_ts:
            return None
        values = self.prints_between(close_ts - SETTLEMENT_WINDOW_SECONDS, ts)
        if not values:
            return None
        return WindowAverage(
            (sum(values, Decimal(0)) / len(values)).quantize(AVERAGE_QUANTUM),
            len(values),
            (close_ts - SETTLEMENT_WINDOW_SECONDS) * 1000,
            ts * 1000 + 1,
        )
