"""bench/sweep_scaling.py still runs and prints its figures (two tiny runs, processes only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backtest.backtest_builders import random_bars, write_csv
from tests.bench.bench_runner import bench_json


@pytest.mark.slow
def test_sweep_scaling_prints_rates_and_efficiency(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "sol.csv", random_bars(4 * 60, seed=2))
    options = ["--runs", "2", "--days", "0.1", "--backends", "process", "--week-days", "0.1"]
    figures = bench_json("sweep_scaling.py", "--data", str(data), *options, "--json", timeout=120)
    one, two = figures["process"]["1"], figures["process"]["2"]
    assert one["runs_per_min"] > 0
    assert two["runs_per_min"] > 0
    assert figures["process_efficiency"] == pytest.approx(
        two["runs_per_min"] / (2 * one["runs_per_min"]), abs=0.002
    )
    assert figures["week_run_s"] > 0
    assert len(figures["load_before"]) == 3
    assert "ray" not in figures  # processes only: Ray never started
