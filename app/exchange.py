"""Which exchange a mode talks to: the built-in simulator, a running one, or Kalshi itself.

In sim mode a running exchange beyond this machine is asked what it is before any
signed request reaches it: only one that answers with the simulator's
``X-Sol15-Simulator`` header is used (see ``simulator.identity``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import httpx
from loguru import logger

from app.modes import Mode, ModeError
from config.settings import KalshiEnv, Settings
from kalshi.auth import Signer
from kalshi.connection import ExchangeConnection
from kalshi.environment import DEMO, PRODUCTION
from kalshi.rate_limit import tier_named
from runtime.net import is_loopback_host
from simulator.identity import SIMULATOR_HEADER

if TYPE_CHECKING:
    from simulator.config import ExchangeConfig

Probe = Callable[[str], str | None]


def simulator_identity(url: str, timeout: float = 5.0) -> str | None:
    """The ``X-Sol15-Simulator`` header of the answer at ``url`` (any status), or None.

    Unauthenticated and read-only; raises ``httpx.HTTPError`` when nothing answers.
    """
    response = httpx.get(url, timeout=timeout, follow_redirects=False)
    name: str | None = response.headers.get(SIMULATOR_HEADER)
    return name


def _probe_url(setting: str, url: str) -> str:
    """An unauthenticated GET that any Kalshi-shaped server answers (even with an error)."""
    parts = urlsplit(url)
    if setting == "KALSHI_API_BASE":
        return url.rstrip("/") + "/exchange/status"
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))


def check_sim_exchange(api_base: str, ws_url: str, probe: Probe = simulator_identity) -> None:
    """Refuse a sim-mode exchange beyond this machine unless it says it is a simulator."""
    for setting, url in (("KALSHI_API_BASE", api_base), ("KALSHI_WS_URL", ws_url)):
        host = urlsplit(url).hostname or ""
        if is_loopback_host(host):
            continue
        try:
            name = probe(_probe_url(setting, url))
        except httpx.HTTPError as exc:
            raise ModeError(
                f"sim mode: cannot reach {setting} {url} to confirm it is a simulator "
                f"({type(exc).__name__}: {exc}); start the exchange-sim, or fix {setting}"
            ) from None
        if name is None:
            raise ModeError(
                f"sim mode refused: {setting} {url} is beyond this machine and does not say it "
                f"is a simulator (no {SIMULATOR_HEADER} header), so orders sent there could be "
                f"real. Point {setting} at an exchange-sim or at 127.0.0.1; real orders go only "
                "in live mode (credentials, DRY_RUN_MODE=false and --live)"
            )
        logger.info("exchange at {} ({}) identifies itself as {}", host, setting, name)


def _configured(settings: Settings) -> ExchangeConnection:
    """The exchange named by the settings (Kalshi prod/demo, or the URL overrides)."""
    environment = DEMO if settings.kalshi_env is KalshiEnv.DEMO else PRODUCTION
    if settings.kalshi_api_key is None or settings.kalshi_private_key_path is None:
        raise ValueError(
            "KALSHI_API_KEY and KALSHI_PRIVATE_KEY_PATH are needed to reach an exchange"
        )
    signer = Signer.from_file(
        settings.kalshi_api_key.get_secret_value(), settings.kalshi_private_key_path
    )
    connection = ExchangeConnection(
        settings.kalshi_api_base or environment.api_base,
        settings.kalshi_ws_url or environment.ws_url,
        signer,
        tier=tier_named(settings.kalshi_rate_tier),
    )
    return connection.with_account_limits()


def sim_config(settings: Settings, seed: int | None) -> ExchangeConfig:
    """The built-in exchange: every configured series (``SERIES``), each with its own index
    and makers (:mod:`simulator.catalog`), the makers behaving as ``SIM_MARKET_PRESET``."""
    from simulator.catalog import with_preset, with_series
    from simulator.config import ExchangeConfig, market_preset

    config = ExchangeConfig(
        seed=seed or 0,
        window_seconds=settings.sim_window_seconds,
        calibration=market_preset(settings.sim_market_preset, "SIM_MARKET_PRESET"),
    )
    tickers = list(settings.series_settings.tickers)
    if tickers == [config.series.ticker]:
        return config  # the single-series exchange, exactly as before
    config = with_series(config, tickers)
    return with_preset(config, settings.sim_market_preset, "SIM_MARKET_PRESET")


@contextmanager
def exchange_for(
    mode: Mode, settings: Settings, seed: int | None, probe: Probe = simulator_identity
) -> Iterator[ExchangeConnection]:
    """Yield the connection for ``mode``; in sim without a configured exchange, run one in-process.

    Raises :class:`ModeError` when sim mode names an exchange that is not a simulator.
    """
    api_base, ws_url = settings.kalshi_api_base, settings.kalshi_ws_url
    external_sim = settings.has_credentials and api_base is not None and ws_url is not None
    if mode is Mode.SIM and api_base is not None and ws_url is not None:
        check_sim_exchange(api_base, ws_url, probe)
    if mode is not Mode.SIM or external_sim:
        connection = _configured(settings)
        logger.info(
            "exchange: {} (REST {}, WebSocket {})",
            mode.value,
            connection.api_base,
            connection.ws_url,
        )
        yield connection
        return
    from simulator.testing import running_exchange

    key_dir = settings.data_dir / "exchange-sim"
    key_dir.mkdir(parents=True, exist_ok=True)
    config = sim_config(settings, seed)
    with running_exchange(config=config, manual_clock=False, key_dir=key_dir) as sim:
        logger.info(
            "exchange: built-in simulator at {} ({}; {} s markets, {} makers: {})",
            sim.api_base,
            ", ".join(s.series.ticker for s in config.listings()),
            settings.sim_window_seconds,
            settings.sim_market_preset,
            "calibrated to Kalshi's mid"
            if settings.sim_market_preset == "sharp"
            else "softer than Kalshi's",
        )
        yield ExchangeConnection(sim.api_base, sim.ws_url, sim.signer(), rate_limited=False)
