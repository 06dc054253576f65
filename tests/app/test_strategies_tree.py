"""``strategies_tree``: each strategy trades the series that enable it
(``SERIES_<TICKER>_STRATEGIES``) and is told only their books and their indices' prints."""

from __future__ import annotations

import os
from decimal import Decimal as D

import pytest

from actors.market_stream import spot_feeds
from actors.strategy import strategy_address
from app.bot import strategies_tree
from config.settings import load_settings
from messages.market_data import SpotTick
from runtime.bus import BOOK, SPOT
from runtime.clock import SimClock
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.actors.test_strategy_actor_series import BTC, SOL, T0, FakeFeed
from tests.strategies.strategy_builders import book

MARKETS = {"KXBTC15M": "BRTI", "KXSOL15M": "SOLUSD_RTI"}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SERIES") or name.upper() == "STRATEGIES":
            monkeypatch.delenv(name)


def test_each_strategy_is_told_only_its_own_series_books_and_indices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERIES", "KXBTC15M,KXSOL15M")
    monkeypatch.setenv("STRATEGIES", "kelly_volatility")
    monkeypatch.setenv("SERIES_KXSOL15M_STRATEGIES", "mean_reversion")
    settings = load_settings(None)
    feeds = spot_feeds(MARKETS.values())
    children = (
        ChildSpec.of(feeds["BRTI"], FakeFeed, "68000"),
        ChildSpec.of(feeds["SOLUSD_RTI"], FakeFeed, "75.00"),
        strategies_tree(settings, MARKETS, feeds, ledger=False),
    )
    system = ActorSystem(clock=SimClock(start=T0), seed=3)
    system.start(SupervisorSpec("root", children))
    try:
        kelly, reversion = strategy_address("kelly_volatility"), strategy_address("mean_reversion")
        assert set(system.bus.subscribers(SPOT)) == {kelly, reversion}
        # one of the two strategies hears each print and each book: its series' own
        assert system.bus.publish(SPOT, SpotTick("BRTI", D("68010"), T0 + 1), "BRTI") == 1
        assert system.bus.publish(SPOT, SpotTick("SOLUSD_RTI", D("75"), T0 + 1), "SOLUSD_RTI") == 1
        btc = book(T0 + 1, [("0.48", 50)], [("0.50", 50)], ticker=BTC, seq=1)
        sol = book(T0 + 1, [("0.48", 50)], [("0.50", 50)], ticker=SOL, seq=1)
        assert system.bus.publish(BOOK, btc, "KXBTC15M") == 1
        assert system.bus.publish(BOOK, sol, "KXSOL15M") == 1
        assert system.bus.publish(BOOK, sol) == 2  # no key: both, as before
    finally:
        system.shutdown(timeout=10)
