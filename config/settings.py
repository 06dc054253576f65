"""Every setting sol15 reads, with its default; invalid values stop start-up with one line each.

The names are the ▶ Environment contract in DESIGN.md. Values come from the
process environment first, then from ``.env``. Money limits are ``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.series import (
    DEFAULT_SERIES,
    SeriesConfigError,
    SeriesSettings,
    parse_series_list,
    parse_series_settings,
    series_variables,
)

# Settings whose values must never be echoed back in an error message.
SECRET_SETTINGS = frozenset({"KALSHI_API_KEY", "API_TOKEN", "ALERT_URLS"})


class KalshiEnv(StrEnum):
    PROD = "prod"
    DEMO = "demo"


class LogLevel(StrEnum):
    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


class ConfigError(Exception):
    """Invalid settings; ``lines`` holds one ``NAME: problem`` line per bad setting."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    # Kalshi access
    kalshi_api_key: SecretStr | None = None
    kalshi_private_key_path: Path | None = None
    kalshi_env: KalshiEnv = KalshiEnv.PROD
    kalshi_api_base: str | None = None
    kalshi_ws_url: str | None = None
    dry_run_mode: bool = True
    # the rate-limit tier assumed when Kalshi's GET /account/limits cannot be read
    kalshi_rate_tier: str = "basic"

    # storage and API; unset: one SQLite file per mode in DATA_DIR (``ledger_url``)
    database_url: str | None = None
    api_token: SecretStr | None = None
    cors_origins: str = ""

    # risk limits
    max_position_size: Decimal = Field(Decimal("1000"), gt=0)
    max_daily_loss: Decimal = Field(Decimal("500"), gt=0)
    circuit_breaker_pct: Decimal = Field(Decimal("0.20"), gt=0, le=1)
    max_concurrent_positions: int = Field(5, ge=1)
    # dollars at cost across every market, positions plus resting buys (unset: no such limit)
    max_total_exposure: Decimal | None = Field(None, gt=0)
    # dollars of same-direction risk (YES, or NO) across all series' markets closing at the
    # same time: BTC, ETH and SOL move together, so YES on all three is one bet (unset: off)
    max_correlated_exposure: Decimal | None = Field(None, gt=0)
    min_edge: Decimal = Field(Decimal("0.03"), ge=0, lt=1)
    # the exchange-side kill switch: contracts the session's order group may match in Kalshi's
    # rolling 15 s before the exchange cancels its orders (unset: sized from the limits above)
    order_group_contracts: int | None = Field(None, ge=1)
    # an approved order not sent within this many seconds (queued behind a slow one) is dropped
    max_intent_age_seconds: float = Field(2.0, gt=0, le=60)

    # trading
    # the 15-minute series traded, comma-separated, or ``all``; per-series overrides are
    # SERIES_<TICKER>_<SETTING> variables (config/series.py), read by ``load_settings``
    series: str = DEFAULT_SERIES
    # enabled strategies, comma-separated; mean_reversion loses in every backtest, so it is opt-in
    strategies: str = "kelly_volatility"
    # per-strategy parameter overrides as JSON, e.g. {"kelly_volatility": {"min_edge": 0.05}}
    strategy_params: str = ""
    paper_bankroll: Decimal = Field(Decimal("1000"), gt=0)  # dollars the paper account starts with
    sim_window_seconds: int = Field(300, ge=60)  # market length of the built-in exchange
    # the built-in exchange's makers: sharp (calibrated to Kalshi's mid) or soft (the old ones)
    sim_market_preset: Literal["sharp", "soft"] = "sharp"

    # alerts through apprise (none without ALERT_URLS); see alerting/rules.py for the rules
    alert_urls: SecretStr | None = None  # URLs often carry tokens: never echoed
    alert_rules: str = ""
    alert_dedupe_minutes: float = Field(15.0, gt=0, le=1440)
    alert_feed_stale_seconds: float = Field(60.0, gt=0)
    alert_error_burst: int = Field(5, ge=1)
    alert_restart_storm: int = Field(5, ge=1)
    alert_burst_window_seconds: float = Field(60.0, gt=0)
    alert_daily_summary_at: str = "00:00"

    # logging and files
    log_level: LogLevel = LogLevel.INFO
    log_json: bool = False
    log_dir: Path = Path("logs")
    data_dir: Path = Path("data")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("kalshi_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("kalshi_ws_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value

    @field_validator("kalshi_rate_tier")
    @classmethod
    def _known_tier(cls, value: str) -> str:
        from kalshi.rate_limit import tier_named

        return tier_named(value).name

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError(
                "must be a URL such as sqlite:///data/sol15.db or postgresql+psycopg://…"
            )
        return value

    _series_settings: SeriesSettings | None = PrivateAttr(None)

    @field_validator("series")
    @classmethod
    def _series(cls, value: str) -> str:
        parse_series_list(value)
        return value.strip()

    @property
    def series_settings(self) -> SeriesSettings:
        """``SERIES`` and its per-series overrides (validated by ``load_settings``; settings
        built directly read the overrides from the process environment)."""
        if self._series_settings is None:
            import os

            self._series_settings = parse_series_settings(self.series, series_variables(os.environ))
        return self._series_settings

    @field_validator("strategy_params")
    @classmethod
    def _strategy_params(cls, value: str) -> str:
        parse_strategy_params(value)
        return value

    @field_validator("alert_urls")
    @classmethod
    def _alert_urls(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from alerting.targets import targets_of

        targets_of(value.get_secret_value())
        return value

    @field_validator("alert_rules")
    @classmethod
    def _alert_rules(cls, value: str) -> str:
        from alerting.rules import parse_rules

        parse_rules(value)
        return value

    @field_validator("alert_daily_summary_at")
    @classmethod
    def _summary_at(cls, value: str) -> str:
        from alerting.rules import parse_time_of_day

        parse_time_of_day(value)
        return value.strip()

    @property
    def strategy_overrides(self) -> dict[str, dict[str, Any]]:
        """``STRATEGY_PARAMS`` as strategy name → parameters (validated at start-up)."""
        return parse_strategy_params(self.strategy_params)

    @model_validator(mode="after")
    def _credentials_come_in_pairs(self) -> Settings:
        if self.kalshi_api_key is not None and self.kalshi_private_key_path is None:
            raise ValueError("KALSHI_PRIVATE_KEY_PATH: required when KALSHI_API_KEY is set")
        if self.kalshi_private_key_path is not None and self.kalshi_api_key is None:
            raise ValueError("KALSHI_API_KEY: required when KALSHI_PRIVATE_KEY_PATH is set")
        return self

    def ledger_url(self, mode: str) -> str:
        """The ledger of ``mode``: ``DATABASE_URL`` when set, else ``DATA_DIR/sol15-<mode>.db``
        (one file per mode: a sim run's history never shows up in paper mode)."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.data_dir / f'sol15-{mode}.db').as_posix()}"

    @property
    def default_mode(self) -> str:
        """The mode ``run.py`` starts in without ``--mode`` or ``--live`` (``app.modes``)."""
        if not self.dry_run_mode:
            return "live"
        return "paper" if self.has_credentials else "sim"

    @property
    def has_credentials(self) -> bool:
        return self.kalshi_api_key is not None and self.kalshi_private_key_path is not None

    @field_validator("strategies")
    @classmethod
    def _known_strategies(cls, value: str) -> str:
        from strategies.base import available_strategies

        names = [name.strip() for name in value.split(",") if name.strip()]
        known = available_strategies()
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(
                f"unknown strategy {', '.join(unknown)} (valid: {', '.join(sorted(known))})"
            )
        return ",".join(names)

    @property
    def strategy_names(self) -> list[str]:
        return [name for name in self.strategies.split(",") if name]

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


def parse_strategy_params(text: str) -> dict[str, dict[str, Any]]:
    """Parse and validate ``STRATEGY_PARAMS``: each strategy must exist and accept its values."""
    if not text.strip():
        return {}
    import orjson

    from strategies.base import StrategyConfigError, create_strategy

    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ValueError('must be a JSON object such as {"kelly_volatility": {...}}') from None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ValueError("must map each strategy name to an object of its parameters")
    for name, params in value.items():
        try:
            create_strategy(name, **params)
        except StrategyConfigError as exc:
            raise ValueError(str(exc)) from None
    return value


_BOUNDS = {
    "greater_than": ("must be > {gt}", "gt"),
    "greater_than_equal": ("must be >= {ge}", "ge"),
    "less_than": ("must be < {lt}", "lt"),
    "less_than_equal": ("must be <= {le}", "le"),
}
_KINDS = {
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "decimal_parsing": "must be a number",
    "float_parsing": "must be a number",
    "enum": "must be one of {expected}",
    "literal_error": "must be one of {expected}",
}


def _describe(error: dict[str, Any]) -> str:
    loc = error.get("loc", ())
    kind = error.get("type", "")
    ctx = error.get("ctx", {}) or {}
    if kind in _BOUNDS:
        template, key = _BOUNDS[kind]
        problem = template.format(**{key: ctx.get(key)})
    elif kind in _KINDS:
        problem = _KINDS[kind].format(expected=ctx.get("expected", ""))
    else:
        problem = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if not loc:  # a cross-field rule already names its setting
        return problem
    name = str(loc[0]).upper()
    if name in SECRET_SETTINGS:
        return f"{name}: {problem}"
    value = error.get("input")
    if name == "DATABASE_URL" and isinstance(value, str):
        from storage.database import redact

        value = redact(value)
    shown = value if isinstance(value, str) else repr(value)
    return f"{name}: {problem}, got {shown}"


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Read and validate the settings, or raise :class:`ConfigError` naming every bad one."""
    try:
        settings = Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        raise ConfigError([_describe(dict(e)) for e in exc.errors()]) from None
    try:
        settings._series_settings = parse_series_settings(
            settings.series, _series_variables(env_file)
        )
    except SeriesConfigError as exc:
        raise ConfigError(exc.lines) from None
    return settings


def _series_variables(env_file: str | Path | None) -> dict[str, str]:
    """``SERIES_*`` from ``env_file`` (when it exists) and the environment, which wins."""
    import os

    from dotenv import dotenv_values

    from_file = dotenv_values(env_file) if env_file is not None and Path(env_file).is_file() else {}
    return series_variables(from_file, os.environ)
