"""The bot's connection sizes its rate limiter from the account, and falls back to the
configured tier when the account cannot say."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from config.settings import load_settings
from kalshi.auth import Signer
from kalshi.connection import ExchangeConnection
from kalshi.rate_limit import ADVANCED
from risk.limits import RiskLimits
from simulator.config import ApiLimitsConfig, ExchangeConfig
from simulator.testing import running_exchange


def test_the_limiter_takes_the_accounts_own_buckets() -> None:
    limits = ApiLimitsConfig(
        usage_tier="expert", read_refill_rate=600, read_capacity=900, write_refill_rate=300
    )
    config = replace(ExchangeConfig(), api_limits=limits)
    with running_exchange(config=config) as sim:
        signer = Signer.from_file(sim.key_id, sim.private_key_path)
        connection = ExchangeConnection(sim.api_base, sim.ws_url, signer, tier=ADVANCED)
        adopted = connection.with_account_limits()
    limiter = adopted.limiter
    assert limiter is not None and limiter is not connection.limiter
    assert limiter.source == "account"
    assert (limiter.read.rate, limiter.read.capacity) == (600, 900)
    assert limiter.write.rate == 300
    # every client made from the connection shares it: one budget per API key
    assert adopted.rest().rate_limiter is limiter


def test_an_account_that_cannot_say_leaves_the_configured_tier() -> None:
    with running_exchange() as sim:
        sim.faults.update(error_5xx_next=100)  # every read of the limits fails
        signer = Signer.from_file(sim.key_id, sim.private_key_path)
        connection = ExchangeConnection(sim.api_base, sim.ws_url, signer, tier=ADVANCED)
        adopted = connection.with_account_limits()
    limiter = adopted.limiter
    assert limiter is not None and limiter.source == "tier advanced"
    assert limiter.write.rate == ADVANCED.writes_per_second * ADVANCED.request_cost


def test_an_unlimited_connection_is_left_alone() -> None:
    connection = ExchangeConnection(
        "http://127.0.0.1:1/trade-api/v2", "ws://x", None, rate_limited=False
    )
    assert connection.with_account_limits() is connection  # no request is even tried


def test_the_kill_switch_cap_comes_from_the_limits_or_the_setting(tmp_path: object) -> None:
    limits = RiskLimits(max_position_size=D(1000), max_concurrent_positions=5)
    assert limits.kill_switch_contracts() == 10_000  # $5,000 at $0.50 a contract
    assert (
        RiskLimits(max_position_size=D("0.10"), max_concurrent_positions=1).kill_switch_contracts()
        == 1
    )
    settings = load_settings(None, order_group_contracts=250)
    assert settings.order_group_contracts == 250
