"""What can go wrong with the ledger, as exceptions whose messages an operator can act on."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every ledger error; the message never contains a password."""


class LedgerUnavailable(LedgerError):
    """The database cannot be reached or written right now (it may come back)."""


class ForeignDatabase(LedgerError):
    """The database holds something that is not a sol15 ledger (or is corrupt): never overwritten."""


class SchemaTooNew(LedgerError):
    """The ledger was written by a newer sol15 whose schema this code does not understand."""


class UnsupportedDatabase(LedgerError):
    """A DATABASE_URL this code cannot use (only SQLite and PostgreSQL are supported)."""
