"""Supervision: which children restart, in what order, after how long, and when it escalates."""

from __future__ import annotations

from typing import Any

import pykka
import pytest

from messages.system import ActorCrashed
from runtime.actor import ActorContext
from runtime.address import AddressState
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import quiesce, settle
from runtime.restart_policy import Backoff, Restart, Strategy
from runtime.supervisor import ChildSpec, StartChild, StopChild, SupervisorSpec
from runtime.system import ActorSystem
from tests.runtime.fixture_actors import Add, Fail, FailingStart, Get, Journal, Recorder

NO_JITTER = Backoff(initial=1.0, factor=2.0, maximum=8.0, jitter=0.0)


def _tree(journal: Journal, strategy: Strategy, **options: object) -> SupervisorSpec:
    children = tuple(ChildSpec.of(name, Recorder, journal) for name in ("a", "b", "c"))
    group = SupervisorSpec("group", children, strategy=strategy, backoff=NO_JITTER, **options)  # type: ignore[arg-type]
    return SupervisorSpec("root", (group,), backoff=NO_JITTER)


def test_children_start_in_order_and_stop_in_reverse(system: ActorSystem) -> None:
    journal = Journal()
    system.start(_tree(journal, Strategy.ONE_FOR_ONE))
    assert journal.of("start") == ["a", "b", "c"]
    system.shutdown()
    assert journal.of("stop") == ["c", "b", "a"]


def test_one_for_one_restarts_only_the_failed_child(system: ActorSystem, clock: SimClock) -> None:
    journal = Journal()
    system.start(_tree(journal, Strategy.ONE_FOR_ONE))
    journal.clear()
    crash(system, "b")
    settle(system, clock)
    assert journal.events == [("stop", "b", "1"), ("start", "b", "2")]
    tree = system.tree()
    assert [(n.name, n.restarts) for n in tree.walk() if n.kind == "actor"] == [
        ("a", 0),
        ("b", 1),
        ("c", 0),
    ]


def test_rest_for_one_restarts_the_failed_child_and_those_after_it(
    system: ActorSystem, clock: SimClock
) -> None:
    journal = Journal()
    system.start(_tree(journal, Strategy.REST_FOR_ONE))
    journal.clear()
    crash(system, "b")
    settle(system, clock)
    # b failed; c is stopped by the supervisor; then both start again in their start order.
    assert journal.events == [
        ("stop", "b", "1"),
        ("stop", "c", "1"),
        ("start", "b", "2"),
        ("start", "c", "2"),
    ]
    assert system.ask("a", Get()) == 0  # a kept running and was never touched
    assert system.tree().find("a").incarnation == 1  # type: ignore[union-attr]


def test_restarted_actor_is_reachable_at_the_same_address(
    system: ActorSystem, clock: SimClock
) -> None:
    journal = Journal()
    system.start(_tree(journal, Strategy.ONE_FOR_ONE))
    address = system.address("b")
    first_ref = address.ref
    crash(system, "b")
    settle(system, clock)
    assert address.ref is not None and address.ref is not first_ref
    address.tell(Add(5))
    assert address.ask(Get()) == 5


def test_backoff_delays_follow_the_clock(system: ActorSystem, clock: SimClock) -> None:
    journal = Journal()
    system.start(_tree(journal, Strategy.ONE_FOR_ONE))
    for attempt, delay in enumerate((1.0, 2.0, 4.0), start=1):
        journal.clear()
        crash(system, "a")
        quiesce(system)
        assert system.pending_restarts == 1
        clock.advance(delay - 0.001)
        quiesce(system)
        assert journal.of("start") == [], f"restart {attempt} came before its {delay} s backoff"
        clock.advance(0.001)
        quiesce(system)
        assert journal.of("start") == ["a"], f"restart {attempt} did not come after {delay} s"


def test_backoff_jitter_stays_within_bounds() -> None:
    import random

    backoff = Backoff(initial=0.1, factor=2.0, maximum=1.0, jitter=0.25)
    rng = random.Random(3)
    for attempt in range(1, 8):
        low, high = backoff.bounds(attempt)
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert all(low <= d <= high for d in delays)
        assert max(delays) - min(delays) > 0  # jitter actually varies the delay
    assert backoff.bounds(10) == pytest.approx((0.75, 1.25))  # capped at maximum


def test_messages_sent_while_restarting_are_delivered_to_the_next_incarnation(
    system: ActorSystem, clock: SimClock
) -> None:
    journal = Journal()
    system.start(_tree(journal, Strategy.ONE_FOR_ONE))
    crash(system, "a")
    quiesce(system)
    assert system.address("a").state is AddressState.RESTARTING
    for amount in (1, 2, 3):
        system.tell("a", Add(amount))
    assert system.address("a").buffered() == 3
    settle(system, clock)
    assert system.ask("a", Get()) == 6
    assert journal.of("add") == ["a", "a", "a"]
    assert system.dead_letters.total == 0


def test_messages_queued_behind_a_crash_are_not_lost(system: ActorSystem, clock: SimClock) -> None:
    journal = Journal()
    system.start(_tree(journal, Strategy.ONE_FOR_ONE))
    system.tell("a", Fail())
    for amount in range(1, 11):
        system.tell("a", Add(amount))
    settle(system, clock)
    # Whatever was still in the mailbox went back to the address and on to incarnation 2, in order.
    assert system.ask("a", Get()) == sum(range(1, 11))
    delivered = [int(e[2]) for e in journal.events if e[0] == "add"]
    assert delivered == list(range(1, 11))
    assert system.dead_letters.total == 0


def test_restart_buffer_overflow_is_counted_as_dead_letters(clock: SimClock) -> None:
    system = ActorSystem(clock=clock, seed=1, restart_buffer=2)
    try:
        journal = Journal()
        system.start(_tree(journal, Strategy.ONE_FOR_ONE))
        crash(system, "a")
        quiesce(system)
        for amount in (1, 2, 3, 4):
            system.tell("a", Add(amount))
        assert system.dead_letters.by_name["a"] == 2
        settle(system, clock)
        assert system.ask("a", Get()) == 3
    finally:
        system.shutdown()


def test_intensity_exceeded_escalates_and_stops_children_in_reverse(
    system: ActorSystem, clock: SimClock
) -> None:
    journal = Journal()
    escalations: list[ActorCrashed] = []
    system.on_escalation(escalations.append)
    children = tuple(ChildSpec.of(n, Recorder, journal) for n in ("a", "b", "c"))
    system.start(SupervisorSpec("root", children, max_restarts=2, within=60.0, backoff=NO_JITTER))
    for _ in range(2):
        crash(system, "b")
        settle(system, clock)
    assert not system.escalated.is_set()
    journal.clear()
    crash(system, "b")  # the third failure inside 60 s
    quiesce(system)
    assert system.escalated.is_set()
    assert escalations and escalations[0].error_type == "SupervisorEscalated"
    assert journal.of("stop") == ["b", "c", "a"]  # b failed; then the rest in reverse start order
    assert journal.of("start") == []  # nothing restarted after the escalation


def test_intensity_window_forgets_old_restarts(system: ActorSystem, clock: SimClock) -> None:
    journal = Journal()
    children = (ChildSpec.of("a", Recorder, journal),)
    system.start(SupervisorSpec("root", children, max_restarts=2, within=10.0, backoff=NO_JITTER))
    for _ in range(5):  # five failures, but never more than two inside any 10 s
        crash(system, "a")
        settle(system, clock)
        clock.advance(11.0)
    assert not system.escalated.is_set()
    assert system.tree().find("a").restarts == 5  # type: ignore[union-attr]


def test_nested_supervisor_escalates_to_its_parent_which_restarts_the_subtree(
    system: ActorSystem, clock: SimClock
) -> None:
    journal = Journal()
    inner = SupervisorSpec(
        "inner", (ChildSpec.of("x", Recorder, journal),), max_restarts=0, backoff=NO_JITTER
    )
    system.start(
        SupervisorSpec("root", (inner, ChildSpec.of("y", Recorder, journal)), backoff=NO_JITTER)
    )
    journal.clear()
    crash(system, "x")  # inner allows no restart: it gives up and fails itself
    settle(system, clock)
    assert not system.escalated.is_set()
    assert journal.of("start") == ["x"]  # the parent restarted inner, which started x again
    tree = system.tree()
    assert tree.find("inner").restarts == 1  # type: ignore[union-attr]
    assert tree.find("y").incarnation == 1  # type: ignore[union-attr]


def test_failing_start_is_reported_and_retried(system: ActorSystem, clock: SimClock) -> None:
    journal = Journal()
    failures_left = [2]
    children = (ChildSpec.of("flaky", FailingStart, journal, failures_left),)
    system.start(SupervisorSpec("root", children, backoff=NO_JITTER))
    settle(system, clock)
    node = system.tree().find("flaky")
    assert node is not None and node.state == "running"
    assert node.restarts == 2 and node.incarnation == 3
    assert node.last_failure is not None and node.last_failure.during_start
    assert node.last_failure.error_type == "ConnectionError"
    assert journal.of("start") == ["flaky"] * 3


def test_ask_that_raises_returns_the_error_and_the_actor_keeps_running(
    system: ActorSystem, clock: SimClock
) -> None:
    journal = Journal()
    system.start(_tree(journal, Strategy.ONE_FOR_ONE))
    system.tell("a", Add(4))
    with pytest.raises(RuntimeError, match="bad question"):
        system.ask("a", Fail("bad question"))
    quiesce(system)
    assert system.pending_restarts == 0
    assert system.ask("a", Get()) == 4  # same incarnation, state intact
    assert system.tree().find("a").restarts == 0  # type: ignore[union-attr]


def test_temporary_child_is_not_restarted(system: ActorSystem, clock: SimClock) -> None:
    journal = Journal()
    temp = ChildSpec.of("temp", Recorder, journal, restart=Restart.TEMPORARY)
    system.start(SupervisorSpec("root", (temp,), backoff=NO_JITTER))
    crash(system, "temp")
    settle(system, clock)
    assert system.address("temp").state is AddressState.STOPPED
    assert system.tree().find("temp") is None
    system.tell("temp", Add(1))
    assert system.dead_letters.by_name["temp"] == 1


def test_transient_child_is_restarted_after_a_crash(system: ActorSystem, clock: SimClock) -> None:
    journal = Journal()
    transient = ChildSpec.of("t", Recorder, journal, restart=Restart.TRANSIENT)
    system.start(SupervisorSpec("root", (transient,), backoff=NO_JITTER))
    crash(system, "t")
    settle(system, clock)
    assert system.tree().find("t").restarts == 1  # type: ignore[union-attr]


def test_dynamic_children_start_and_stop(system: ActorSystem, clock: SimClock) -> None:
    journal = Journal()
    system.start(SupervisorSpec("root", (SupervisorSpec("watchers"),), backoff=NO_JITTER))
    watchers = system.address("watchers")
    watchers.ask(StartChild(ChildSpec.of("watcher:KXSOL15M-A", Recorder, journal)))
    watchers.ask(StartChild(ChildSpec.of("watcher:KXSOL15M-B", Recorder, journal)))
    with pytest.raises(ValueError, match="already has a child"):
        watchers.ask(StartChild(ChildSpec.of("watcher:KXSOL15M-A", Recorder, journal)))
    crash(system, "watcher:KXSOL15M-A")
    settle(system, clock)
    names = [n.name for n in system.tree().find("watchers").children]  # type: ignore[union-attr]
    assert names == ["watcher:KXSOL15M-A", "watcher:KXSOL15M-B"]
    watchers.ask(StopChild("watcher:KXSOL15M-A"))
    assert journal.of("stop")[-1] == "watcher:KXSOL15M-A"
    assert [n.name for n in system.tree().find("watchers").children] == ["watcher:KXSOL15M-B"]  # type: ignore[union-attr]
    with pytest.raises(KeyError):
        watchers.ask(StopChild("watcher:nope"))


def test_tree_snapshot_reports_state_restarts_mailbox_and_last_failure(
    system: ActorSystem, clock: SimClock
) -> None:
    journal = Journal()
    system.start(_tree(journal, Strategy.REST_FOR_ONE))
    system.tell("c", Fail("disk full"))
    quiesce(system)
    restarting = system.tree().find("c")
    assert restarting is not None and restarting.state == "restarting"
    settle(system, clock)
    snapshot = system.tree().to_dict()
    group = snapshot["children"][0]
    assert group["name"] == "group" and group["strategy"] == "rest_for_one"
    c = next(child for child in group["children"] if child["name"] == "c")
    assert c["state"] == "running" and c["restarts"] == 1 and c["mailbox_size"] == 0
    assert c["last_failure"]["error_type"] == "RuntimeError"
    assert c["last_failure"]["error"] == "disk full"


def test_constructor_failure_is_treated_like_a_failed_start(
    system: ActorSystem, clock: SimClock
) -> None:
    attempts = [0]

    def start(context: ActorContext) -> pykka.ActorRef[Any]:
        attempts[0] += 1
        if attempts[0] < 3:
            raise ValueError("bad argument")
        return Recorder.start(context, Journal())

    system.start(SupervisorSpec("root", (ChildSpec("odd", start),), backoff=NO_JITTER))
    settle(system, clock)
    assert attempts[0] == 3
    assert system.tree().find("odd").state == "running"  # type: ignore[union-attr]


class _RootDyingMidAsk:
    """A root that is alive when checked and dead when asked: the race of an escalating root."""

    def is_alive(self) -> bool:
        return True

    def ask(self, message: object, block: bool = True, timeout: float | None = None) -> Any:
        raise pykka.ActorDeadError("root failed before answering")


def test_tree_of_a_root_dying_mid_question_reads_as_not_running(
    system: ActorSystem, clock: SimClock
) -> None:
    system.start(SupervisorSpec("root", (ChildSpec.of("a", Recorder),)))
    quiesce(system)
    real_root = system.root
    system.root = _RootDyingMidAsk()  # type: ignore[assignment]
    try:
        node = system.tree()
    finally:
        system.root = real_root
    assert (node.state, node.children) == ("stopped", ())
