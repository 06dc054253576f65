"""Synthetic inputs for the backtest tests: 1-minute OHLCV files and tiny recordings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from messages.base import Message
from storage.recording import RecordingWriter

# 2025-03-03 00:00 UTC: a multiple of 900, so windows start on the first bar.
START = 1_740_960_000


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def random_bars(
    n: int, *, seed: int = 1, start: int = START, price: float = 150.0, vol: float = 0.0015
) -> list[tuple[int, float, float, float, float]]:
    """``n`` consistent 1-minute bars (open, high, low, close on a 0.01 tick) of a random walk."""
    rng = np.random.default_rng(seed)
    bars = []
    close = price
    for i in range(n):
        o = round(close, 2)
        path = o * np.exp(np.cumsum(rng.normal(0.0, vol / np.sqrt(20), 20)))
        c = round(float(path[-1]), 2)
        h = round(max(o, c, float(path.max())), 2)
        low = round(min(o, c, float(path.min())), 2)
        bars.append((start + 60 * i, o, h, low, c))
        close = c
    return bars


def write_csv(
    path: Path,
    bars: Sequence[tuple[int, float, float, float, float]],
    header: str = "timestamp,open,high,low,close,volume",
) -> Path:
    lines = [header]
    for ts, o, h, low, c in bars:
        lines.append(f"{iso(ts)},{o},{h},{low},{c},100.0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_recording(directory: Path, messages: Sequence[tuple[float, Message]]) -> list[Path]:
    writer = RecordingWriter(directory)
    for at, message in messages:
        writer.write(message, at)
    writer.close()
    return sorted(directory.glob("*.jsonl.gz"))
