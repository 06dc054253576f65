"""A sweep: run a plan of backtests on a backend, stream the rows, skip what is finished.

``run_plan`` is what every research command builds on (``sweep``, walk-forward's
folds, a search's trials): give it the runs, get one row per run back, in the plan's
order. A run whose id already has an ``ok`` row in ``out_dir`` is not run again; a
failed run is recorded with its error and the sweep goes on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from backtest.progress import ProgressBar
from research.backends import Backend
from research.execute import execute_run
from research.results import ResultStore
from research.rows import OK, Row
from research.runs import RunSpec

__all__ = ["execute_run", "run_plan"]


class SweepProgress:
    """Runs done, runs per minute and the ETA on one line (stderr, only on a terminal)."""

    def __init__(self, total: int, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        shown = (None if stream is None else True) if enabled else False  # None: a terminal
        self.bar = ProgressBar(f"sweep of {total} runs", stream=stream, enabled=shown)
        self.bar.delay = 0.0
        self.bar.set_range(0, max(total, 1))

    def __call__(self, row: Row) -> None:
        self.done += 1
        self.failed += row.get("status") != OK
        minutes = max(time.monotonic() - self.started, 1e-9) / 60
        note = f"{self.done}/{self.total} runs, {self.done / minutes:.1f} runs/min"
        if self.failed:
            note += f", {self.failed} failed"
        self.bar(self.done, note)

    def close(self) -> None:
        self.bar.close()


def unique(runs: Sequence[RunSpec]) -> dict[str, RunSpec]:
    """The plan by run id, in order; a run listed twice is run once."""
    out: dict[str, RunSpec] = {}
    for run in runs:
        out.setdefault(run.run_id(), run)
    return out


def run_plan(
    runs: Sequence[RunSpec],
    backend: Backend,
    *,
    out_dir: Path | None = None,
    progress: bool = False,
) -> list[Row]:
    """Every run's row, in the plan's order; only runs without an ok row in ``out_dir`` run."""
    plan = unique(runs)
    store = ResultStore(out_dir)
    done = store.finished()
    todo = [run for run_id, run in plan.items() if run_id not in done]
    if progress:
        print(
            f"sweep: {len(plan)} runs, {len(plan) - len(todo)} already finished"
            + (f" in {out_dir}" if out_dir is not None else "")
            + f", {len(todo)} to run on {backend.name} × {backend.workers}",
            file=sys.stderr,
        )
    store.begin(key for run in plan.values() for key, _ in run.params)
    bar = SweepProgress(len(todo), enabled=progress)

    def on_row(row: Row) -> None:
        store.add(row)
        bar(row)

    try:
        if todo:
            backend.map_runs(todo, on_row)
    finally:
        bar.close()
        store.close(order=list(plan))
    return [store.rows[run_id] for run_id in plan]
