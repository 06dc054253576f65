"""What can go wrong with the ledger, as exceptions whose messages an operator can act on."""

from __future__ import annotations

from pathlib import Path


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


class InputFileError(ValueError):
    """A file the bot was given cannot be used; the message says which file, which line and why.

    Commands print it and exit 2 (the backtest calls it ``BacktestInputError``), so every
    message must make sense on its own.
    """

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")
        self.path = None if path is None else str(path)
        self.line = line
