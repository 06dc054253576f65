"""Fault injection: on-demand crashes and chaos, all recovered."""

from __future__ import annotations

from messages.queries import ChaosReport
from runtime.clock import SimClock
from runtime.faults import ChaosMonkey, crash
from runtime.quiescence import settle
from runtime.restart_policy import Strategy
from runtime.supervisor import ChildSpec, StopChild, SupervisorSpec
from runtime.system import ActorSystem
from tests.runtime.fixture_actors import Add, Get, Journal, Recorder


def test_crash_makes_the_actor_fail_like_a_bug_would(system: ActorSystem, clock: SimClock) -> None:
    journal = Journal()
    system.start(SupervisorSpec("root", (ChildSpec.of("a", Recorder, journal),)))
    system.tell("a", Add(3))
    crash(system, "a", "test")
    settle(system, clock)
    node = system.tree().find("a")
    assert node is not None
    assert node.last_failure is not None
    assert (node.last_failure.error_type, node.last_failure.error) == ("InjectedCrash", "test")
    assert system.ask("a", Get()) == 0  # a new incarnation with fresh state


def test_chaos_crashes_are_all_recovered(system: ActorSystem, clock: SimClock) -> None:
    journal = Journal()
    workers = SupervisorSpec(
        "workers",
        tuple(ChildSpec.of(n, Recorder, journal) for n in ("a", "b", "c")),
        strategy=Strategy.ONE_FOR_ONE,
        max_restarts=1000,
    )
    chaos = ChildSpec.of("chaos", ChaosMonkey, 6.0)  # one crash every 10 s on average
    system.start(
        SupervisorSpec(
            "root", (workers, ChildSpec.of("d", Recorder, journal), chaos), max_restarts=1000
        )
    )
    crashed: tuple[str, ...] = ()
    for _ in range(200):  # bounded: stops once enough crashes happened
        due = clock.next_timer()
        assert due is not None
        clock.advance_to(due)
        settle(system, clock)
        crashed = system.ask("chaos", ChaosReport())
        if len(crashed) >= 30:
            break
    system.address("root").ask(StopChild("chaos"))
    settle(system, clock)

    assert len(crashed) >= 30
    assert set(crashed) <= {"a", "b", "c", "d"}  # never a supervisor, never the monkey itself
    tree = system.tree()
    nodes = {n.name: n for n in tree.walk()}
    assert all(nodes[n].state == "running" for n in ("workers", "a", "b", "c", "d"))
    # one_for_one everywhere: each crash restarts exactly the actor that crashed.
    expected = {name: crashed.count(name) for name in ("a", "b", "c", "d")}
    assert {n: nodes[n].restarts for n in expected} == expected
    for name in ("a", "b", "c", "d"):
        system.tell(name, Add(1))
        assert system.ask(name, Get()) == 1
