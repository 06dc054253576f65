"""Backtests of several series: --series, --data COIN=PATH or a folder per coin, each coin's
own tickers, makers and index, one section per series and a combined equity curve."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from backtest.cli import main
from backtest.errors import BacktestInputError
from backtest.history import load_bars
from backtest.history_feed import prepare_history
from backtest.multi import run_series_session
from backtest.params import RunConfig
from backtest.series_data import for_series, resolve_data, select_series
from tests.backtest.backtest_builders import random_bars, write_csv

BTC, ETH, SOL = "KXBTC15M", "KXETH15M", "KXSOL15M"


@pytest.fixture
def coins(tmp_path: Path) -> Path:
    """A folder per coin (as ../shared/data): btc/ and sol/, two hours of bars each."""
    (tmp_path / "btc" / "x").mkdir(parents=True)
    (tmp_path / "sol").mkdir()
    write_csv(tmp_path / "btc" / "x" / "BTCUSDT_1m.csv", random_bars(120, price=95_000.0))
    write_csv(tmp_path / "sol" / "SOLUSDT_1m.csv", random_bars(120, seed=2))
    return tmp_path


def test_a_plain_file_is_sol_and_coin_paths_pick_their_series(coins: Path) -> None:
    sol = str(coins / "sol" / "SOLUSDT_1m.csv")
    assert resolve_data(None, [sol]) == {SOL: [Path(sol)]}
    data = resolve_data(None, [f"btc={coins / 'btc'}", sol])
    assert data == {BTC: [coins / "btc" / "x" / "BTCUSDT_1m.csv"], SOL: [Path(sol)]}


def test_a_folder_finds_each_selected_coins_subfolder(coins: Path) -> None:
    data = resolve_data(select_series("KXSOL15M,KXBTC15M"), [str(coins)])
    assert list(data) == [SOL, BTC]  # catalog order
    assert data[BTC] == [coins / "btc" / "x" / "BTCUSDT_1m.csv"]


def test_bad_series_and_missing_history_are_named(coins: Path) -> None:
    with pytest.raises(BacktestInputError, match="unknown series KXFOO15M"):
        select_series("KXBTC15M,KXFOO15M")
    with pytest.raises(BacktestInputError, match="no history calibration for KXXRP15M"):
        select_series("KXXRP15M")
    with pytest.raises(BacktestInputError, match="no history for KXETH15M"):
        resolve_data([BTC, ETH], [str(coins)])
    with pytest.raises(BacktestInputError, match="history for KXBTC15M, which --series"):
        resolve_data([SOL], [f"BTC={coins / 'btc'}"])
    with pytest.raises(BacktestInputError, match="unknown coin 'ada'"):
        resolve_data(None, [f"ada={coins / 'btc'}"])


def test_each_series_has_its_own_makers_index_and_tickers(coins: Path) -> None:
    config = for_series(RunConfig(strategies=(("kelly_volatility", ()),)), BTC)
    assert config.market.series == BTC and config.data.index == "BRTI"
    calibration = config.market.calibration()
    assert calibration.best_size == (1000, 2000)
    assert calibration.spread_schedule[-1][1] == Decimal("0.001")
    data = prepare_history(
        resolve_data([BTC], [str(coins)])[BTC],
        seed=0,
        start=None,
        end=None,
        warmup=3600,
        lead=config.market.lead_seconds(),
        series=BTC,
    )
    assert data.windows and all(w.ticker.startswith("KXBTC15M-") for w in data.windows)


def test_binance_files_with_a_datetime_utc_column_load(tmp_path: Path) -> None:
    path = tmp_path / "ETHUSDT_1m_2024-06.csv"
    path.write_text(
        "datetime_utc,open,high,low,close,volume\n"
        "2024-06-01T00:00:00.000Z,3762.29,3766.15,3762.28,3765.89,179.9\n"
        "2024-06-01T00:01:00.000Z,3765.89,3767.00,3765.00,3766.00,12.0\n"
    )
    bars = load_bars([path])
    assert bars.ts.tolist() == [1717200000, 1717200060]


def test_one_session_trades_every_series_and_splits_the_run_by_series(coins: Path) -> None:
    config = RunConfig(strategies=(("kelly_volatility", ()),))
    data = resolve_data([SOL, BTC], [str(coins)])
    whole, views = run_series_session(config, data)
    assert list(views) == [SOL, BTC]
    assert whole.windows_listed == sum(v.windows_listed for v in views.values()) > 0
    for series, view in views.items():
        assert view.forecasts and all(f.ticker.startswith(series) for f in view.forecasts)
        assert all(m.ticker.startswith(series) for m in view.markets)
        assert view.config.market.series == series
        assert view.counters.fills > 0  # every series traded
    assert sum(v.pnl for v in views.values()) == whole.pnl  # every market settled
    assert len(whole.trades) == sum(len(v.trades) for v in views.values())
    for counted in ("orders", "fills"):
        total = sum(getattr(v.counters, counted) for v in views.values())
        assert total == getattr(whole.counters, counted)
    assert sum(sum(v.counters.decisions.values()) for v in views.values()) == sum(
        whole.counters.decisions.values()
    )


def test_the_cli_runs_each_series_and_reports_them_together(
    coins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--series", "KXBTC15M,KXSOL15M", "--data", str(coins), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    report = orjson.loads(out)
    assert list(report["series"]) == [SOL, BTC]
    for series in (SOL, BTC):
        assert report["series"][series]["windows_listed"] > 0
    total = sum(Decimal(report["series"][s]["pnl"]) for s in (SOL, BTC))
    assert Decimal(report["combined"]["pnl"]) == total  # one session: its P&L is theirs
    assert [row["series"] for row in report["combined"]["rows"]] == [SOL, BTC]


def test_the_cli_names_a_series_without_history(
    coins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--series", "KXETH15M", "--data", str(coins)])
    assert code == 2
    assert "no history for KXETH15M" in capsys.readouterr().err
