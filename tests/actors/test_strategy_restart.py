"""A strategy after a restart — of its actor, of the trading branch, of the process — knows
what it knew: the operator's switch (kept in the ledger), what it holds (its fills) and what
is on its way (its open orders), before it sends its first signal.

The pipeline cases trade against the simulator with a strategy that buys one side up to a
cap (``tests/actors/accumulate.py``): a strategy that forgot its position would buy past it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from actors.ledger import LedgerActor
from actors.strategy import StrategyActor, strategy_address
from messages.control import SetStrategyEnabled
from messages.ledger import LEDGER
from messages.queries import Describe
from messages.trading import Fill, Signal
from runtime.bus import BOOK, FILLS, MARKETS, SIGNALS
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import quiesce, settle
from runtime.restart_policy import Backoff
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from storage import Database, open_database, prepare
from tests.actors.accumulate import NAME
from tests.actors.pipeline_rig import Pipeline, running_pipeline
from tests.actors.probe import Probe, ProbeLog
from tests.actors.test_pipeline_faults import WIDE_LIMITS, check_books
from tests.strategies.strategy_builders import book, market

T0 = 1_780_000_200.0
TICKER = "KXSOL15M-26MAY281645-45"
ADDRESS = strategy_address(NAME)
NO_BACKOFF = Backoff(initial=0.0, maximum=0.0, jitter=0.0)


# -- the operator's switch, on its own (no exchange) ------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(f"sqlite:///{tmp_path}/ledger.db")
    prepare(db)
    yield db
    db.dispose()


@contextmanager
def process(database: Database) -> Iterator[tuple[ActorSystem, ProbeLog]]:
    """A ledger and one strategy (a new system: a new process)."""
    clock = SimClock(start=T0)
    system = ActorSystem(clock=clock, seed=3)
    log = ProbeLog()
    system.start(
        SupervisorSpec(
            "root",
            (
                ChildSpec.of("probe", Probe, (SIGNALS,), log),
                ChildSpec.of(LEDGER, LedgerActor, database),
                ChildSpec.of(ADDRESS, StrategyActor, NAME, ledger=LEDGER),
            ),
            max_restarts=10,
            backoff=NO_BACKOFF,
        )
    )
    try:
        system.bus.publish(MARKETS, market(TICKER, open_time=T0 - 60, close_time=T0 + 840))
        quiesce(system)
        yield system, log
    finally:
        system.shutdown(timeout=10)


def _book(system: ActorSystem, n: int) -> None:
    update = book(T0 + n, [("0.48", 50)], [("0.50", 50)], ticker=TICKER, seq=n)
    system.bus.publish(BOOK, update)
    quiesce(system)


def _described(system: ActorSystem) -> dict[str, Any]:
    described: dict[str, Any] = system.ask(ADDRESS, Describe(), timeout=10)
    return described


def test_a_disabled_strategy_stays_disabled_after_its_actor_crashes(database: Database) -> None:
    with process(database) as (system, log):
        _book(system, 1)
        assert len(log.of(Signal)) == 1  # enabled: it signals on a book
        system.ask(ADDRESS, SetStrategyEnabled(NAME, False), timeout=10)
        crash(system, ADDRESS)
        assert isinstance(system.clock, SimClock)
        settle(system, system.clock)
        assert _described(system)["enabled"] is False
        _book(system, 2)
        _book(system, 3)
        assert len(log.of(Signal)) == 1, "a disabled strategy traded again after a restart"


def test_a_disabled_strategy_stays_disabled_in_the_next_process(database: Database) -> None:
    with process(database) as (system, _):
        system.ask(ADDRESS, SetStrategyEnabled(NAME, False), timeout=10)
    with process(database) as (system, log):
        assert _described(system)["enabled"] is False
        _book(system, 1)
        assert log.of(Signal) == []
        system.ask(ADDRESS, SetStrategyEnabled(NAME, True), timeout=10)
    with process(database) as (system, log):
        assert _described(system)["enabled"] is True
        _book(system, 1)
        assert len(log.of(Signal)) == 1


def test_a_strategy_in_a_new_process_takes_its_fills_back_from_the_ledger(
    database: Database,
) -> None:
    bought = Fill("t-1", "o-1", "c-1", TICKER, "yes", "buy", 6, D("0.5"), D("0.02"), True, T0, NAME)
    with process(database) as (system, _):
        system.bus.publish(FILLS, bought)
        quiesce(system)
        assert _described(system)["metrics"]["held"] == {TICKER: ("yes", 6)}
    with process(database) as (system, log):
        assert _described(system)["metrics"]["held"] == {TICKER: ("yes", 6)}
        _book(system, 1)
        assert log.of(Signal) == [], "it forgot what it holds and bought past its cap"
        system.bus.publish(FILLS, bought)  # reported again (a restarted order actor): once
        quiesce(system)
        assert _described(system)["metrics"]["held"] == {TICKER: ("yes", 6)}


# -- against the exchange ---------------------------------------------------------------------


def _strategy() -> ChildSpec:
    return ChildSpec.of(ADDRESS, StrategyActor, NAME, {"target": 6, "size": 2}, ledger=LEDGER)


def _held_at_exchange(p: Pipeline) -> int:
    return int(p.exchange_positions().get(p.ticker, (D(0), D(0)))[0])


def _trade_to_the_cap(p: Pipeline) -> None:
    for _ in range(20):
        p.fresh_market_data()
        p.wait_fills_published()
        if _held_at_exchange(p) >= 6:
            break
    assert _held_at_exchange(p) == 6


def _keeps_the_cap(p: Pipeline) -> None:
    """Books keep coming for a while: nothing more is bought, and it knows what it holds."""
    signals = len(p.log.of(Signal))
    for _ in range(5):
        p.fresh_market_data()
    p.wait_fills_published()
    assert _held_at_exchange(p) == 6, "it forgot its position and bought past its cap"
    assert len(p.log.of(Signal)) == signals
    metrics = _described(p.system)["metrics"]
    assert (metrics["held"], metrics["pending"]) == ({p.ticker: ("yes", 6)}, 0)
    check_books(p)


def test_a_crashed_strategy_rebuilds_its_position_before_its_first_signal() -> None:
    with running_pipeline(WIDE_LIMITS, extra=(_strategy(),)) as p:
        _trade_to_the_cap(p)
        crash(p.system, ADDRESS)
        p.settle()
        _keeps_the_cap(p)


def test_a_restart_of_the_trading_branch_leaves_the_strategys_position_right() -> None:
    """The ledger crashes: ledger, risk and order restart (rest_for_one), and the new order
    actor reports the last hour's fills again. The strategy counts each once."""
    with running_pipeline(WIDE_LIMITS, extra=(_strategy(),)) as p:
        _trade_to_the_cap(p)
        crash(p.system, LEDGER)
        p.settle()
        _keeps_the_cap(p)


def test_orders_on_their_way_count_against_the_cap_after_a_restart() -> None:
    """Its order rests, unfilled, when the strategy crashes: the new incarnation counts it
    as on its way (the order actor's open orders) and does not buy again."""
    resting = ChildSpec.of(
        ADDRESS,
        StrategyActor,
        NAME,
        {"target": 2, "size": 2, "discount": "0.10"},
        ledger=LEDGER,
    )
    with running_pipeline(WIDE_LIMITS, extra=(resting,), time_in_force="good_till_canceled") as p:
        p.log.wait_until(lambda: bool(p.exchange_orders()), what="its order to rest")
        p.quiesce()
        [order] = p.exchange_orders()
        assert order.status == "resting"
        crash(p.system, ADDRESS)
        p.settle()
        for _ in range(3):
            p.fresh_market_data()
        assert len(p.exchange_orders()) == 1, "it forgot its resting order and bought again"
        assert _described(p.system)["metrics"]["pending"] == 2
