"""Processes for the crash test: the bot as ``python run.py --mode sim`` against a running
``exchange-sim``, killed with SIGKILL and started again on the same ledger.

Everything crosses process boundaries, so waiting is bounded polling of the bot's output,
its HTTP API or the ledger file (read-only), each with a timeout.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson

from storage.database import wal_path_of
from storage.intent_file import read_intent_records

ROOT = Path(__file__).resolve().parents[2]
PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
T = TypeVar("T")

# Strategies tuned to trade often (in short windows), so the kills land while orders are
# being placed. ``kelly_volatility`` keeps its volatility warm-up: a restarted bot trades at
# once because it backfills the index from the exchange's CF Benchmarks passthrough.
STRATEGY_PARAMS = (
    '{"kelly_volatility": {"cooldown_seconds": 1, "min_edge": 0.01, "no_entry_seconds": 5},'
    ' "mean_reversion": {"window": 10, "min_periods": 3, "entry_z": 0.5, "exit_z": 0.2,'
    ' "no_entry_seconds": 10, "exit_before_close_seconds": 5, "min_std": 0.001,'
    ' "min_edge": 0, "contracts": 2}}'
)


def poll(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.02) -> T:
    """Call ``check`` until it returns something, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        pause.wait(every)


class Lines:
    """A pipe's lines, read on a thread so the process never blocks on it."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._lock:
                self.lines.append(line)

    def find(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        with self._lock:
            for line in self.lines:
                match = pattern.search(line)
                if match:
                    return match
        return None

    def tail(self, n: int = 30) -> str:
        with self._lock:
            return "".join(self.lines[-n:])


_HUB = re.compile(r"dashboard and API at (http://127\.0\.0\.1:\d+)")
_RUNNING = re.compile(r"sol15 running")


class Bot:
    """One bot process in sim mode against the exchange named by ``exchange``."""

    def __init__(self, exchange: dict[str, str], database_url: str, work: Path) -> None:
        env = {k: os.environ[k] for k in PASS_THROUGH if k in os.environ}
        env.update(exchange)
        env.update(
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
            LOG_DIR=str(work / "logs"),
            DATA_DIR=str(work / "data"),
            SIM_WINDOW_SECONDS="60",
            MIN_EDGE="0",
            STRATEGIES="kelly_volatility,mean_reversion",
            STRATEGY_PARAMS=STRATEGY_PARAMS,
        )
        command = [
            sys.executable, str(ROOT / "run.py"), "--mode", "sim", "--port", "0",
            "--db", database_url, "--env-file", str(work / "no.env"),
        ]  # fmt: skip
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            command,
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout = Lines(self.proc.stdout)
        self.stderr = Lines(self.proc.stderr)
        self.url = ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> str | None:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the bot exited ({self.proc.returncode}):\n{self.stderr.tail()}"
                )
            hub = self.stderr.find(_HUB)
            return hub.group(1) if hub and self.stderr.find(_RUNNING) else None

        self.url = poll(ready, timeout, "the bot to start", every=0.05)

    def status(self) -> dict[str, Any]:
        reply = httpx.get(f"{self.url}/api/status", timeout=5)
        reply.raise_for_status()
        body: dict[str, Any] = reply.json()
        return body

    def risk(self, timeout: float = 30.0) -> dict[str, Any]:
        """``risk_metrics`` once the risk actor has reported (after its restore)."""

        def reported() -> dict[str, Any] | None:
            metrics: dict[str, Any] = self.status()["risk_metrics"]
            return metrics if metrics.get("starting_bankroll") is not None else None

        return poll(reported, timeout, "the risk status", every=0.05)

    def kill(self) -> float:
        """SIGKILL; returns how long after its start the bot was killed."""
        self.proc.send_signal(signal.SIGKILL)
        at = time.monotonic() - self.started
        self.proc.wait(10)
        return at

    def terminate(self, timeout: float = 60.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def ensure_dead(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class LedgerFile:
    """Read-only looks at the bot's SQLite ledger (and its write-ahead file) from the test."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.wal_path = wal_path_of(path)

    @staticmethod
    def _query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if not path.exists():
            return []
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError:  # not created yet
                return []

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self._query(self.path, sql, *params)

    def intents(self) -> set[str]:
        """Client order ids in the write-ahead log."""
        return {
            orjson.loads(record)["client_order_id"] for record in read_intent_records(self.wal_path)
        }

    def unsettled(self) -> set[str]:
        """Intents with no order row yet, or whose order is still pending or unknown."""
        orders = dict(self.query("SELECT client_order_id, status FROM orders"))
        return {c for c in self.intents() if orders.get(c, "pending") in ("pending", "unknown")}


def money(value: Any) -> Decimal:
    return Decimal(str(value))
