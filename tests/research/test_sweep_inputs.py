"""Run identity and the sweep's refusals: bad input is named before any run starts."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

import research.ray_backend
from research.cli import main
from research.plan import PlanInputs, grid_points, make_runs, sampled
from research.rows import moments
from research.runs import RunSpec
from tests.research.sweep_helpers import FIXED, tiny_csv, tiny_plan


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tiny_csv(tmp_path / "data")


def sweep(data: Path, out: Path, *extra: str) -> list[str]:
    return ["sweep", "--data", str(data), "--param", FIXED, "--out", str(out), *extra]


# --- identity -------------------------------------------------------------------------------


def test_a_run_id_follows_the_data_content_not_its_path(data: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "copy.csv"
    moved.parent.mkdir()
    shutil.copy(data, moved)
    run = tiny_plan(data)[0]
    same = RunSpec(run.params, run.seed, (str(moved),), run.start, run.end)
    assert same.run_id() == run.run_id()
    with moved.open("a", encoding="utf-8") as handle:
        handle.write("2025-03-03 01:15:00,150.0,150.1,149.9,150.0,100.0\n")
    os.utime(moved, ns=(1, 1))  # a new mtime, as any edit gives
    assert RunSpec(run.params, run.seed, (str(moved),), run.start, run.end).run_id() != run.run_id()


def test_every_field_changes_the_run_id(data: Path) -> None:
    run = tiny_plan(data)[0]
    others = [
        RunSpec((("min_edge", "0.9"),), run.seed, run.data, run.start, run.end),
        RunSpec(run.params, run.seed + 1, run.data, run.start, run.end),
        RunSpec(run.params, run.seed, run.data, 1, run.end),
        RunSpec(run.params, run.seed, run.data, run.start, 2),
        RunSpec(run.params, run.seed, run.data, run.start, run.end, "KXSOL15M"),
        RunSpec(run.params, run.seed, run.data, run.start, run.end, None, ("kelly_volatility",)),
    ]
    ids = {run.run_id(), *(o.run_id() for o in others)}
    assert len(ids) == 1 + len(others)
    assert len(run.run_id()) == 16 and run.key().startswith(run.run_id())


def test_the_plan_is_every_point_times_every_seed(data: Path) -> None:
    plan = tiny_plan(data, seeds=3)
    assert len(plan) == 4 * 3
    assert len({r.run_id() for r in plan}) == 12
    assert plan[0].params == (
        ("data.warmup_seconds", "900"),
        ("exec.latency_seconds", "0.2"),
        ("min_edge", "0.03"),
    )


def test_random_sampling_is_seeded_and_draws_distinct_points() -> None:
    points = grid_points(["a=1,2,3,4", "b=x,y,z"])
    assert len(points) == 12
    drawn = sampled(points, 5, seed=7)
    assert drawn == sampled(points, 5, seed=7)
    assert drawn != sampled(points, 5, seed=8)
    assert len({tuple(p.items()) for p in drawn}) == 5
    assert sampled(points, 50, seed=7) == points


def test_kurtosis_is_not_excess() -> None:
    skew, kurt = moments([1, -1, 1, -1])  # type: ignore[list-item]
    assert skew == pytest.approx(0.0) and kurt == pytest.approx(1.0)
    assert moments([1, 2]) == (None, None)  # type: ignore[list-item]


def test_the_progress_line_shows_runs_done_rate_and_eta() -> None:
    import io

    from research.sweep import SweepProgress

    stream = io.StringIO()
    progress = SweepProgress(4, enabled=True, stream=stream)
    progress.bar.interval = 0.0
    progress({"status": "ok"})
    progress({"status": "failed"})
    line = stream.getvalue().split("\r")[-1]
    assert "2/4 runs" in line and "runs/min" in line and "1 failed" in line
    assert "50.0%" in line and "eta" in line
    progress.close()
    quiet = io.StringIO()
    SweepProgress(4, enabled=False, stream=quiet)({"status": "ok"})
    assert quiet.getvalue() == ""


# --- refusals -------------------------------------------------------------------------------


def refused(argv: list[str], capsys: pytest.CaptureFixture[str], out: Path) -> str:
    assert main(argv) == 2
    assert not out.exists(), "nothing may run (or be written) after a refusal"
    return capsys.readouterr().err


def test_an_unknown_parameter_is_refused_by_name(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    err = refused(sweep(data, out, "--param", "min_egde=0.1,0.2"), capsys, out)
    assert "min_egde" in err and "min_edge" in err  # the valid keys are listed


def test_a_bad_value_anywhere_in_the_grid_is_refused_before_any_run(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    err = refused(sweep(data, out, "--param", "exec.latency_seconds=0.2,-5"), capsys, out)
    assert "exec.latency_seconds" in err


def test_an_empty_grid_is_refused(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["sweep", "--data", str(data), "--out", str(out)]
    assert "empty grid" in refused(argv, capsys, out)
    assert "empty value" in refused([*argv, "--param", "min_edge=0.1,"], capsys, out)
    assert "--random" in refused(sweep(data, out, "--random", "0"), capsys, out)


def test_a_missing_data_file_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    missing = tmp_path / "nope.csv"
    assert str(missing) in refused(sweep(missing, out), capsys, out)


def test_seeds_below_one_are_refused(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert "--seeds" in refused(sweep(data, out, "--seeds", "0"), capsys, out)
    assert "--workers" in refused(sweep(data, out, "--workers", "0"), capsys, out)


def test_an_unreachable_ray_address_is_refused_at_once(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("ray")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "out"
    address = f"ray://127.0.0.1:{port}"
    err = refused(sweep(data, out, "--ray-address", address), capsys, out)
    assert address in err and "no Ray cluster answers" in err


def test_ray_asked_for_but_not_installed_is_refused(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(research.ray_backend, "ray_available", lambda: False)
    out = tmp_path / "out"
    err = refused(sweep(data, out, "--ray"), capsys, out)
    assert "--ray" in err and "not installed" in err


def test_make_runs_refuses_what_the_cli_refuses(data: Path) -> None:
    from backtest.errors import BacktestInputError

    with pytest.raises(BacktestInputError, match="empty grid"):
        make_runs(PlanInputs(data=(str(data),), params=(), seeds=range(1)))
    with pytest.raises(BacktestInputError, match="--seeds"):
        make_runs(PlanInputs(data=(str(data),), params=(FIXED,), seeds=range(0)))


# --- without the optional packages ----------------------------------------------------------

BLOCKED = """
import sys
sys.modules["ray"] = None  # as if not installed: importing it fails, find_spec says absent
sys.modules["pyarrow"] = None
from app.cli import main
code = main(sys.argv[1:])
assert "ray" not in [m.split(".")[0] for m in sys.modules if sys.modules[m] is not None], "ray"
sys.exit(code)
"""


@pytest.mark.slow
def test_without_ray_and_pyarrow_a_sweep_runs_on_processes_and_writes_csv(
    data: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    out = tmp_path / "out"
    argv = ["research", *sweep(data, out)]  # one run on one worker process
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED, *argv],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pyarrow is not installed" in done.stderr
    assert (out / "results.csv").is_file() and not (out / "results.parquet").exists()
    assert "1 run, 0 failed" in done.stdout
