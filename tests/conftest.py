"""Shared fixtures: a simulated clock and an actor system that is always shut down."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from runtime.clock import SimClock
from runtime.system import ActorSystem


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def system(clock: SimClock) -> Iterator[ActorSystem]:
    actors = ActorSystem(clock=clock, seed=7)
    yield actors
    actors.shutdown(timeout=10)


def join_new_threads(
    before: set[threading.Thread], timeout: float = 10.0
) -> list[threading.Thread]:
    """Wait (bounded) for threads started since ``before`` to end; returns those still alive."""
    leftover = []
    for thread in threading.enumerate():
        if thread in before or thread is threading.current_thread():
            continue
        thread.join(timeout=timeout)
        if thread.is_alive():
            leftover.append(thread)
    return leftover
