"""Recorder: writes every order-book message and index print the bot receives, for backtests.

It subscribes to the BOOK, SPOT and MARKETS topics and appends each message,
with the time it arrived, to ``DIR/YYYY-MM-DD.jsonl.gz`` (the format of
:mod:`storage.recording`, replayed by ``run.py backtest``). A disk problem
never stops trading: the recorder logs it, drops what it cannot write
(counted) and tries again ``retry_after`` seconds later.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

from loguru import logger

from messages.base import Message
from messages.queries import GetStats, Query
from messages.timers import FlushTick
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import BOOK, MARKETS, SPOT
from runtime.restart_policy import Restart
from runtime.supervisor import ChildSpec
from storage.recording import RecordingWriter

RECORDER = "recorder"


class Recorder(SupervisedActor):
    def __init__(
        self,
        context: ActorContext,
        directory: Path,
        flush_interval: float = 1.0,
        retry_after: float = 30.0,
    ) -> None:
        super().__init__(context)
        self.directory = Path(directory)
        self.flush_interval = flush_interval
        self.retry_after = retry_after
        self.writer = RecordingWriter(self.directory)
        self.recorded = 0
        self.dropped = 0
        self.failed_at = -math.inf
        self.last_error = ""

    def setup(self) -> None:
        self.subscribe(BOOK, SPOT, MARKETS, last=True)  # it keeps a record: no one waits for it
        self.every(self.flush_interval, FlushTick)
        logger.info("recording market data to {}", self.directory)

    def teardown(self) -> None:
        try:
            self.writer.close()
        except OSError as exc:
            logger.warning("recorder: closing {} failed: {}", self.writer.path, exc)

    def handle(self, message: Any) -> Any:
        if isinstance(message, FlushTick):
            self._flush()
        elif isinstance(message, GetStats):
            return self.stats()
        elif isinstance(message, Message) and not isinstance(message, Query):
            self._record(message)
        else:
            return super().handle(message)
        return None

    def stats(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "file": None if self.writer.path is None else str(self.writer.path),
            "recorded": self.recorded,
            "dropped": self.dropped,
            "last_error": self.last_error,
        }

    def _record(self, message: Message) -> None:
        now = self.clock.now()
        if now - self.failed_at < self.retry_after:
            self.dropped += 1
            return
        try:
            self.writer.write(message, now)
        except OSError as exc:
            self._disk_failed(exc, now)
            self.dropped += 1
            return
        self.recorded += 1

    def _flush(self) -> None:
        try:
            self.writer.flush()
        except OSError as exc:
            self._disk_failed(exc, self.clock.now())

    def _disk_failed(self, exc: OSError, now: float) -> None:
        self.failed_at = now
        self.last_error = f"{type(exc).__name__}: {exc}"
        logger.error(
            "recorder: cannot write to {} ({}); dropping market data for {:g} s",
            self.directory,
            exc,
            self.retry_after,
        )
        with contextlib.suppress(OSError):
            self.writer.close()


def recorder_spec(directory: Path | str, *, flush_interval: float = 1.0) -> ChildSpec:
    """The child to add to the supervision tree (e.g. under ``market-data``) to record."""
    return ChildSpec.of(
        RECORDER,
        Recorder,
        Path(directory),
        flush_interval=flush_interval,
        restart=Restart.PERMANENT,
    )
