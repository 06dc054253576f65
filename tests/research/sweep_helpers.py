"""Tiny sweeps for the research tests: a 75-minute synthetic history and failure injection."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from research.backends import Backend, OnRow
from research.execute import execute_run
from research.plan import PlanInputs, make_runs
from research.rows import TIMING_COLUMNS, Row
from research.runs import RunSpec
from tests.backtest.backtest_builders import random_bars, write_csv

# 15 minutes of warm-up, then four 15-minute windows: a run takes well under a second
BARS = 75
FIXED = "data.warmup_seconds=900"
GRID = ("min_edge=0.03,0.05", "exec.latency_seconds=0.2,5")


def tiny_csv(directory: Path, name: str = "SOLUSDT_1m.csv", seed: int = 1) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return write_csv(directory / name, random_bars(BARS, seed=seed))


def tiny_plan(data: Path, *, seeds: int = 2, grid: Sequence[str] = GRID) -> list[RunSpec]:
    """4 grid points × ``seeds`` seeds on ``data`` (8 runs by default)."""
    return make_runs(PlanInputs(data=(str(data),), params=(FIXED, *grid), seeds=range(seeds)))


def comparable(rows: Sequence[Row]) -> list[Row]:
    """Rows without their wall times (the only columns identical runs may differ in)."""
    return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in rows]


def crash_runner(markers: Path, run: RunSpec, **kwargs: Any) -> Row:
    """Kills its own worker process: seed 1 always, seed 0 the first time only."""
    marker = markers / run.run_id()
    if run.seed == 1 or not marker.exists():
        marker.touch()
        os._exit(3)
    return execute_run(run, **kwargs)


def fetch_counting_runner(log: Path, run: RunSpec, **kwargs: Any) -> Row:
    """Runs ``run``, then notes how many data sets this worker process has fetched so far."""
    from research import execute

    row = execute_run(run, **kwargs)
    with (log / str(os.getpid())).open("a", encoding="utf-8") as handle:
        handle.write(f"{execute.stats['fetches']}\n")
    return row


def fetches_per_worker(log: Path) -> list[list[int]]:
    """For each worker process, the fetch count after each of its runs."""
    return [[int(n) for n in p.read_text().split()] for p in sorted(log.iterdir())]


class CountingBackend:
    """A backend that records which runs it was asked to run (then runs them on ``inner``)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.workers = inner.workers
        self.ran: list[RunSpec] = []

    def __enter__(self) -> CountingBackend:
        self.inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.inner.__exit__(None, None, None)

    def map_runs(self, runs: Sequence[RunSpec], on_row: OnRow) -> None:
        self.ran.extend(runs)
        self.inner.map_runs(runs, on_row)
