"""HealthMonitor: a periodic look at the whole tree, logged and published on the ``system`` topic.

It is the runtime's own watchdog: restarts, dead letters and mailbox backlogs
show up in the log (and later on the dashboard) without anyone asking.
"""

from __future__ import annotations

from typing import Any

from loguru import logger

from messages.base import Message, message
from messages.queries import GetReport
from messages.system import ActorCrashed, ActorRestarted
from messages.timers import HealthTick
from runtime.actor import ActorContext, SupervisedActor
from runtime.address import AddressState
from runtime.bus import SYSTEM


@message("health_report")
class HealthReport(Message):
    at: float
    actors: int
    running: int
    crashes: int
    restarts: int
    dead_letters: int
    largest_mailbox: int
    largest_mailbox_actor: str


class HealthMonitor(SupervisedActor):
    def __init__(
        self, context: ActorContext, interval: float = 10.0, backlog_warning: int = 1000
    ) -> None:
        super().__init__(context)
        self.interval = interval
        self.backlog_warning = backlog_warning
        self.last: HealthReport | None = None
        self.crashes = 0
        self.restarts = 0

    def setup(self) -> None:
        self.subscribe(SYSTEM)
        self.every(self.interval, HealthTick)

    def handle(self, message: Any) -> Any:
        if isinstance(message, ActorCrashed):
            self.crashes += 1
        elif isinstance(message, ActorRestarted):
            self.restarts += 1
        elif isinstance(message, HealthReport):
            pass  # our own report, echoed by the bus
        elif isinstance(message, HealthTick):
            self.last = self.report()
            self.publish(SYSTEM, self.last)
        elif isinstance(message, GetReport):
            return self.report()
        else:
            return super().handle(message)
        return None

    def report(self) -> HealthReport:
        known = [
            a
            for a in self.system.addresses()
            if a.name != self.name and a.state in (AddressState.RUNNING, AddressState.RESTARTING)
        ]
        mailboxes = {a.name: a.mailbox_size() for a in known}
        busiest = max(mailboxes, key=mailboxes.__getitem__, default="")
        report = HealthReport(
            at=self.clock.now(),
            actors=len(known),
            running=sum(1 for a in known if a.state is AddressState.RUNNING),
            crashes=self.crashes,
            restarts=self.restarts,
            dead_letters=self.system.dead_letters.total,
            largest_mailbox=mailboxes.get(busiest, 0),
            largest_mailbox_actor=busiest,
        )
        log = logger.warning if report.largest_mailbox >= self.backlog_warning else logger.info
        log(
            "health: {}/{} actors running, {} crashes, {} restarts, {} dead letters, "
            "largest mailbox {} ({})",
            report.running,
            report.actors,
            report.crashes,
            report.restarts,
            report.dead_letters,
            report.largest_mailbox,
            report.largest_mailbox_actor or "-",
        )
        return report
