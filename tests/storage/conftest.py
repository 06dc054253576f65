"""Every ledger test here runs on SQLite and on PostgreSQL (see ``backends``)."""

from tests.storage.backends import backend, database, postgres_backend, sqlite_backend

__all__ = ["backend", "database", "postgres_backend", "sqlite_backend"]
