"""A sweep run is the ordinary backtest: pre-parsed history changes nothing, series included."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtest.multi import run_series_session
from backtest.params import build_configs
from backtest.runner import run_backtest
from research.execute import execute_run, load
from research.plan import PlanInputs, make_runs
from tests.backtest.backtest_builders import random_bars, write_csv
from tests.research.sweep_helpers import BARS, FIXED, tiny_csv

pytestmark = pytest.mark.slow  # three short backtests in this process


def test_a_sweep_run_equals_the_backtest_reading_its_files(tmp_path: Path) -> None:
    data = tiny_csv(tmp_path)
    (run,) = make_runs(PlanInputs(data=(str(data),), params=(FIXED,), seeds=[3]))
    row = execute_run(run)
    (config,) = build_configs([], [FIXED], 3)
    direct = run_backtest(config, [data])
    assert row["status"] == "ok"
    assert row["pnl"] == str(direct.pnl)
    assert row["trades"] == direct.counters.fills > 0
    assert row["seed"] == 3


def test_a_run_over_two_series_is_one_session_on_each_coins_history(tmp_path: Path) -> None:
    btc = write_csv(tmp_path / "BTCUSDT_1m.csv", random_bars(BARS, price=95_000.0))
    sol = write_csv(tmp_path / "SOLUSDT_1m.csv", random_bars(BARS, seed=2))
    inputs = PlanInputs(
        data=(f"BTC={btc}", f"SOL={sol}"),
        params=(FIXED,),
        seeds=[0],
        series="KXBTC15M,KXSOL15M",
    )
    (run,) = make_runs(inputs)
    loaded = load(run)
    assert set(loaded.bars) == {"KXBTC15M", "KXSOL15M"}
    row = execute_run(run, loaded=loaded)
    assert row["status"] == "ok", row["error"]
    assert row["series"] == "KXBTC15M,KXSOL15M"
    (config,) = build_configs([], [FIXED], 0)
    whole, _ = run_series_session(config, loaded.files)  # reading the files itself
    assert row["pnl"] == str(whole.pnl)
    assert row["trades"] == whole.counters.fills > 0
