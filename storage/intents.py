"""The write-ahead handle: an order intent is durable before the order leaves the process.

The OrderActor calls :meth:`IntentLog.record` right before it sends an order: the
intent, as JSON, copied into the memory-mapped write-ahead log
(:mod:`storage.intent_file`, beside the SQLite ledger or in ``DATA_DIR`` with
PostgreSQL) — a few microseconds, no system call, the interpreter lock kept. The
ledger actor flushes the log's pages to the disk every few seconds (``sync_intent_file``). If it
raises :class:`~storage.errors.LedgerUnavailable` the order must not be sent; the
next call reopens the log. The ledger actor copies every intent into ``orders`` from
the bus; recovery (:mod:`storage.recovery`) reads the log for those it never got.
"""

from __future__ import annotations

import dataclasses

from messages.base import to_json
from messages.trading import OrderIntent
from storage.database import Database
from storage.errors import LedgerUnavailable
from storage.intent_file import IntentFile


class IntentLog:
    """Owned by one OrderActor incarnation (one thread): not thread-safe, by design."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.file = IntentFile(database.intents_path)
        self.written = 0

    def connect(self) -> None:
        """Open the log now (optional: ``record`` opens it when needed)."""
        self.file.open()

    def record(self, intent: OrderIntent, now: float) -> None:
        """Append the intent; it survives this process being killed once this returns."""
        if not intent.created_at:
            intent = dataclasses.replace(intent, created_at=now)
        try:
            if not self.file.is_open:
                self.file.open()
            self.file.append(to_json(intent))
        except (LedgerUnavailable, OSError, ValueError) as exc:
            self.close()
            raise LedgerUnavailable(
                f"intent {intent.client_order_id} could not be made durable: {exc}"
            ) from None
        self.written += 1

    def close(self) -> None:
        self.file.close()
