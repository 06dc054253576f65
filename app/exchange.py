"""Which exchange a mode talks to: the built-in simulator, a running one, or Kalshi itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from loguru import logger

from app.connection import ExchangeConnection
from app.modes import Mode
from config.settings import KalshiEnv, Settings
from kalshi.auth import Signer
from kalshi.environment import DEMO, PRODUCTION
from kalshi.rate_limit import tier_named


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


@contextmanager
def exchange_for(mode: Mode, settings: Settings, seed: int | None) -> Iterator[ExchangeConnection]:
    """Yield the connection for ``mode``; in sim without a configured exchange, run one in-process."""
    external_sim = settings.has_credentials and settings.kalshi_api_base and settings.kalshi_ws_url
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
    with running_exchange(
        seed=seed or 0,
        window_seconds=settings.sim_window_seconds,
        manual_clock=False,
        key_dir=key_dir,
    ) as sim:
        logger.info(
            "exchange: built-in simulator at {} ({} s markets)",
            sim.api_base,
            settings.sim_window_seconds,
        )
        yield ExchangeConnection(sim.api_base, sim.ws_url, sim.signer(), rate_limited=False)
