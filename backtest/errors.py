"""The one error a backtest reports to its user: bad input, named by file and line.

It is storage's :class:`storage.errors.InputFileError` under the backtest's name, because
the recordings (``storage.recording``) raise it too and the CLI catches one class.
The CLI prints it and exits 2, so every message must make sense on its own.
"""

from __future__ import annotations

from storage.errors import InputFileError

BacktestInputError = InputFileError
