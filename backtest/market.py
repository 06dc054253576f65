"""Kalshi books for history that has none: the simulator's market-maker desk, quoted per window.

The desk (``simulator.traders.MakerDesk``) quotes a ladder of YES and NO bids
around its fair value, taken from the index ``lag_seconds`` ago with
``simulator.pricing.settlement_probability``, plus noise, with the spread
schedule, depth and sizes of ``simulator.config.MarketCalibration``. Driving
the full exchange core costs about 90 µs per simulated second (four minutes
for a month before any strategy runs), so the same model is evaluated here a
window at a time:

* fair values, spreads and the bid/ask of every second with numpy, using the
  simulator's own variance table (``unknown_sum_variance_units``), spread
  schedule (``interpolate``) and price grid (``PriceLevels``); the tests check
  every step against the scalar simulator functions;
* the ladder for each (bid, ask) with the simulator's ``step_down``;
* level sizes kept the way ``MakerDesk._sync`` keeps them: a level still quoted
  keeps its size, a new one draws ``best_size`` or ``deep_size``, one that our
  fills emptied is replaced on the next requote, and one that lost more than
  half is replaced on a refresh (top moved, or ``requote_probability``).

Our fills consume the desk's depth (``consume``), and the new book is published
at once, as the exchange would. There are no noise traders: the depth we see
is the desk's whole ladder. Volatility: the desk prices with ``sigma``
(annualized) if given, else with the realized 1-second volatility of the hour
before each window opens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.special import erf

from backtest.windows import SETTLEMENT_PRINTS, WINDOW_SECONDS, Window
from kalshi.units import ONE, PriceLevels
from messages.market_data import BookUpdate, Level
from simulator.catalog import CATALOG
from simulator.config import (
    HISTORY_LEAD_SCHEDULE,
    MARKET_PRESETS,
    SECONDS_PER_YEAR,
    ExchangeConfig,
    MarketCalibration,
)
from simulator.pricing import unknown_sum_variance_units
from simulator.schedule import interpolate
from simulator.ticks import max_price, min_price, step_down

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
MICRO = 1_000_000
_DEFAULT = MarketCalibration()
_SERIES = ExchangeConfig().series


def _history_leads(m14: int, m10: int, m5: int, m2: int, m1: int) -> tuple[tuple[int, int], ...]:
    """A look-ahead schedule from its values at the horizons the Brier score is measured at."""
    return ((900, m14), (840, m14), (600, m10), (300, m5), (120, m2), (60, m1), (0, 0))


# Seconds the sharp makers read ahead when they quote real history, per series: fitted so
# the mid's Brier score on that coin's history (../shared/data) matches the real market's
# (KALSHI.md; ``python -m backtest.market_check DIR --series …``). Spread and depth are
# the simulator's per-coin makers (``simulator.catalog``). Each Brier horizon reads only
# its own knot, so each value was fitted alone (docs/market-model.md).
HISTORY_LEADS: dict[str, tuple[tuple[int, int], ...]] = {
    "KXSOL15M": HISTORY_LEAD_SCHEDULE,
    "KXBTC15M": _history_leads(44, 48, 1, 2, 1),
    "KXETH15M": _history_leads(60, 62, 40, 12, 4),
}


def _series_values(series: str) -> dict[str, Any]:
    """The parameters a series sets: its makers' sizes (the rest are the same for every coin)."""
    calibration = CATALOG[series].calibration
    return {
        "depth_levels": calibration.depth_levels,
        "best_size_min": calibration.best_size[0],
        "best_size_max": calibration.best_size[1],
        "deep_size_min": calibration.deep_size[0],
        "deep_size_max": calibration.deep_size[1],
    }


def _preset_values(calibration: MarketCalibration) -> dict[str, Any]:
    """The parameters a preset sets (the rest are common to every preset)."""
    return {
        "lag_seconds": calibration.fair_value_lag_seconds,
        "noise": calibration.fair_value_noise,
        "lead_scale": 1.0 if any(a for _, a in calibration.fair_value_lead_schedule) else 0.0,
        "longshot_shading": calibration.longshot_shading,
    }


class MarketParams(BaseModel):
    """The market model's assumptions (``--param market.NAME=VALUE``); defaults are the simulator's.

    ``preset`` picks a calibration (``sharp``: fitted to Kalshi's mid, the default;
    ``soft``: the makers before that, late and noisy); parameters given beside it win.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: Literal["sharp", "soft"] = Field(
        "sharp", description="makers' calibration: sharp (Kalshi-like) or soft (old, lenient)"
    )
    series: str = Field(
        _SERIES.ticker,
        description=f"whose makers: spread, depth and look-ahead ({', '.join(HISTORY_LEADS)})",
    )
    lead_scale: float = Field(
        1.0,
        ge=0,
        le=5,
        description="multiplier on the makers' look-ahead schedule (0: none)",
    )
    longshot_shading: float = Field(
        _DEFAULT.longshot_shading,
        gt=0,
        le=2,
        description="log-odds slope of the makers' quotes (<1: favourite–longshot bias)",
    )
    lag_seconds: int = Field(
        _DEFAULT.fair_value_lag_seconds,
        ge=0,
        le=600,
        description="makers price the index this late",
    )
    noise: float = Field(
        _DEFAULT.fair_value_noise,
        ge=0,
        description="N(0, noise) added to the makers' fair value, $",
    )
    spread_scale: float = Field(1.0, gt=0, description="multiplier on the spread schedule")
    depth_levels: int = Field(_DEFAULT.depth_levels, ge=1, le=50, description="levels per side")
    best_size_min: int = Field(_DEFAULT.best_size[0], ge=1, description="contracts at the best")
    best_size_max: int = Field(_DEFAULT.best_size[1], ge=1)
    deep_size_min: int = Field(_DEFAULT.deep_size[0], ge=1, description="contracts deeper")
    deep_size_max: int = Field(_DEFAULT.deep_size[1], ge=1)
    requote_probability: float = Field(_DEFAULT.requote_probability, ge=0, le=1)
    sigma: float | None = Field(None, gt=0, description="makers' σ (annualized); None = realized")
    vol_lookback_seconds: int = Field(3600, ge=60, description="realized-σ lookback")
    fee_multiplier: Decimal = Field(
        _SERIES.fee_multiplier, ge=0, description="series fee multiplier"
    )

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        series = data.get("series")
        if isinstance(series, str) and series in HISTORY_LEADS:
            data = {**_series_values(series), **data}
        if "preset" in data:
            name = data["preset"]
            if name in MARKET_PRESETS:
                return {**_preset_values(MARKET_PRESETS[name]), **data}
        return data

    @model_validator(mode="after")
    def _known_series(self) -> MarketParams:
        if self.series not in HISTORY_LEADS:
            known = ", ".join(HISTORY_LEADS)
            raise ValueError(f"market.series: no calibration for {self.series} (one of {known})")
        return self

    def calibration(self) -> MarketCalibration:
        """The simulator calibration these parameters describe."""
        base = CATALOG[self.series].calibration
        schedule = tuple(
            (t, Decimal(repr(round(float(v) * self.spread_scale, 6))))
            for t, v in base.spread_schedule
        )
        lead = tuple((t, round(a * self.lead_scale)) for t, a in HISTORY_LEADS[self.series])
        calibration = replace(
            base,
            spread_schedule=schedule,
            fair_value_lead_schedule=lead,
            longshot_shading=self.longshot_shading,
            best_size=(self.best_size_min, self.best_size_max),
            deep_size=(self.deep_size_min, self.deep_size_max),
            depth_levels=self.depth_levels,
            fair_value_lag_seconds=self.lag_seconds,
            fair_value_noise=self.noise,
            requote_probability=self.requote_probability,
        )
        calibration.validate()
        return calibration

    def lead_seconds(self) -> int:
        """Prints needed before a window opens: the strike's minute, or the makers' lag."""
        return max(SETTLEMENT_PRINTS, self.lag_seconds + 1)

    def describe(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class PriceGrid:
    """Every price of the tick bands (0 and 1 included), as integers of 1e-6 dollars.

    ``decimal`` maps them to the same ``Decimal`` values the simulator builds
    (``start + k·step``), so books compare and serialize alike.
    """

    def __init__(self, levels: PriceLevels) -> None:
        points: dict[int, Decimal] = {}
        for band in levels.ranges:
            k = 0
            while (price := band.start + k * band.step) <= band.end:
                points.setdefault(int(price * MICRO), price)
                k += 1
        self.levels = levels
        self.micro: IntArray = np.array(sorted(points), dtype=np.int64)
        self.decimal = points
        self.min_price = int(min_price(levels) * MICRO)
        self.max_price = int(max_price(levels) * MICRO)
        self._half = 2 * self.micro

    def nearest(self, x_half: IntArray) -> IntArray:
        """``simulator.traders.nearest`` for prices in 1/2e-6 units: the closer grid price, lower on a tie."""
        x = np.clip(x_half, 0, 2 * MICRO)
        up_i = np.searchsorted(self._half, x, side="left")
        down_i = np.searchsorted(self._half, x, side="right") - 1
        up = self._half[np.minimum(up_i, self._half.size - 1)]
        down = self._half[np.maximum(down_i, 0)]
        out: IntArray = np.where(up - x < x - down, up, down) // 2
        return out

    def round_up(self, x_half: IntArray) -> IntArray:
        """``simulator.ticks.round_up``: the lowest grid price at or above (1 when none)."""
        x = np.clip(x_half, 0, 2 * MICRO)
        i = np.searchsorted(self._half, x, side="left")
        out: IntArray = self.micro[np.minimum(i, self.micro.size - 1)]
        return out

    def step_up(self, micro: IntArray) -> IntArray:
        """The next grid price above (1 when none)."""
        i = np.searchsorted(self.micro, micro, side="right")
        out: IntArray = self.micro[np.minimum(i, self.micro.size - 1)]
        return out

    def step_down(self, micro: IntArray) -> IntArray:
        """The next grid price below (0 when none)."""
        i = np.searchsorted(self.micro, micro, side="left") - 1
        out: IntArray = self.micro[np.maximum(i, 0)]
        return out


def quote_top(
    grid: PriceGrid, fair_micro: IntArray, spread_micro: IntArray
) -> tuple[IntArray, IntArray]:
    """``MakerDesk.step``'s best bid and ask (1e-6 units) from fair value and spread."""
    bid = grid.nearest(2 * fair_micro - spread_micro)
    ask = grid.round_up(2 * bid + 2 * spread_micro)
    bid = np.maximum(bid, grid.min_price)
    ask = np.where(ask <= bid, grid.step_up(bid), ask)
    capped = ask > grid.max_price
    ask = np.where(capped, grid.max_price, ask)
    bid = np.where(capped, np.minimum(bid, grid.step_down(np.full_like(ask, grid.max_price))), bid)
    return bid, ask


def variance_units_table(span: int) -> FloatArray:
    """``units[k]`` = the desk's variance units with the index seen ``k`` s before close (1 ≤ k ≤ span)."""
    table = np.zeros(span + 1, dtype=np.float64)
    for k in range(1, span + 1):
        if k >= SETTLEMENT_PRINTS:
            table[k] = unknown_sum_variance_units(k - SETTLEMENT_PRINTS + 1, SETTLEMENT_PRINTS)
        else:
            table[k] = unknown_sum_variance_units(1, k)
    return table


def fair_values(
    prices: FloatArray,
    seen_offsets: IntArray,
    close_offset: int,
    strike: float,
    sigma_per_second: float,
    units: FloatArray,
) -> FloatArray:
    """``simulator.pricing.settlement_probability`` for many moments at once.

    ``prices[j]`` is the print ``j`` seconds after the first one, ``seen_offsets``
    the moments the desk looks at (offsets into ``prices``), ``close_offset``
    the close's offset. Known prints are those in ``(close − 60, seen]``.
    """
    spot = prices[seen_offsets]
    window_start = close_offset - SETTLEMENT_PRINTS  # exclusive
    csum = np.concatenate(([0.0], np.cumsum(prices)))
    known_count = np.clip(seen_offsets - window_start, 0, SETTLEMENT_PRINTS)
    known_sum = csum[seen_offsets + 1] - csum[seen_offsets + 1 - known_count]
    unknown = SETTLEMENT_PRINTS - known_count
    mean = (known_sum + unknown * spot) / SETTLEMENT_PRINTS
    sd = spot * sigma_per_second * np.sqrt(units[close_offset - seen_offsets]) / SETTLEMENT_PRINTS
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (mean - strike) / sd
        prob = 0.5 * (1.0 + erf(z / math.sqrt(2.0)))
    out: FloatArray = np.where(sd > 0.0, prob, np.where(mean >= strike, 1.0, 0.0))
    return out


def shade_longshots(fair: FloatArray, shading: float) -> FloatArray:
    """``simulator.pricing.shade_longshot`` for many probabilities at once."""
    inside = (fair > 0.0) & (fair < 1.0)
    p = np.where(inside, fair, 0.5)
    odds = (p / (1.0 - p)) ** shading
    out: FloatArray = np.where(inside, odds / (1.0 + odds), fair)
    return out


# A quoted level: [remaining, initial size, (price, remaining) as published]. A list, not a
# class: a month of history creates millions of them.
_REMAINING, _INITIAL, _PAIR = 0, 1, 2
_Level = list[Any]


@dataclass(frozen=True, slots=True)
class Ladder:
    """The levels quoted for one (bid, ask): keys best first per side, and which are best levels."""

    yes: tuple[int, ...]
    no: tuple[int, ...]

    def targets(self) -> list[tuple[str, int, bool]]:
        return [("yes", m, i == 0) for i, m in enumerate(self.yes)] + [
            ("no", m, i == 0) for i, m in enumerate(self.no)
        ]


@dataclass(slots=True)
class WindowBook:
    """The desk's ladder in one market, second by second (``MakerDesk._sync``'s bookkeeping)."""

    window: Window
    bids: list[int]  # best bid per second of the window, 1e-6 units
    asks: list[int]
    refresh_draw: list[float]
    rng: np.random.Generator
    model: MarketModel
    yes: dict[int, _Level] = field(default_factory=dict)  # YES bids by price (1e-6 units)
    no: dict[int, _Level] = field(default_factory=dict)
    ladder: Ladder | None = None
    top: tuple[int, int] | None = None
    seq: int = 0
    damaged: bool = False  # a level lost depth to our fills since the last requote
    _best: list[int] = field(default_factory=list)
    _deep: list[int] = field(default_factory=list)

    def _draw(self, best: bool) -> int:
        pool = self._best if best else self._deep
        if not pool:
            cal = self.model.calibration
            low, high = cal.best_size if best else cal.deep_size
            pool.extend(self.rng.integers(low, high + 1, size=256).tolist())
            pool.reverse()
        return pool.pop()

    def _side(
        self, old: dict[int, _Level], keys: tuple[int, ...], refresh: bool, worn: bool
    ) -> tuple[dict[int, _Level], bool, bool]:
        """``MakerDesk._sync`` for one side: keep, replace or add each target level.

        ``worn``: our fills took depth since the last requote (``damaged``). Without
        that no kept level can be half empty, so only new keys need a look.
        """
        new: dict[int, _Level] = {}
        changed = damaged = False
        model = self.model
        pairs = model.pairs
        best = True
        for micro in keys:
            level = old.get(micro)
            if level is None or (worn and refresh and level[_REMAINING] * 2 < level[_INITIAL]):
                # _draw and pair, inlined for their common case (this loop runs for every
                # level of every requote): a size from the pool, a pair already made.
                pool = self._best if best else self._deep
                size = pool.pop() if pool else self._draw(best)
                made = pairs.get((micro, size))
                level = [size, size, made if made is not None else model.pair(micro, size)]
                changed = True
            elif worn and level[_REMAINING] * 2 < level[_INITIAL]:
                damaged = True
            new[micro] = level
            best = False
        return new, changed, damaged

    def requote(self, second: int, now: float) -> BookUpdate | None:
        """The desk's step at ``open + second``; the new book if anything changed."""
        top = (self.bids[second], self.asks[second])
        moved = top != self.top
        damaged = self.damaged
        if not moved and not damaged:
            return None
        refresh = moved or self.refresh_draw[second] < self.model.calibration.requote_probability
        if moved:
            self.ladder = self.model.ladder(top)
            self.top = top
        ladder = self.ladder
        assert ladder is not None
        self.yes, yes_changed, yes_damaged = self._side(self.yes, ladder.yes, refresh, damaged)
        self.no, no_changed, no_damaged = self._side(self.no, ladder.no, refresh, damaged)
        self.damaged = yes_damaged or no_damaged
        if moved or yes_changed or no_changed:
            return self.snapshot(now)
        return None

    def consume(self, side: str, price: Decimal, count: int, action: str) -> bool:
        """Our fill of ``count`` ``side`` contracts at ``price`` took the desk's depth."""
        if action == "buy":  # a YES buy lifts NO bids at 1 − price, and vice versa
            levels = self.no if side == "yes" else self.yes
            micro = int((ONE - price) * MICRO)
        else:
            levels = self.yes if side == "yes" else self.no
            micro = int(price * MICRO)
        level = levels.get(micro)
        if level is None:
            return False
        remaining = max(level[_REMAINING] - count, 0)
        if remaining == 0:
            del levels[micro]
        else:
            level[_REMAINING] = remaining
            level[_PAIR] = self.model.pair(micro, remaining)
        self.damaged = True
        return True

    def snapshot(self, now: float) -> BookUpdate:
        """The book as the MarketWatcher publishes it: best first, asks from opposite bids."""
        self.seq += 1
        # The side dicts are kept in ladder order (``_side`` builds them best first,
        # ``consume`` only deletes or updates in place), so their values are the book.
        yes_bids = tuple([level[_PAIR] for level in self.yes.values()])
        no_bids = tuple([level[_PAIR] for level in self.no.values()])
        yes_bid = yes_bids[0][0] if yes_bids else None
        no_bid = no_bids[0][0] if no_bids else None
        return BookUpdate(
            ticker=self.window.ticker,
            seq=self.seq,
            ts=now,
            yes_bid=yes_bid,
            yes_ask=ONE - no_bid if no_bid is not None else None,
            no_bid=no_bid,
            no_ask=ONE - yes_bid if yes_bid is not None else None,
            yes_bids=yes_bids,
            no_bids=no_bids,
        )

    def close(self, now: float) -> BookUpdate:
        """The exchange cancels every resting order at close: an empty book."""
        self.yes = {}
        self.no = {}
        self.damaged = False
        return self.snapshot(now)


class MarketModel:
    """Quotes every window of a backtest from the prints, deterministically in ``seed``."""

    def __init__(
        self,
        params: MarketParams,
        seed: int,
        levels: PriceLevels | None = None,
    ) -> None:
        self.params = params
        self.seed = seed
        self.calibration = params.calibration()
        self.grid = PriceGrid(levels or PriceLevels())
        self.units = variance_units_table(WINDOW_SECONDS + params.lag_seconds + 1)
        self.spread_micro = self._spread_table()
        left = WINDOW_SECONDS - np.arange(WINDOW_SECONDS)
        self.lead: IntArray = np.array(
            [self.calibration.lead_seconds(int(x), WINDOW_SECONDS) for x in left], dtype=np.int64
        )
        self._ladders: dict[tuple[int, int], Ladder] = {}
        self.pairs: dict[tuple[int, int], Level] = {}  # (price, size) levels, shared by books

    def _spread_table(self) -> IntArray:
        """Spread (1e-6 units) by seconds left, from the calibration's schedule."""
        cal = self.calibration
        out = np.zeros(WINDOW_SECONDS + 1, dtype=np.int64)
        for left in range(WINDOW_SECONDS + 1):
            value = interpolate(cal.spread_schedule, cal.scaled_left(left, WINDOW_SECONDS))
            out[left] = int(Decimal(repr(round(value, 6))) * MICRO)
        return out

    def pair(self, micro: int, size: int) -> Level:
        """The ``(price, size)`` level a book lists, shared between books."""
        key = (micro, size)
        found = self.pairs.get(key)
        if found is None:
            found = self.pairs[key] = (self.grid.decimal[micro], Decimal(size))
        return found

    def ladder(self, top: tuple[int, int]) -> Ladder:
        """``MakerDesk._ladder``: the levels quoted for (bid, ask), best first per side."""
        cached = self._ladders.get(top)
        if cached is not None:
            return cached
        grid = self.grid
        levels = grid.levels
        bid, ask = (grid.decimal[m] for m in top)
        sides: list[tuple[int, ...]] = []
        for best in (bid, ONE - ask):
            keys: list[int] = []
            price = best if levels.is_valid(best) else levels.round_down(best)
            for _ in range(self.calibration.depth_levels):
                if price <= 0:
                    break
                keys.append(int(price * MICRO))
                price = step_down(levels, price)
            sides.append(tuple(keys))
        cached = self._ladders[top] = Ladder(sides[0], sides[1])
        return cached

    def sigma_per_second(self, prices: FloatArray, before: int) -> float:
        """The desk's σ per second: fixed, or realized over the lookback ending at ``before``."""
        if self.params.sigma is not None:
            return self.params.sigma / math.sqrt(SECONDS_PER_YEAR)
        lo = max(before - self.params.vol_lookback_seconds, 0)
        returns = np.diff(np.log(prices[lo : before + 1]))
        if returns.size == 0:
            return 0.0
        return float(np.sqrt(np.mean(returns * returns)))

    def book(self, window: Window, prices: FloatArray) -> WindowBook:
        """Quotes for every second the market is open (``open`` … ``close − 1``).

        ``prices`` are all prints as floats; the window's own run from
        ``window.start`` (``lead`` seconds before the open) to its close. The
        realized σ may look further back, through whatever prints precede it.
        """
        p = self.params
        open_i = window.index_of(window.open_ts)
        close_i = window.stop - 1
        sigma = self.sigma_per_second(prices, open_i)
        seconds = np.arange(WINDOW_SECONDS, dtype=np.int64)
        seen = np.minimum(open_i + seconds - p.lag_seconds + self.lead, close_i)
        base = window.start
        fair = fair_values(
            prices[base : close_i + 1],
            seen - base,
            close_i - base,
            float(window.strike),
            sigma,
            self.units,
        )
        if p.longshot_shading != 1.0:
            fair = shade_longshots(fair, p.longshot_shading)
        rng = np.random.default_rng((self.seed, 1, window.open_ts))
        if p.noise > 0:
            fair = fair + rng.normal(0.0, p.noise, size=fair.size)
        refresh = rng.random(WINDOW_SECONDS)
        fair_micro = np.rint(np.clip(fair, 0.0, 1.0) * MICRO).astype(np.int64)
        spread = self.spread_micro[WINDOW_SECONDS - seconds]
        bid, ask = quote_top(self.grid, fair_micro, spread)
        return WindowBook(
            window=window,
            bids=bid.tolist(),
            asks=ask.tolist(),
            refresh_draw=refresh.tolist(),
            rng=rng,
            model=self,
        )
