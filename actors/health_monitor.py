"""HealthMonitor: a periodic look at the whole tree, logged and published on the ``system`` topic.

It is the runtime's own watchdog: restarts, dead letters and mailbox backlogs
show up in the log (and later on the dashboard) without anyone asking. It also names
each traded series whose markets stopped appearing (:mod:`marketdata.series_watch`):
the others trade on, but the operator must hear of it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from loguru import logger

from kalshi.tickers import series_of
from marketdata.series_watch import SERIES_GRACE_SECONDS, missing_text, overdue_series
from messages.base import Message, message
from messages.market_data import MarketInfo
from messages.queries import GetReport
from messages.system import ActorCrashed, ActorRestarted
from messages.timers import HealthTick
from runtime.actor import ActorContext, SupervisedActor
from runtime.address import AddressState
from runtime.bus import MARKETS, SYSTEM


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
    missing_series: tuple[str, ...] = ()  # traded series with no open market (see above)


class HealthMonitor(SupervisedActor):
    def __init__(
        self,
        context: ActorContext,
        interval: float = 10.0,
        backlog_warning: int = 1000,
        series: Collection[str] = (),
        series_grace: float = SERIES_GRACE_SECONDS,
    ) -> None:
        """``series``: the series traded; one none of whose markets appears within
        ``series_grace`` s of the start, or of its latest market's close, is missing."""
        super().__init__(context)
        self.interval = interval
        self.backlog_warning = backlog_warning
        self.series_grace = series_grace
        self.last: HealthReport | None = None
        self.crashes = 0
        self.restarts = 0
        started = self.clock.now()
        self.last_close: dict[str, float] = dict.fromkeys(series, started)
        self.heard: set[str] = set()  # series with a market heard of

    def setup(self) -> None:
        self.subscribe(SYSTEM, MARKETS)
        self.every(self.interval, HealthTick)

    def handle(self, message: Any) -> Any:
        if isinstance(message, ActorCrashed):
            self.crashes += 1
        elif isinstance(message, ActorRestarted):
            self.restarts += 1
        elif isinstance(message, MarketInfo):
            self._market(message)
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

    def _market(self, info: MarketInfo) -> None:
        name = info.series or series_of(info.ticker)
        if name in self.heard:
            self.last_close[name] = max(self.last_close[name], info.close_time)
        else:  # the first market of it replaces the start-up deadline
            self.heard.add(name)
            self.last_close[name] = info.close_time

    def missing_series(self) -> list[str]:
        return overdue_series(self.last_close, self.clock.now(), self.series_grace)

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
            missing_series=tuple(self.missing_series()),
        )
        for name in report.missing_series:
            heard = self.last_close[name] if name in self.heard else None
            logger.warning("health: {}", missing_text(name, heard))
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
