"""bench/sweep_scaling.py still runs and prints its figures (two tiny runs, processes only)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.backtest.backtest_builders import random_bars, write_csv

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_sweep_scaling_prints_rates_and_efficiency(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "sol.csv", random_bars(4 * 60, seed=2))
    command = [sys.executable, str(ROOT / "bench" / "sweep_scaling.py"), "--data", str(data)]
    options = ["--runs", "2", "--days", "0.1", "--backends", "process", "--week-days", "0.1"]
    result = subprocess.run(
        [*command, *options, "--json"], capture_output=True, text=True, timeout=120, check=True
    )
    figures = orjson.loads(result.stdout)
    one, two = figures["process"]["1"], figures["process"]["2"]
    assert one["runs_per_min"] > 0
    assert two["runs_per_min"] > 0
    assert figures["process_efficiency"] == pytest.approx(
        two["runs_per_min"] / (2 * one["runs_per_min"]), abs=0.002
    )
    assert figures["week_run_s"] > 0
    assert len(figures["load_before"]) == 3
    assert "ray" not in figures  # processes only: Ray never started
