"""Is the model calibrated? Its probabilities at fixed times before close, scored against outcomes.

For every market, at 14, 10, 5, 2 and 1 minutes before close (the first index
print at or after each moment, at most ``max_lateness`` seconds late), three
forecasts of "settles YES" are taken:

* **model** — ``strategies.pricing.digital_probability`` with the EWMA volatility
  of ``strategies.volatility`` fed every print, exactly as ``kelly_volatility``
  does (same parameters, same filters on prints, same known final-minute prints);
* **naive** — ``strategies.pricing.naive_probability``: spot vs strike at close,
  no averaging adjustment, same σ;
* **market** — the YES mid of the latest book not flagged stale (the real book
  in a recording, the simulated makers' for history). A book that has not
  changed is still the market: leaving out old books would leave out the
  quiet, near-certain markets and make the market look worse than it is.

Brier score and log-loss come from :mod:`scoring.forecasts`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from messages.market_data import BookUpdate, MarketInfo, SpotTick
from scoring.forecasts import (
    HORIZONS,
    LOG_LOSS_EPS,
    REAL_SOL_MID_BRIER,
    ReliabilityBin,
    brier,
    log_loss,
    reliability,
)
from strategies.kelly_volatility import KellyVolatilityParams, volatility_for
from strategies.pricing import digital_probability, naive_probability
from strategies.volatility import EwmaVolatility

BUCKETS = HORIZONS  # minutes before close
SOURCES = ("model", "naive", "market")
REAL_MARKET_BRIER = REAL_SOL_MID_BRIER


def real_mid_brier(series: str) -> Mapping[int, float]:
    """KALSHI.md's real mid Brier score by minutes left for ``series`` (SOL's if unmeasured)."""
    from simulator.catalog import REAL_MID_BRIER

    return REAL_MID_BRIER.get(series, REAL_MARKET_BRIER)


@dataclass(slots=True)
class Snapshot:
    """The three forecasts at one moment before close."""

    minutes: int
    ts: float
    seconds_left: float
    spot: float
    sigma: float
    model: float
    naive: float
    market: float | None


@dataclass(slots=True)
class WindowForecasts:
    ticker: str
    open_time: float
    close_time: float
    strike: Decimal
    result: str | None = None
    settlement: Decimal | None = None
    snapshots: dict[int, Snapshot] = field(default_factory=dict)
    missing: dict[int, str] = field(default_factory=dict)  # minutes → why there is no snapshot
    pending: list[tuple[float, int]] = field(default_factory=list)  # (time, minutes), soonest last

    @property
    def outcome(self) -> int | None:
        return None if self.result is None else int(self.result == "yes")


class CalibrationCollector:
    """Fed the same market data as the strategies; keeps the forecasts of every market."""

    def __init__(
        self,
        params: KellyVolatilityParams | None = None,
        *,
        buckets: Sequence[int] = BUCKETS,
        max_lateness: float = 5.0,
        max_book_age: float | None = None,
        vol: EwmaVolatility | None = None,
    ) -> None:
        """``vol``: the estimator of a ``kelly_volatility`` with these ``params`` that is fed
        the same prints before the collector is (the Session's order): read, not updated,
        so σ is not computed twice per print. Without it the collector keeps its own."""
        self.params = params or KellyVolatilityParams.model_validate({})
        self._own_vol = vol is None
        self.vol = volatility_for(self.params) if vol is None else vol
        self.window = self.params.settlement_window_seconds
        self.buckets = tuple(sorted(buckets, reverse=True))
        self.max_lateness = max_lateness
        self.max_book_age = max_book_age
        self.windows: dict[str, WindowForecasts] = {}
        self._active: list[WindowForecasts] = []
        self._next_due = math.inf
        self._books: dict[str, BookUpdate] = {}
        self._prints: deque[tuple[int, float]] = deque(maxlen=self.window + 16)
        self._last_ts = -math.inf

    # --- inputs (the strategy's filters) ------------------------------------------------

    def on_market(self, info: MarketInfo) -> None:
        if info.ticker in self.windows or info.floor_strike is None:
            return
        if info.status not in ("active", "open"):
            return
        record = WindowForecasts(info.ticker, info.open_time, info.close_time, info.floor_strike)
        record.pending = sorted(
            ((info.close_time - 60.0 * m, m) for m in self.buckets), reverse=True
        )
        self.windows[info.ticker] = record
        self._active.append(record)
        self._next_due = min(self._next_due, record.pending[-1][0])

    def on_book(self, book: BookUpdate) -> None:
        self._books[book.ticker] = book

    def on_spot(self, tick: SpotTick) -> None:
        if self.params.index and tick.index != self.params.index:
            return
        if tick.stale:
            return
        self.on_price(float(tick.price), tick.ts)

    def on_price(self, price: float, ts: float) -> None:
        """A print already known to be valid for the strategy (fast path of :meth:`on_spot`)."""
        if not price > 0.0 or ts < self._last_ts:
            return
        self._last_ts = ts
        if self._own_vol:
            self.vol.update(price, ts)
        second = round(ts)
        prints = self._prints
        if prints and prints[-1][0] == second:
            prints[-1] = (second, price)
        else:
            prints.append((second, price))
        if ts >= self._next_due:
            self._take(price, ts)

    def on_settled(self, ticker: str, result: str | None, value: Decimal | None) -> None:
        record = self.windows.get(ticker)
        if record is not None and result in ("yes", "no"):
            record.result = result
            record.settlement = value

    # --- snapshots ----------------------------------------------------------------------

    def _known(self, close: float) -> list[float]:
        start = close - self.window
        return [p for s, p in self._prints if start < s <= close]

    def _take(self, price: float, ts: float) -> None:
        sigma = self.vol.sigma
        for record in self._active:
            due = record.pending
            while due and due[-1][0] <= ts:
                moment, minutes = due.pop()
                if ts - moment > self.max_lateness:
                    record.missing[minutes] = "no index print in time"
                elif sigma is None:
                    record.missing[minutes] = "volatility warming up"
                else:
                    record.snapshots[minutes] = self._snapshot(record, minutes, price, ts, sigma)
        self._active = [r for r in self._active if r.pending]
        self._next_due = min((r.pending[-1][0] for r in self._active), default=math.inf)

    def _snapshot(
        self, record: WindowForecasts, minutes: int, spot: float, ts: float, sigma: float
    ) -> Snapshot:
        left = record.close_time - ts
        strike = float(record.strike)
        known = self._known(record.close_time) if left < self.window else ()
        model = digital_probability(spot, strike, sigma, left, known, window=float(self.window))
        naive = naive_probability(spot, strike, sigma, left)
        book = self._books.get(record.ticker)
        market = None
        age_ok = self.max_book_age is None or (
            book is not None and ts - book.ts <= self.max_book_age
        )
        if book is not None and not book.stale and age_ok:
            mid = book.yes_mid
            market = None if mid is None else float(mid)
        return Snapshot(minutes, ts, left, spot, sigma, model.prob, naive, market)

    # --- results ------------------------------------------------------------------------

    def scored(self) -> list[WindowForecasts]:
        """Windows with an outcome, in the order they opened."""
        return [r for r in self.windows.values() if r.outcome is not None]


@dataclass(frozen=True, slots=True)
class Score:
    count: int
    brier: float
    log_loss: float


def _series(
    records: Iterable[WindowForecasts], minutes: int, source: str
) -> tuple[list[float], list[int]]:
    probs: list[float] = []
    outcomes: list[int] = []
    for record in records:
        outcome = record.outcome
        snap = record.snapshots.get(minutes)
        if outcome is None or snap is None:
            continue
        value = getattr(snap, source)
        if value is None:
            continue
        probs.append(float(value))
        outcomes.append(outcome)
    return probs, outcomes


def score_table(
    records: Sequence[WindowForecasts], buckets: Sequence[int] = BUCKETS
) -> dict[int, dict[str, Score]]:
    """Brier and log-loss per minutes-left bucket and per forecast source."""
    table: dict[int, dict[str, Score]] = {}
    for minutes in buckets:
        row: dict[str, Score] = {}
        for source in SOURCES:
            probs, outcomes = _series(records, minutes, source)
            row[source] = Score(len(probs), brier(probs, outcomes), log_loss(probs, outcomes))
        table[minutes] = row
    return table


def reliability_table(
    records: Sequence[WindowForecasts], buckets: Sequence[int] = BUCKETS, bins: int = 10
) -> dict[int, dict[str, list[ReliabilityBin]]]:
    return {
        minutes: {
            source: reliability(*_series(records, minutes, source), bins=bins) for source in SOURCES
        }
        for minutes in buckets
    }


def summary(
    records: Sequence[WindowForecasts], real: Mapping[int, float] = REAL_MARKET_BRIER
) -> dict[str, Any]:
    """JSON-ready calibration: scores and reliability bins per bucket, the real market for reference."""
    scores = score_table(records)
    bins = reliability_table(records)
    return {
        "windows_scored": len(records),
        "log_loss_clip": LOG_LOSS_EPS,
        "buckets": {
            str(minutes): {
                source: {
                    "n": score.count,
                    "brier": _finite(score.brier),
                    "log_loss": _finite(score.log_loss),
                }
                for source, score in row.items()
            }
            | {"real_kalshi_mid_brier_2026": real.get(minutes)}
            for minutes, row in scores.items()
        },
        "reliability": {
            str(minutes): {
                source: [
                    {
                        "lo": b.lo,
                        "hi": b.hi,
                        "n": b.count,
                        "mean_prob": _finite(b.mean_prob),
                        "frequency": _finite(b.frequency),
                    }
                    for b in row
                ]
                for source, row in per_source.items()
            }
            for minutes, per_source in bins.items()
        },
    }


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value
