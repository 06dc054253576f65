"""The spot feed's history: warmed from its sources at start, one print a second kept."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from typing import Any

import pytest

from actors.spot_feed import SpotFeed
from kalshi.ws_events import IndexValueEvent
from marketdata.backfill import Print, SourceUnavailable
from messages.market_data import IndexPrints
from messages.queries import GetPrints
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import quiesce, settle
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.actors.pipeline_rig import NO_BACKOFF
from tests.actors.probe import Probe, ProbeLog

T0 = 1_780_000_200.0


class Source:
    def __init__(self, name: str, prints: list[Print] | None) -> None:
        self.name = name
        self._prints = prints
        self.asked = 0

    def prints(self, index_id: str, since: float) -> list[Print]:
        self.asked += 1
        if self._prints is None:
            raise SourceUnavailable("this account is not entitled to it (HTTP 403)")
        return [p for p in self._prints if p[0] >= since]


def event(ts: float, value: str) -> IndexValueEvent:
    ms = round(ts * 1000)
    return IndexValueEvent("SOLUSD_RTI", D(value), ms, ms, None, None, 1, None)


class Feed:
    def __init__(self, system: ActorSystem, clock: SimClock, kept: ProbeLog) -> None:
        self.system, self.clock, self.kept = system, clock, kept

    def send(self, ts: float, value: str) -> None:
        self.system.tell("spot", event(ts, value))

    def tick(self, seconds: float) -> None:
        self.clock.advance(seconds)
        settle(self.system, self.clock)

    def prints(self) -> tuple[Print, ...]:
        found: tuple[Print, ...] = self.system.ask("spot", GetPrints(), timeout=5)
        return found

    def kept_prints(self) -> list[Print]:
        quiesce(self.system)
        return [p for batch in self.kept.of(IndexPrints) for p in batch.prints]


@pytest.fixture
def sources() -> list[Source]:
    history = [(T0 - 400 + i, D("74") + D(i) / 1000) for i in range(400)]  # to T0 - 1
    return [Source("the passthrough", None), Source("the ledger", history)]


@pytest.fixture
def feed(sources: list[Source]) -> Iterator[Feed]:
    clock = SimClock(start=T0)
    system = ActorSystem(clock=clock, seed=1)
    kept = ProbeLog()
    root = SupervisorSpec(
        "root",
        (
            ChildSpec.of("ledger", Probe, (), kept),  # stands in for the LedgerActor
            ChildSpec.of("spot", SpotFeed, history=sources, ledger="ledger", record_every=5.0),
        ),
        backoff=NO_BACKOFF,
    )
    system.start(root)
    try:
        yield Feed(system, clock, kept)
    finally:
        system.shutdown()


def test_a_starting_feed_holds_the_last_minutes_from_the_first_source_that_answers(
    feed: Feed, sources: list[Source]
) -> None:
    prints = feed.prints()
    assert [ts for ts, _ in prints] == [T0 - 300 + i for i in range(300)]  # keep_seconds
    assert [s.asked for s in sources] == [1, 1]
    feed.send(T0, "74.9")
    assert feed.prints()[-1] == (T0, D("74.9"))
    feed.send(T0 + 1, "74.8")
    assert feed.prints()[0][0] == T0 - 299  # the oldest made way


def test_one_print_a_second_of_what_arrives_is_kept_not_what_was_backfilled(
    feed: Feed,
) -> None:
    for i in range(15):  # three seconds at 5 Hz
        feed.send(T0 + i * 0.2, f"75.{i:02d}")
    feed.tick(5.0)
    assert feed.kept_prints() == [(T0, D("75.00")), (T0 + 1.0, D("75.05")), (T0 + 2.0, D("75.10"))]
    feed.send(T0 + 3.0, "75.20")
    feed.tick(1.0)
    assert len(feed.kept_prints()) == 3  # the next batch waits for record_every
    feed.tick(4.0)
    assert feed.kept_prints()[-1] == (T0 + 3.0, D("75.20"))


def test_a_restarted_feed_warms_up_again(feed: Feed, sources: list[Source]) -> None:
    feed.send(T0, "74.9")
    crash(feed.system, "spot")
    settle(feed.system, feed.clock)
    assert [s.asked for s in sources] == [2, 2]
    assert len(feed.prints()) == 300
    kept: Any = feed.kept_prints()
    assert kept == [(T0, D("74.9"))]  # handed to the ledger as it went down
