"""The files of a history download, written so an interrupted download resumes cleanly.

Appends to ``markets.jsonl`` and ``trades.jsonl`` are flushed to disk before the state
file records the new length; the state file is replaced atomically. A download killed
between the two leaves lines the state does not know, and a resumed download cuts the
file back to the recorded length before going on: no line is ever written twice, none
is left half-written. Candlestick files are written whole (a temporary file renamed).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from backtest.kalshi_layout import CANDLE_SUFFIX, CANDLES_DIR, STATE_FILE

STATE_VERSION = 1


class StoreError(Exception):
    """The folder cannot be used (another download's, or unreadable); the message says why."""


@dataclass(slots=True)
class DownloadState:
    """How far a download got. ``series``/``since``/``until`` name the download."""

    series: str
    since: int
    until: int
    version: int = STATE_VERSION
    tiers_listed: list[str] = field(default_factory=list)  # "historical", "live"
    listing: str | None = None  # the tier being listed
    cursor: str | None = None  # its next page
    markets_bytes: int = 0
    next_market: int = 0  # markets.jsonl line to fetch next
    trades_bytes: int = 0
    index_done: bool = False
    # where it came from: ``api_base`` and, for sol15's exchange-sim, ``simulator`` (the
    # X-Sol15-Simulator header it answered with), so a replay can say whose market it is
    source: dict[str, str] = field(default_factory=dict)

    def same_download(self, series: str, since: int, until: int) -> bool:
        return (self.series, self.since, self.until) == (series, since, until)


def _fsync_write(path: Path, data: bytes, mode: str) -> None:
    with path.open(mode) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (a reader sees the old or the new file)."""
    temporary = path.with_name(path.name + ".part")
    _fsync_write(temporary, data, "wb")
    os.replace(temporary, path)


class FolderStore:
    """One download folder: its JSONL files, candlestick files and state."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state_path = root / STATE_FILE
        self.candles = root / CANDLES_DIR

    def open(
        self, series: str, since: int, until: int, source: dict[str, str] | None = None
    ) -> DownloadState:
        """The state of this download (fresh, or where a previous run stopped)."""
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"--out {self.root}: is a file, not a folder")
        self.candles.mkdir(parents=True, exist_ok=True)
        if not self.state_path.exists():
            state = DownloadState(series, since, until, source=dict(source or {}))
            self.save(state)
            return state
        try:
            raw: dict[str, Any] = orjson.loads(self.state_path.read_bytes())
            state = DownloadState(**raw)
        except (orjson.JSONDecodeError, TypeError) as exc:
            raise StoreError(
                f"{self.state_path}: unreadable ({exc}); remove it to start over"
            ) from None
        if state.version != STATE_VERSION or not state.same_download(series, since, until):
            raise StoreError(
                f"--out {self.root} holds another download ({state.series} "
                f"{state.since}–{state.until}); use another folder, or the same "
                "--series/--since/--until to resume it"
            )
        return state

    def save(self, state: DownloadState) -> None:
        write_atomic(self.state_path, orjson.dumps(asdict(state), option=orjson.OPT_INDENT_2))

    def cut_back(self, name: str, size: int) -> None:
        """Drop whatever a killed run appended after the last recorded length."""
        path = self.root / name
        if not path.exists():
            if size:
                raise StoreError(f"{path}: missing, but {size} bytes were recorded")
            path.touch()
            return
        actual = path.stat().st_size
        if actual < size:
            raise StoreError(f"{path}: shorter ({actual} bytes) than recorded ({size})")
        if actual > size:
            with path.open("r+b") as handle:
                handle.truncate(size)

    def append(self, name: str, lines: list[bytes]) -> int:
        """Append one JSON value per line, on disk before returning; the file's new length."""
        path = self.root / name
        if lines:
            _fsync_write(path, b"".join(line + b"\n" for line in lines), "ab")
        return path.stat().st_size

    def lines(self, name: str) -> list[bytes]:
        path = self.root / name
        return path.read_bytes().splitlines() if path.exists() else []

    def write_candles(self, ticker: str, text: bytes) -> None:
        write_atomic(self.candles / f"{ticker}{CANDLE_SUFFIX}", text)
