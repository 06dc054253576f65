"""EWMA volatility of the settlement index's log returns, annualized over a 365-day year.

Crypto trades every day, so a year is 365 × 86,400 s. Prints arrive about once
a second but not exactly: a return over ``dt`` seconds carries ``dt`` seconds
of variance, so the estimator is a ratio of exponentially decayed sums,

    var_per_second = Σ w·r² / Σ w·dt,   w = exp(−ln2 · age / half_life),

which weights each return by how much time it covers and lets a gap count as
one long return instead of wiping the history. Returns are not demeaned (drift
over a second is nothing next to its noise).
"""

from __future__ import annotations

import math

from strategies.pricing import SECONDS_PER_YEAR


class EwmaVolatility:
    """Online annualized volatility; ``sigma`` is None until ``warmup`` returns are in.

    ``initial_sigma`` seeds the estimate with a prior worth ``prior_seconds`` of
    data (default: the mean memory, half_life/ln 2) and makes it report at once;
    ``floor_sigma`` bounds what it reports from below. Prints that are not
    positive and finite, or not newer than the last one, are ignored; a gap
    longer than ``max_gap_seconds`` re-anchors without contributing a return.
    """

    __slots__ = (
        "_cached_decay",
        "_cached_dt",
        "_lambda",
        "_last_price",
        "_last_ts",
        "_sigma",
        "_sum_dt",
        "_sum_sq",
        "count",
        "floor_sigma",
        "half_life_seconds",
        "has_prior",
        "max_gap_seconds",
        "warmup",
    )

    def __init__(
        self,
        half_life_seconds: float = 300.0,
        *,
        warmup: int = 30,
        initial_sigma: float | None = None,
        floor_sigma: float = 0.0,
        max_gap_seconds: float | None = 900.0,
        prior_seconds: float | None = None,
    ) -> None:
        if not half_life_seconds > 0:
            raise ValueError("half_life_seconds must be > 0")
        if warmup < 1:
            raise ValueError("warmup must be >= 1")
        if floor_sigma < 0:
            raise ValueError("floor_sigma must be >= 0")
        self.half_life_seconds = half_life_seconds
        self.warmup = warmup
        self.floor_sigma = floor_sigma
        self.max_gap_seconds = max_gap_seconds
        self._lambda = math.log(2.0) / half_life_seconds
        self._sum_sq = 0.0
        self._sum_dt = 0.0
        self._last_price: float | None = None
        self._last_ts = -math.inf
        self._cached_dt = 1.0
        self._cached_decay = math.exp(-self._lambda)
        self.count = 0
        self._sigma: float | None = None  # cached until the next return: read per evaluation
        self.has_prior = initial_sigma is not None
        if initial_sigma is not None:
            if not initial_sigma > 0:
                raise ValueError("initial_sigma must be > 0")
            weight = prior_seconds if prior_seconds is not None else 1.0 / self._lambda
            self._sum_dt = weight
            self._sum_sq = initial_sigma * initial_sigma / SECONDS_PER_YEAR * weight

    def update(self, price: float, ts: float) -> bool:
        """Add a print; True when it contributed a return."""
        last_ts = self._last_ts
        if not (0.0 < price < math.inf and ts > last_ts):  # NaN fails both comparisons
            return False
        last = self._last_price
        dt = ts - last_ts
        self._last_price = price
        self._last_ts = ts
        if last is None or (self.max_gap_seconds is not None and dt > self.max_gap_seconds):
            return False
        if dt != self._cached_dt:
            self._cached_dt = dt
            self._cached_decay = math.exp(-self._lambda * dt)
        decay = self._cached_decay
        r = math.log(price / last)
        self._sum_sq = self._sum_sq * decay + r * r
        self._sum_dt = self._sum_dt * decay + dt
        self.count += 1
        self._sigma = None
        return True

    @property
    def ready(self) -> bool:
        return self.has_prior or self.count >= self.warmup

    @property
    def variance_per_second(self) -> float | None:
        if not self.ready or self._sum_dt <= 0.0:
            return None
        return self._sum_sq / self._sum_dt

    @property
    def sigma(self) -> float | None:
        """Annualized volatility, or None during warm-up (worked out once per return)."""
        sigma = self._sigma
        if sigma is None and (self.has_prior or self.count >= self.warmup) and self._sum_dt > 0.0:
            variance = self._sum_sq / self._sum_dt * SECONDS_PER_YEAR
            sigma = self._sigma = max(math.sqrt(variance), self.floor_sigma)
        return sigma

    @property
    def last_ts(self) -> float | None:
        return None if self._last_price is None else self._last_ts
