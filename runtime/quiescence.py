"""Wait until the system has nothing left to do — the test barrier that replaces sleeps.

A round pings every live actor (a ``Ping`` is answered only after everything
sent to that actor before it). If during a whole round no message was sent or
handled anywhere and no restart is pending, nothing is in flight: the system is
quiescent. Restarts wait on the clock, so with a ``SimClock`` use ``settle``,
which also advances time to each pending restart.
"""

from __future__ import annotations

import time

import pykka

from messages.system import Ping
from runtime.clock import SimClock
from runtime.system import ActorSystem


class NotQuiescent(TimeoutError):
    pass


def _activity(system: ActorSystem) -> tuple[int, int]:
    addresses = system.addresses()
    return sum(a.sent for a in addresses), sum(a.handled for a in addresses)


def _ping_round(system: ActorSystem, deadline: float) -> None:
    for address in system.addresses():
        ref = address.ref
        if ref is None:
            continue
        try:
            ref.ask(Ping(), timeout=max(0.001, deadline - time.monotonic()))
        except pykka.ActorDeadError:
            continue  # it just failed; its crash report is activity the next round will see
        except pykka.Timeout:
            raise NotQuiescent(f"{address.name} did not answer a ping in time") from None


def quiesce(system: ActorSystem, timeout: float = 10.0) -> None:
    """Block until every mailbox is empty and no message is in flight (restarts may be pending)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _activity(system)
        _ping_round(system, deadline)
        addresses = system.addresses()
        if _activity(system) == before and not any(
            a.mailbox_size() or a.busy_failing() for a in addresses
        ):
            return
    raise NotQuiescent(f"still busy after {timeout} s")


def settle(
    system: ActorSystem, clock: SimClock, timeout: float = 10.0, max_steps: int = 1000
) -> None:
    """Quiesce, then advance ``clock`` to each pending restart until none is left."""
    for _ in range(max_steps):
        quiesce(system, timeout)
        if system.pending_restarts == 0:
            return
        due = clock.next_timer()
        if due is None:
            raise NotQuiescent("restarts pending but no timer scheduled")
        clock.advance_to(due)
    raise NotQuiescent(f"restarts still pending after {max_steps} clock steps")
