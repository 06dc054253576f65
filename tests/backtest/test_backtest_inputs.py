"""Bad input gets a clear message naming the file and line (or the parameter), and exit code 2."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from backtest.cli import main
from backtest.errors import BacktestInputError
from backtest.history import load_bars
from storage.recording import read_recordings
from tests.backtest.backtest_builders import START, iso, random_bars, write_csv

HEADER = "timestamp,open,high,low,close,volume"


def csv_file(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def error_of(paths: list[Path]) -> str:
    with pytest.raises(BacktestInputError) as caught:
        load_bars(paths)
    return str(caught.value)


def row(ts: int, o: str = "100", h: str = "101", low: str = "99", c: str = "100.5") -> str:
    return f"{iso(ts)},{o},{h},{low},{c},10"


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    assert error_of([missing]) == f"{missing}: cannot read: No such file or directory"


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "2025-01-01 00:00:00,1,2,3", header="timestamp,open,high,volume")
    message = error_of([path])
    assert message.startswith(f"{path}:1: missing column(s) low, close")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (row(START, o="abc"), "open is not a number: 'abc'"),
        (row(START, low="-1"), "low must be a positive price"),
        (row(START, h="99.5"), "inconsistent bar"),
        ("yesterday,1,1,1,1,1", "bad timestamp"),
        (row(START + 30), "is not on a minute boundary"),
        ("2025-01-01 00:00:00,1", "expected at least 5 fields, got 2"),
    ],
)
def test_bad_values_name_the_line(tmp_path: Path, line: str, expected: str) -> None:
    path = csv_file(tmp_path, row(START - 60), line)
    message = error_of([path])
    assert message.startswith(f"{path}:3: ")
    assert expected in message


def test_out_of_order_and_repeated_timestamps_name_both_lines(tmp_path: Path) -> None:
    back = csv_file(tmp_path, row(START), row(START + 60), row(START - 60), name="back.csv")
    assert f"{back}:4: timestamp out of order" in error_of([back])
    assert "goes back in time from the bar on line 3" in error_of([back])
    repeat = csv_file(tmp_path, row(START), row(START), name="repeat.csv")
    assert "repeats the bar on line 2" in error_of([repeat])


def test_gaps_are_reported_and_the_windows_they_touch_are_not_traded(tmp_path: Path) -> None:
    bars = random_bars(240)
    holed = bars[:100] + bars[103:]  # three minutes missing inside the second hour
    path = write_csv(tmp_path / "holed.csv", holed)
    loaded = load_bars([path])
    assert len(loaded.gaps) == 1
    gap = loaded.gaps[0]
    assert gap.missing_bars == 3
    assert (
        gap.describe()
        == f"{path}:102: 3 missing minute(s), {iso(START + 6000)[:16]} to {iso(START + 6120)[:16]}"
    )

    from backtest.history_feed import prepare_history

    data = prepare_history([path], seed=1, start=START + 900, end=None, warmup=0, lead=60)
    skipped = {s.open_ts: s.reason for s in data.skipped}
    assert skipped == {START + 5400: "gap in the data"}  # 01:30–01:45 holds 01:40–01:42
    assert all(w.open_ts != START + 5400 for w in data.windows)


def test_after_a_long_gap_trading_waits_for_the_warm_up(tmp_path: Path) -> None:
    from backtest.history_feed import prepare_history

    before = write_csv(tmp_path / "a.csv", random_bars(120))
    after = write_csv(tmp_path / "b.csv", random_bars(240, start=START + 86_400))
    data = prepare_history([after, before], seed=1, start=None, end=None, warmup=1800, lead=60)
    opens = [w.open_ts - START for w in data.windows]
    assert opens[:5] == [1800, 2700, 3600, 4500, 5400]  # the first stretch, after its warm-up
    assert opens[5:7] == [86_400 + 1800, 86_400 + 2700]  # the second: warm again first
    cold = [s.open_ts - START for s in data.skipped if s.reason == "warming up after a gap"]
    assert cold == [86_400 + 900]


def test_overlapping_files_are_refused(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", random_bars(30))
    b = write_csv(tmp_path / "b.csv", random_bars(30, start=START + 600))
    assert "overlaps" in error_of([a, b])


def test_an_empty_file_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert error_of([empty]) == f"{empty}: empty file: no header and no bars"
    header_only = csv_file(tmp_path, name="header.csv")
    assert error_of([header_only]) == f"{header_only}: no bars after the header"


# --- recordings -------------------------------------------------------------------------


def recording(tmp_path: Path, *lines: bytes) -> Path:
    path = tmp_path / "2026-01-01.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"\n".join(lines) + b"\n")
    return path


SPOT = b'{"at":%d,"msg":{"type":"spot_tick","index":"SOLUSD_RTI","price":"75.1","ts":%d}}'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"{not json", "not JSON"),
        (b'{"type":"spot_tick"}', 'expected {"at": <time>, "msg": {...}}'),
        (b'{"at":20,"msg":{"type":"nope"}}', "unknown message type 'nope'"),
        (
            b'{"at":20,"msg":{"type":"spot_tick","index":"X","price":"x","ts":5}}',
            "spot_tick.price: not a number",
        ),
        (b'{"at":20,"msg":{"type":"spot_tick","index":"X","ts":5}}', "missing field(s) price"),
        (SPOT % (1, 1), "timestamp out of order: at 1 is before 10"),
    ],
)
def test_bad_recording_lines_name_the_file_and_line(
    tmp_path: Path, line: bytes, expected: str
) -> None:
    path = recording(tmp_path, SPOT % (10, 10), line)
    with pytest.raises(BacktestInputError) as caught:
        list(read_recordings([path]))
    assert str(caught.value).startswith(f"{path}:2: ")
    assert expected in str(caught.value)


def test_a_recording_cut_short_is_read_to_its_last_line_with_a_warning(tmp_path: Path) -> None:
    from storage.recording import ReadStats

    path = recording(tmp_path, *(SPOT % (i, i) for i in range(1, 200)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    stats = ReadStats()
    got = list(read_recordings([path], stats))
    assert 0 < len(got) < 199
    assert stats.warnings and "cut short" in stats.warnings[0]


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def bars_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "bars.csv", random_bars(120))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_an_unknown_strategy_is_refused_with_the_valid_ones(
    bars_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(capsys, "--data", str(bars_csv), "--strategy", "martingale")
    assert code == 2
    assert "unknown strategy 'martingale'; available: kelly_volatility, mean_reversion" in err


def test_unknown_and_bad_parameters_list_the_valid_ones(
    bars_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(capsys, "--data", str(bars_csv), "--param", "min_edgy=0.1")
    assert code == 2
    assert "--param min_edgy: no selected strategy has this parameter" in err
    assert "kelly_volatility.min_edge (Decimal" in err and "market.lag_seconds" in err
    code, err = run_cli(capsys, "--data", str(bars_csv), "--param", "kelly_fraction=2")
    assert code == 2
    assert "kelly_volatility: kelly_fraction: Input should be less than or equal to 1" in err
    assert "Valid parameters:" in err
    code, err = run_cli(capsys, "--data", str(bars_csv), "--param", "market.lag=3")
    assert code == 2 and "market.lag: unknown parameter. Valid: market.preset" in err
    code, err = run_cli(capsys, "--data", str(bars_csv), "--param", "risk.max_daily_loss=0")
    assert code == 2 and "risk: max_daily_loss must be > 0" in err


def test_bad_arguments_exit_2(
    bars_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(capsys, "--data", str(tmp_path / "missing.csv"))
    assert (code, err.strip()) == (
        2,
        f"run.py backtest: error: {tmp_path / 'missing.csv'}: cannot read: no such file",
    )
    code, err = run_cli(capsys, "--data", str(bars_csv), "--from", "March 3rd")
    assert code == 2 and "--from 'March 3rd': expected a date (2025-03-01)" in err
    code, err = run_cli(
        capsys, "--data", str(bars_csv), "--from", "2025-03-05", "--to", "2025-03-04"
    )
    assert code == 2 and "is not after --from" in err
    rec = tmp_path / "x.jsonl.gz"
    rec.write_bytes(b"")
    code, err = run_cli(capsys, "--data", str(bars_csv), str(rec))
    assert code == 2 and "mixes 1-minute CSV history with recordings" in err
    code, err = run_cli(
        capsys, "--data", str(bars_csv), "--from", "2024-01-01", "--to", "2024-01-02"
    )
    assert code == 2 and "no bars between 2024-01-01 00:00 and 2024-01-03 00:00" in err
    code, _ = run_cli(capsys)
    assert code == 2  # --data is required (argparse prints the usage)
