"""One bot per data directory and per ledger: exclusive locks held for the process's life.

Two bots on one ledger would each apply the limits alone and overwrite each other's
write-ahead log, so the second one refuses to start and names the first (pid, host,
start time). The locks are the operating system's, not pid files: a process killed
with SIGKILL loses them with its file descriptors and sockets, so its restart is
never blocked by what it left behind.

- A directory, and a SQLite ledger: ``fcntl.flock`` on a lock file (``DATA_DIR/sol15.lock``,
  ``sol15.db.lock`` beside the ledger), which also records the holder for the message.
- A PostgreSQL ledger: a session advisory lock keyed by the ledger's schema, held on a
  connection of its own whose ``application_name`` names the holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

import orjson
import sqlalchemy as sa

from storage.database import Database
from storage.errors import LedgerUnavailable
from storage.migrate import connect, reason_of

LOCK_NAME = "sol15.lock"
TWO_BOTS = "README: Running two bots"
_PG_CLASS = zlib.crc32(b"sol15-ledger") & 0x7FFFFFFF  # the first key of every sol15 lock
_APP_NAME = re.compile(r"^sol15-lock (\d+)@(\S+)$")
DEAD_HOLDER_WAIT = 10.0  # seconds to let PostgreSQL notice a killed holder's closed socket


class InstanceLocked(Exception):
    """Another process holds the lock; the message names it and says what to change."""


class Lock(Protocol):
    def release(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int
    host: str
    started: float  # Unix seconds

    @classmethod
    def me(cls) -> Holder:
        return cls(os.getpid(), socket.gethostname(), time.time())

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.started, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"pid {self.pid} on host {self.host}, started {when}"

    def encode(self) -> bytes:
        return orjson.dumps({"pid": self.pid, "host": self.host, "started": self.started})

    @classmethod
    def decode(cls, raw: bytes) -> Holder | None:
        try:
            data = orjson.loads(raw)
            return cls(int(data["pid"]), str(data["host"]), float(data["started"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None


def _refusal(what: str, holder: str) -> InstanceLocked:
    return InstanceLocked(
        f"another sol15 is using {what} ({holder}): stop it first, or give this bot its own "
        f"DATA_DIR and DATABASE_URL (and its own Kalshi subaccount; {TWO_BOTS})"
    )


class FileLock:
    """``flock`` on ``path``: exclusive, released by the kernel when the process ends."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._file: IO[bytes] | None = None

    def acquire(self) -> FileLock:
        handle = self.path.open("a+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = Holder.decode(handle.read(4096))
            handle.close()
            shown = holder.describe() if holder is not None else "its details are not written yet"
            raise _refusal(f"{self.what} (lock {self.path})", shown) from None
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(Holder.me().encode())
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is None:
            return
        with contextlib.suppress(OSError):
            handle.truncate(0)
        handle.close()  # closing the descriptor drops the flock


class PostgresLock:
    """A session advisory lock on the ledger's schema, on a connection kept for the process."""

    def __init__(self, database: Database, dead_holder_wait: float = DEAD_HOLDER_WAIT) -> None:
        self.database = database
        self.dead_holder_wait = dead_holder_wait
        self._conn: sa.Connection | None = None
        self._key: tuple[int, int] | None = None

    def acquire(self) -> PostgresLock:
        me = Holder.me()
        conn = connect(self.database).execution_options(isolation_level="AUTOCOMMIT")
        try:
            name = f"sol15-lock {me.pid}@{me.host}"[:63]
            conn.execute(sa.text("SELECT set_config('application_name', :n, false)"), {"n": name})
            space = conn.execute(
                sa.text("SELECT coalesce(current_schema(), current_setting('search_path'))")
            ).scalar_one()
            self._key = (_PG_CLASS, zlib.crc32(str(space).encode()) & 0x7FFFFFFF)
            if not self._try(conn):
                self._wait_for_dead_holder(conn, str(space))
        except sa.exc.DBAPIError as exc:
            conn.invalidate()
            conn.close()
            raise LedgerUnavailable(
                f"cannot lock the ledger at DATABASE_URL {self.database.safe_url}: {reason_of(exc)}"
            ) from None
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        self._conn = conn
        return self

    def _try(self, conn: sa.Connection) -> bool:
        assert self._key is not None
        got = conn.execute(
            sa.text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": self._key[0], "b": self._key[1]}
        ).scalar_one()
        return bool(got)

    def _holder(self, conn: sa.Connection) -> tuple[str | None, object, int | None]:
        """The holding session's application name, connection time and backend pid."""
        assert self._key is not None
        row = conn.execute(
            sa.text(
                "SELECT a.application_name, a.backend_start, a.pid FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                "AND l.granted AND l.database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database()) AND l.classid::bigint = :a "
                "AND l.objid::bigint = :b AND l.objsubid = 2"
            ),
            {"a": self._key[0], "b": self._key[1]},
        ).first()
        return (row[0], row[1], row[2]) if row is not None else (None, None, None)

    def _wait_for_dead_holder(self, conn: sa.Connection, space: str) -> None:
        """A holder killed on this host is waited for (its session ends as the server notices
        its closed socket); a live one, or one elsewhere, is named in the refusal."""
        name, since, backend = self._holder(conn)
        if name is None and self._try(conn):
            return  # let go between the two looks
        pid = _local_pid(name)
        if pid is not None and not _alive(pid) and self._wait(conn):
            return
        found = _APP_NAME.match(name or "")
        if found is not None:
            shown = f"pid {found.group(1)} on host {found.group(2)}, connected since {since}"
        else:
            shown = f"PostgreSQL session {backend} ({name or 'name unknown'}), since {since}"
        raise _refusal(f"the ledger {self.database.safe_url} (schema {space})", shown)

    def _wait(self, conn: sa.Connection) -> bool:
        assert self._key is not None
        wait = f"{int(self.dead_holder_wait * 1000)}ms"
        conn.execute(sa.text("SELECT set_config('lock_timeout', :t, false)"), {"t": wait})
        try:
            conn.execute(
                sa.text("SELECT pg_advisory_lock(:a, :b)"), {"a": self._key[0], "b": self._key[1]}
            )
        except sa.exc.OperationalError:
            return False
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            conn.invalidate()  # the session ends, and with it the lock
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            conn.close()


def _local_pid(application_name: str | None) -> int | None:
    """The pid in a ``sol15-lock`` session name, when that process runs on this host."""
    found = _APP_NAME.match(application_name or "")
    if found is None:
        return None
    pid = int(found.group(1))
    mine = f"sol15-lock {pid}@{socket.gethostname()}"[:63]
    return pid if application_name == mine else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def lock_directory(path: Path, setting: str = "DATA_DIR") -> FileLock:
    """Hold ``path/sol15.lock`` (the folder is created if needed)."""
    path.mkdir(parents=True, exist_ok=True)
    return FileLock(path / LOCK_NAME, f"{setting} {path.resolve()}").acquire()


def lock_ledger(database: Database) -> Lock:
    """Hold the ledger: a lock file beside a SQLite one, an advisory lock on PostgreSQL."""
    path = database.sqlite_path
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(f"{path.name}.lock")
        return FileLock(lock_path, f"the ledger {path.resolve()}").acquire()
    return PostgresLock(database).acquire()
