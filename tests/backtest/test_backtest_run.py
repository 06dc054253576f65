"""Whole backtests on synthetic history: deterministic, the CLI's outputs, grids in parallel."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import orjson
import pytest

from backtest.calibration import CalibrationCollector
from backtest.cli import main
from backtest.params import build_configs
from backtest.runner import BacktestResult, run_backtest
from backtest.windows import find_windows
from strategies import create_strategy
from strategies.pricing import digital_probability
from tests.backtest.backtest_builders import START, random_bars, write_csv


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six hours of a volatile random walk."""
    return write_csv(tmp_path_factory.mktemp("h") / "sol.csv", random_bars(360, seed=8, vol=0.002))


def run(history: Path, seed: int, *params: str) -> BacktestResult:
    config = build_configs(["kelly_volatility"], ["data.warmup_seconds=1800", *params], seed)[0]
    return run_backtest(config, [history], keep_signals=True)


def test_same_data_parameters_and_seed_give_identical_results(history: Path) -> None:
    first, second = run(history, 3), run(history, 3)
    assert first.signals and first.trades
    assert first.signals == second.signals
    assert first.trades == second.trades
    assert first.equity == second.equity
    a, b = first.summary(), second.summary()
    for volatile in ("seconds", "events_per_s"):
        a.pop(volatile), b.pop(volatile)
    assert a == b
    other = run(history, 4)
    assert other.signals != first.signals  # the seed drives the bridge and the makers


def test_a_parameter_changes_the_outcome(history: Path) -> None:
    base = run(history, 3)
    strict = run(history, 3, "min_edge=0.2", "risk.min_edge=0.2")
    assert len(strict.trades) < len(base.trades)


def test_windows_settle_on_the_60_second_averages() -> None:
    ts = np.arange(START - 60, START + 960, dtype=np.int64)
    q = (1_000_000 + (ts - START)).astype(np.int64)  # $100.0000 rising 1e-4 per second
    windows, skipped = find_windows(ts, q, start=START)
    assert not skipped and len(windows) == 1
    w = windows[0]
    # strike: prints START-59 … START, i.e. 100 + (−59 … 0)·1e-4 → mean 99.99705
    assert w.strike == Decimal("99.99705000")
    assert w.settlement == Decimal("100.08705000")
    assert w.result == "yes"
    assert w.ticker == "KXSOL15M-25MAR021915-15"  # close 00:15 UTC = 19:15 in New York


def test_the_calibration_model_is_the_strategys_model(history: Path) -> None:
    """Collector snapshots use the σ kelly_volatility holds at that moment, and its pricing."""
    result = run(history, 3)
    strategy = create_strategy("kelly_volatility")
    collector = CalibrationCollector(strategy.params)  # type: ignore[arg-type]
    from backtest.history_feed import prepare_history

    data = prepare_history([history], seed=3, start=None, end=None, warmup=1800, lead=60)
    from messages.market_data import SpotTick

    checked = 0
    due = {w.close_ts - 60 * m: w for w in data.windows for m in (14, 10, 5, 2, 1)}
    for t, q in zip(data.ts.tolist(), data.q.tolist(), strict=True):
        tick = SpotTick("SOLUSD_RTI", Decimal(q).scaleb(-4), float(t))
        strategy.on_spot(tick)
        collector.on_spot(tick)
        window = due.get(t)
        if window is not None:
            sigma = strategy.vol.sigma  # type: ignore[attr-defined]
            assert sigma == collector.vol.sigma
            want = digital_probability(q / 1e4, float(window.strike), sigma, window.close_ts - t)
            snaps = {
                s.ts: s.model
                for r in result.forecasts
                if r.ticker == window.ticker
                for s in r.snapshots.values()
            }
            assert snaps[float(t)] == want.prob
            checked += 1
    assert checked == 5 * len(result.forecasts) > 0


def test_the_cli_writes_a_report_and_prints_json(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report"
    code = main(
        [
            "--data",
            str(history),
            "--report",
            str(report),
            "--json",
            "--seed",
            "3",
            "--param",
            "data.warmup_seconds=1800",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    summary = orjson.loads(out)
    assert (
        summary["kind"] == "history" and summary["windows_listed"] == 21
    )  # 30 min warm-up; the last needs its close print
    assert set(summary["calibration"]["5"]) >= {"model", "naive", "market"}
    for name in ("index.html", "summary.json", "trades.csv", "windows.csv", "equity.png"):
        assert (report / name).is_file()
    text_code = main(["--data", str(history), "--seed", "3", "--param", "data.warmup_seconds=1800"])
    text = capsys.readouterr().out
    assert text_code == 0 and "P&L after fees" in text and "calibration (Brier / log-loss" in text
    pnl = next(line for line in text.splitlines() if "P&L after fees" in line)
    found = re.search(r"(-?)\$([\d.]+) on .*95% interval \[(-?)\$([\d.]+), (-?)\$([\d.]+)\]", pnl)
    assert found is not None and "resampling 21 windows" in pnl
    value, low, high = (float(found[i] + found[i + 1]) for i in (1, 3, 5))
    assert low <= value <= high
    verdict = next(line for line in text.splitlines() if line.startswith("  verdict"))
    assert "realized edge" in verdict and "our simulated makers (preset sharp)" in verdict
    assert "  market           our simulated makers (preset sharp), not Kalshi" in text
    assert "realized edge against the cost floor" in text and "does the model beat" in text
    assert summary["pnl_interval"]["windows"] == 21
    assert summary["market_assumptions"]["maker_preset"] == "sharp"
    assert summary["verdict"] == summary["edge_vs_cost_floor"]["verdict"]


def test_a_grid_runs_in_parallel_and_is_ranked(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--data",
        str(history),
        "--seed",
        "3",
        "--param",
        "data.warmup_seconds=1800",
        "--param",
        "min_edge=0.03,0.08",
        "--param",
        "market.lag_seconds=0,5",
        "--json",
    ]
    assert main([*argv, "--workers", "2", "--report", str(tmp_path)]) == 0
    parallel = orjson.loads(capsys.readouterr().out)
    assert main([*argv, "--workers", "1"]) == 0
    sequential = orjson.loads(capsys.readouterr().out)
    assert parallel == sequential
    assert [row["rank"] for row in parallel] == [1, 2, 3, 4]
    pnls = [Decimal(row["pnl"]) for row in parallel]
    assert pnls == sorted(pnls, reverse=True)
    assert {row["params"] for row in parallel} == {
        f"min_edge={e} market.lag_seconds={lag}" for e in ("0.03", "0.08") for lag in (0, 5)
    }
    assert (tmp_path / "grid.csv").is_file() and (tmp_path / "index.html").is_file()
    for row in parallel:  # every P&L with its interval, its verdict and its market
        assert row["pnl_low"] <= float(row["pnl"]) <= row["pnl_high"]
        assert "realized edge" in row["verdict"] and "simulated makers" in row["market"]
    grid_csv = (tmp_path / "grid.csv").read_text().splitlines()[0].split(",")
    assert {"pnl_low", "pnl_high", "edge_low", "edge_high", "sharpe_low", "verdict"} <= set(
        grid_csv
    )
    assert main(argv[:-1]) == 0  # the text table
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("market: our simulated makers (preset sharp)")
    assert table[1].split()[:3] == ["rank", "params", "P&L"] and "[95%]" in table[1]
    assert "Sharpe" not in table[1]  # its interval is in grid.csv, the table has no room
