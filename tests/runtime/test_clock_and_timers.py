"""Clocks and coalescing timers, driven by SimClock only."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from messages.base import message
from messages.queries import Query
from messages.system import Tick
from runtime.actor import ActorContext, SupervisedActor
from runtime.clock import SimClock, WallClock
from runtime.quiescence import quiesce
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.runtime.fixture_actors import Block


def test_sim_clock_runs_due_timers_in_order_at_their_own_time() -> None:
    clock = SimClock(start=100.0)
    seen: list[tuple[str, float]] = []
    clock.call_later(2.0, lambda: seen.append(("b", clock.now())))
    clock.call_later(1.0, lambda: seen.append(("a", clock.now())))
    clock.call_later(2.0, lambda: seen.append(("c", clock.now())))
    cancelled = clock.call_later(1.5, lambda: seen.append(("x", clock.now())))
    cancelled.cancel()
    assert clock.advance(1.999) == 1
    assert seen == [("a", 101.0)]
    assert clock.advance(0.001) == 2
    assert seen == [("a", 101.0), ("b", 102.0), ("c", 102.0)]
    assert clock.now() == pytest.approx(102.0)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_sim_clock_timer_scheduled_by_a_timer_runs_in_the_same_advance() -> None:
    clock = SimClock(start=0.0)
    fired: list[float] = []

    def again() -> None:
        fired.append(clock.now())
        if len(fired) < 3:
            clock.call_later(1.0, again)

    clock.call_later(1.0, again)
    clock.advance(10)
    assert fired == [1.0, 2.0, 3.0]
    assert clock.next_timer() is None


def test_wall_clock_fires_a_timer_and_closes_its_thread() -> None:
    clock = WallClock()
    fired = threading.Event()
    clock.call_later(0.0, fired.set)
    assert fired.wait(timeout=5)
    clock.close()
    assert not any(t.name == "wall-clock" and t.is_alive() for t in threading.enumerate())


@message("tick.test_beat")
class Beat(Tick):
    """The test actor's timer."""


@message("test_get_ticks")
class GetTicks(Query):
    """The ticks the test actor received."""


class Ticking(SupervisedActor):
    def __init__(self, context: ActorContext, interval: float) -> None:
        super().__init__(context)
        self.interval = interval
        self.ticks: list[Tick] = []

    def setup(self) -> None:
        self.every(self.interval, Beat)

    def handle(self, message: Any) -> Any:
        if isinstance(message, Tick):
            self.ticks.append(message)
            return None
        if isinstance(message, Block):
            message.hold()
            return None
        if isinstance(message, GetTicks):
            return list(self.ticks)
        return super().handle(message)


def test_ticks_arrive_on_the_clock(system: ActorSystem, clock: SimClock) -> None:
    system.start(SupervisorSpec("root", (ChildSpec.of("t", Ticking, 1.0),)))
    for _ in range(3):
        clock.advance(1.0)
        quiesce(system)
    ticks = system.ask("t", GetTicks())
    start = clock.now() - 3
    assert [t.scheduled_at - start for t in ticks] == [1.0, 2.0, 3.0]
    assert all(t.coalesced == 0 and type(t) is Beat for t in ticks)


def test_ticks_coalesce_behind_a_busy_actor(system: ActorSystem, clock: SimClock) -> None:
    system.start(SupervisorSpec("root", (ChildSpec.of("t", Ticking, 1.0),)))
    release = threading.Event()
    block = Block(release)
    system.tell("t", block)
    assert block.entered.wait(timeout=5)
    clock.advance(10.0)  # ten firings while the actor is stuck: one tick queued, nine merged
    assert system.address("t").mailbox_size() == 1
    release.set()
    quiesce(system)
    clock.advance(1.0)
    quiesce(system)
    ticks = system.ask("t", GetTicks())
    assert [t.coalesced for t in ticks] == [0, 9]


def test_timers_end_with_their_actor(system: ActorSystem, clock: SimClock) -> None:
    system.start(SupervisorSpec("root", (ChildSpec.of("t", Ticking, 1.0),)))
    system.shutdown()
    assert clock.pending_timers() == 0
