"""The one error a backtest reports to its user: bad input, named by file and line."""

from __future__ import annotations

from pathlib import Path


class BacktestInputError(ValueError):
    """Input the backtest cannot use; the message says which file, which line and why.

    The CLI prints it and exits 2, so every message must make sense on its own.
    """

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")
        self.path = None if path is None else str(path)
        self.line = line
