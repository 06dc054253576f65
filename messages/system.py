"""System messages: what the runtime itself sends (ticks, pings, crashes, restarts, shutdown)."""

from __future__ import annotations

from messages.base import Message, message


@message("tick")
class Tick(Message):
    """A timer fired. ``coalesced`` counts firings merged into this one while the actor was busy.

    Each timer is a subclass (``messages.timers``): its class is its name."""

    scheduled_at: float
    coalesced: int = 0


@message("ping")
class Ping(Message):
    """A barrier and liveness probe: answered after every message sent before it."""


@message("pong")
class Pong(Message):
    name: str
    incarnation: int
    handled: int


@message("shutdown")
class Shutdown(Message):
    """Ask the whole system to stop in order; ``exit_code`` is what the process returns."""

    reason: str
    exit_code: int = 0


@message("crash_now")
class CrashNow(Message):
    """Fault injection: the receiving actor raises :class:`runtime.faults.InjectedCrash`."""

    reason: str = "injected"


@message("actor_crashed")
class ActorCrashed(Message):
    """An actor failed; published on the ``system`` topic and sent to its supervisor."""

    name: str
    incarnation: int
    error_type: str
    error: str
    during_start: bool
    at: float


@message("actor_restarted")
class ActorRestarted(Message):
    name: str
    incarnation: int
    restarts: int
    delay: float
    at: float


@message("actor_stopped")
class ActorStopped(Message):
    """An actor stopped for good (normal stop, temporary child, or escalation)."""

    name: str
    reason: str
    at: float


@message("escalated")
class Escalated(Message):
    """A supervisor gave up: its children failed more often than its restart intensity allows."""

    name: str
    restarts: int
    window: float
    at: float
