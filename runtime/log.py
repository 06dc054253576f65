"""Logging: loguru to the console and a rotating file, plain or JSON lines, with secrets redacted.

Redaction happens on the fully formatted line, traceback included, so a key id
or a PEM block that reaches a log call by any route (a message, an exception
text, a repr) is replaced before it is written anywhere.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
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
    fmt = "{message}" if as_json else _PLAIN_FORMAT
    out = stream if stream is not None else sys.stderr
    logger.add(
        _sink(_stream_writer(out), as_json),
        level=level,
        format=fmt,
        diagnose=False,
        backtrace=False,
    )
    if log_dir is not None:
        writer = _file_writer(log_dir / "sol15.log", max_bytes, backups)
        logger.add(
            _sink(writer, as_json),
            level=level,
            format=fmt,
            diagnose=False,
            backtrace=False,
            enqueue=False,
        )
    logging.basicConfig(handlers=[_ToLoguru()], level=logging.WARNING, force=True)
    # pykka logs every actor failure itself; SupervisedActor already logs them, redacted, once.
    logging.getLogger("pykka").setLevel(logging.CRITICAL)
