"""The ledger's test backends: SQLite in a temporary directory, and the PostgreSQL server at
127.0.0.1:5432 (database ``test``), each test in its own freshly made schema.

Test modules import the fixtures (``from tests.storage.backends import backend, database``)
so the same tests run on both. The PostgreSQL variant is skipped, with the reason, only
when the server cannot be reached. ``Backend.outage()`` makes the database refuse writes
the way a real one does when another session holds its locks (a long migration, a
vacuum): writes wait ``timeout`` and fail, and work again once the locks go. (The
write-ahead log of intents is a local file, not the database: an outage leaves it be.)
"""

from __future__ import annotations

import functools
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from storage import Database, open_database, prepare
from storage.schema import LEDGER_TABLES

PG_ADMIN = os.environ.get("SOL15_TEST_PG", "host=127.0.0.1 port=5432 dbname=test user=postgres")
PG_URL = os.environ.get("SOL15_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


@functools.cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for the tests (None when it can)."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL for the tests ({PG_ADMIN}) is unreachable: {str(exc).strip().splitlines()[0]}"
    return None


def admin() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)


@dataclass
class Backend:
    name: str
    url: str
    schema: str | None = None
    path: Path | None = None
    intents: Path | None = None  # the write-ahead log (None: beside the SQLite file)

    @property
    def tables(self) -> frozenset[str]:
        """The ledger's tables."""
        return LEDGER_TABLES

    def open(self, timeout: float = 0.3, intents_path: Path | None = None) -> Database:
        """A new engine on this backend (writes give up after ``timeout`` seconds)."""
        return open_database(
            self.url, schema=self.schema, timeout=timeout, intents_path=intents_path or self.intents
        )

    def prepared(self, timeout: float = 0.3) -> Database:
        db = self.open(timeout)
        prepare(db)
        return db

    @contextmanager
    def outage(self) -> Iterator[None]:
        """Another session holds every ledger table locked: writes time out until it ends."""
        if self.name == "sqlite":
            assert self.path is not None
            holder = sqlite3.connect(self.path, isolation_level=None, timeout=5)
            holder.execute("BEGIN EXCLUSIVE")
            try:
                yield
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            return
        tables = ", ".join(f"{self.schema}.{name}" for name in sorted(self.tables))
        with psycopg.connect(PG_ADMIN, connect_timeout=5) as locker:
            locker.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
            try:
                yield
            finally:
                locker.rollback()

    def run_sql(self, sql: str) -> None:
        """Run ``sql`` in this backend's namespace, outside the code under test."""
        if self.name == "sqlite":
            assert self.path is not None
            with sqlite3.connect(self.path) as conn:
                conn.executescript(sql)
            return
        with admin() as conn:
            conn.execute(f"SET search_path TO {self.schema}")
            conn.execute(sql)


@contextmanager
def make_backend(name: str, directory: Path) -> Iterator[Backend]:
    if name == "sqlite":
        path = directory / "ledger.db"
        yield Backend(name, f"sqlite:///{path}", path=path)
        return
    problem = postgres_problem()
    if problem is not None:
        pytest.skip(problem)
    schema = f"sol15_test_{uuid.uuid4().hex[:12]}"
    with admin() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Backend(name, PG_URL, schema=schema, intents=directory / "intents.log")
    finally:
        drop_schema(schema)


# Connections holding a lock on a table (or sequence) of one schema: a crashed test's
# open transaction, which would keep DROP SCHEMA waiting.
_LOCKERS = (
    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l "
    "JOIN pg_class c ON l.relation = c.oid JOIN pg_namespace n ON c.relnamespace = n.oid "
    "WHERE n.nspname = %s AND l.pid <> pg_backend_pid()"
)


def drop_schema(schema: str) -> None:
    """Drop a test's schema, ending only the connections that hold its tables, so a test
    run beside this one (another checkout's suite on the same server) is left alone."""
    with admin() as conn:
        conn.execute(_LOCKERS, (schema,))
        try:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
        except psycopg.errors.LockNotAvailable:  # held some other way: every sol15 one ends
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'sol15' AND pid <> pg_backend_pid()"
            )
            conn.execute("SET lock_timeout = 0")
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with make_backend(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def database(backend: Backend) -> Iterator[Database]:
    """A prepared (created) ledger on each backend."""
    db = backend.prepared()
    yield db
    db.dispose()


@pytest.fixture
def postgres_backend(tmp_path: Path) -> Iterator[Backend]:
    """For the few tests only a server makes sense for (skipped only if it is unreachable)."""
    with make_backend("postgresql", tmp_path) as made:
        yield made


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    with make_backend("sqlite", tmp_path) as made:
        yield made


def url_with_schema(backend: Backend) -> str:
    """The backend's URL as an operator would write it (a PostgreSQL schema in ``options``)."""
    if backend.schema is None:
        return backend.url
    return f"{backend.url}?options=-csearch_path%3D{backend.schema}"
