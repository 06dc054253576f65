"""One bot per data directory and ledger: a second process is refused and named; a holder
killed with SIGKILL leaves nothing that blocks the next start (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storage import open_database
from storage.locks import InstanceLocked, lock_directory, lock_ledger
from tests.storage.backends import Backend

ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import sys
from pathlib import Path
from storage import open_database
from storage.locks import lock_directory, lock_ledger
database = open_database(sys.argv[1], schema=sys.argv[2] or None)
held = [lock_ledger(database)]
held.append(lock_directory(Path(sys.argv[3])))
print("locked", flush=True)
sys.stdin.read()  # hold until told, or killed
"""


@contextmanager
def holder(backend: Backend, data_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the ledger and the data directory."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, backend.url, backend.schema or "", str(data_dir)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def test_a_second_process_is_refused_and_named(backend: Backend, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with holder(backend, data_dir) as other:
        who = f"pid {other.pid} on host {socket.gethostname()}"
        database = backend.open()
        try:
            with pytest.raises(InstanceLocked) as refused:
                lock_ledger(database)
            assert who in str(refused.value)
            assert "DATABASE_URL" in str(refused.value)
        finally:
            database.dispose()
        with pytest.raises(InstanceLocked) as refused:
            lock_directory(data_dir)
        assert who in str(refused.value) and "started" in str(refused.value)
        assert f"DATA_DIR {data_dir.resolve()}" in str(refused.value)


def test_a_holder_killed_with_sigkill_blocks_nothing(backend: Backend, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with holder(backend, data_dir) as other:
        other.kill()  # SIGKILL: no cleanup at all; the lock files stay behind
        other.wait(timeout=30)
    database = backend.open()
    try:
        ledger = lock_ledger(database)
        directory = lock_directory(data_dir)
        assert str(os.getpid()) in (data_dir / "sol15.lock").read_text()
        directory.release()
        ledger.release()
    finally:
        database.dispose()


def test_a_released_lock_can_be_taken_again_in_the_same_process(
    backend: Backend, tmp_path: Path
) -> None:
    database = backend.open()
    try:
        first = lock_ledger(database)
        with pytest.raises(InstanceLocked):  # the same process counts too: one bot per ledger
            lock_ledger(database)
        first.release()
        lock_ledger(database).release()
    finally:
        database.dispose()


def test_different_ledgers_do_not_exclude_each_other(tmp_path: Path) -> None:
    one = open_database(f"sqlite:///{tmp_path}/a/sol15.db")
    two = open_database(f"sqlite:///{tmp_path}/b/sol15.db")
    try:
        held = [lock_ledger(one), lock_ledger(two)]
        for lock in held:
            lock.release()
    finally:
        one.dispose()
        two.dispose()
