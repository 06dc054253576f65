"""Recordings: every market message the bot received, one JSON line each, one gzip file per UTC day.

A line is ``{"at": <receive time, Unix s>, "msg": <messages.base.to_json(message)>}``.
``at`` is the bot's clock when the message arrived — the time the strategies
acted on it — so a replay delivers each message at its ``at``. Decoding
rebuilds the exact message (Decimals from their strings, tuples from lists),
so a replayed message compares equal to the one recorded.

Files are appended to (a restarted recorder adds a gzip member, which readers
join transparently); a file cut short by a crash is read up to its last whole
line, with a warning.

The format lives in storage, with the bot's other files on disk, because both the
recorder actor (which writes it) and the backtest (which reads it) sit above storage.
"""

from __future__ import annotations

import gzip
import io
import math
import types
import typing
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson

from messages.base import Message, message_types, to_json
from messages.market_data import BookUpdate, ExchangeState, MarketInfo, MarketLifecycle, SpotTick
from storage.errors import InputFileError

REPLAYED = (SpotTick, BookUpdate, MarketInfo, MarketLifecycle, ExchangeState)
SUFFIXES = (".jsonl.gz", ".jsonl")


def is_recording(path: Path) -> bool:
    return path.name.endswith(SUFFIXES)


def day_of(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).date().isoformat()


def encode(message: Message, at: float) -> bytes:
    """One recording line (with its newline)."""
    return b'{"at":' + orjson.dumps(at) + b',"msg":' + to_json(message) + b"}\n"


# --- writing -----------------------------------------------------------------------------


class RecordingWriter:
    """Appends lines to ``DIR/YYYY-MM-DD.jsonl.gz`` (UTC day of ``at``); not thread-safe."""

    def __init__(self, directory: Path, compresslevel: int = 6) -> None:
        self.directory = Path(directory)
        self.compresslevel = compresslevel
        self._day = ""
        self._file: gzip.GzipFile | None = None
        self.lines = 0
        self.dirty = False

    @property
    def path(self) -> Path | None:
        return self.directory / f"{self._day}.jsonl.gz" if self._day else None

    def write(self, message: Message, at: float) -> None:
        day = day_of(at)
        if day != self._day or self._file is None:
            self._open(day)
        assert self._file is not None
        self._file.write(encode(message, at))
        self.lines += 1
        self.dirty = True

    def _open(self, day: str) -> None:
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._day = day
        path = self.directory / f"{day}.jsonl.gz"
        self._file = gzip.GzipFile(path, "ab", self.compresslevel)

    def flush(self) -> None:
        """Make what was written readable (a sync flush), even if the process dies next."""
        if self._file is not None and self.dirty:
            self._file.flush()
            self.dirty = False

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            finally:
                self._file = None
                self.dirty = False


# --- reading -----------------------------------------------------------------------------


def _converter(kind: Any) -> Callable[[Any], Any]:
    """A function turning the JSON form of a field of type ``kind`` back into its value."""
    scalar = _SCALARS.get(kind)
    if scalar is not None:
        return scalar
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        inner = [_converter(a) for a in args if a is not type(None)]
        if len(inner) != 1:
            return _identity
        convert = inner[0]
        return lambda v: None if v is None else convert(v)
    if origin is tuple:
        return _tuple_converter(args)
    return _identity


def _tuple_converter(args: tuple[Any, ...]) -> Callable[[Any], Any]:
    """``tuple[X, ...]`` (any length) or ``tuple[X, Y]`` (that many items, each its type)."""
    if len(args) == 2 and args[1] is Ellipsis:
        item = _converter(args[0])
        return lambda v: tuple(item(x) for x in _list(v))
    parts = [_converter(a) for a in args]

    def fixed(v: Any) -> tuple[Any, ...]:
        values = _list(v)
        if len(values) != len(parts):
            raise ValueError(f"expected {len(parts)} items, got {len(values)}")
        return tuple(c(x) for c, x in zip(parts, values, strict=True))

    return fixed


def _identity(v: Any) -> Any:
    return v


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise ValueError(f"expected a list, got {v!r}")
    return v


def _decimal(v: Any) -> Decimal:
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise ValueError(f"expected a decimal string, got {v!r}")
    try:
        value = Decimal(v) if isinstance(v, str) else Decimal(str(v))
    except InvalidOperation:
        raise ValueError(f"not a number: {v!r}") from None
    if not value.is_finite():
        raise ValueError(f"not finite: {v!r}")
    return value


def _float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"expected a number, got {v!r}")
    return float(v)


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"expected an integer, got {v!r}")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"expected true or false, got {v!r}")
    return v


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected a string, got {v!r}")
    return v


# Scalar field types and their converters; ``bool`` is not ``int`` here (see ``_int``).
_SCALARS: dict[Any, Callable[[Any], Any]] = {
    Decimal: _decimal,
    float: _float,
    int: _int,
    bool: _bool,
    str: _str,
}


@dataclass(frozen=True, slots=True)
class _Decoder:
    cls: type[Message]
    converters: dict[str, Callable[[Any], Any]]
    required: frozenset[str]


_DECODERS: dict[str, _Decoder] = {}


def _decoder(type_name: str) -> _Decoder | None:
    found = _DECODERS.get(type_name)
    if found is not None:
        return found
    cls = message_types().get(type_name)
    if cls is None:
        return None
    hints = typing.get_type_hints(cls)
    converters = {}
    required = set()
    for f in fields(cls):  # type: ignore[arg-type]
        converters[f.name] = _converter(hints[f.name])
        if f.default is MISSING and f.default_factory is MISSING:
            required.add(f.name)
    found = _DECODERS[type_name] = _Decoder(cls, converters, frozenset(required))
    return found


def decode(body: dict[str, Any]) -> Message:
    """The message a ``to_json`` dict describes; ``ValueError`` says what is wrong."""
    type_name = body.get("type")
    if not isinstance(type_name, str):
        raise ValueError('no "type"')
    decoder = _decoder(type_name)
    if decoder is None:
        raise ValueError(f"unknown message type {type_name!r}")
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name == "type":
            continue
        convert = decoder.converters.get(name)
        if convert is None:
            raise ValueError(f"{type_name}: unknown field {name!r}")
        try:
            values[name] = convert(value)
        except ValueError as exc:
            raise ValueError(f"{type_name}.{name}: {exc}") from None
    missing = decoder.required - values.keys()
    if missing:
        raise ValueError(f"{type_name}: missing field(s) {', '.join(sorted(missing))}")
    return decoder.cls(**values)


@dataclass(slots=True)
class ReadStats:
    lines: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # message types not replayed
    warnings: list[str] = field(default_factory=list)
    first_at: float | None = None
    last_at: float | None = None


def _lines(path: Path, stats: ReadStats) -> Iterator[tuple[int, bytes]]:
    try:
        handle: gzip.GzipFile | io.BufferedReader = (
            gzip.GzipFile(path, "rb") if path.name.endswith(".gz") else path.open("rb")
        )
    except OSError as exc:
        raise InputFileError(f"cannot read: {exc.strerror or exc}", path=path) from None
    number = 0
    try:
        for number, raw in enumerate(handle, 1):
            yield number, raw
    except (EOFError, zlib.error) as exc:
        stats.warnings.append(
            f"{path}: cut short after line {number} ({exc}); the rest is ignored "
            "(was the recorder stopped without closing the file?)"
        )
    except gzip.BadGzipFile:
        raise InputFileError("not a gzip file", path=path) from None
    except OSError as exc:
        raise InputFileError(f"cannot read: {exc.strerror or exc}", path=path) from None
    finally:
        handle.close()


def _line(path: Path, number: int, raw: str | bytes) -> tuple[int | float, Any]:
    """One recording line's time and message body, its shape checked (not yet decoded)."""
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputFileError(f"not JSON: {exc}", path=path, line=number) from None
    if not isinstance(line, dict) or "at" not in line or "msg" not in line:
        raise InputFileError(
            'expected {"at": <time>, "msg": {...}} (a sol15 recording line)',
            path=path,
            line=number,
        )
    at = line["at"]
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        raise InputFileError(f'"at" is not a time: {at!r}', path=path, line=number)
    return at, line["msg"]


def _message(path: Path, number: int, body: Any) -> Message:
    """The message a line's body encodes; a bad one is named by file and line."""
    if not isinstance(body, dict):
        raise InputFileError('"msg" is not an object', path=path, line=number)
    try:
        return decode(body)
    except (ValueError, TypeError) as exc:
        raise InputFileError(f"bad message: {exc}", path=path, line=number) from None


def read_recordings(
    paths: Sequence[Path], stats: ReadStats | None = None
) -> Iterator[tuple[float, Message]]:
    """``(at, message)`` of the replayed kinds, in the order recorded; bad lines raise with file:line."""
    stats = stats if stats is not None else ReadStats()
    last_at = -math.inf
    last_where = ""
    for given in paths:
        path = Path(given)
        for number, raw in _lines(path, stats):
            if not raw.strip():
                continue
            at, body = _line(path, number, raw)
            if at < last_at:
                raise InputFileError(
                    f"timestamp out of order: at {at} is before {last_at} ({last_where}); "
                    "recordings must be given in time order",
                    path=path,
                    line=number,
                )
            message = _message(path, number, body)
            stats.lines += 1
            last_at, last_where = float(at), f"{path}:{number}"
            if stats.first_at is None:
                stats.first_at = last_at
            stats.last_at = last_at
            if not isinstance(message, REPLAYED):
                stats.skipped[message.type] = stats.skipped.get(message.type, 0) + 1
                continue
            yield last_at, message
