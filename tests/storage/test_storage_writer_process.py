"""The ledger's writer process: batches written out of the bot's process, nothing lost when
the child dies or the database fails, the child at idle priority and free of secrets."""

from __future__ import annotations

import dataclasses
import os
import signal as signals
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import Database, open_database, writer_process
from storage.errors import LedgerUnavailable
from storage.journal import encode
from storage.schema import Scope, fills, journal, orders
from storage.writer import LedgerWriter, Written
from storage.writer_process import ProcessWriter
from tests.storage.backends import Backend
from tests.storage.test_storage_writer import T0, fill, intent, signal


@pytest.fixture
def writer(database: Database) -> Iterator[ProcessWriter]:
    # a bot's ledger: the child stamps every row with its mode and env
    made = ProcessWriter(dataclasses.replace(database, scope=Scope("paper", "demo")), 30)
    yield made
    made.close()


def _count(db: Database, table: sa.Table) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _child(writer: ProcessWriter) -> int:
    process = writer._process
    assert process is not None, "no writer process is running"
    return int(process.pid)


def test_raw_messages_and_ready_entries_are_written_by_the_child(
    writer: ProcessWriter, database: Database
) -> None:
    ready = encode(fill("t-1"), T0 + 5)
    assert ready is not None
    written = writer.write([(signal(), T0 + 1), (intent("c1"), T0 + 2), ready])
    assert written == Written(entries=3, journal_rows=3, duplicates=0)
    assert _child(writer) != os.getpid()
    assert (_count(database, journal), _count(database, orders), _count(database, fills)) == (
        3,
        1,
        1,
    )
    with database.engine.connect() as conn:
        stamped = conn.execute(sa.select(journal.c.mode, journal.c.env).distinct()).all()
    assert [tuple(row) for row in stamped] == [("paper", "demo")]


def test_a_killed_child_fails_one_write_and_the_next_one_writes_it_once(
    writer: ProcessWriter, database: Database
) -> None:
    writer.write([(fill("t-1"), T0)])
    first = _child(writer)
    os.kill(first, signals.SIGKILL)
    batch = [(fill("t-2"), T0), (fill("t-3"), T0)]
    with pytest.raises(LedgerUnavailable, match="writer process stopped"):
        writer.write(batch)
    written = writer.write(batch)  # the caller kept the batch and gives it again
    assert written.entries == 2
    assert _child(writer) != first
    assert writer.started == 2
    assert _count(database, fills) == 3


def test_a_database_failure_is_reported_and_the_child_carries_on(
    backend: Backend, writer: ProcessWriter, database: Database
) -> None:
    writer.write([(fill("t-1"), T0)])
    child = _child(writer)
    with backend.outage(), pytest.raises(LedgerUnavailable):
        writer.write([(fill("t-2"), T0)])
    assert writer.write([(fill("t-2"), T0)]).entries == 1
    assert _child(writer) == child  # the same child: a failed write is not a dead child
    assert _count(database, fills) == 2


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_the_child_runs_at_idle_priority_and_its_command_line_holds_no_url(
    writer: ProcessWriter, database: Database
) -> None:
    writer.write([(fill("t-1"), T0)])
    pid = _child(writer)
    assert os.sched_getscheduler(pid) == os.SCHED_IDLE
    command = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
    assert "storage.writer_process" in command
    assert database.url.render_as_string(hide_password=False) not in command
    assert "://" not in command


def test_the_child_exits_when_its_parent_is_gone(writer: ProcessWriter) -> None:
    writer.write([(fill("t-1"), T0)])
    process = writer._process
    assert process is not None and writer._conn is not None
    writer._conn.close()  # what a SIGKILLed parent leaves: the socket's end, no goodbye
    assert process.wait(timeout=10) == 0


def test_a_message_that_cannot_be_encoded_fails_its_batch_and_the_child_carries_on(
    writer: ProcessWriter, database: Database
) -> None:
    unwritable = dataclasses.replace(signal(), edge=1j)  # type: ignore[arg-type]  # JSON has no complex numbers
    writer.write([(fill("t-1"), T0)])
    child = _child(writer)
    with pytest.raises(RuntimeError, match="failed on a batch"):
        writer.write([(fill("t-2"), T0), (unwritable, T0)])
    assert _count(database, fills) == 1  # all of the batch, or none of it
    assert writer.write([(fill("t-2"), T0)]).entries == 1
    assert _child(writer) == child


def test_sqlite_work_gives_way_to_other_threads_as_it_goes(
    sqlite_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = sqlite_backend.prepared()
    yields: list[int] = []
    monkeypatch.setattr(writer_process, "_sched_yield", lambda: yields.append(1))
    try:
        writer_process._yield_in_sqlite(database)  # what the child does with its database
        LedgerWriter(database).write([(fill(f"t-{n}"), T0) for n in range(50)])
    finally:
        database.dispose()
    assert len(yields) >= 10  # every SQLITE_YIELD_OPS steps, not once per statement


_RUN_A_WRITER = """
import signal, sys, threading
from storage import open_database, prepare
from storage.writer_process import ProcessWriter
from tests.storage.test_storage_writer import T0, signal as a_signal

database = open_database(sys.argv[1])
prepare(database)
stop = threading.Event()
signal.signal(signal.SIGINT, lambda *_: stop.set())  # as the bot does: an orderly stop
writer = ProcessWriter(database, reply_timeout=30)
writer.write([(a_signal(), T0)])
print(writer._process.pid, flush=True)
stop.wait(30)
writer.write([(a_signal(), T0 + 1)])  # the last batch, written after the interrupt
writer.close()
database.dispose()
print("stopped", flush=True)
"""


@pytest.mark.slow
def test_ctrl_c_ends_a_process_running_a_writer_quietly(tmp_path: Path) -> None:
    """A terminal's Ctrl-C signals the whole foreground process group: the writer child
    must leave it to its parent, which writes its last batch and stops it, with no traceback."""
    db = tmp_path / "ledger.db"
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN_A_WRITER, f"sqlite:///{db}"],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a shell gives a foreground job
    )
    try:
        assert process.stdout is not None
        child = int(process.stdout.readline())
        os.killpg(process.pid, signals.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out.strip() == "stopped"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # the child has exited with its parent
    check = open_database(f"sqlite:///{db}")
    try:
        assert _count(check, journal) == 2  # the batch after the interrupt was written
    finally:
        check.dispose()
