"""Settings of the simulated exchange, and the calibration of its simulated traders.

Every number that makes the simulated market look like the real KXSOL15M market
lives in :class:`MarketCalibration`, each with the measurement (from
``../shared/KALSHI.md``, recorded production data May–Aug 2026) it reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from kalshi.fees import FEE_TYPES
from kalshi.units import DEFAULT_PRICE_RANGES, PriceLevels
from simulator.schedule import interpolate

SECONDS_PER_YEAR = 365 * 86_400  # crypto trades every day: a 365-day year
SETTLEMENT_WINDOW_SECONDS = 60  # the averaged final minute of CF Benchmarks prints
REFERENCE_WINDOW_SECONDS = 900  # the real series' window; calibration is stated for it
# The furthest the makers read ahead, however long the window (the schedule is for 900 s).
MAX_LEAD_SECONDS = 120


class ConfigError(ValueError):
    """A configuration the exchange cannot run with; the message names the setting."""


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """The simulated SOLUSD_RTI: GBM plus rare jumps, one print per second.

    The default volatility reproduces KALSHI.md's median absolute 15-minute
    change of 0.14%: median |N(0, s)| = 0.6745 s, so s = 0.2076% per 15 minutes,
    and 0.2076% × sqrt(365 × 96) ≈ 0.39 annualized.
    """

    start_price: Decimal = Decimal("75.00")  # strikes were $60–86 in the measured period
    volatility: float = 0.39  # annualized, 365-day year
    jumps_per_day: float = 4.0
    jump_sd: float = 0.003  # log-return standard deviation of one jump (0.3%)
    decimals: int = 4  # each print is rounded to this many decimals
    index_id: str = "SOLUSD_RTI"
    # The weight of the common crypto factor in each second's shock (the rest is this
    # index's own noise): used only when the exchange runs more than one series, so a
    # series alone keeps its own stream of draws. Two indices' returns correlate about
    # loading × loading × (the diffusion's share of the variance; jumps are their own).
    factor_loading: float = 0.965

    def validate(self) -> None:
        if self.start_price <= 0:
            raise ConfigError("index.start_price must be positive")
        if not 0 <= self.volatility <= 10:
            raise ConfigError("index.volatility must be between 0 and 10 (annualized)")
        if self.jumps_per_day < 0 or self.jump_sd < 0:
            raise ConfigError("index.jumps_per_day and index.jump_sd must be >= 0")
        if not 0 <= self.decimals <= 8:
            raise ConfigError("index.decimals must be between 0 and 8")
        if not 0 <= self.factor_loading <= 1:
            raise ConfigError("index.factor_loading must be between 0 and 1")


# Seconds the sharp makers read ahead, by seconds left, fitted so the mid's Brier score
# matches KXSOL15M's (docs/market-model.md). The look-ahead a market needs depends on its
# index: the simulator's GBM index is harder to forecast five minutes out than real SOL
# was, so its makers read further ahead than those quoting real history in a backtest.
SIM_LEAD_SCHEDULE: tuple[tuple[int, int], ...] = (
    (900, 33),
    (840, 33),
    (600, 23),
    (300, 78),
    (120, 41),
    (60, 16),
    (0, 0),
)
HISTORY_LEAD_SCHEDULE: tuple[tuple[int, int], ...] = (
    (900, 24),
    (840, 24),
    (600, 7),
    (300, 10),
    (120, 22),
    (60, 6),
    (0, 0),
)
SHARP_LONGSHOT_SHADING = 0.92


@dataclass(frozen=True, slots=True)
class MarketCalibration:
    """How the simulated market makers and noise traders behave.

    Times are "seconds left" in a 900-second window; shorter windows are
    compressed onto the same schedule (see :meth:`scaled_left`).
    """

    # Median YES spread by time left (KALSHI.md): about 2¢ with 14–9 minutes left,
    # 1¢ at 5, 0.8¢ at 2, 0.5¢ in the last minute. Linear in between. In the middle
    # price band the tick is 1¢, so sub-cent spreads appear only in the tails.
    spread_schedule: tuple[tuple[int, Decimal], ...] = (
        (900, Decimal("0.020")),
        (540, Decimal("0.020")),
        (300, Decimal("0.010")),
        (120, Decimal("0.008")),
        (60, Decimal("0.005")),
        (0, Decimal("0.005")),
    )
    # Depth at the best price: median about 10–13 contracts (KALSHI.md), so the
    # best level is drawn uniformly from 8..14 (median 11).
    best_size: tuple[int, int] = (8, 14)
    # Deeper levels: thicker, so a sweep walks a few ticks rather than the whole book.
    deep_size: tuple[int, int] = (10, 40)
    depth_levels: int = 6
    # The makers' fair value reads the index this many seconds late (the soft preset's
    # makers are 5 s late; Kalshi's are not measurably late).
    fair_value_lag_seconds: int = 0
    # ... and this many seconds *ahead* of the index the bot sees, by seconds left
    # (``(seconds_left, seconds_ahead)``, linear in between). Real makers know more than
    # the index print: the venues the index averages, order flow. Reading the index
    # ahead is how the simulation gives its makers that knowledge; the schedule is
    # fitted so the mid's Brier score matches KXSOL15M's at 14/10/5/2/1 minutes left
    # (docs/market-model.md). A model that reads only the index cannot beat this mid.
    fair_value_lead_schedule: tuple[tuple[int, int], ...] = SIM_LEAD_SCHEDULE
    # Each requote adds N(0, noise) to the makers' fair value (dollars).
    fair_value_noise: float = 0.002
    # Favourite–longshot bias: the makers' probability is shaded toward 1/2 in log-odds,
    # logit(quoted) = shading × logit(fair). Real SOL mids of 0.85–0.95 won 94.0%, mids of
    # 0.05–0.15 won 6.5% (KALSHI.md); 1.0 is no bias.
    longshot_shading: float = SHARP_LONGSHOT_SHADING
    # Chance per second that the makers refresh their ladder even when their price did
    # not move; with the price moves this gives "the best quote changes in about two of
    # three 5-second polls" (KALSHI.md).
    requote_probability: float = 0.15
    # Noise-trader orders per minute by time left. KALSHI.md measured about 67 trades a
    # minute 4–6 minutes before close; an order that sweeps several levels prints several
    # trades (about 1.25 per order here), so 54 orders a minute give about 67 trades.
    # Quieter early in the window.
    taker_orders_per_minute: tuple[tuple[int, float], ...] = (
        (900, 24.0),
        (420, 45.0),
        (360, 54.0),
        (240, 54.0),
        (60, 48.0),
        (0, 32.0),
    )
    # Trade size: KALSHI.md measured a median trade of 3 contracts (mean 17). An order
    # that walks the thin book prints several smaller trades, so orders are drawn a
    # little smaller: a lognormal with median 2 and mean 17 (sigma = sqrt(2 ln(17/2)))
    # gives trades with a median of 3. Their mean stays near 7: at most a couple of
    # levels are swept (``taker_reach_ticks``), so the largest orders are not filled whole.
    trade_size_median: float = 2.0
    trade_size_mean: float = 17.0
    trade_size_max: int = 250
    # How far past the best price a noise trader's IOC limit reaches (in ticks).
    taker_reach_ticks: int = 2

    def scaled_left(self, seconds_left: float, window_seconds: int) -> float:
        """Seconds left mapped onto the 900-second schedule."""
        return seconds_left * REFERENCE_WINDOW_SECONDS / window_seconds

    def lead_seconds(self, seconds_left: float, window_seconds: int) -> int:
        """Whole seconds the makers see ahead of the index, ``seconds_left`` before close.

        A shorter window is the same market sped up, so its look-ahead shrinks with it.
        """
        left = self.scaled_left(seconds_left, window_seconds)
        ahead = interpolate(self.fair_value_lead_schedule, left)
        return min(round(ahead * window_seconds / REFERENCE_WINDOW_SECONDS), MAX_LEAD_SECONDS)

    def validate(self) -> None:
        if self.best_size[0] < 1 or self.best_size[1] < self.best_size[0]:
            raise ConfigError("calibration.best_size must be a (low, high) range with low >= 1")
        if self.deep_size[0] < 1 or self.deep_size[1] < self.deep_size[0]:
            raise ConfigError("calibration.deep_size must be a (low, high) range with low >= 1")
        if self.depth_levels < 1:
            raise ConfigError("calibration.depth_levels must be >= 1")
        if self.fair_value_lag_seconds < 0:
            raise ConfigError("calibration.fair_value_lag_seconds must be >= 0")
        lead = self.fair_value_lead_schedule
        if not lead or any(not 0 <= ahead <= MAX_LEAD_SECONDS for _, ahead in lead):
            raise ConfigError(
                f"calibration.fair_value_lead_schedule: seconds ahead must be 0–{MAX_LEAD_SECONDS}"
            )
        if [t for t, _ in lead] != sorted((t for t, _ in lead), reverse=True):
            raise ConfigError("calibration.fair_value_lead_schedule: seconds left must descend")
        if not 0 < self.longshot_shading <= 2:
            raise ConfigError("calibration.longshot_shading must be in (0, 2]")
        if self.trade_size_mean < self.trade_size_median or self.trade_size_median < 1:
            raise ConfigError("calibration.trade_size_mean must be >= trade_size_median >= 1")


# The makers before they were calibrated to Kalshi's mid: 5 s late, noisier, no
# look-ahead. Softer than the real market at every horizon; kept for experiments.
SOFT_CALIBRATION = MarketCalibration(
    fair_value_lag_seconds=5,
    fair_value_lead_schedule=((0, 0),),
    fair_value_noise=0.004,
    longshot_shading=1.0,
)
MARKET_PRESETS: dict[str, MarketCalibration] = {
    "sharp": MarketCalibration(),
    "soft": SOFT_CALIBRATION,
}
DEFAULT_MARKET_PRESET = "sharp"


def market_preset(name: str, setting: str = "market preset") -> MarketCalibration:
    """The calibration a preset names; an unknown name is an error naming ``setting``."""
    try:
        return MARKET_PRESETS[name]
    except KeyError:
        known = ", ".join(MARKET_PRESETS)
        raise ConfigError(f"{setting}: unknown preset {name!r} (one of {known})") from None


@dataclass(frozen=True, slots=True)
class SeriesConfig:
    """The one series the exchange lists, as ``GET /series/{ticker}`` shows it."""

    ticker: str = "KXSOL15M"
    title: str = "SOL price up or down in next 15 mins?"
    coin: str = "SOL"  # the asset's short name, in market titles and rules
    fee_type: str = "quadratic"  # 15-minute crypto series: no maker fee (KALSHI.md ⚠)
    fee_multiplier: Decimal = Decimal(1)

    def validate(self) -> None:
        if self.fee_type not in FEE_TYPES:
            raise ConfigError(f"series.fee_type must be one of {', '.join(sorted(FEE_TYPES))}")
        if self.fee_multiplier < 0:
            raise ConfigError("series.fee_multiplier must be >= 0")


@dataclass(frozen=True, slots=True)
class SeriesSetup:
    """One listed series with its own index process and its own makers' calibration."""

    series: SeriesConfig = field(default_factory=SeriesConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    calibration: MarketCalibration = field(default_factory=MarketCalibration)

    def validate(self) -> None:
        self.index.validate()
        self.calibration.validate()
        self.series.validate()


# Endpoints whose token cost differs from the default (Kalshi's notes in openapi.yaml):
# (method, path under /trade-api/v2 in the spec's notation, cost).
NON_DEFAULT_COSTS: tuple[tuple[str, str, int], ...] = (
    ("GET", "/portfolio/orders/{order_id}", 2),
    ("DELETE", "/portfolio/events/orders", 2),
    ("DELETE", "/portfolio/events/orders/{order_id}", 2),
    ("DELETE", "/portfolio/events/orders/batched", 2),  # per order in the batch
    ("GET", "/cfbenchmarks/{path}", 50),  # the CF Benchmarks passthrough
)


@dataclass(frozen=True, slots=True)
class ApiLimitsConfig:
    """What ``GET /account/limits`` and ``GET /account/endpoint_costs`` report.

    Defaults are Kalshi's Basic tier: 200 read and 100 write tokens per second,
    10 tokens a request unless listed otherwise (KALSHI.md). The simulator
    reports these; it does not enforce them (``error_429_*`` faults do that).
    """

    usage_tier: str = "basic"
    read_refill_rate: int = 200
    read_capacity: int = 200
    write_refill_rate: int = 100
    write_capacity: int = 100
    default_cost: int = 10
    endpoint_costs: tuple[tuple[str, str, int], ...] = NON_DEFAULT_COSTS
    max_batch_orders: int = 20  # orders (or cancels) in one batch request

    def validate(self) -> None:
        buckets = (self.read_refill_rate, self.read_capacity, self.write_refill_rate)
        if min(*buckets, self.write_capacity, self.default_cost, self.max_batch_orders) < 1:
            raise ConfigError("api_limits: rates, capacities, costs and batch size must be >= 1")
        if any(cost < 1 for _, _, cost in self.endpoint_costs):
            raise ConfigError("api_limits.endpoint_costs: every cost must be >= 1")


@dataclass(frozen=True, slots=True)
class ExchangeConfig:
    """Everything the pure core needs; the same config and seed give the same run."""

    seed: int = 0
    window_seconds: int = 900
    index: IndexConfig = field(default_factory=IndexConfig)
    calibration: MarketCalibration = field(default_factory=MarketCalibration)
    series: SeriesConfig = field(default_factory=SeriesConfig)
    # More series beside the first (``series``/``index``/``calibration``), each with its own
    # index and makers (``simulator.catalog`` has every 15-minute crypto series). Empty by
    # default: the exchange lists KXSOL15M alone, exactly as before.
    extra_series: tuple[SeriesSetup, ...] = ()
    api_limits: ApiLimitsConfig = field(default_factory=ApiLimitsConfig)
    price_levels: PriceLevels = field(default_factory=lambda: PriceLevels(DEFAULT_PRICE_RANGES))
    starting_balance: Decimal = Decimal("10000")  # dollars, for each new user
    determination_delay_seconds: int = 2  # close → determined
    settlement_timer_seconds: int = 3  # determined → finalized (payouts credited)
    market_makers: bool = True
    noise_traders: bool = True
    record_events: bool = True  # keep an outbox of events for the WebSocket feed
    index_retain_seconds: int = 7_200
    # Whether accounts may use the CF Benchmarks passthrough (Kalshi's needs an entitlement)
    cfbenchmarks_entitled: bool = True
    # A market settled (or a trade made) this long ago is archived: served only by
    # /historical/* (Kalshi's live/historical cutoff, about three months ⚠; tests shorten it)
    historical_after_seconds: int = 90 * 86_400
    # the first half of every order, fill and trade id: None draws one per exchange, so two
    # runs of the same seed never share an id (prices still follow the seed alone)
    id_run: int | None = None

    def validate(self) -> None:
        if self.window_seconds < 60:
            # Tickers carry the close time to the minute: two windows closing in the same
            # minute would share a ticker.
            raise ConfigError(
                "window_seconds must be at least 60: shorter windows would share a ticker"
            )
        if self.window_seconds > 86_400:
            raise ConfigError("window_seconds must be at most 86400")
        if self.starting_balance < 0:
            raise ConfigError("starting_balance must be >= 0")
        if self.id_run is not None and not 0 <= self.id_run < 1 << 64:
            raise ConfigError("id_run must be a 64-bit number (or None: random per exchange)")
        if self.historical_after_seconds < 0:
            raise ConfigError("historical_after_seconds must be >= 0")
        if self.determination_delay_seconds < 0 or self.settlement_timer_seconds < 0:
            raise ConfigError("determination_delay_seconds and settlement_timer_seconds >= 0")
        for setup in self.listings():
            setup.validate()
        for name, keys in (
            ("series ticker", [s.series.ticker for s in self.listings()]),
            ("index id", [s.index.index_id for s in self.listings()]),
        ):
            repeated = sorted({key for key in keys if keys.count(key) > 1})
            if repeated:
                raise ConfigError(f"extra_series: {name} listed twice: {', '.join(repeated)}")
        self.api_limits.validate()

    def listings(self) -> tuple[SeriesSetup, ...]:
        """Every series the exchange lists, the first (``series``) first."""
        first = SeriesSetup(self.series, self.index, self.calibration)
        return (first, *self.extra_series)
