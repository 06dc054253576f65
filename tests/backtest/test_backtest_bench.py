"""The backtest benchmark runs and prints its JSON figures (a tiny synthetic stretch)."""

from __future__ import annotations

from tests.bench.bench_runner import bench_json


def test_backtest_speed_prints_its_json_figures() -> None:
    figures = bench_json("backtest_speed.py", "--synthetic-days", "0.1", "--json", timeout=120)
    assert figures["events"] > 3_600 and figures["windows"] >= 5
    assert figures["events_per_s"] > 0 and figures["seconds"] > 0
