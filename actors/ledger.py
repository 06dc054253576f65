"""LedgerActor: the durable journal and current-state tables, written in batches off the hot path.

It listens to the trading topics and turns every signal, risk decision, order
intent, order update, fill, settlement, P&L mark (``RiskStatus``, throttled),
alert and actor crash/restart into ledger rows (``storage.journal``), buffering
them and writing them every ``flush_interval`` (or when ``batch_size`` are waiting).
Recording an order must never compete with placing it, so: its mailbox
(``_LazyInbox``) sets events aside without waking its thread (one thread runs Python
at a time); the batches are encoded and written by a child process at idle CPU
priority (``storage.writer_process``), this thread only hands them over; and a write
does not start in a burst of orders: it waits until no journaled event arrived for
``quiet_gap`` seconds, ``max_defer`` seconds at most. Any busy core slows the edges
that overlap a write (``bench/ledger_cost.py`` counts them), and orders come in bursts
(several markets or strategies reacting to one move) with long pauses between them.
It keeps the live scoreboard's windows (``scoreboard`` topic: one row per window, read
back with :class:`LoadScoreboard` when the scoreboard starts). It also keeps the risk engine's state for the RiskActor (saved on every change that
matters, loaded on (re)start), the operator's switches (a strategy turned off stays off
across restarts), and answers a restarted strategy's question: its fills in markets
that have not settled, written or still buffered.

When the database fails, nothing is dropped: events stay buffered and the
write is retried with backoff; the actor publishes ``LedgerHealth(ok=False)``
(the RiskActor stops approving, so no order goes out without a durable intent)
and an alert, then ``LedgerHealth(ok=True)`` and another alert once a write
succeeds again. A crashed incarnation hands what it could not write to the next.

Wiring: first child of the ``trading`` supervisor (``rest_for_one``: ledger →
risk → order), ``ChildSpec.of("ledger", LedgerActor, database)``; give the
RiskActor ``ledger="ledger"`` and the OrderActor the same ``database``.
"""

from __future__ import annotations

import collections
import math
import pickle
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import sqlalchemy as sa
from loguru import logger

from messages.control import ControlChanged
from messages.ledger import (
    LEDGER,
    Flush,
    LedgerHealth,
    LoadControls,
    LoadedControls,
    LoadedFills,
    LoadedRisk,
    LoadedScoreboard,
    LoadRiskState,
    LoadScoreboard,
    LoadStrategyFills,
    SaveControl,
    SaveRiskState,
)
from messages.queries import GetStats
from messages.scoreboard import ScoreboardWindow
from messages.status import Alert, RiskStatus
from messages.timers import FlushTick
from messages.trading import Fill
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import ALERTS, FILLS, ORDERS, SCOREBOARD, SIGNALS, STATUS, SYSTEM
from runtime.clock import TimerHandle
from runtime.dispatch import Dispatch
from runtime.inbox import OwnInbox
from storage.database import Database
from storage.errors import LedgerUnavailable
from storage.intent_file import sync_intent_file
from storage.journal import (
    ENCODERS,
    Entry,
    Item,
    Pending,
    daily_row,
    journal_row,
    pending,
    positions_rows,
    risk_row,
    status_mark,
)
from storage.migrate import reason_of
from storage.recovery import load_controls, load_risk, strategy_fills
from storage.risk_state import SavedRisk, UnreadableRiskState
from storage.scoreboard import load_windows
from storage.writer_process import ProcessWriter

T = TypeVar("T")
SLICE = 8  # events pickled between two pauses (~20 µs)
ID_CONFLICT = "exchange_id_conflict"  # the alert: an exchange id came back meaning something else


@dataclass(frozen=True, slots=True)
class _Carry:
    """From a crashed incarnation to the next: what it could not write."""

    entries: tuple[Item, ...]
    risk: dict[str, Entry]


class _Collect:
    """Wakes the ledger's thread: sent by the mailbox when a full batch waits, and by
    the ledger to itself to look again whether the order path has become quiet."""


class _Wake:
    """The envelope of a ``_Collect`` (what pykka's loop takes from a mailbox)."""

    __slots__ = ()
    message = _Collect()
    reply_to = None


class _LazyInbox(queue.Queue[Any]):
    """The ledger's mailbox: sending to it never wakes the ledger's thread.

    One thread runs Python at a time, and events reach the ledger at the worst moment:
    in the same burst as the order they describe (signal, decision, intent, updates,
    fills). Woken by each, the ledger would take the interpreter from the order's own
    path. So events the ledger only records (the types in ``storage.journal.ENCODERS``,
    told, not asked) skip the actor's loop: ``put`` sets them aside with the time they
    arrived, and the ledger collects them all at its next timer tick or message. Other
    messages are queued as usual but do not wake the thread either: it looks for mail
    every :data:`POLL` seconds. An ``ask`` (a ping, a flush, the risk state) still wakes
    it at once.
    """

    POLL = 0.05
    YIELD = 0.00005  # off the interpreter between messages (0 would not reliably hand it over)

    def __init__(self) -> None:
        super().__init__()
        self.aside: collections.deque[Pending] = collections.deque()
        self.now: Callable[[], float] = time.time  # the actor sets its clock's
        self.wake_at = 0  # this many set aside wake the thread (a full batch); 0: never

    @classmethod
    def pause(cls) -> None:
        """Let a thread waiting for the interpreter have it."""
        time.sleep(cls.YIELD)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        reply_to = getattr(item, "reply_to", None)
        if reply_to is None and type(getattr(item, "message", None)) in ENCODERS:
            self.aside.append((item.message, self.now()))  # deque.append: atomic, no lock
            if len(self.aside) == self.wake_at:
                with self.mutex:
                    self._put(_Wake())
                    self.unfinished_tasks += 1
                    self.not_empty.notify()
            return
        with self.mutex:
            self._put(item)
            self.unfinished_tasks += 1
            if reply_to is not None or type(getattr(item, "message", None)) is _Collect:
                self.not_empty.notify()  # an ask, or a write waiting for a quiet moment

    def last_arrival(self) -> float | None:
        """When the newest event set aside arrived (None: none waits)."""
        try:
            return self.aside[-1][1]
        except IndexError:
            return None

    def take_aside(self) -> list[Pending]:
        """Everything set aside so far, oldest first."""
        aside, taken = self.aside, []
        while aside:
            taken.append(aside.popleft())
        return taken

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if not block or timeout is not None:
            return super().get(block, timeout)
        while True:
            try:
                item = super().get(timeout=self.POLL)
            except queue.Empty:
                continue
            self.pause()  # a thread waiting for the interpreter goes first
            return item


class LedgerActor(OwnInbox, SupervisedActor):
    inbox_type = _LazyInbox

    def __init__(
        self,
        context: ActorContext,
        database: Database,
        flush_interval: float = 1.0,
        batch_size: int = 2000,  # fewer, larger batches disturb the order path less (ledger_cost)
        chunk_size: int = 1000,
        mark_interval: float = 10.0,
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
        max_buffer: int = 1_000_000,
        sync_interval: float = 5.0,
        quiet_gap: float = 0.002,
        max_defer: float = 2.0,
        look_every: float = 0.01,
    ) -> None:
        super().__init__(context)
        self.database = database
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.chunk_size = chunk_size
        self.mark_interval = mark_interval
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.max_buffer = max_buffer
        self.sync_interval = sync_interval  # seconds between fsyncs of the write-ahead log
        self._last_sync = -math.inf
        # Writes wait until no event arrived for ``quiet_gap`` s, for ``max_defer`` s at most.
        self.quiet_gap = quiet_gap
        self.max_defer = max_defer
        self.look_every = look_every  # while waiting: how soon to look again first
        self._look_delay = look_every  # doubled at each look that finds orders still coming
        self.looks = 0  # wake-ups to look for a quiet moment (or at a full batch)
        self._last_arrival = -math.inf  # of the newest event collected
        self._waiting_since: float | None = None  # a write waits for a quiet moment
        self._look_again: TimerHandle | None = None  # the timer of the next look
        # Encoded and written in a process of its own: never on the bot's interpreter lock.
        self.writer = ProcessWriter(database, pause=_LazyInbox.pause)
        self._buffer: list[Item] = []
        self._risk_entries: dict[str, Entry] = {}  # by account, waiting for the next write
        self.saved_risk: dict[str, SavedRisk | None] = {}  # by account, as last saved or loaded
        self.controls: dict[str, str] | None = None  # the switches as last loaded or saved
        self.healthy = True
        self._retry_delay = retry_initial
        self._retry_at = -math.inf
        self._last_mark = -math.inf
        self._mark_key: tuple[Any, ...] | None = None
        self._positions_key: tuple[Any, ...] | None = None
        self.written = 0
        self.duplicates = 0
        self._conflicts_reported: set[str] = set()
        self.failures = 0
        self.dropped = 0

    # -- lifecycle -------------------------------------------------------------------------

    def setup(self) -> None:
        inbox = self._inbox()
        inbox.now = self.clock.now
        inbox.wake_at = self.batch_size
        self.writer.start()
        self.subscribe(
            SIGNALS, ORDERS, FILLS, STATUS, SYSTEM, ALERTS, LEDGER, SCOREBOARD, last=True
        )
        self.every(self.flush_interval, FlushTick)

    def teardown(self) -> None:
        try:
            if self.flush():
                return
            pending = len(self._buffer) + len(self._risk_entries)
            if self.crashed is not None:  # the next incarnation writes them
                self.address.tell(_Carry(tuple(self._buffer), dict(self._risk_entries)))
            else:
                logger.error("ledger: {} events could not be written before stopping", pending)
        finally:
            self.writer.close()

    def _inbox(self) -> _LazyInbox:
        return self.own_inbox(_LazyInbox)

    def _collect(self) -> None:
        """Take in the events set aside by the mailbox, pickled (``storage.journal.pending``)
        so that a write is a copy of bytes, letting other threads have the interpreter every
        :data:`SLICE` events: a whole batch pickled at once holds the interpreter in long
        slices that the order path would wait behind (``docs/measurements.md``)."""
        taken = self._inbox().take_aside()
        if taken:
            self._last_arrival = taken[-1][1]
        for n, (event, arrived) in enumerate(taken, 1):
            kept = pending(event, arrived)
            if kept is not None:
                self._add(kept)
            if n % SLICE == 0:
                _LazyInbox.pause()

    # -- messages ------------------------------------------------------------------------------

    def handle(self, message: Any) -> Any:
        if self._inbox().aside:
            self._collect()  # in order: what was set aside arrived before this message
        kind = type(message)
        query = self._QUERIES[kind]
        if query is not None:
            return query(self, message)
        event = self._EVENTS[kind]
        if event is None:
            return super().handle(message)
        event(self, message)
        if self.healthy and (
            self._waiting_since is not None or len(self._buffer) >= self.batch_size
        ):
            self._write_when_quiet()
        return None

    # -- one handler per message type (the tables at the end of the class) --------------------

    def _record(self, message: object) -> None:
        """An event only journaled (asked, or queued before the mailbox was ours)."""
        self._add((message, self.clock.now()))

    def _on_carry(self, carry: _Carry) -> None:
        self._buffer[:0] = list(carry.entries)
        self._risk_entries = {**carry.risk, **self._risk_entries}

    def _on_collect(self, _: _Collect) -> None:
        self._look_again = None  # a waiting write looks again below
        self.looks += 1

    def _on_load_risk(self, message: LoadRiskState) -> LoadedRisk[SavedRisk]:
        return self._load_risk(message.account)

    def _on_save_control(self, message: SaveControl) -> bool:
        return self._save_control(message.change)

    def _on_load_controls(self, message: LoadControls) -> LoadedControls:
        return self._load_controls(message.prefix)

    def _on_load_fills(self, message: LoadStrategyFills) -> LoadedFills:
        return self._strategy_fills(message.strategy_name, message.since)

    def _on_load_scoreboard(self, message: LoadScoreboard) -> LoadedScoreboard:
        return self._scoreboard(message.market, message.model)

    def _on_flush(self, _: Flush) -> bool:
        return self.flush()

    def _on_get_stats(self, _: GetStats) -> dict[str, Any]:
        return self.stats()

    def stats(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "buffered": len(self._buffer),
            "duplicates": self.duplicates,
            "healthy": self.healthy,
            "failures": self.failures,
            "dropped": self.dropped,
            "looks": self.looks,
        }

    # -- buffering and writing --------------------------------------------------------------------

    def _add(self, entry: Item) -> None:
        self._buffer.append(entry)
        if len(self._buffer) > self.max_buffer:
            del self._buffer[0]
            self.dropped += 1
            if self.dropped == 1:
                logger.critical(
                    "ledger: buffer full ({}): dropping the oldest events", self.max_buffer
                )

    def _on_tick(self, _: FlushTick) -> None:
        now = self.clock.now()
        if now - self._last_sync >= self.sync_interval:
            self._last_sync = now
            try:
                sync_intent_file(self.database.intents_path)
            except OSError as exc:
                logger.warning("ledger: cannot flush the write-ahead log to disk: {}", exc)
        if not (self._buffer or self._risk_entries):
            return
        if self.healthy:
            self._write_when_quiet()
        elif now >= self._retry_at:
            self.flush()

    def _write_when_quiet(self) -> None:
        """Write what is buffered now if the order path is quiet (or the write has waited
        ``max_defer``); otherwise look again in ``look_every`` seconds, then twice as long
        at each look that finds orders still coming: at full load there is no quiet
        moment, and a look every few milliseconds for ``max_defer`` seconds would only
        take the interpreter from the order path."""
        now = self.clock.now()
        if self._waiting_since is None:
            self._waiting_since = now
        waited = now - self._waiting_since
        if self._busy(now) and waited < self.max_defer:
            if self._look_again is None:
                delay = min(self._look_delay, self.max_defer - waited)
                self._look_delay *= 2
                self._look_again = self.later(delay, _Collect())
            return
        self.flush()

    def _busy(self, now: float) -> bool:
        """An event arrived less than ``quiet_gap`` seconds ago: orders are being made."""
        newest = self._inbox().last_arrival()
        return now - (self._last_arrival if newest is None else newest) < self.quiet_gap

    def flush(self) -> bool:
        """Write everything buffered, oldest first, ``chunk_size`` events per transaction;
        False when a write fails (what is not written stays buffered)."""
        self._waiting_since = None
        self._look_delay = self.look_every
        self._collect()
        total = len(self._buffer) + len(self._risk_entries)
        if not total:
            return True
        while self._buffer or self._risk_entries:
            chunk = self._buffer[: self.chunk_size]
            last = len(chunk) == len(self._buffer)
            if last:
                chunk = [*chunk, *self._risk_entries.values()]
            try:
                written = self.writer.write(chunk)
            except (sa.exc.SQLAlchemyError, LedgerUnavailable) as exc:
                self._write_failed(exc)
                return False
            del self._buffer[: self.chunk_size]
            if last:
                self._risk_entries.clear()
            self.written += written.journal_rows
            self.duplicates += written.duplicates
            self._report_conflicts(written.conflicts)
            if not last:
                _LazyInbox.pause()
        if not self.healthy:
            self._recovered(total)
        return True

    def _report_conflicts(self, conflicts: tuple[str, ...]) -> None:
        """An exchange id that came back meaning something else: both facts were kept;
        the operator hears of each conflict once (its later updates repeat it)."""
        for conflict in conflicts:
            if conflict in self._conflicts_reported:
                continue
            self._conflicts_reported.add(conflict)
            logger.warning("ledger: {}", conflict)
            alert = Alert(ID_CONFLICT, conflict, "warning", self.clock.now())
            self.publish(ALERTS, alert)

    def _write_failed(self, exc: Exception) -> None:
        self.failures += 1
        now = self.clock.now()
        self._retry_at = now + self._retry_delay
        self._retry_delay = min(self._retry_delay * 2, self.retry_max)
        if not self.healthy:
            return
        self.healthy = False
        reason = reason_of(exc)
        text = (
            f"the ledger cannot write to {self.database.safe_url}: {reason}; new trading is "
            f"halted and {len(self._buffer)} events are held until it returns"
        )
        logger.error("ledger: {}", text)
        self.publish(LEDGER, LedgerHealth(False, LEDGER, reason, now))
        self.publish(ALERTS, Alert("ledger_unavailable", text, "critical", now))

    def _recovered(self, count: int) -> None:
        self.healthy = True
        self._retry_delay = self.retry_initial
        self._retry_at = -math.inf
        now = self.clock.now()
        text = f"the ledger is writing again ({count} held events saved); trading may resume"
        logger.info("ledger: {}", text)
        self.publish(LEDGER, LedgerHealth(True, LEDGER, "", now))
        self.publish(ALERTS, Alert("ledger_recovered", text, "info", now))

    def _on_health(self, health: LedgerHealth) -> None:
        """Journal it; a write-ahead failure makes us unhealthy until our next write succeeds."""
        now = self.clock.now()
        self._add(Entry(journal_row(health, health.timestamp, health.source, None, now)))
        if health.source != LEDGER and not health.ok and self.healthy:
            self.healthy = False  # the next successful flush announces the recovery
            self._retry_at = -math.inf

    # -- P&L marks and the risk state ------------------------------------------------------------

    def _on_status(self, status: RiskStatus) -> None:
        now = self.clock.now()
        self._add(daily_row(status))
        positions = tuple(
            (p.ticker, p.side, p.contracts, p.cost, p.market_value) for p in status.positions
        )
        if positions != self._positions_key:
            self._positions_key = positions
            self._add(positions_rows(status))
        key = (status.trading_state, status.circuit_breaker_triggered, status.halt_reason)
        if key != self._mark_key or now - self._last_mark >= self.mark_interval:
            self._mark_key = key
            self._last_mark = now
            self._add(status_mark(status, now))

    def _save_risk(self, save: SaveRiskState[SavedRisk]) -> bool:
        self.saved_risk[save.account] = save.saved
        self._risk_entries[save.account] = risk_row(save.account, save.saved)
        if save.urgent:
            return self.flush()
        return True

    def _load_risk(self, account: str) -> LoadedRisk[SavedRisk]:
        """The latest state we hold (newer than the database's while writes are pending)."""
        if account in self.saved_risk:
            return LoadedRisk(self.saved_risk[account], True)
        try:
            saved = load_risk(self.database, account)
        except LedgerUnavailable as exc:
            logger.error("ledger: {}", exc)
            return LoadedRisk(None, False)
        except UnreadableRiskState as exc:
            # Not "none": it held the day's starting equity and maybe a halt. Not remembered,
            # so every load says so until the RiskActor saves a state over it.
            logger.error("ledger: the saved risk state of {} cannot be read: {}", account, exc)
            return LoadedRisk(None, True, str(exc))
        self.saved_risk[account] = saved
        return LoadedRisk(saved, True)

    # -- the operator's switches, and what a restarted strategy held ---------------------------

    def _save_control(self, change: ControlChanged) -> bool:
        if self.controls is not None:
            self.controls[change.name] = change.value
        self._add((change, self.clock.now()))
        return self.flush()

    def _load_controls(self, prefix: str) -> LoadedControls:
        """From memory once read (newer than the database while writes are pending)."""
        if self.controls is None:
            try:
                stored = load_controls(self.database)
            except LedgerUnavailable as exc:
                logger.error("ledger: {}", exc)
                return LoadedControls({}, False)
            stored.update(self._buffered_controls())
            self.controls = stored
        found = {k: v for k, v in self.controls.items() if k.startswith(prefix)}
        return LoadedControls(found, True)

    def _strategy_fills(self, strategy_name: str, since: float) -> LoadedFills:
        """Written first when the database takes it, then read; the still buffered added."""
        self.flush()
        try:
            found = strategy_fills(self.database, strategy_name, since)
        except LedgerUnavailable as exc:
            logger.error("ledger: {}", exc)
            return LoadedFills((), False)
        known = {f.trade_id for f in found}
        for fill in self._buffered(Fill):
            ours = fill.strategy_name == strategy_name and fill.timestamp >= since
            if ours and fill.trade_id not in known:
                known.add(fill.trade_id)
                found.append(fill)
        return LoadedFills(tuple(found), True)

    def _scoreboard(self, market: str, model: str) -> LoadedScoreboard:
        """Written first when the database takes it, then read; newer buffered rows win."""
        self.flush()
        try:
            found = {w.ticker: w for w in load_windows(self.database, market, model)}
        except LedgerUnavailable as exc:
            logger.error("ledger: {}", exc)
            return LoadedScoreboard((), False)
        for window in self._buffered(ScoreboardWindow):
            if window.market != market or window.model != model:
                continue
            known = found.get(window.ticker)
            if known is None or (known.outcome is None and window.updated_at >= known.updated_at):
                found[window.ticker] = window
        ordered = sorted(found.values(), key=lambda w: (w.close_time or 0.0, w.ticker))
        return LoadedScoreboard(tuple(ordered), True)

    def _buffered_controls(self) -> dict[str, str]:
        return {c.name: c.value for c in self._buffered(ControlChanged)}

    def _buffered(self, kind: type[T]) -> list[T]:
        """The ``kind`` messages buffered and not written yet, oldest first."""
        found: list[T] = []
        for item in self._buffer:
            if isinstance(item, Entry):
                continue  # already encoded: its message is not kept (a status mark, a risk row)
            message = item[0]
            if type(message) is bytes:
                message = pickle.loads(message)
            if isinstance(message, kind):
                found.append(message)
        return found

    # Queries answer what they were asked; events may start a write (see ``handle``).
    _QUERIES: ClassVar[Dispatch[LedgerActor]] = Dispatch(
        {
            SaveRiskState: _save_risk,
            LoadRiskState: _on_load_risk,
            SaveControl: _on_save_control,
            LoadControls: _on_load_controls,
            LoadStrategyFills: _on_load_fills,
            LoadScoreboard: _on_load_scoreboard,
            Flush: _on_flush,
            GetStats: _on_get_stats,
        }
    )
    _EVENTS: ClassVar[Dispatch[LedgerActor]] = Dispatch(
        {
            **dict.fromkeys(ENCODERS, _record),
            RiskStatus: _on_status,
            FlushTick: _on_tick,
            LedgerHealth: _on_health,
            _Carry: _on_carry,
            _Collect: _on_collect,
        }
    )
