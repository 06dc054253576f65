"""The sweep's table on disk: ``results.csv`` streamed row by row, ``results.parquet`` beside it.

The CSV is appended and flushed as each run finishes, so an interrupted sweep loses
nothing finished and can resume from it; at the end both files are rewritten with
one row per run (a run that failed and then succeeded keeps only its latest row).
Parquet needs pyarrow; without it the CSV alone is written and the user is told.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from research.folder_lock import FolderLock
from research.rows import OK, PARAM_PREFIX, Row, coerce, columns, kind_of

CSV_NAME = "results.csv"
PARQUET_NAME = "results.parquet"
Warn = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def pyarrow_available() -> bool:
    return importlib.util.find_spec("pyarrow") is not None


def read_table(directory: Path) -> list[Row]:
    """The rows a sweep left in ``directory`` (CSV first; the parquet if only it is there)."""
    path = directory / CSV_NAME
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as handle:
            # a row cut short (the sweep killed mid-write) has missing cells: it is run again
            return [coerce(row) for row in csv.DictReader(handle) if None not in row.values()]
    if (directory / PARQUET_NAME).is_file() and pyarrow_available():
        import pyarrow.parquet as pq

        return [dict(row) for row in pq.read_table(directory / PARQUET_NAME).to_pylist()]
    return []


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


class ResultStore:
    """Every row so far (earlier sweeps' included), keyed by run id; latest row wins.

    It holds the folder's :class:`~research.folder_lock.FolderLock` from its start to
    :meth:`close`: a second sweep into the same folder is refused (``FolderBusy``)."""

    def __init__(self, directory: Path | None, *, warn: Warn = _stderr) -> None:
        self.directory = directory
        self.warn = warn
        self.rows: dict[str, Row] = {}
        self.columns: list[str] = columns(())
        self._handle: IO[str] | None = None
        self._writer: Any = None
        self._lock = None if directory is None else FolderLock(directory)
        if directory is not None:
            for row in read_table(directory):
                self.rows[str(row["run_id"])] = row

    def finished(self) -> set[str]:
        """Run ids already done with status ok (a failed run is tried again)."""
        return {run_id for run_id, row in self.rows.items() if row.get("status") == OK}

    def begin(self, param_keys: Iterable[str]) -> None:
        """Open the CSV for streaming, its header covering earlier rows' and these keys."""
        keys = set(param_keys)
        for row in self.rows.values():
            keys.update(c.removeprefix(PARAM_PREFIX) for c in row if c.startswith(PARAM_PREFIX))
        self.columns = columns(keys)
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_csv(list(self.rows.values()))
        self._handle = (self.directory / CSV_NAME).open("a", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle)

    def add(self, row: Row) -> None:
        full = {c: row.get(c, "" if c.startswith(PARAM_PREFIX) else None) for c in self.columns}
        self.rows[str(row["run_id"])] = full
        if self._writer is not None and self._handle is not None:
            self._writer.writerow([_cell(full[c]) for c in self.columns])
            self._handle.flush()

    def close(self, order: Sequence[str] = ()) -> list[Row]:
        """Rewrite both files, one row per run: ``order``'s runs first, then earlier ones."""
        if self._handle is not None:
            self._handle.close()
            self._handle = self._writer = None
        rank = {run_id: i for i, run_id in enumerate(order)}
        table = sorted(self.rows.values(), key=lambda r: rank.get(str(r["run_id"]), len(rank)))
        try:
            if self.directory is not None:
                self._write_csv(table)
                self._write_parquet(table)
        finally:
            if self._lock is not None:
                self._lock.release()
        return table

    def _write_csv(self, table: Sequence[Row]) -> None:
        assert self.directory is not None
        with (self.directory / CSV_NAME).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.columns)
            for row in table:
                writer.writerow([_cell(row.get(c)) for c in self.columns])

    def _write_parquet(self, table: Sequence[Row]) -> None:
        assert self.directory is not None
        if not pyarrow_available():
            self.warn(
                f"pyarrow is not installed: wrote {self.directory / CSV_NAME} only, no "
                f"{PARQUET_NAME} (pip install -r requirements-research.txt)"
            )
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {"text": pa.string(), "int": pa.int64(), "float": pa.float64()}
        schema = pa.schema([(c, types[kind_of(c)]) for c in self.columns])
        data = {c: [row.get(c) for row in table] for c in self.columns}
        pq.write_table(pa.Table.from_pydict(data, schema=schema), self.directory / PARQUET_NAME)
