"""The backtest benchmark runs and prints its JSON figures (a tiny synthetic stretch)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]


def test_backtest_speed_prints_its_json_figures() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "backtest_speed.py"),
            "--synthetic-days",
            "0.1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = orjson.loads(result.stdout)
    assert figures["events"] > 3_600 and figures["windows"] >= 5
    assert figures["events_per_s"] > 0 and figures["seconds"] > 0
