"""Dispatch: exact types win, base classes match subclasses, unknown types miss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from messages.queries import GetReport, GetStats
from messages.system import Tick
from messages.timers import HealthTick
from runtime.dispatch import Dispatch, DispatchedActor, ignore
from runtime.quiescence import quiesce
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.runtime.fixture_actors import Add


@dataclass(frozen=True)
class Base:
    pass


@dataclass(frozen=True)
class Child(Base):
    pass


@dataclass(frozen=True)
class Special(Base):
    pass


@dataclass(frozen=True)
class Other:
    pass


class Recorder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_base(self, message: Any) -> str:
        self.seen.append(f"base:{type(message).__name__}")
        return "base"

    def on_special(self, message: Any) -> str:
        self.seen.append("special")
        return "special"


TABLE: Dispatch[Recorder] = Dispatch(
    {Special: Recorder.on_special, Other: ignore}, inherited={Base: Recorder.on_base}
)


def test_exact_type_wins_over_a_matching_base() -> None:
    actor = Recorder()
    handler = TABLE[type(Special())]
    assert handler is not None
    assert handler(actor, Special()) == "special"
    assert actor.seen == ["special"]


def test_a_base_class_entry_matches_its_subclasses_and_is_cached() -> None:
    table: Dispatch[Recorder] = Dispatch({}, inherited={Base: Recorder.on_base})
    assert Child not in table
    handler = table[Child]
    assert handler is Recorder.on_base
    assert table[Base] is Recorder.on_base
    assert Child in table  # the next Child is a plain dict hit


def test_an_exact_entry_does_not_match_subclasses() -> None:
    table: Dispatch[Recorder] = Dispatch({Base: Recorder.on_base})
    assert table[Child] is None
    assert table[Base] is Recorder.on_base


def test_unknown_types_miss_and_ignore_drops() -> None:
    assert TABLE[int] is None
    handler = TABLE[Other]
    assert handler is ignore
    assert handler(Recorder(), Other()) is None


class Counter(DispatchedActor):
    """Adds what it is told; answers its total; counts any timer (a base-class entry)."""

    total = 0
    ticks = 0

    def _add(self, message: Add) -> None:
        self.total += message.amount

    def _stats(self, _: GetStats) -> dict[str, int]:
        return {"total": self.total, "ticks": self.ticks, "ignored": self.ignored}

    def _tick(self, _: object) -> None:
        self.ticks += 1

    _DISPATCH: ClassVar[Dispatch[Counter]] = Dispatch(
        {Add: _add, GetStats: _stats}, inherited={Tick: _tick}
    )


def test_a_dispatched_actor_answers_from_its_table_and_falls_back_to_the_base(
    system: ActorSystem,
) -> None:
    system.start(SupervisorSpec("root", (ChildSpec.of("counter", Counter),)))
    system.tell("counter", Add(2))
    system.tell("counter", Add(3))
    system.tell("counter", HealthTick(0.0))  # a Tick subclass: the inherited entry
    system.tell("counter", "not in the table")  # ignored quietly (counted)
    quiesce(system)
    assert system.ask("counter", GetStats(), timeout=10) == {"total": 5, "ticks": 1, "ignored": 1}
    assert system.ask("counter", GetReport(), timeout=10) is None  # a query it does not answer
    assert system.dead_letters.total == 1
