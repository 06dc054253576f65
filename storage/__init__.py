"""The durable ledger: an append-only journal plus current-state tables, on SQLAlchemy 2 Core.

One code path serves SQLite (the default, WAL mode) and PostgreSQL. The
``LedgerActor`` (``actors/ledger.py``) batches journal writes off the hot path;
the ``OrderActor`` makes each intent durable through :class:`storage.intents.IntentLog`
before the order leaves the process (a memory-mapped write-ahead log,
``sol15-sim-intents.log`` beside ``sol15-sim.db``); restarts read their state back from here.
Every history row says which mode (sim, paper, live) and exchange environment wrote it.
"""

from storage.database import Database, open_database, redact
from storage.errors import ForeignDatabase, LedgerError, LedgerUnavailable, SchemaTooNew
from storage.migrate import prepare

__all__ = [
    "Database",
    "ForeignDatabase",
    "LedgerError",
    "LedgerUnavailable",
    "SchemaTooNew",
    "open_database",
    "prepare",
    "redact",
]
