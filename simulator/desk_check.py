"""The simulated makers' mid, read where Kalshi's was measured: 14, 10, 5, 2 and 1 minutes left.

The exchange runs without traders (only the index and the markets' lifecycle), and at
each of those moments the desk is asked what it would quote: its fair value, its noise,
its spread and its tick rounding, exactly as ``MakerDesk.step`` quotes. That is
thousands of windows a second, which is what a calibration check over hundreds of
seeded windows needs (the full exchange with its order books is a hundred times slower).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from scoring.forecasts import HORIZONS
from simulator.config import ExchangeConfig, MarketCalibration
from simulator.markets import MarketState
from simulator.pricing import shade_longshot
from simulator.traders import MakerDesk

HORIZON_MINUTES = HORIZONS
START = 1_780_000_200.0  # a quarter-hour boundary, as the tests' exchanges use


@dataclass(slots=True)
class DeskMids:
    """Mids (YES, dollars) by minutes left, window by window, and each window's outcome."""

    mids: dict[int, list[float]] = field(default_factory=lambda: {m: [] for m in HORIZON_MINUTES})
    spreads: dict[int, list[float]] = field(
        default_factory=lambda: {m: [] for m in HORIZON_MINUTES}
    )
    informed: dict[int, list[float]] = field(
        default_factory=lambda: {m: [] for m in HORIZON_MINUTES}
    )
    outcomes: list[int] = field(default_factory=list)

    def brier(self, minutes: int) -> float:
        """The mid's Brier score against the outcomes."""
        pairs = zip(self.mids[minutes], self.outcomes, strict=True)
        return sum((p - y) ** 2 for p, y in pairs) / len(self.outcomes)

    def expected_brier(self, minutes: int) -> float:
        """The mid's Brier score in expectation over the outcome, given the paths.

        With ``q`` = P(YES) given the index up to what the desk read (its
        :meth:`~simulator.traders.MakerDesk.informed_probability`), a window scores
        ``(mid − q)² + q(1 − q)`` on average over its outcome. The same mean as
        :meth:`brier`, without the coin flip of each outcome: a few hundred windows
        then measure what thousands measure with :meth:`brier`. Exact for the index's
        diffusion; its rare jumps are what the desk cannot price.
        """
        pairs = zip(self.mids[minutes], self.informed[minutes], strict=True)
        return sum((p - q) ** 2 + q * (1 - q) for p, q in pairs) / len(self.outcomes)


def desk_mids(config: ExchangeConfig, windows: int, start: float = START) -> DeskMids:
    """Quote ``windows`` consecutive windows of an exchange seeded by ``config``.

    Strikes and outcomes follow the exchange's own rule (``Exchange._activate`` and
    ``_determine``): the averages of the index's final minutes.
    """
    name = config.series.ticker
    return desks_on_one_path(config, {name: config.calibration}, windows, start)[name]


def desks_on_one_path(
    config: ExchangeConfig,
    calibrations: Mapping[str, MarketCalibration],
    windows: int,
    start: float = START,
) -> dict[str, DeskMids]:
    """Several desks (by name) quoting the same windows of ``config``'s first index.

    The mid's Brier score does not depend on the index's level or volatility: the paths of
    a geometric Brownian motion (with jumps scaled to its volatility, as every coin's in
    ``simulator.catalog``) are one path rescaled, and each desk prices with the index's own
    volatility. So each coin's desk can be scored on one seeded path (a fifth of the time
    of one path per coin); ``python -m simulator.desk_check --series`` runs each on its own.
    The desk named as ``config``'s series draws its noise exactly as :func:`desk_mids` does.
    """
    from simulator.exchange import MAKER_USER, Exchange  # the exchange imports the traders

    quiet = replace(config, market_makers=False, noise_traders=False, record_events=False)
    ex = Exchange(quiet, start=start)
    width = config.window_seconds
    desks = {
        name: (
            MakerDesk(
                ex.engine,
                ex.accounts[MAKER_USER],
                index=ex.index,
                calibration=calibration,
                levels=ex.levels,
                window_seconds=width,
                seed=config.seed,
            ),
            random.Random(
                f"desk-check:{config.seed}" + ("" if name == config.series.ticker else f":{name}")
            ),
            calibration,
            DeskMids(),
        )
        for name, calibration in calibrations.items()
    }
    for k in range(windows):
        open_ts = int(start) + k * width
        market = MarketState.for_window(config.series.ticker, open_ts, width, float(open_ts))
        ex.index.extend_to(open_ts + width)  # drawing the path early does not change it
        market.floor_strike = ex.index.settlement_average(open_ts)
        settled = ex.index.settlement_average(open_ts + width)
        for desk, rng, cal, out in desks.values():
            for minutes in HORIZON_MINUTES:
                t = open_ts + width - minutes * width // 15
                informed = desk.informed_probability(market, t)
                fair = shade_longshot(informed, cal.longshot_shading)
                fair += rng.gauss(0.0, cal.fair_value_noise)
                bid, ask = desk.top(fair, desk.spread(market, t))
                out.mids[minutes].append(float(bid + ask) / 2)
                out.spreads[minutes].append(float(ask - bid))
                out.informed[minutes].append(informed)
            out.outcomes.append(int(settled >= market.floor_strike))
    return {name: out for name, (_, _, _, out) in desks.items()}


def series_config(series: str, seed: int, preset: str = "sharp") -> ExchangeConfig:
    """A single-series exchange of ``series`` (its catalog calibration) with ``preset``."""
    from simulator.catalog import with_preset, with_series

    config = with_series(ExchangeConfig(seed=seed), [series])
    return with_preset(config, preset, "--preset")


def main(argv: list[str] | None = None) -> int:
    """``python -m simulator.desk_check``: the desk's mid Brier score beside Kalshi's."""
    import argparse

    from simulator.catalog import REAL_MID_BRIER, parse_series
    from simulator.config import ConfigError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=6_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--preset", default="sharp")
    parser.add_argument("--series", default="KXSOL15M", help="comma-separated, or all")
    args = parser.parse_args(argv)
    try:
        tickers = parse_series(args.series)
        configs = [series_config(ticker, args.seed, args.preset) for ticker in tickers]
    except ConfigError as exc:
        parser.error(str(exc))
    for ticker, config in zip(tickers, configs, strict=True):
        mids = desk_mids(config, args.windows)
        print(f"{ticker}: {args.windows} windows, seed {args.seed}, preset {args.preset}")
        real = REAL_MID_BRIER.get(ticker)
        for minutes in HORIZON_MINUTES:
            score = mids.brier(minutes)
            if real is None:
                print(f"{minutes:>2} min left: {score:.4f} (Kalshi: not measured)")
            else:
                off = score / real[minutes] - 1
                print(
                    f"{minutes:>2} min left: {score:.4f} (Kalshi {real[minutes]:.3f}, {off:+.1%})"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
