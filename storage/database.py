"""Opening the ledger's database from a ``DATABASE_URL``: SQLite (WAL) or PostgreSQL, one engine.

The engine is shared by every user of the ledger (the ledger actor, the order
actor's write-ahead handle, the history reader); each takes its own connections
from it. A lock held too long (another writer, a migration) makes a write fail
after ``timeout`` seconds instead of hanging the caller: the ledger then treats
the database as unavailable and retries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from storage.errors import ForeignDatabase, LedgerUnavailable, UnsupportedDatabase
from storage.schema import NO_SCOPE, Scope

SQLITE_HEADER = b"SQLite format 3\x00"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SECRET_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def redact(url: str | URL) -> str:
    """The URL with its password hidden: safe for logs and error messages."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: hide whatever looks like user:password@
        return _SECRET_IN_URL.sub(r"\1***@", url)


@dataclass(frozen=True)
class Database:
    """An engine plus what the ledger needs to know about it."""

    engine: Engine
    url: URL
    timeout: float  # seconds a statement waits for a lock before the write counts as failed
    # The write-ahead log of order intents (``storage.intent_file``): a local file, beside
    # the SQLite ledger or in DATA_DIR with PostgreSQL, so writing it costs no round trip.
    intents_path: Path
    schema: str | None = None  # PostgreSQL: the schema every table lives in (search_path)
    # The mode and exchange environment every row written through this handle is stamped
    # with, and the history reads by default (unknown: a reader such as the export).
    scope: Scope = NO_SCOPE

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def safe_url(self) -> str:
        return redact(self.url)

    @property
    def sqlite_path(self) -> Path | None:
        if self.dialect != "sqlite" or not self.url.database:
            return None
        return Path(self.url.database)

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"


def _parse(url: str) -> URL:
    try:
        parsed = sa.make_url(url)
    except Exception:
        raise UnsupportedDatabase(
            f"DATABASE_URL is not a database URL: {redact(url)} "
            "(use sqlite:///data/sol15.db or postgresql+psycopg://user@host/db)"
        ) from None
    backend = parsed.get_backend_name()
    # ``postgres://`` (a common alias) and plain ``postgresql://`` mean psycopg 3 here.
    if backend == "postgres" or (backend == "postgresql" and parsed.drivername == "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend not in ("sqlite", "postgresql"):
        raise UnsupportedDatabase(
            f"DATABASE_URL {redact(parsed)}: only SQLite and PostgreSQL are supported"
        )
    return parsed


DEFAULT_INTENTS = Path("data") / "sol15-intents.log"  # with PostgreSQL, unless told (DATA_DIR)


def wal_path_of(path: Path) -> Path:
    """The write-ahead log beside a SQLite ledger: ``sol15-intents.log`` for ``sol15.db``."""
    return path.with_name(f"{path.stem}-intents.log")


def _check_sqlite_file(path: Path, shown: str) -> None:
    """Refuse a file that is not SQLite at all (it would be 'repaired' into one otherwise)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise ForeignDatabase(
            f"DATABASE_URL {shown}: {path} is not a SQLite database; "
            "refusing to use it as the ledger (it is left untouched)"
        )


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise UnsupportedDatabase(
            f"DATABASE_URL {redact(url)}: an in-memory SQLite ledger would not survive a "
            "restart; give a file, e.g. sqlite:///data/sol15.db"
        )
    return Path(database)


def _sqlite_engine(url: URL, timeout: float, path: Path) -> Engine:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LedgerUnavailable(
            f"DATABASE_URL {redact(url)}: cannot create the folder {path.parent}: {exc.strerror}"
        ) from None
    _check_sqlite_file(path, redact(url))
    engine = sa.create_engine(
        url.set(database=str(path)),
        connect_args={"timeout": timeout, "check_same_thread": False},
        pool_size=8,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, record: Any) -> None:
        # WAL: readers never block the writer; NORMAL: a commit survives a killed process
        # (it reaches the OS at once) without an fsync on every order.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Small, frequent checkpoints: each is a short burst of work, not a long one.
        cursor.execute("PRAGMA wal_autocheckpoint=200")
        cursor.close()

    return engine


def _postgres_engine(
    url: URL, timeout: float, connect_timeout: float, schema: str | None
) -> Engine:
    # Options given in the URL (``?options=-csearch_path%3Dsol15`` picks a schema) are kept.
    given = url.query.get("options", "")
    if not isinstance(given, str):
        given = " ".join(given)
    url = url.difference_update_query(["options"])
    options = f"{given} -c lock_timeout={int(timeout * 1000)}".strip()
    if schema is not None:
        if not _IDENTIFIER.match(schema):
            raise UnsupportedDatabase(f"not a plain schema name: {schema!r}")
        options += f" -c search_path={schema}"
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_size=8,
        connect_args={
            "connect_timeout": max(1, round(connect_timeout)),
            "options": options,
            "application_name": "sol15",
        },
    )


def open_database(
    url: str,
    *,
    schema: str | None = None,
    timeout: float = 2.0,
    connect_timeout: float = 5.0,
    intents_path: Path | None = None,
    scope: Scope | None = None,
) -> Database:
    """An engine for ``url`` (no connection is made yet: :func:`storage.migrate.prepare` does).

    ``schema`` (PostgreSQL only) puts every table in that schema via ``search_path``;
    the tests use it to give each test its own namespace.
    """
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        if schema is not None:
            raise UnsupportedDatabase("a schema can only be chosen on PostgreSQL")
        path = _sqlite_path(parsed)
        engine = _sqlite_engine(parsed, timeout, path)
        intents = intents_path or wal_path_of(path)
    else:
        engine = _postgres_engine(parsed, timeout, connect_timeout, schema)
        intents = intents_path or DEFAULT_INTENTS
    return Database(engine, parsed, timeout, intents, schema, scope or Scope())
