"""Run a ``bench/`` script as its users do and read the JSON it prints last."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]


def bench_json(script: str, *args: str, timeout: float = 180) -> Any:
    """``python bench/<script> <args>``'s JSON: all of stdout, or else its last line (after
    progress lines). A failed run raises."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    text = result.stdout.strip()
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return orjson.loads(text.splitlines()[-1])
