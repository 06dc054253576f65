"""The StrategyActor with several series: it trades only the series that enable it
(``SERIES_<TICKER>_STRATEGIES``), and a (re)started one warms up on every index's recent
prints, each replayed as its own index."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal as D
from typing import Any

from actors.strategy import StrategyActor, strategy_address
from messages.market_data import SpotTick
from messages.queries import Describe, GetPrints
from messages.trading import Signal
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import BOOK, MARKETS, SIGNALS, SPOT
from runtime.clock import SimClock
from runtime.quiescence import quiesce
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.actors.accumulate import NAME
from tests.actors.probe import Probe, ProbeLog
from tests.strategies.strategy_builders import book, market

T0 = 1_780_000_200.0
SOL = "KXSOL15M-26MAY281645-45"
BTC = "KXBTC15M-26MAY281645-45"
FEEDS = {"SOLUSD_RTI": "spot:SOLUSD_RTI", "BRTI": "spot:BRTI"}


class FakeFeed(SupervisedActor):
    """A SpotFeed's answer to ``GetPrints``: ten prints a second apart at ``price``."""

    def __init__(self, context: ActorContext, price: str) -> None:
        super().__init__(context)
        self.price = D(price)

    def handle(self, message: Any) -> Any:
        if isinstance(message, GetPrints):
            return tuple((T0 - 10 + i, self.price * (1 + D(i) / 10_000)) for i in range(10))
        return super().handle(message)


@contextmanager
def strategy(name: str, **options: Any) -> Iterator[tuple[ActorSystem, ProbeLog]]:
    system = ActorSystem(clock=SimClock(start=T0), seed=3)
    log = ProbeLog()
    children = (
        ChildSpec.of("probe", Probe, (SIGNALS,), log),
        ChildSpec.of(FEEDS["SOLUSD_RTI"], FakeFeed, "75.00"),
        ChildSpec.of(FEEDS["BRTI"], FakeFeed, "68000"),
        ChildSpec.of(
            strategy_address(name),
            StrategyActor,
            name,
            feeds=options.pop("feeds", FEEDS),
            **options,
        ),
    )
    system.start(SupervisorSpec("root", children, max_restarts=5))
    try:
        for ticker, series in ((SOL, "KXSOL15M"), (BTC, "KXBTC15M")):
            info = market(ticker, open_time=T0 - 60, close_time=T0 + 840)
            system.bus.publish(MARKETS, replace(info, series=series))
        quiesce(system)
        yield system, log
    finally:
        system.shutdown(timeout=10)


def test_a_strategy_trades_only_the_series_that_enable_it() -> None:
    with strategy(NAME, series=frozenset({"KXBTC15M"})) as (system, log):
        for n, ticker in enumerate((SOL, BTC, SOL), start=1):
            update = book(T0 + n, [("0.48", 50)], [("0.50", 50)], ticker=ticker, seq=n)
            system.bus.publish(BOOK, update)
        quiesce(system)
        assert [s.ticker for s in log.of(Signal)] == [BTC]


def test_every_series_without_a_list() -> None:
    with strategy(NAME) as (system, log):
        for n, ticker in enumerate((SOL, BTC), start=1):
            update = book(T0 + n, [("0.48", 50)], [("0.50", 50)], ticker=ticker, seq=n)
            system.bus.publish(BOOK, update)
        quiesce(system)
        assert sorted(s.ticker for s in log.of(Signal)) == [BTC, SOL]


def test_a_started_strategy_warms_up_on_each_index_as_its_own() -> None:
    with strategy("kelly_volatility", params={"vol_warmup": 5}) as (system, _):
        described: dict[str, Any] = system.ask(
            strategy_address("kelly_volatility"), Describe(), timeout=10
        )
    indices = described["metrics"]["indices"]
    assert set(indices) == {"SOLUSD_RTI", "BRTI"}
    assert all(v["vol_samples"] == 9 for v in indices.values())  # 10 prints, 9 returns


def test_other_series_books_never_reach_its_mailbox() -> None:
    # Published under its series, as a MarketWatcher does: the bus tells the strategy only
    # the books of the series it trades, so five other series cannot queue ahead of them.
    with strategy(NAME, series=frozenset({"KXBTC15M"})) as (system, log):
        subscribers = system.bus.subscribers(BOOK)
        assert subscribers == (strategy_address(NAME),)
        sol = book(T0 + 1, [("0.48", 50)], [("0.50", 50)], ticker=SOL, seq=1)
        btc = book(T0 + 2, [("0.48", 50)], [("0.50", 50)], ticker=BTC, seq=2)
        assert system.bus.publish(BOOK, sol, "KXSOL15M") == 0
        assert system.bus.publish(BOOK, btc, "KXBTC15M") == 1
        quiesce(system)
        assert [s.ticker for s in log.of(Signal)] == [BTC]


def test_a_strategy_given_its_series_feeds_hears_only_their_indices() -> None:
    with strategy(NAME, series=frozenset({"KXBTC15M"}), feeds={"BRTI": FEEDS["BRTI"]}) as (
        system,
        _,
    ):
        assert system.bus.subscribers(SPOT) == (strategy_address(NAME),)
        sol = SpotTick("SOLUSD_RTI", D("75.10"), T0 + 1)
        btc = SpotTick("BRTI", D("68010"), T0 + 1)
        assert system.bus.publish(SPOT, sol, "SOLUSD_RTI") == 0
        assert system.bus.publish(SPOT, btc, "BRTI") == 1


def test_a_strategy_of_every_series_hears_every_index() -> None:
    with strategy(NAME) as (system, _):
        assert system.bus.publish(SPOT, SpotTick("SOLUSD_RTI", D("75"), T0 + 1), "SOLUSD_RTI") == 1
