"""Hypothesis stateful test: random crashes under random message traffic keep every invariant."""

from __future__ import annotations

import threading

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import quiesce, settle
from runtime.restart_policy import Backoff, Strategy
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.conftest import join_new_threads
from tests.runtime.fixture_actors import Add, Journal, Recorder

ONE_FOR_ONE = ("a", "b")
REST_FOR_ONE = ("c", "d", "e")
LONE = ("f",)
ACTORS = ONE_FOR_ONE + REST_FOR_ONE + LONE


class SupervisionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.threads_before = set(threading.enumerate())
        self.clock = SimClock()
        self.system = ActorSystem(clock=self.clock, seed=11)
        self.journal = Journal()
        backoff = Backoff(initial=0.01, maximum=1.0, jitter=0.5)

        def group(name: str, members: tuple[str, ...], strategy: Strategy) -> SupervisorSpec:
            children = tuple(ChildSpec.of(m, Recorder, self.journal) for m in members)
            return SupervisorSpec(
                name, children, strategy=strategy, max_restarts=10_000, backoff=backoff
            )

        root = SupervisorSpec(
            "root",
            (
                group("g1", ONE_FOR_ONE, Strategy.ONE_FOR_ONE),
                group("g2", REST_FOR_ONE, Strategy.REST_FOR_ONE),
                ChildSpec.of("f", Recorder, self.journal),
            ),
            max_restarts=10_000,
            backoff=backoff,
        )
        self.system.start(root)
        self.expected_restarts = dict.fromkeys(ACTORS, 0)
        self.sent = 0
        self.crashed = False

    @rule(target_name=st.sampled_from(ACTORS), amounts=st.lists(st.integers(1, 9), max_size=8))
    def traffic(self, target_name: str, amounts: list[int]) -> None:
        for amount in amounts:
            self.system.tell(target_name, Add(amount))
            self.sent += 1

    @rule(victim=st.sampled_from(ACTORS), before=st.integers(0, 5), after=st.integers(0, 5))
    def crash_under_traffic(self, victim: str, before: int, after: int) -> None:
        for _ in range(before):
            self.system.tell(victim, Add(1))
        crash(self.system, victim, "property test")
        for _ in range(after):
            self.system.tell(victim, Add(1))
        self.sent += before + after
        settle(self.system, self.clock)
        group = REST_FOR_ONE[REST_FOR_ONE.index(victim) :] if victim in REST_FOR_ONE else (victim,)
        for member in group:
            self.expected_restarts[member] += 1

    @rule(seconds=st.floats(0.0, 5.0))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @invariant()
    def after_quiescence_everything_holds(self) -> None:
        settle(self.system, self.clock)
        tree = self.system.tree()
        nodes = {n.name: n for n in tree.walk()}
        # every permanent child is alive
        assert all(nodes[name].state == "running" for name in (*ACTORS, "g1", "g2"))
        # restart counts match the crashes (rest_for_one restarts the later siblings too)
        assert {name: nodes[name].restarts for name in ACTORS} == self.expected_restarts
        # nothing was lost: every message sent was handled exactly once, across incarnations
        assert len(self.journal.of("add")) == self.sent
        assert self.system.dead_letters.total == 0

    def teardown(self) -> None:
        quiesce(self.system)
        self.system.shutdown(timeout=10)
        assert join_new_threads(self.threads_before) == []  # no thread leak


TestSupervisionProperties = SupervisionMachine.TestCase
TestSupervisionProperties.settings = settings(
    max_examples=20,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
