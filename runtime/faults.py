"""Fault injection: crash any actor on demand, or at random (``--chaos RATE`` crashes per minute)."""

from __future__ import annotations

from typing import Any

from loguru import logger

from messages.queries import ChaosReport
from messages.system import CrashNow
from messages.timers import ChaosTick
from runtime.actor import ActorContext, InjectedCrash, SupervisedActor
from runtime.address import AddressState
from runtime.system import ActorSystem

__all__ = ["ChaosMonkey", "ChaosReport", "InjectedCrash", "crash"]


def crash(system: ActorSystem, name: str, reason: str = "injected") -> None:
    """Make the actor at ``name`` raise while handling a ``tell`` (as a real bug would)."""
    system.address(name).tell(CrashNow(reason))


class ChaosMonkey(SupervisedActor):
    """Crashes a random worker actor at Poisson-distributed times, ``rate`` per minute.

    Supervisors, the monkey itself and names in ``spare`` are never picked. Each
    victim is chosen with the system's seeded RNG, so a chaos run can be replayed.
    """

    def __init__(
        self, context: ActorContext, rate: float, spare: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(context)
        if rate <= 0:
            raise ValueError(f"chaos rate must be > 0 crashes per minute, got {rate}")
        self.rate = rate
        self.spare = spare
        self.crashes: list[str] = []

    def setup(self) -> None:
        self._schedule()

    def handle(self, message: Any) -> Any:
        if isinstance(message, ChaosTick):
            self._strike()
            self._schedule()
            return None
        if isinstance(message, ChaosReport):
            return tuple(self.crashes)
        return super().handle(message)

    def _schedule(self) -> None:
        self.later(self.system.rng.expovariate(self.rate / 60.0), ChaosTick(self.clock.now()))

    def _victims(self) -> list[str]:
        supervisors = self.system.supervisors
        return sorted(
            a.name
            for a in self.system.addresses()
            if a.state is AddressState.RUNNING
            and a.name != self.name
            and a.name not in self.spare
            and a.name not in supervisors
        )

    def _strike(self) -> None:
        victims = self._victims()
        if not victims:
            return
        victim = self.system.rng.choice(victims)
        self.crashes.append(victim)
        logger.warning("chaos: crashing {}", victim)
        crash(self.system, victim, "chaos")
