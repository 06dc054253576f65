"""The model's Brier score beside the market's, by minutes left, each with its interval.

The difference model − market is paired by window: only windows where both made a
forecast at that horizon count, and a resample draws a window's two forecasts together,
so the interval of the difference is much narrower than the two intervals side by side
suggest. A negative difference means the model forecast better than the market's mid.
Which market it was (our simulated makers, a recording, Kalshi's own quotes) is the
caller's to say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scoring.forecasts import HORIZONS, REAL_SOL_MID_BRIER, Forecast, by_horizon
from scoring.intervals import Interval, mean_by_window


@dataclass(frozen=True, slots=True)
class BrierRow:
    minutes: int
    model: Interval
    market: Interval
    difference: Interval  # model − market, on the windows both forecast
    real_market: float | None  # the real KXSOL15M mid (KALSHI.md), for reference

    def as_dict(self) -> dict[str, Any]:
        return {
            "minutes_left": self.minutes,
            "model": self.model.as_dict(),
            "market": self.market.as_dict(),
            "model_minus_market": self.difference.as_dict(),
            "real_kxsol15m_mid": self.real_market,
        }


def _squared(forecast: Forecast) -> float:
    return (forecast.prob - forecast.outcome) ** 2


def _window(forecast: Forecast) -> str:
    return forecast.window


def _window_of_pair(pair: tuple[Forecast, Forecast]) -> str:
    return pair[0].window


def compare_brier(
    model: Sequence[Forecast],
    market: Sequence[Forecast],
    *,
    horizons: Sequence[int] = HORIZONS,
    real: Mapping[int, float] = REAL_SOL_MID_BRIER,
    seed: int = 0,
) -> list[BrierRow]:
    """One row per horizon in ``horizons`` (NaN intervals where a side has no forecast)."""
    models, markets = by_horizon(model), by_horizon(market)
    rows = []
    for minutes in horizons:
        ours = models.get(minutes, [])
        theirs = {f.window: f for f in markets.get(minutes, [])}
        pairs = [(f, theirs[f.window]) for f in ours if f.window in theirs]
        rows.append(
            BrierRow(
                minutes,
                mean_by_window(ours, _window, _squared, seed=seed),
                mean_by_window(list(theirs.values()), _window, _squared, seed=seed),
                mean_by_window(
                    pairs, _window_of_pair, lambda p: _squared(p[0]) - _squared(p[1]), seed=seed
                ),
                real.get(minutes),
            )
        )
    return rows
