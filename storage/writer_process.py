"""The ledger's writes in a process of their own, away from the bot's interpreter lock.

Encoding events into rows and handing them to the driver costs the ledger about
0.4 ms of CPU per traded edge; on a 2-core machine, in the bot's process, that time
is taken from the threads that turn ticks into orders (one thread runs Python at a
time). :class:`ProcessWriter` has the interface of :class:`storage.writer.LedgerWriter`
but ships each batch — raw ``(message, recorded_at)`` pairs or ready ``Entry`` objects,
pickled — to a child process that encodes and writes it, and waits for the answer
with the lock released. The parent keeps every batch until the child confirms it, so a
child that dies (or a database that fails) loses nothing: the write raises
:class:`~storage.errors.LedgerUnavailable`, and the next one starts a new child.

The child is ``python -m storage.writer_process`` (not a ``multiprocessing`` spawn, which
would re-run the parent's main script), joined to the parent by a socket pair; it gets the
database URL over that socket, never on its command line. It stops only by the parent's
word: in a process group of its own (a terminal's Ctrl-C goes to the parent's group) and
ignoring SIGINT and SIGTERM (systemd signals every process of the service), it writes the
parent's last batch at shutdown instead of dying with a traceback. A parent killed with
SIGKILL leaves the child to read the end of its socket and exit.

The child runs at idle CPU priority and gives its core away every few microseconds
(:func:`give_way`: between pairs of events it encodes, every few dozen entries while the
writer plans a batch, and from SQLite's progress handler while it writes). Idle priority
alone is not enough: a bot thread woken onto the child's core can wait for the scheduler's
next tick (4 ms) before it runs (the figures: ``docs/measurements.md``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from storage.database import Database, open_database
from storage.errors import LedgerUnavailable
from storage.journal import Entry, Item, entries_of
from storage.migrate import reason_of
from storage.writer import LedgerWriter, Written

_OK, _FAILED, _BROKEN = "ok", "failed", "broken"  # the child's answers
ENCODE_SLICE = 2  # events the child encodes between two yields (~20 µs)
SQLITE_YIELD_OPS = 50  # SQLite virtual-machine steps between two yields (~8 µs)
_PART, _WRITE = "part", "write"  # the parent's messages: a slice of a batch; write the batch
_ROOT = str(Path(__file__).resolve().parents[1])  # the project: where ``storage`` is found


def _serve(conn: Connection) -> None:
    """The child: read ``(url, schema, timeout)``, then answer each batch with
    ``(ok, Written)``, ``(failed, reason)`` or ``(broken, traceback)`` until the parent
    hangs up."""
    try:
        url, schema, timeout = conn.recv()
    except (EOFError, OSError):
        return
    database = open_database(url, schema=schema, timeout=timeout)
    _yield_in_sqlite(database)
    writer = LedgerWriter(database, pause=give_way)
    batch: list[Entry] = []
    broken = ""  # why a part of this batch could not be encoded
    try:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            if message is None:
                return
            kind, items = message
            if kind == _PART:  # encoded as it arrives, while the parent sends the rest
                try:
                    for start in range(0, len(items), ENCODE_SLICE):
                        batch.extend(entries_of(items[start : start + ENCODE_SLICE]))
                        give_way()
                except Exception:
                    broken = broken or traceback.format_exc()
                continue
            reply: tuple[str, Any]
            try:
                reply = (_BROKEN, broken) if broken else (_OK, writer.write(batch))
            except (sa.exc.SQLAlchemyError, LedgerUnavailable) as exc:
                reply = (_FAILED, reason_of(exc))
            except Exception:
                reply = (_BROKEN, traceback.format_exc())
            batch, broken = [], ""
            try:
                conn.send(reply)
            except (BrokenPipeError, OSError):
                return
    finally:
        database.dispose()


_sched_yield: Callable[[], None] = getattr(os, "sched_yield", lambda: None)


def give_way() -> int:
    """Let any other thread waiting for this core run now (0: SQLite goes on)."""
    _sched_yield()
    return 0


def _yield_in_sqlite(database: Database) -> None:
    """Make every SQLite connection of ``database`` call :func:`give_way` as it works."""
    if database.dialect != "sqlite":
        return  # PostgreSQL does the work in its own server process

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.set_progress_handler(give_way, SQLITE_YIELD_OPS)

    sa.event.listen(database.engine, "connect", on_connect)
    database.engine.dispose()  # connections made before this one have no handler


class ProcessWriter:
    """Writes batches through a child process; one caller thread at a time."""

    def __init__(
        self,
        database: Database,
        reply_timeout: float = 120.0,
        *,
        slice_items: int = 64,
        pause: Callable[[], None] | None = None,
    ) -> None:
        self.database = database
        self.reply_timeout = reply_timeout
        # A batch goes over in slices, ``pause`` between them: pickling holds the interpreter
        # lock, and a whole second's batch would hold it for milliseconds.
        self.slice_items = slice_items
        self.pause = pause
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self.started = 0  # children started (more than one: some died)

    def start(self) -> None:
        """Start the child now (``write`` starts it when needed)."""
        if self._conn is not None:
            return
        ours, theirs = socket.socketpair()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (_ROOT, os.environ.get("PYTHONPATH")))),
        }
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "storage.writer_process", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env=env,
                stdin=subprocess.DEVNULL,
                process_group=0,  # the terminal's Ctrl-C is the parent's to handle
            )
        except OSError as exc:
            ours.close()
            raise LedgerUnavailable(f"cannot start the ledger writer: {exc}") from None
        finally:
            theirs.close()
        conn = Connection(ours.detach())
        url = self.database.url.render_as_string(hide_password=False)
        conn.send((url, self.database.schema, self.database.timeout))
        self._process, self._conn = process, conn
        self.started += 1

    def write(self, items: Sequence[Item]) -> Written:
        """Write ``items`` in one transaction; raises ``LedgerUnavailable`` when they were not."""
        self.start()
        conn = self._conn
        assert conn is not None
        try:
            for start in range(0, len(items), self.slice_items):
                if start and self.pause is not None:
                    self.pause()
                conn.send((_PART, list(items[start : start + self.slice_items])))
            conn.send((_WRITE, None))
            if not conn.poll(self.reply_timeout):
                raise LedgerUnavailable(
                    f"no answer from the ledger writer in {self.reply_timeout:g} s"
                )
            status, value = conn.recv()
        except (EOFError, OSError, LedgerUnavailable) as exc:
            self.close()
            if isinstance(exc, LedgerUnavailable):
                raise
            raise LedgerUnavailable(f"the ledger writer process stopped ({exc!r})") from None
        if status == _OK:
            assert isinstance(value, Written)
            return value
        if status == _FAILED:
            raise LedgerUnavailable(str(value))
        raise RuntimeError(f"the ledger writer failed on a batch:\n{value}")

    def close(self, timeout: float = 5.0) -> None:
        """Stop the child (after the batch it is writing, if any)."""
        conn, process, self._conn, self._process = self._conn, self._process, None, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        if process is not None:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)


def _ignore_stop_signals() -> None:
    """The parent decides when the child stops (it has the last batch to write)."""
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)


if __name__ == "__main__":
    _ignore_stop_signals()
    # Run only when a core would otherwise idle (Linux SCHED_IDLE; elsewhere the lowest
    # priority): on a busy machine the bot's own threads always go first.
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(19)
    _serve(Connection(int(sys.argv[1])))
