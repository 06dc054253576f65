"""AlertActor: bus events → the alert policy → apprise, on threads of its own.

Off the order path twice over: it subscribes as a ``last`` observer (the actors that act
on a message are told first), and it never sends from its own thread: each destination
has a worker thread with a bounded queue, so a dead or slow destination (a socket that
never answers) holds only its own worker. A failed send is logged by the destination's
label, never its URL, and retried with bounded exponential backoff; a full queue drops
the newest notice and counts it.
"""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from loguru import logger

from alerting.daily import DailySummary, daily_summary, scoreboard_lines
from alerting.policy import AlertPolicy, Notice
from alerting.rules import AlertConfig, parse_rules, parse_time_of_day
from alerting.targets import Target, deliver, targets_of
from config.settings import Settings
from messages.queries import GetDeliveries, Query
from messages.scoreboard import ScoreboardReport
from messages.system import Tick
from messages.timers import AlertsTick
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import ALERTS, FILLS, MARKETS, ORDERS, SCOREBOARD, SYSTEM
from runtime.log import throttled
from runtime.restart_policy import Backoff
from runtime.supervisor import ChildSpec
from storage.database import Database
from storage.export import fill_rows, settlement_rows
from storage.schema import fills, of_mode

ALERTER = "alerter"
Send = Callable[[Target, str, str, str], bool]  # (target, title, body, level) -> delivered
SummarySource = Callable[[float, float], DailySummary]
# ~5 s, 15 s, 45 s between four attempts: a destination down for a minute still hears of it.
RETRY = Backoff(initial=5.0, factor=3.0, maximum=120.0, jitter=0.2)


def alert_config(settings: Settings, source: str = "sol15") -> AlertConfig:
    """The policy's configuration from the (already validated) settings."""
    return AlertConfig(
        rules=parse_rules(settings.alert_rules),
        dedupe_seconds=settings.alert_dedupe_minutes * 60,
        feed_stale_seconds=settings.alert_feed_stale_seconds,
        error_burst=settings.alert_error_burst,
        restart_storm=settings.alert_restart_storm,
        burst_window_seconds=settings.alert_burst_window_seconds,
        summary_minute=parse_time_of_day(settings.alert_daily_summary_at),
        source=source,
    )


def ledger_summary(database: Database, flush: Callable[[], object] | None = None) -> SummarySource:
    """The daily summary read from the ledger (``flush`` first writes what the ledger holds)."""

    def read(start: float, end: float) -> DailySummary:
        if flush is not None:
            flush()
        mode = database.scope.mode  # a ledger shared by modes: this bot's mode only
        with database.engine.connect() as conn:
            window = list(fill_rows(conn, start, end, mode=mode))
            settled = list(settlement_rows(conn, start, end, mode=mode))
            tickers = sorted({row["ticker"] for row in settled})
            stmt = sa.select(fills).where(fills.c.ticker.in_(tickers), of_mode(fills, mode))
            market = [dict(r) for r in conn.execute(stmt).mappings()] if tickers else []
        return daily_summary(start, end, window, settled, market)

    return read


class Deliveries:
    """What the outbox did, by target label; a test can wait until it is idle."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.sent: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()  # gave up after every attempt
        self.attempts: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()  # the queue was full
        self.pending = 0

    def count(self, field: Counter[str], label: str) -> None:
        with self._cond:
            field[label] += 1
            self._cond.notify_all()

    def queued(self, delta: int) -> None:
        with self._cond:
            self.pending += delta
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once every queued notice has been sent or given up on."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True


_STOP = object()


class Outbox:
    """One worker thread and bounded queue per destination."""

    def __init__(
        self,
        targets: Sequence[Target],
        send: Send = deliver,
        *,
        source: str = "sol15",
        attempts: int = 4,
        backoff: Backoff = RETRY,
        capacity: int = 100,
        record: Deliveries | None = None,
    ) -> None:
        self.send = send
        self.source = source
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.record = record or Deliveries()
        self._rng = random.Random()
        self._stop = threading.Event()
        self._queues = [queue.Queue[object](maxsize=capacity) for _ in targets]
        self._threads = [
            threading.Thread(target=self._run, args=(t, q), name=f"alerts-{n}", daemon=True)
            for n, (t, q) in enumerate(zip(targets, self._queues, strict=True), start=1)
        ]
        self.targets = tuple(targets)
        for thread in self._threads:
            thread.start()

    def put(self, notice: Notice) -> None:
        """Queue ``notice`` for every destination; never blocks."""
        for target, q in zip(self.targets, self._queues, strict=True):
            self.record.queued(1)
            try:
                q.put_nowait(notice)
            except queue.Full:
                self.record.queued(-1)
                self.record.count(self.record.dropped, target.label)
                throttled(f"alerts full {target.label}").warning(
                    "alerts: {} is not keeping up: a {} alert was dropped",
                    target.label,
                    notice.headline,
                )

    def close(self, timeout: float) -> None:
        """Stop retrying, let each worker finish within ``timeout``, then leave them (daemons)."""
        self._stop.set()
        for q in self._queues:
            with contextlib.suppress(queue.Full):  # then the worker sees the flag
                q.put_nowait(_STOP)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, target: Target, q: queue.Queue[object]) -> None:
        while True:
            item = q.get()
            if item is _STOP:
                return
            assert isinstance(item, Notice)
            try:
                self._deliver(target, item)
            finally:
                self.record.queued(-1)
            if self._stop.is_set() and q.empty():
                return

    def _send(self, target: Target, title: str, body: str, level: str) -> bool:
        try:
            return self.send(target, title, body, level)
        except Exception as exc:  # a worker thread must outlive any destination
            logger.warning("alerts: sending to {} raised {}", target.label, type(exc).__name__)
            return False

    def _deliver(self, target: Target, notice: Notice) -> None:
        title, body = notice.title(self.source), notice.text()
        for attempt in range(1, self.attempts + 1):
            self.record.count(self.record.attempts, target.label)
            if self._send(target, title, body, notice.level):
                self.record.count(self.record.sent, target.label)
                return
            if attempt == self.attempts or self._stop.is_set():
                break
            delay = self.backoff.delay(attempt, self._rng)
            logger.warning(
                "alerts: {} did not take the {} alert (attempt {} of {}); retrying in {:.0f} s",
                target.label,
                notice.headline,
                attempt,
                self.attempts,
                delay,
            )
            if self._stop.wait(delay):
                break
        self.record.count(self.record.failed, target.label)
        logger.error(
            "alerts: {} failed; gave up on the {} alert after {} attempts",
            target.label,
            notice.headline,
            attempt,
        )


class AlertActor(SupervisedActor):
    """Feeds the alert policy from the bus and its timer; the outbox does the sending."""

    def __init__(
        self,
        context: ActorContext,
        targets: Sequence[Target],
        config: AlertConfig,
        summary: SummarySource | None = None,
        *,
        send: Send = deliver,
        record: Deliveries | None = None,
        backoff: Backoff = RETRY,
        attempts: int = 4,
        tick_interval: float = 5.0,
        drain_timeout: float = 3.0,
    ) -> None:
        super().__init__(context)
        self.targets = tuple(targets)
        self.config = config
        self.summary = summary
        self.send = send
        self.record = record or Deliveries()
        self.backoff = backoff
        self.attempts = attempts
        self.tick_interval = tick_interval
        self.drain_timeout = drain_timeout
        self.policy = AlertPolicy(config, self.clock.now)
        self.outbox: Outbox | None = None
        self.scoreboard = ""  # the scoreboard's latest report (JSON), for the daily summary

    def setup(self) -> None:
        self.outbox = Outbox(
            self.targets,
            self.send,
            source=self.config.source,
            attempts=self.attempts,
            backoff=self.backoff,
            record=self.record,
        )
        # an observer: every actor that acts on these messages is told before us
        self.subscribe(ALERTS, ORDERS, FILLS, MARKETS, SYSTEM, SCOREBOARD, last=True)
        self.every(self.tick_interval, AlertsTick)

    def handle(self, message: Any) -> Any:
        if isinstance(message, Tick):
            if not isinstance(message, AlertsTick):
                return super().handle(message)
            self._queue(self.policy.on_time())
            self._daily_summary()
        elif isinstance(message, ScoreboardReport):
            self.scoreboard = message.body  # parsed only when a summary goes out
        elif isinstance(message, GetDeliveries):
            return self.record
        elif isinstance(message, Query):
            return super().handle(message)  # not ours to answer: a dead letter
        else:
            self._queue(self.policy.consider(message))
        return None

    def teardown(self) -> None:
        if self.outbox is not None:
            self.outbox.close(self.drain_timeout)

    def _queue(self, notices: list[Notice]) -> None:
        if self.outbox is None:
            return
        for notice in notices:
            logger.info("alert ({}): {}: {}", notice.level, notice.headline, notice.body)
            self.outbox.put(notice)

    def _daily_summary(self) -> None:
        window = self.policy.summary_due()
        if window is None or self.summary is None:
            return
        try:
            figures = self.summary(*window)
        except Exception as exc:  # the ledger may be down: say so, keep running
            logger.warning("alerts: the daily summary could not be read: {}", exc)
            return
        lines = scoreboard_lines(orjson.loads(self.scoreboard)) if self.scoreboard else []
        self._queue(self.policy.summary_notice(figures, lines))


def alerter_child(settings: Settings, source: str, database: Database | None) -> ChildSpec:
    """The alert actor's child spec (the caller adds it only when ``ALERT_URLS`` is set)."""
    text = settings.alert_urls.get_secret_value() if settings.alert_urls else ""
    return ChildSpec.of(
        ALERTER,
        AlertActor,
        targets_of(text),
        alert_config(settings, source),
        None if database is None else ledger_summary(database),
    )
