"""Real SOL history: 1-minute OHLCV CSV files, validated, as numpy arrays.

The format is ``timestamp,open,high,low,close,volume`` with the bar's *open*
time in UTC (naive ``2025-01-01 03:00:00``, ISO 8601 with an offset, or Unix
seconds / milliseconds). Every problem names the file and the line: a bad
value, a broken bar (low above the open, …), a timestamp off the minute grid,
out of order or repeated. Missing minutes are not errors: they are kept as
:class:`Gap` s so that the windows they touch are not traded (never filled in).
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from backtest.errors import BacktestInputError

BAR_SECONDS = 60
REQUIRED_COLUMNS = ("timestamp", "open", "high", "low", "close")
# Other names of the timestamp column (In-Awe/analyse's Binance files: ``datetime_utc``).
TIMESTAMP_ALIASES = ("datetime_utc",)
_MS_THRESHOLD = 100_000_000_000  # larger epoch numbers are milliseconds (after 1973 in ms)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Gap:
    """Minutes missing between two bars: ``after`` is the last bar before, ``before`` the first after."""

    path: str
    line: int  # the line of the first bar after the gap
    after: int  # bar open time, Unix seconds
    before: int

    @property
    def missing_bars(self) -> int:
        return (self.before - self.after) // BAR_SECONDS - 1

    def describe(self) -> str:
        start = _iso(self.after + BAR_SECONDS)
        end = _iso(self.before - BAR_SECONDS)
        return f"{self.path}:{self.line}: {self.missing_bars} missing minute(s), {start} to {end}"


@dataclass(frozen=True, slots=True)
class Bars:
    """Bars of one or more files, in time order; ``gaps`` lists every hole (between files too)."""

    ts: IntArray  # open time, Unix seconds, multiples of 60
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    paths: tuple[str, ...]
    gaps: tuple[Gap, ...]

    def __len__(self) -> int:
        return int(self.ts.size)

    def between(self, start: int | None, end: int | None) -> Bars:
        """Bars opening in ``[start, end)`` (None = unbounded); gaps outside are dropped."""
        lo = 0 if start is None else int(np.searchsorted(self.ts, start, side="left"))
        hi = len(self) if end is None else int(np.searchsorted(self.ts, end, side="left"))
        keep = slice(lo, hi)
        first = int(self.ts[lo]) if hi > lo else 0
        last = int(self.ts[hi - 1]) if hi > lo else 0
        gaps = tuple(g for g in self.gaps if hi > lo and g.before > first and g.after < last)
        return Bars(
            self.ts[keep],
            self.open[keep],
            self.high[keep],
            self.low[keep],
            self.close[keep],
            self.paths,
            gaps,
        )


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M")


def parse_timestamp(text: str) -> int:
    """Unix seconds from a naive-UTC or offset ISO time, or from epoch seconds / milliseconds."""
    value = text.strip()
    if not value:
        raise ValueError("empty timestamp")
    if value.replace(".", "", 1).isdigit():
        number = float(value)
        if number >= _MS_THRESHOLD:
            number /= 1000.0
        if number != math.floor(number):
            raise ValueError(f"timestamp {text!r} is not a whole second")
        return int(number)
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = moment.timestamp()
    if seconds != math.floor(seconds):
        raise ValueError(f"timestamp {text!r} is not a whole second")
    return int(seconds)


def _open_text(path: Path) -> io.TextIOBase:
    try:
        if path.suffix == ".gz":
            return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
        return open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise BacktestInputError(f"cannot read: {exc.strerror or exc}", path=path) from None


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of every non-blank row, header first."""
    handle = _open_text(path)
    try:
        reader = csv.reader(handle)
        for row in reader:
            if row and any(field.strip() for field in row):
                yield reader.line_num, row
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise BacktestInputError(f"cannot read: {exc}", path=path) from None
    except UnicodeDecodeError:
        raise BacktestInputError("not a UTF-8 text CSV file", path=path) from None
    except csv.Error as exc:
        raise BacktestInputError(f"malformed CSV: {exc}", path=path) from None
    finally:
        handle.close()


def _columns(path: Path, line: int, header: list[str]) -> list[int]:
    names = [name.strip().lower() for name in header]
    if "timestamp" not in names:
        names = ["timestamp" if name in TIMESTAMP_ALIASES else name for name in names]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise BacktestInputError(
            f"missing column(s) {', '.join(missing)}; the header must name "
            f"{','.join(REQUIRED_COLUMNS)},volume (got {','.join(header)})",
            path=path,
            line=line,
        )
    return [names.index(name) for name in REQUIRED_COLUMNS]


def _price(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BacktestInputError(
            f"{column} is not a number: {text!r}", path=path, line=line
        ) from None
    if not (math.isfinite(value) and value > 0.0):
        raise BacktestInputError(
            f"{column} must be a positive price, got {text!r}", path=path, line=line
        )
    return value


def _bar(
    path: Path, line: int, row: Sequence[str], columns: Sequence[int]
) -> tuple[int, tuple[float, float, float, float]]:
    """One row's open time and OHLC, each checked: a bad row is named by file and line."""
    if len(row) < max(columns) + 1:
        raise BacktestInputError(
            f"expected at least {max(columns) + 1} fields, got {len(row)}", path=path, line=line
        )
    try:
        stamp = parse_timestamp(row[columns[0]])
    except ValueError as exc:
        raise BacktestInputError(f"bad timestamp: {exc}", path=path, line=line) from None
    o, h, low, c = (
        _price(path, line, name, row[index])
        for name, index in zip(REQUIRED_COLUMNS[1:], columns[1:], strict=True)
    )
    if not low <= min(o, c) <= max(o, c) <= h:
        raise BacktestInputError(
            f"inconsistent bar: need low <= open, close <= high, got open {o} high {h} "
            f"low {low} close {c}",
            path=path,
            line=line,
        )
    if stamp % BAR_SECONDS:
        raise BacktestInputError(
            f"timestamp {row[columns[0]]!r} is not on a minute boundary "
            "(bars must be 1-minute bars labelled by their open time)",
            path=path,
            line=line,
        )
    return stamp, (o, h, low, c)


def _after(path: Path, line: int, text: str, stamp: int, previous: int, last_line: int) -> None:
    """Refuse a bar that does not come after the one before it (``text``: its timestamp)."""
    if stamp <= previous:
        what = "repeats" if stamp == previous else "goes back in time from"
        raise BacktestInputError(
            f"timestamp out of order: {text.strip()} {what} the bar on "
            f"line {last_line} ({_iso(previous)}); bars must be in increasing time order",
            path=path,
            line=line,
        )


def read_bars(path: Path) -> tuple[Bars, int]:
    """One file's bars (gaps inside it listed) and the line of its first bar."""
    ts: list[int] = []
    prices: list[tuple[float, float, float, float]] = []
    gaps: list[Gap] = []
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise BacktestInputError("empty file: no header and no bars", path=path)
    columns = _columns(path, first[0], first[1])
    last_line = first[0]
    first_line = 0
    for line, row in rows:
        stamp, bar = _bar(path, line, row, columns)
        if ts:
            previous = ts[-1]
            _after(path, line, row[columns[0]], stamp, previous, last_line)
            if stamp - previous > BAR_SECONDS:
                gaps.append(Gap(str(path), line, previous, stamp))
        else:
            first_line = line
        ts.append(stamp)
        prices.append(bar)
        last_line = line
    if not ts:
        raise BacktestInputError("no bars after the header", path=path)
    table = np.asarray(prices, dtype=np.float64)
    bars = Bars(
        np.asarray(ts, dtype=np.int64),
        table[:, 0].copy(),
        table[:, 1].copy(),
        table[:, 2].copy(),
        table[:, 3].copy(),
        (str(path),),
        tuple(gaps),
    )
    return bars, first_line


def load_bars(paths: Sequence[Path]) -> Bars:
    """Every file's bars, files ordered by their first bar; overlapping files are refused.

    Separate files are separate stretches: the time between them is a gap like any other.
    """
    if not paths:
        raise BacktestInputError("no data files given")
    loaded = sorted(((*read_bars(Path(p)), Path(p)) for p in paths), key=lambda x: int(x[0].ts[0]))
    gaps: list[Gap] = []
    for (before, _, before_path), (after, line, after_path) in itertools.pairwise(loaded):
        if int(after.ts[0]) <= int(before.ts[-1]):
            raise BacktestInputError(
                f"overlaps {before_path} (which runs to {_iso(int(before.ts[-1]))}); "
                "give each stretch of history once",
                path=after_path,
                line=line,
            )
        if int(after.ts[0]) - int(before.ts[-1]) > BAR_SECONDS:
            gaps.append(Gap(str(after_path), line, int(before.ts[-1]), int(after.ts[0])))
    parts = [bars for bars, _, _ in loaded]
    for bars in parts:
        gaps.extend(bars.gaps)
    gaps.sort(key=lambda g: g.after)
    return Bars(
        np.concatenate([b.ts for b in parts]),
        np.concatenate([b.open for b in parts]),
        np.concatenate([b.high for b in parts]),
        np.concatenate([b.low for b in parts]),
        np.concatenate([b.close for b in parts]),
        tuple(str(p) for _, _, p in loaded),
        tuple(gaps),
    )
