"""The quiescence barrier waits for chains of messages, not just one mailbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from runtime.actor import ActorContext, SupervisedActor
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import NotQuiescent, quiesce, settle
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem


@dataclass(frozen=True, slots=True)
class Hop:
    left: int


class Relay(SupervisedActor):
    """Passes a ``Hop`` to its peer until the count runs out; remembers how many it saw."""

    def __init__(self, context: ActorContext, peer: str) -> None:
        super().__init__(context)
        self.peer = peer
        self.hops = 0

    def handle(self, message: Any) -> Any:
        if isinstance(message, Hop):
            self.hops += 1
            if message.left > 0:
                self.system.tell(self.peer, Hop(message.left - 1))
            return None
        if message == "hops":
            return self.hops
        return super().handle(message)


def test_quiesce_waits_for_a_ping_pong_chain_to_finish(system: ActorSystem) -> None:
    system.start(
        SupervisorSpec(
            "root", (ChildSpec.of("ping", Relay, "pong"), ChildSpec.of("pong", Relay, "ping"))
        )
    )
    system.tell("ping", Hop(999))
    quiesce(system)
    # Read without asking (an ask would itself be a barrier): the counters must already be final.
    assert system.address("ping").handled + system.address("pong").handled == 1000


def test_quiesce_reports_pending_restarts_and_settle_runs_them(
    system: ActorSystem, clock: SimClock
) -> None:
    system.start(SupervisorSpec("root", (ChildSpec.of("ping", Relay, "pong"),)))
    crash(system, "ping")
    quiesce(system)
    assert system.pending_restarts == 1
    settle(system, clock)
    assert system.pending_restarts == 0
    assert system.tree().find("ping").restarts == 1  # type: ignore[union-attr]


def test_quiesce_times_out_on_an_endless_chain(system: ActorSystem) -> None:
    system.start(
        SupervisorSpec(
            "root", (ChildSpec.of("ping", Relay, "pong"), ChildSpec.of("pong", Relay, "ping"))
        )
    )
    system.tell("ping", Hop(10**9))
    with pytest.raises(NotQuiescent):
        quiesce(system, timeout=0.2)
    system.shutdown()
