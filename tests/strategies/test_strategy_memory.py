"""StrategyMemory: each fill and each open order counted once, whoever reports it again."""

from __future__ import annotations

from dataclasses import replace

from strategies.memory import SENT_MEMORY_SECONDS, StrategyMemory
from tests.execution.builders import intent
from tests.strategies.strategy_builders import TICKER, fill


def test_a_fill_is_counted_once_whoever_reports_it_again() -> None:
    memory = StrategyMemory()
    first = fill("yes", 2, "0.5")
    assert memory.first_time(first)
    assert not memory.first_time(first)  # a restarted order actor's report
    memory.forget(TICKER)  # settled: its ids may be let go
    assert memory.first_time(first)


def test_fills_read_back_wait_for_their_market_and_are_not_counted_twice() -> None:
    memory = StrategyMemory()
    early = fill("yes", 2, "0.5")
    late = replace(fill("yes", 1, "0.5", ts=2.0), trade_id="t-late")
    memory.park([early, late])
    assert memory.first_time(late)  # it came on the bus before the market was known
    assert memory.wake(TICKER) == [early]
    assert memory.wake(TICKER) == []


def test_an_intent_of_a_signal_sent_before_the_restart_is_an_order_on_its_way() -> None:
    memory = StrategyMemory()
    memory.sent("s-mine", 0.0)
    mine = replace(intent("c-mine", ticker=TICKER), signal_id="s-mine")
    inherited = intent("c-old", ticker=TICKER)
    assert not memory.inherited(mine)  # this instance signalled it: counted as it signalled
    assert memory.inherited(inherited)
    assert not memory.inherited(inherited)  # echoed twice, or restored already
    assert not memory.new_order(TICKER, "c-old")


def test_signals_never_decided_are_forgotten() -> None:
    memory = StrategyMemory()
    memory.sent("s-1", 0.0)
    memory.prune(SENT_MEMORY_SECONDS + 1)
    assert memory.inherited(intent("c-1", ticker=TICKER))  # s1 (the builder's) is not ours
