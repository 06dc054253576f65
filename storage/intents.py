"""The write-ahead handle: an order intent is durable before the order leaves the process.

The OrderActor calls :meth:`IntentLog.record` right before it sends an order: one
INSERT into the narrow ``intents`` table (on SQLite in a file of its own, so it never
waits behind the journal's batch writes), in autocommit mode (the statement is its
own transaction: one round trip), on a DBAPI connection the handle keeps for itself. That costs a few tens of microseconds on SQLite. If it
raises :class:`~storage.errors.LedgerUnavailable` the order must not be sent; the
next call reconnects, so the handle recovers when the database does.
"""

from __future__ import annotations

import contextlib
from typing import Any

import sqlalchemy as sa

from messages.base import to_json
from messages.trading import OrderIntent
from storage.database import Database
from storage.errors import LedgerUnavailable
from storage.migrate import reason_of
from storage.recovery import WAL_WINDOW

_SQL = {
    "sqlite": "INSERT INTO intents (client_order_id, created_at, payload) VALUES (?, ?, ?) "
    "ON CONFLICT (client_order_id) DO NOTHING",
    "postgresql": "INSERT INTO intents (client_order_id, created_at, payload) VALUES (%s, %s, %s) "
    "ON CONFLICT (client_order_id) DO NOTHING",
}


_PRUNE = {
    "sqlite": "DELETE FROM intents WHERE created_at < ?",
    "postgresql": "DELETE FROM intents WHERE created_at < %s",
}


class IntentLog:
    """Owned by one OrderActor incarnation (one thread): not thread-safe, by design."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._sql = _SQL[database.dialect]
        self._errors: tuple[type[Exception], ...] = (
            database.wal_engine.dialect.loaded_dbapi.Error,
            sa.exc.SQLAlchemyError,
            LedgerUnavailable,
        )
        self._fairy: Any = None  # SQLAlchemy's wrapper of the DBAPI connection
        self._cursor: Any = None
        self.written = 0

    def connect(self) -> None:
        """Open the connection now (optional: ``record`` opens it when needed)."""
        if self._cursor is not None:
            return
        try:
            fairy = self.database.wal_engine.raw_connection()
        except self._errors as exc:
            raise LedgerUnavailable(f"ledger unreachable: {reason_of(exc)}") from None
        raw: Any = fairy.driver_connection
        try:
            if self.database.dialect == "sqlite":
                # A checkpoint fsyncs: never on an order's path (``maintain`` does them).
                raw.execute("PRAGMA wal_autocheckpoint=0")
                raw.isolation_level = None  # autocommit: each INSERT is its own transaction
            else:
                raw.autocommit = True
        except self._errors as exc:
            fairy.invalidate()
            raise LedgerUnavailable(f"ledger unusable: {reason_of(exc)}") from None
        self._fairy = fairy
        self._cursor = raw.cursor()

    def record(self, intent: OrderIntent, now: float) -> None:
        """Commit the intent; it is durable (and visible to every session) when this returns."""
        params = (intent.client_order_id, intent.created_at or now, to_json(intent).decode())
        try:
            self.connect()
            self._cursor.execute(self._sql, params)
        except self._errors as exc:
            self.close()
            raise LedgerUnavailable(
                f"intent {intent.client_order_id} could not be made durable: {reason_of(exc)}"
            ) from None
        self.written += 1

    def maintain(self, now: float) -> None:
        """Off the hot path (a timer): fold the log's WAL back into its file, which this
        connection never does on its own, and forget intents past the recovery window."""
        if self._cursor is None:
            return
        try:
            self._cursor.execute(_PRUNE[self.database.dialect], (now - WAL_WINDOW,))
            if self.database.dialect == "sqlite":
                self._cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except self._errors:
            self.close()  # the next intent reconnects (and reports, if it must)

    def close(self) -> None:
        """Drop the connection (it is in autocommit mode: never handed back to the pool)."""
        fairy, self._fairy, self._cursor = self._fairy, None, None
        if fairy is not None:
            with contextlib.suppress(Exception):
                fairy.invalidate()
