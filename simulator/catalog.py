"""Every 15-minute crypto series the simulator can list, calibrated per coin (KALSHI.md).

Each entry is a :class:`~simulator.config.SeriesSetup`: the series as ``GET /series``
shows it, its index process and its makers. The figures are KALSHI.md's (May–Aug 2026):

- **Volatility.** The SOL index keeps the simulator's calibration (0.39: KALSHI.md's
  median absolute 15-minute change; see :class:`~simulator.config.IndexConfig`). The
  table's 15-minute return s.d. (annualized: SOL 61%) is fattened by jumps and regimes a
  GBM does not have, so every other coin is scaled by the same factor, 0.39 / 0.61: their
  volatility *relative to SOL* is the table's. Jumps scale with it.
- **Start level**: the middle of the strike range; **decimals**: enough that a print's
  step is about a millionth of the price (BTC 2, DOGE 7).
- **Correlation**: 15-minute returns correlate 0.83–0.89 between BTC, ETH, SOL, XRP and
  DOGE, about 0.6 with HYPE; ``factor_loading`` reproduces that (about
  loading_i × loading_j × 0.92, the diffusion's share of the variance).
- **Makers**: the median spread at 14 / 5 / 1 minutes left and the size at the best.
  Each coin's look-ahead schedule is fitted so its mid's Brier score matches that coin's
  (``python -m simulator.desk_check --series …``); SOL's is the simulator's own.

⚠ KXBNB15M has no row in KALSHI.md: its index id (``BNBUSD_RTI``), volatility, price
range, correlation, spread and depth are guesses, marked as such, until measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from scoring.forecasts import REAL_SOL_MID_BRIER
from simulator.config import (
    DEFAULT_MARKET_PRESET,
    SECONDS_PER_YEAR,
    SIM_LEAD_SCHEDULE,
    ConfigError,
    ExchangeConfig,
    IndexConfig,
    MarketCalibration,
    SeriesConfig,
    SeriesSetup,
    market_preset,
)

SOL_TABLE_VOLATILITY = 0.61  # KALSHI.md: SOL's 15-minute return s.d., annualized
VOLATILITY_SCALE = IndexConfig().volatility / SOL_TABLE_VOLATILITY
MAJOR_LOADING = 0.965  # BTC, ETH, SOL, XRP, DOGE: pairwise correlation about 0.86


def _spreads(early: str, five: str, last: str) -> tuple[tuple[int, Decimal], ...]:
    """A spread schedule from KALSHI.md's medians at 14, 5 and 1 minutes left."""
    return (
        (900, Decimal(early)),
        (540, Decimal(early)),
        (300, Decimal(five)),
        (60, Decimal(last)),
        (0, Decimal(last)),
    )


def _leads(m14: int, m10: int, m5: int, m2: int, m1: int) -> tuple[tuple[int, int], ...]:
    """A look-ahead schedule from its values at the horizons the Brier score is measured at."""
    return ((900, m14), (840, m14), (600, m10), (300, m5), (120, m2), (60, m1), (0, 0))


def _setup(
    coin: str,
    index_id: str,
    *,
    table_volatility: float,
    start: str,
    decimals: int,
    loading: float,
    spreads: tuple[tuple[int, Decimal], ...],
    best: tuple[int, int],
    deep: tuple[int, int],
    lead: tuple[int, int, int, int, int] | None = None,
    lag: int = 0,
) -> SeriesSetup:
    """``lead``: seconds ahead at 14, 10, 5, 2 and 1 minutes left (None: SOL's schedule)."""
    volatility = round(table_volatility * VOLATILITY_SCALE, 4)
    base = IndexConfig()
    index = IndexConfig(
        start_price=Decimal(start),
        volatility=volatility,
        jump_sd=round(base.jump_sd * volatility / base.volatility, 6),
        decimals=decimals,
        index_id=index_id,
        factor_loading=loading,
    )
    calibration = MarketCalibration(
        spread_schedule=spreads,
        best_size=best,
        deep_size=deep,
        fair_value_lead_schedule=SIM_LEAD_SCHEDULE if lead is None else _leads(*lead),
        fair_value_lag_seconds=lag,
    )
    series = SeriesConfig(
        ticker=f"KX{coin}15M", title=f"{coin} price up or down in next 15 mins?", coin=coin
    )
    return SeriesSetup(series, index, calibration)


# SOL exactly as the single-series exchange runs it (ExchangeConfig's defaults).
SOL = SeriesSetup()
BTC = _setup(
    "BTC",
    "BRTI",
    table_volatility=0.41,
    start="67965.00",  # strikes $58,040–77,890
    decimals=2,
    loading=MAJOR_LOADING,
    spreads=_spreads("0.010", "0.010", "0.001"),
    best=(1000, 2000),
    deep=(1000, 3000),
    lead=(22, 0, 20, 26, 14),
)
ETH = _setup(
    "ETH",
    "ETHUSD_RTI",
    table_volatility=0.54,
    start="1828.00",  # strikes $1,520–2,136
    decimals=2,
    loading=MAJOR_LOADING,
    spreads=_spreads("0.010", "0.010", "0.001"),
    best=(24, 36),
    deep=(24, 60),
    lead=(32, 36, 52, 34, 17),
)
XRP = _setup(
    "XRP",
    "XRPUSD_RTI",  # ⚠ KALSHI.md: seen only in third-party material
    table_volatility=0.52,
    start="1.1875",  # strikes $1.013–1.362
    decimals=6,
    loading=MAJOR_LOADING,
    spreads=_spreads("0.020", "0.020", "0.006"),
    best=(16, 24),
    deep=(16, 40),
    lead=(2, 10, 26, 26, 14),
)
DOGE = _setup(
    "DOGE",
    "DOGEUSD_RTI",  # ⚠ KALSHI.md: seen only in third-party material
    table_volatility=0.56,
    start="0.0860",  # strikes $0.0684–0.1036
    decimals=7,
    loading=MAJOR_LOADING,
    spreads=_spreads("0.030", "0.020", "0.007"),
    best=(2, 6),  # "a few"
    deep=(2, 10),
    lead=(0, 12, 42, 14, 0),
)
HYPE = _setup(
    "HYPE",
    "HYPEUSD_RTI",  # ⚠ KALSHI.md names no id: "see the series"
    table_volatility=0.94,
    start="64.05",  # strikes $51.26–76.84
    decimals=4,
    loading=0.67,  # correlation about 0.6 with the others
    spreads=_spreads("0.020", "0.020", "0.006"),
    best=(8, 12),
    deep=(10, 40),
    lead=(14, 0, 20, 0, 18),
    lag=4,  # the 2-minute mid is softer than no look-ahead gives
)
BNB = _setup(
    "BNB",
    "BNBUSD_RTI",  # ⚠ not measured: every figure of this entry is a guess
    table_volatility=0.45,  # ⚠
    start="650.000",  # ⚠
    decimals=3,
    loading=0.9,  # ⚠ correlation about 0.8 with the majors
    spreads=_spreads("0.020", "0.010", "0.005"),  # ⚠ as SOL's
    best=(6, 14),  # ⚠
    deep=(10, 40),  # ⚠
)

# Every series, in the order the exchange lists them (SOL first: the default's).
CATALOG: dict[str, SeriesSetup] = {
    setup.series.ticker: setup for setup in (SOL, BTC, ETH, XRP, DOGE, HYPE, BNB)
}

# KALSHI.md: the real mid's Brier score by minutes left (14, 10, 5, 2, 1), per series.
# KXBNB15M was not measured.
REAL_MID_BRIER: dict[str, dict[int, float]] = {
    "KXBTC15M": {14: 0.233, 10: 0.190, 5: 0.118, 2: 0.054, 1: 0.024},
    "KXETH15M": {14: 0.231, 10: 0.181, 5: 0.109, 2: 0.050, 1: 0.022},
    "KXSOL15M": dict(REAL_SOL_MID_BRIER),
    "KXXRP15M": {14: 0.236, 10: 0.186, 5: 0.116, 2: 0.054, 1: 0.024},
    "KXDOGE15M": {14: 0.237, 10: 0.185, 5: 0.112, 2: 0.058, 1: 0.033},
    "KXHYPE15M": {14: 0.235, 10: 0.193, 5: 0.119, 2: 0.069, 1: 0.024},
}


def parse_series(text: str, setting: str = "--series") -> list[str]:
    """Series tickers from a comma-separated list or ``all``, in catalog order.

    An unknown ticker is an error naming it and ``setting``.
    """
    names = [name.strip().upper() for name in text.split(",") if name.strip()]
    if names == ["ALL"]:
        return list(CATALOG)
    if not names:
        raise ConfigError(f"{setting}: name at least one series (or all)")
    unknown = [name for name in names if name not in CATALOG]
    if unknown:
        known = ", ".join(CATALOG)
        raise ConfigError(f"{setting}: unknown series {', '.join(unknown)} (one of {known}, all)")
    return [ticker for ticker in CATALOG if ticker in names]


def with_series(config: ExchangeConfig, tickers: list[str]) -> ExchangeConfig:
    """``config`` listing ``tickers`` (known ones, in catalog order; the first becomes
    ``config.series``, so the same set of series always draws the same streams).

    The first series keeps ``config``'s index and calibration when it is ``config``'s own
    series (so a preset or a volatility set on it survives); the others come from the
    catalog.
    """
    setups = [setup for ticker, setup in CATALOG.items() if ticker in tickers]
    first, extra = setups[0], tuple(setups[1:])
    if first.series.ticker == config.series.ticker:
        return replace(config, extra_series=extra)
    return replace(
        config,
        series=first.series,
        index=first.index,
        calibration=first.calibration,
        extra_series=extra,
    )


def with_preset(
    config: ExchangeConfig, name: str, setting: str = "market preset"
) -> ExchangeConfig:
    """Every listed series' makers behaving as the preset ``name`` says.

    ``sharp`` keeps each coin's own calibration. Another preset keeps each coin's spread,
    depth and flow and takes the preset's information: its lag, look-ahead, noise and
    longshot shading (``soft`` applied to SOL is exactly ``SOFT_CALIBRATION``).
    """
    preset = market_preset(name, setting)
    if name == DEFAULT_MARKET_PRESET:
        return config

    def informed_as_preset(calibration: MarketCalibration) -> MarketCalibration:
        return replace(
            calibration,
            fair_value_lag_seconds=preset.fair_value_lag_seconds,
            fair_value_lead_schedule=preset.fair_value_lead_schedule,
            fair_value_noise=preset.fair_value_noise,
            longshot_shading=preset.longshot_shading,
        )

    return map_calibrations(config, informed_as_preset)


def map_calibrations(
    config: ExchangeConfig, change: Callable[[MarketCalibration], MarketCalibration]
) -> ExchangeConfig:
    """``config`` with ``change`` applied to every listed series' calibration."""
    extra = tuple(replace(s, calibration=change(s.calibration)) for s in config.extra_series)
    return replace(config, calibration=change(config.calibration), extra_series=extra)


def return_correlation(a: IndexConfig, b: IndexConfig) -> float:
    """The correlation of two indices' returns (any horizon) when they run together.

    Their diffusions share the common factor (loading × loading); their jumps are their
    own, so each diffusion's share of the variance scales it down.
    """
    return a.factor_loading * b.factor_loading * _diffusion_share(a) * _diffusion_share(b)


def _diffusion_share(index: IndexConfig) -> float:
    """The diffusion's part of the index's return s.d. (the rest is jumps)."""
    diffusion = index.volatility**2 / SECONDS_PER_YEAR
    jumps = index.jumps_per_day / 86_400 * index.jump_sd**2
    return float((diffusion / (diffusion + jumps)) ** 0.5)
