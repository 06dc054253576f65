"""A restarted bot trades within seconds: its strategies warm up on backfilled index prints.

The bot (market data, ``kelly_volatility``, risk, orders and the ledger) runs against the
in-process simulator on a simulated clock, records, stops, and is started again on the
same ledger at the open of the next market. Its strategy needs 200 index returns before
it prices anything (40 s of the 5 Hz feed); the restarted bot must place an order within
30 simulated seconds all the same, because its spot feed backfills the last five minutes
of prints: from the exchange's CF Benchmarks passthrough, or — when the account is not
entitled to it (the simulator answers 403) — from the prints the first run kept in the
ledger. The log says which source was used, and why not the passthrough.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from actors.discovery import MarketDiscovery
from actors.ledger import LedgerActor
from actors.market_stream import MarketStream
from actors.order import OrderActor
from actors.risk import RiskActor
from actors.spot_feed import SpotFeed, history_sources
from actors.strategy import StrategyActor, strategy_address
from kalshi.connection import ExchangeConnection
from messages.ledger import LEDGER
from messages.market_data import SpotTick
from messages.trading import Signal
from risk.limits import RiskLimits
from runtime.bus import SIGNALS, SPOT
from runtime.clock import SimClock
from runtime.quiescence import quiesce
from runtime.restart_policy import Strategy
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from simulator.config import ExchangeConfig
from simulator.testing import SimHandle, running_exchange
from storage import Database, open_database, prepare
from tests.actors.pipeline_rig import NO_BACKOFF, PROBE, WaitLog
from tests.actors.probe import Probe

WINDOW = 300
WARMUP_RETURNS = 200  # 40 s of the 5 Hz feed: a cold bot cannot trade within 30 s
KELLY = {
    "vol_warmup": WARMUP_RETURNS,
    "min_edge": "0.01",
    "cooldown_seconds": 1,
    "no_entry_seconds": 30,
    "bankroll": "1000",
}
LIMITS = RiskLimits(
    max_position_size=Decimal(500),
    max_daily_loss=Decimal(500),
    circuit_breaker_pct=Decimal("0.5"),
    max_concurrent_positions=5,
    min_edge=Decimal(0),
    max_orders_per_minute=120,
)


def _tree(connection: ExchangeConnection, database: Database, log: WaitLog) -> SupervisorSpec:
    """The bot's subtrees as ``app.bot.build_tree`` assembles them (no dashboard)."""

    def supervisor(
        name: str, *children: ChildSpec | SupervisorSpec, strategy: Strategy = Strategy.ONE_FOR_ONE
    ) -> SupervisorSpec:
        return SupervisorSpec(name, children, strategy, 20, 60.0, backoff=NO_BACKOFF)

    return supervisor(
        "root",
        ChildSpec.of(PROBE, Probe, (SPOT, SIGNALS), log),
        supervisor(
            "trading",
            ChildSpec.of(LEDGER, LedgerActor, database),
            ChildSpec.of("risk", RiskActor, LIMITS, connection, ledger=LEDGER),
            ChildSpec.of("order", OrderActor, connection, database=database),
            strategy=Strategy.REST_FOR_ONE,
        ),
        supervisor(
            "market-data",
            ChildSpec.of(
                "spot", SpotFeed, history=history_sources(connection, database), ledger=LEDGER
            ),
            ChildSpec.of("stream", MarketStream, connection),
            ChildSpec.of("discovery", MarketDiscovery, connection, window_seconds=WINDOW),
        ),
        supervisor(
            "strategies",
            ChildSpec.of(
                strategy_address("kelly_volatility"), StrategyActor, "kelly_volatility", KELLY
            ),
        ),
    )


@dataclass
class Bot:
    sim: SimHandle
    system: ActorSystem
    clock: SimClock
    log: WaitLog

    def step(self) -> None:
        """One simulated second: the exchange's index prints (the last on the whole second)
        reach the bot, and everything they cause is done."""
        self.sim.advance(1)
        now = self.sim.now()
        self.clock.advance_to(now)
        with contextlib.suppress(AssertionError):  # still connecting: the next second will do
            self.log.wait_for(SpotTick, lambda t: t.ts >= now and not t.stale, timeout=5.0)
        quiesce(self.system, timeout=20.0)


@contextmanager
def running_bot(sim: SimHandle, database: Database) -> Iterator[Bot]:
    connection = ExchangeConnection(sim.api_base, sim.ws_url, sim.signer(), rate_limited=False)
    clock = SimClock(start=sim.now())
    system = ActorSystem(clock=clock, seed=1)
    log = WaitLog()
    system.start(_tree(connection, database, log))
    try:
        yield Bot(sim, system, clock, log)
    finally:
        system.shutdown(timeout=20)


@contextmanager
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="INFO", format="{message}")
    try:
        yield lines
    finally:
        logger.remove(sink)


def _orders(sim: SimHandle) -> list[Any]:
    user = sim.user_id
    return sim.call(lambda ex: ex.orders(user))


@pytest.mark.parametrize("entitled", [True, False], ids=["passthrough", "ledger"])
def test_a_restarted_bot_places_an_order_within_30_s(entitled: bool, tmp_path: Path) -> None:
    config = ExchangeConfig(window_seconds=WINDOW, cfbenchmarks_entitled=entitled, seed=4)
    database = open_database(f"sqlite:///{tmp_path}/ledger.db")
    prepare(database)
    try:
        with running_exchange(config=config) as sim, log_lines() as lines:
            sim.advance(60)
            with running_bot(sim, database) as first:  # runs, records, stops
                while sim.now() % WINDOW:
                    first.step()
            first_lines = len(lines)
            restarted = sim.now()  # the next market has just opened
            seen = len(_orders(sim))
            started = time.monotonic()
            with running_bot(sim, database) as second:
                while len(_orders(sim)) == seen and sim.now() - restarted < 30:
                    second.step()
                waited = sim.now() - restarted
                signals = second.log.of(Signal)
            assert len(_orders(sim)) > seen, (
                f"no order {waited:g} simulated s after the restart "
                f"({time.monotonic() - started:.1f} s of wall clock); signals: {len(signals)}"
            )
            assert waited <= 30
            [warmed] = [line for line in lines[first_lines:] if "warm" in line]
        source = "the CF Benchmarks passthrough" if entitled else "the ledger"
        assert f"from {source}" in warmed
        assert ("not entitled" in warmed) is not entitled
    finally:
        database.dispose()
