"""What decides one sweep run's result, and its stable identity (for resuming).

A run is identified by a hash over everything its result depends on: the
parameters, seed, span, series, strategies and the *content* of its data files
(not their paths), so moving the data keeps finished results, and editing a file
makes them stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

KEY_VERSION = 1  # bump when a row's meaning changes: every earlier result becomes stale
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One backtest run of a sweep: everything that decides its result."""

    params: tuple[tuple[str, str], ...]  # sorted (key, value) pairs, backtest --param keys
    seed: int
    data: tuple[str, ...]  # resolved data paths (or COIN=PATH forms)
    start: int | None  # Unix seconds, None = all
    end: int | None
    series: str | None = None  # comma-separated series, None = backtest default
    strategies: tuple[str, ...] = ()  # () = backtest default strategy

    def key(self) -> str:
        """sha256 over every field, the data taken by content."""
        payload = {
            "version": KEY_VERSION,
            "params": [list(p) for p in self.params],
            "seed": self.seed,
            "data": [data_fingerprint(entry) for entry in self.data],
            "start": self.start,
            "end": self.end,
            "series": self.series,
            "strategies": list(self.strategies),
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def run_id(self) -> str:
        return self.key()[:16]

    def param_texts(self) -> list[str]:
        """The ``--param KEY=VALUE`` texts of this run (one grid point)."""
        return [f"{k}={v}" for k, v in self.params]


def make_params(values: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The canonical (sorted) form of a grid point."""
    return tuple(sorted((k, str(v)) for k, v in values.items()))


def data_fingerprint(entry: str) -> list[str]:
    """``[coin, hash…]`` of one ``--data`` entry: a file, a folder of CSV, or COIN=PATH."""
    coin, sep, rest = entry.partition("=")
    path = Path(rest if sep else entry)
    files = sorted(p for p in path.rglob("*.csv") if p.is_file()) if path.is_dir() else [path]
    return [coin.upper() if sep else "", *(file_hash(f) for f in files)]


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes (cached by path, size and mtime: a sweep asks thousands of times)."""
    stat = os.stat(path)
    return _hash(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _hash(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
