"""The write-ahead handle: an intent is in the log (where recovery and any other process
read it) when ``record`` returns; a failure raises instead of letting the order go; the
log survives its writer being killed, refuses files that are not its own, and rotates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from messages.trading import OrderIntent
from storage import Database, ForeignDatabase, LedgerUnavailable, prepare
from storage.intent_file import (
    MAGIC,
    IntentFile,
    previous_of,
    read_intent_records,
    sync_intent_file,
)
from storage.intents import IntentLog
from storage.journal import encode
from storage.recovery import open_orders, orders_by_id
from storage.writer import LedgerWriter
from tests.storage.backends import Backend

T0 = 1_780_000_200.0
ROOT = Path(__file__).resolve().parents[2]


def intent(coid: str, created_at: float = T0) -> OrderIntent:
    return OrderIntent(
        coid, "s-" + coid, "kelly_volatility", "KX-1", "no", "buy", 4, D("0.37"),
        "immediate_or_cancel", created_at=created_at,
    )  # fmt: skip


def test_a_recorded_intent_is_an_open_pending_order(backend: Backend, database: Database) -> None:
    log = IntentLog(database)
    try:
        log.record(intent("c1"), T0)
        other = backend.open(intents_path=database.intents_path)  # another process's view
        try:
            assert [(o.client_order_id, o.status) for o in open_orders(other, now=T0)] == [
                ("c1", "pending")
            ]
        finally:
            other.dispose()
        [row] = open_orders(database, now=T0)
        assert row.intent() == intent("c1")
        assert (row.order_id, row.filled, row.remaining, row.in_orders) == (None, 0, 4, False)
        assert list(orders_by_id(database, ["c1", "c2"])) == ["c1"]
    finally:
        log.close()


def test_once_the_ledger_actor_has_the_order_it_is_read_from_there(database: Database) -> None:
    log = IntentLog(database)
    try:
        log.record(intent("c1"), T0)
        log.record(intent("c1"), T0)  # a repeat is harmless
        LedgerWriter(database).write([e for e in [encode(intent("c1"), T0)] if e is not None])
        [row] = open_orders(database, now=T0)
        assert (row.client_order_id, row.in_orders, row.signal_id) == ("c1", True, "s-c1")
        assert orders_by_id(database, ["c1"])["c1"].in_orders
    finally:
        log.close()


def test_a_log_that_cannot_be_written_raises_and_the_handle_recovers(database: Database) -> None:
    database.intents_path.parent.mkdir(parents=True, exist_ok=True)
    database.intents_path.mkdir()  # something else is where the log must be
    log = IntentLog(database)
    try:
        with pytest.raises(LedgerUnavailable, match="c1 could not be made durable"):
            log.record(intent("c1"), T0)
        database.intents_path.rmdir()
        log.record(intent("c2"), T0)  # the path is usable again: so is the handle
        assert [o.client_order_id for o in open_orders(database, now=T0)] == ["c2"]
    finally:
        log.close()


def test_intents_past_the_recovery_window_are_not_reopened(database: Database) -> None:
    from storage.recovery import WAL_WINDOW

    log = IntentLog(database)
    try:
        log.record(intent("old", created_at=T0 - WAL_WINDOW - 1), T0)
        log.record(intent("new"), T0)
        sync_intent_file(database.intents_path)  # what the ledger actor does every few seconds
        log.record(intent("after"), T0)
        opened = [o.client_order_id for o in open_orders(database, now=T0)]
        assert opened == ["after", "new"]  # oldest first; at the same time, by id
    finally:
        log.close()


def test_a_file_that_is_not_a_write_ahead_log_is_refused(sqlite_backend: Backend) -> None:
    database = sqlite_backend.open()
    try:
        database.intents_path.write_bytes(b"my shopping list\n")
        with pytest.raises(ForeignDatabase, match="not a sol15 write-ahead log"):
            prepare(database)
        assert database.intents_path.read_bytes() == b"my shopping list\n"
    finally:
        database.dispose()


def test_a_full_segment_rotates_and_recovery_reads_both(tmp_path: Path) -> None:
    path = tmp_path / "intents.log"
    log = IntentFile(path, segment_bytes=4096)
    log.open()
    payloads = [f'{{"n": {n}, "pad": "{"x" * 100}"}}'.encode() for n in range(60)]
    for payload in payloads:
        log.append(payload)
    log.close()
    assert previous_of(path).read_bytes()[: len(MAGIC)] == MAGIC
    kept = read_intent_records(path)
    assert kept == payloads[-len(kept) :]  # the newest, in order
    assert len(kept) > 4096 // 130  # at least a full segment's worth
    reopened = IntentFile(path, segment_bytes=4096)
    reopened.open()  # finds the end: appends after the last record, not over it
    reopened.append(b'{"n": "last"}')
    reopened.close()
    assert read_intent_records(path)[-2:] == [payloads[-1], b'{"n": "last"}']


def test_a_torn_record_ends_the_log_and_is_written_over(tmp_path: Path) -> None:
    path = tmp_path / "intents.log"
    log = IntentFile(path, segment_bytes=4096)
    log.open()
    log.append(b'{"n": 1}')
    end = log._at
    log.close()
    with path.open("r+b") as f:  # a writer killed mid-record: a header, half a payload
        f.seek(end)
        f.write(b"\x20\x00\x00\x00\x01\x02\x03\x04{half")
    assert read_intent_records(path) == [b'{"n": 1}']
    again = IntentFile(path, segment_bytes=4096)
    again.open()
    again.append(b'{"n": 2}')
    again.close()
    assert read_intent_records(path) == [b'{"n": 1}', b'{"n": 2}']


_WRITER = """
import sys
from decimal import Decimal as D
from messages.trading import OrderIntent
from storage import open_database
from storage.intents import IntentLog
log = IntentLog(open_database(sys.argv[1]))
for n in range(200):
    log.record(OrderIntent(f"c{n}", "s", "k", "KX-1", "no", "buy", 1, D("0.37"),
                           "immediate_or_cancel", created_at=1.0), 1.0)
print("written", flush=True)
sys.stdin.readline()  # wait to be killed
"""


@pytest.mark.slow
def test_what_was_recorded_survives_sigkill_of_the_writer(sqlite_backend: Backend) -> None:
    database = sqlite_backend.prepared()
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, sqlite_backend.url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == b"written\n"
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=10) == -signal.SIGKILL
        recovered = orders_by_id(database, [f"c{n}" for n in range(200)])
        assert len(recovered) == 200
    finally:
        if writer.poll() is None:
            writer.kill()
        database.dispose()
