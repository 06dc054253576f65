"""How the simulated market compares with Kalshi's: the mid's Brier score, bias, spread and depth.

The backtest's :class:`~backtest.market.MarketModel` is quoted on every window of a
stretch of history and read at 14, 10, 5, 2 and 1 minutes before close, the moments
``../shared/KALSHI.md`` measured the real markets at (KXSOL15M, KXBTC15M, KXETH15M:
``--series``). This is what the calibration tests check and what
``docs/market-model.md`` reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backtest.market import MICRO, MarketModel
from backtest.windows import WINDOW_SECONDS, Window
from scoring.forecasts import HORIZONS
from simulator.catalog import REAL_MID_BRIER

FloatArray = np.typing.NDArray[np.float64]
SOL = "KXSOL15M"
# KALSHI.md: medians of the real KXSOL15M book (spread in dollars by minutes left; size at the best).
REAL_SPREAD = {14: 0.02, 5: 0.01, 1: 0.005}
REAL_BEST_SIZE = (10, 13)
# The same per series (KALSHI.md: BTC 1¢/1¢/0.1¢ and 1,000–2,000 at the best; ETH ~30).
REAL_BOOK: dict[str, tuple[dict[int, float], tuple[int, int]]] = {
    SOL: (REAL_SPREAD, REAL_BEST_SIZE),
    "KXBTC15M": ({14: 0.01, 5: 0.01, 1: 0.001}, (1000, 2000)),
    "KXETH15M": ({14: 0.01, 5: 0.01, 1: 0.001}, (24, 36)),
}
# Mid bins of the favourite–longshot bias and the real SOL win rates in them.
REAL_BIAS_BINS = {(0.85, 0.95): 0.940, (0.05, 0.15): 0.065}


@dataclass(frozen=True, slots=True)
class MarketCheck:
    """The simulated mid against the outcome, with the book's shape, over ``windows`` windows."""

    windows: int
    brier: dict[int, float]  # minutes left → Brier score of the mid
    spread: dict[int, float]  # minutes left → median spread, dollars
    best_size: float  # median contracts at the best YES bid (all horizons)
    bias: dict[tuple[float, float], tuple[int, float, float]]  # bin → (count, mean mid, win rate)
    series: str = SOL  # whose real market it is compared with

    def brier_ratio(self) -> dict[int, float]:
        """Simulated ÷ real Brier score by minutes left (1.0 = as sharp as Kalshi)."""
        real = REAL_MID_BRIER[self.series]
        return {m: self.brier[m] / real[m] for m in HORIZONS}

    def lines(self) -> list[str]:
        """A plain-text table: simulated beside real."""
        real = REAL_MID_BRIER[self.series]
        spreads, (low, high) = REAL_BOOK[self.series]
        out = [f"simulated makers vs {self.series} over {self.windows} windows"]
        out.append("minutes left   mid Brier (real)      spread (real)")
        for m in HORIZONS:
            real_spread = spreads.get(m)
            spread = f"{self.spread[m] * 100:.2f}¢" + (
                f" ({real_spread * 100:.1f}¢)" if real_spread else ""
            )
            out.append(
                f"{m:>12}   {self.brier[m]:.4f} ({real[m]:.3f}) "
                f"{self.brier_ratio()[m] - 1:+6.1%}   {spread}"
            )
        out.append(f"median size at the best: {self.best_size:g} (real {low:,}–{high:,})")
        for (lo, hi), (count, mid, won) in self.bias.items():
            line = f"mids {lo:.2f}–{hi:.2f}: {count} quotes, mean {mid:.3f}, won {won:.1%}"
            if self.series == SOL:  # KALSHI.md measured the bias on SOL only
                line += f" (real {REAL_BIAS_BINS[(lo, hi)]:.1%})"
            out.append(line)
        return out


def check_market(model: MarketModel, windows: Sequence[Window], prices: FloatArray) -> MarketCheck:
    """Quote every window with ``model`` and score its mid at each horizon."""
    seconds = {m: WINDOW_SECONDS - 60 * m for m in HORIZONS}
    mids: dict[int, list[float]] = {m: [] for m in HORIZONS}
    spreads: dict[int, list[int]] = {m: [] for m in HORIZONS}
    sizes: list[int] = []
    outcomes: list[int] = []
    for window in windows:
        book = model.book(window, prices)
        outcomes.append(int(window.result == "yes"))
        for m, s in seconds.items():
            bid, ask = book.bids[s], book.asks[s]
            mids[m].append((bid + ask) / (2 * MICRO))
            spreads[m].append(ask - bid)
        book.requote(0, float(window.open_ts))
        best = next(iter(book.yes.values()), None)
        if best is not None:
            sizes.append(best[0])
    y = np.array(outcomes, dtype=np.float64)
    brier = {m: float(np.mean((np.array(mids[m]) - y) ** 2)) for m in HORIZONS}
    spread = {m: float(np.median(spreads[m])) / MICRO for m in HORIZONS}
    return MarketCheck(
        windows=len(outcomes),
        brier=brier,
        spread=spread,
        best_size=float(np.median(sizes)) if sizes else math.nan,
        bias=_bias(mids, y),
        series=model.params.series,
    )


def _bias(
    mids: dict[int, list[float]], outcomes: FloatArray
) -> dict[tuple[float, float], tuple[int, float, float]]:
    """Per bias bin, over minutes 1–14 pooled: quotes, mean mid and how often YES won."""
    every = np.concatenate([np.array(mids[m]) for m in HORIZONS])
    won = np.concatenate([outcomes for _ in HORIZONS])
    out: dict[tuple[float, float], tuple[int, float, float]] = {}
    for lo, hi in REAL_BIAS_BINS:
        inside = (every >= lo) & (every < hi)
        count = int(inside.sum())
        out[(lo, hi)] = (
            count,
            float(every[inside].mean()) if count else math.nan,
            float(won[inside].mean()) if count else math.nan,
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m backtest.market_check DIR [--series KXBTC15M]``: both presets on DIR's history."""
    import argparse
    from pathlib import Path

    from backtest.history_feed import prepare_history
    from backtest.market import MarketParams

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder (or file) of 1-minute OHLCV CSV")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--series", default=SOL, choices=sorted(REAL_BOOK), help="whose makers")
    args = parser.parse_args(argv)
    paths = sorted(args.data.rglob("*.csv")) if args.data.is_dir() else [args.data]
    data = prepare_history(paths, seed=args.seed, start=None, end=None, warmup=3600, lead=120)
    for preset in ("sharp", "soft"):
        params = MarketParams.model_validate({"preset": preset, "series": args.series})
        check = check_market(MarketModel(params, args.seed), data.windows, data.price)
        print(f"preset {preset}: " + "\n".join(check.lines()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
