"""Sweeps on plain processes: rows, resuming, failures, worker deaths, run identity."""

from __future__ import annotations

import csv
import functools
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from research.backends import MAX_ATTEMPTS, ProcessBackend
from research.results import CSV_NAME, PARQUET_NAME, read_table
from research.rows import columns
from research.sweep import execute_run, run_plan
from tests.research.sweep_helpers import (
    CountingBackend,
    comparable,
    crash_runner,
    tiny_csv,
    tiny_plan,
)

pytestmark = pytest.mark.slow  # worker processes: a few seconds per test on 2 shared cores


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_csv(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def finished(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 8-run sweep on 2 processes (shared: the tests below copy it)."""
    out = tmp_path_factory.mktemp("sweep")
    with ProcessBackend(workers=2) as backend:
        run_plan(tiny_plan(data), backend, out_dir=out)
    return out


def test_sweep_writes_one_ok_row_per_run_in_plan_order(data: Path, finished: Path) -> None:
    plan = tiny_plan(data)
    rows = read_table(finished)
    assert [r["run_id"] for r in rows] == [run.run_id() for run in plan]
    assert len(rows) == 8
    assert all(r["status"] == "ok" and r["attempts"] == 1 for r in rows), rows
    header = next(csv.reader((finished / CSV_NAME).open(encoding="utf-8")))
    assert header == columns(["data.warmup_seconds", "min_edge", "exec.latency_seconds"])
    assert {r["param.min_edge"] for r in rows} == {"0.03", "0.05"}
    assert {r["seed"] for r in rows} == {0, 1}
    assert all(r["trades"] is not None and r["pnl"] is not None for r in rows)
    assert len({r["pnl"] for r in rows}) > 2  # the points and seeds do differ
    import pyarrow.parquet as pq

    parquet = pq.read_table(finished / PARQUET_NAME).to_pylist()
    assert comparable(parquet) == comparable(rows)


def test_a_run_gives_the_same_row_in_the_sweep_as_alone(data: Path, finished: Path) -> None:
    run = tiny_plan(data)[5]
    alone = execute_run(run)
    (in_sweep,) = [r for r in read_table(finished) if r["run_id"] == run.run_id()]
    assert comparable([alone]) == comparable([in_sweep])


def test_a_resumed_sweep_runs_nothing_and_leaves_the_table_as_it_was(
    data: Path, finished: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    shutil.copytree(finished, out)
    before = (out / CSV_NAME).read_bytes()
    with CountingBackend(ProcessBackend(workers=2)) as backend:
        rows = run_plan(tiny_plan(data), backend, out_dir=out)
    assert backend.ran == []
    assert len(rows) == 8
    assert (out / CSV_NAME).read_bytes() == before


def test_a_partly_finished_sweep_runs_only_the_rest(
    data: Path, finished: Path, tmp_path: Path
) -> None:
    out = tmp_path / "partial"
    shutil.copytree(finished, out)
    (out / PARQUET_NAME).unlink()
    lines = (out / CSV_NAME).read_text(encoding="utf-8").splitlines(keepends=True)
    cut = lines[6][: len(lines[6]) // 2]  # the sixth row half written, as by a kill mid-write
    (out / CSV_NAME).write_text("".join(lines[:6]) + cut, encoding="utf-8")  # header + 5 rows
    plan = tiny_plan(data)
    with CountingBackend(ProcessBackend(workers=2)) as backend:
        rows = run_plan(plan, backend, out_dir=out)
    assert sorted(r.run_id() for r in backend.ran) == sorted(r.run_id() for r in plan[5:])
    assert comparable(rows) == comparable(read_table(finished))
    assert comparable(read_table(out)) == comparable(read_table(finished))


def test_a_failed_run_is_recorded_and_the_sweep_goes_on(data: Path, tmp_path: Path) -> None:
    good = tiny_plan(data, seeds=1)[:2]
    bad = replace(good[0], start=1_900_000_000, end=1_900_003_600)  # 2030: no data there
    with ProcessBackend(workers=2) as backend:
        rows = run_plan([good[0], bad, good[1]], backend, out_dir=tmp_path)
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert "no bars between" in rows[1]["error"]
    assert rows[1]["pnl"] is None and rows[1]["attempts"] == 1
    # a failed run is tried again on resume; the ok ones are not
    with CountingBackend(ProcessBackend(workers=1)) as again:
        run_plan([good[0], bad, good[1]], again, out_dir=tmp_path)
    assert [r.run_id() for r in again.ran] == [bad.run_id()]


def test_a_dead_worker_is_retried_once_then_recorded_failed(data: Path, tmp_path: Path) -> None:
    plan = tiny_plan(data, seeds=2, grid=("min_edge=0.03",))  # seed 0 and seed 1
    markers = tmp_path / "markers"
    markers.mkdir()
    runner = functools.partial(crash_runner, markers)
    with ProcessBackend(workers=2, runner=runner) as backend:
        rows = run_plan(plan, backend, out_dir=tmp_path / "out")
    by_seed = {r["seed"]: r for r in rows}
    assert by_seed[0]["status"] == "ok"  # died once, then finished
    assert by_seed[0]["attempts"] == 2
    assert by_seed[1]["status"] == "failed"  # died every time
    assert by_seed[1]["attempts"] == MAX_ATTEMPTS
    assert "worker died" in by_seed[1]["error"] and "exit code 3" in by_seed[1]["error"]
