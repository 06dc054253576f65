"""Logging: loguru to the console and a rotating file, plain or JSON lines, with secrets redacted.

Redaction happens on the fully formatted line, traceback included, so a key id
or a PEM block that reaches a log call by any route (a message, an exception
text, a repr) is replaced before it is written anywhere.

Repeated warnings back off: a line bound to a reason (``throttled(reason)``, or
``logger.bind(throttle=reason)`` in layers below this one) is written once per
reason per minute; the next one written says how many were left out meanwhile. A
bot without network would otherwise log every retry of every request, forever.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, TextIO

import orjson
from loguru import logger

REDACTED = "[REDACTED]"
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?-----END [A-Z0-9 ]+-----", re.DOTALL)
_PEM_OPEN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*", re.DOTALL)
# loguru itself appends "\n{exception}" to a string format.
_PLAIN_FORMAT = (
    "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}"
)


class Redactor:
    """Replaces registered secrets and every PEM block in a string."""

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def register(self, *secrets: str | None) -> None:
        with self._lock:
            found = {s for s in secrets if s and len(s) >= 4}
            self._secrets = tuple(sorted(set(self._secrets) | found, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        if "-----BEGIN" in text:
            text = _PEM_OPEN.sub(REDACTED, _PEM.sub(REDACTED, text))
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


redactor = Redactor()

THROTTLE = "throttle"  # the ``extra`` key naming a repeated line's reason
_SUPPRESSED = "_throttle_suppressed"


class Throttle:
    """One line per reason per ``interval`` seconds; the next one counts what was left out."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}  # reason -> when its last line was written
        self._left_out: dict[str, int] = {}

    def admit(self, reason: str) -> int | None:
        """None: leave this line out; else write it, noting that many left out before it."""
        now = self.clock()
        with self._lock:
            last = self._last.get(reason)
            if last is not None and now - last < self.interval:
                self._left_out[reason] = self._left_out.get(reason, 0) + 1
                return None
            self._last[reason] = now
            return self._left_out.pop(reason, 0)

    def patch(self, record: Any) -> None:
        """A loguru patcher (once per record, before any sink): mark or annotate the line."""
        reason = record["extra"].get(THROTTLE)
        if reason is None:
            return
        left_out = self.admit(str(reason))
        if left_out is None:
            record["extra"][_SUPPRESSED] = True
        elif left_out:
            record["message"] += (
                f" [{left_out} more like this in the last {self.interval:g} s not shown]"
            )


throttle = Throttle()


def throttled(reason: str) -> Any:
    """The logger for a line that may repeat: at most one per ``reason`` per minute."""
    return logger.bind(**{THROTTLE: reason})


def _shown(record: Any) -> bool:
    return not record["extra"].get(_SUPPRESSED, False)


def _json_line(record: dict[str, Any]) -> str:
    exception = record["exception"]
    body: dict[str, Any] = {
        "time": record["time"].astimezone(UTC).isoformat(),
        "level": record["level"].name,
        "logger": record["name"],
        "function": record["function"],
        "line": record["line"],
        "thread": record["thread"].name,
        "message": record["message"],
    }
    if record["extra"]:
        body["extra"] = record["extra"]
    if exception is not None:
        body["exception"] = (
            f"{exception.type.__name__ if exception.type else 'Exception'}: {exception.value}"
        )
    return orjson.dumps(body, default=str).decode()


def _sink(write: Callable[[str], None], as_json: bool) -> Callable[[Any], None]:
    def sink(message: Any) -> None:
        text = _json_line(message.record) + "\n" if as_json else str(message)
        write(redactor(text))

    return sink


def _stream_writer(stream: TextIO) -> Callable[[str], None]:
    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return write


def _file_writer(path: Path, max_bytes: int, backups: int) -> Callable[[str], None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.terminator = ""

    def write(text: str) -> None:
        handler.emit(logging.makeLogRecord({"msg": text, "levelno": logging.INFO}))

    return write


class _ToLoguru(logging.Handler):
    """Routes stdlib logging (aiohttp, httpx, …) through loguru, and so through redaction."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def setup_logging(
    level: str = "INFO",
    *,
    as_json: bool = False,
    log_dir: Path | None = None,
    secrets: tuple[str | None, ...] = (),
    stream: TextIO | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
) -> None:
    """Configure loguru once for the process. ``diagnose`` stays off: it would print variable values."""
    redactor.register(*secrets)
    logger.remove()
    logger.configure(patcher=throttle.patch)
    fmt = "{message}" if as_json else _PLAIN_FORMAT
    out = stream if stream is not None else sys.stderr
    logger.add(
        _sink(_stream_writer(out), as_json),
        level=level,
        format=fmt,
        filter=_shown,
        diagnose=False,
        backtrace=False,
    )
    if log_dir is not None:
        writer = _file_writer(log_dir / "sol15.log", max_bytes, backups)
        logger.add(
            _sink(writer, as_json),
            level=level,
            format=fmt,
            filter=_shown,
            diagnose=False,
            backtrace=False,
            enqueue=False,
        )
    logging.basicConfig(handlers=[_ToLoguru()], level=logging.WARNING, force=True)
    # pykka logs every actor failure itself; SupervisedActor already logs them, redacted, once.
    logging.getLogger("pykka").setLevel(logging.CRITICAL)
