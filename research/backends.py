"""Where a sweep's runs execute: plain local processes, or Ray tasks (local or a cluster).

Both stream rows back as runs finish and treat a worker that dies mid-run the same
way: the run is retried once on a fresh worker, then recorded as failed. Runs never
raise: a run's own error is already a failed row (``research.execute``).

``ProcessBackend`` never imports Ray, so sweeps work where it is not installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any, Protocol

from research.execute import execute_run
from research.rows import Row, failed_row
from research.runs import RunSpec

MAX_ATTEMPTS = 2  # a run whose worker dies is retried once
OnRow = Callable[[Row], None]
Runner = Callable[..., Row]  # runner(run, *, run_id=..., loaded=...) -> Row (never raises)


class SweepSetupError(ValueError):
    """A backend that cannot start (Ray missing, cluster unreachable): refused before any run."""


class Backend(Protocol):
    name: str
    workers: int

    def __enter__(self) -> Backend: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def map_runs(self, runs: Sequence[RunSpec], on_row: OnRow) -> None:
        """Run every run; ``on_row(row)`` as each finishes, in the order they finish."""
        ...


@dataclass(slots=True)
class Job:
    """A run on its way through a backend, with the attempts it has had."""

    run: RunSpec
    run_id: str
    attempt: int = 1


def died(job: Job, why: str) -> Row | None:
    """A dead worker's run: None to run it again, or its failed row after the last attempt."""
    if job.attempt < MAX_ATTEMPTS:
        job.attempt += 1
        return None
    return failed_row(
        job.run,
        f"worker died mid-run, {job.attempt} attempts: {why}",
        attempts=job.attempt,
        run_id=job.run_id,
    )


def ray_available() -> bool:
    """Whether Ray is installed (without importing it: that takes a second)."""
    return importlib.util.find_spec("ray") is not None


def make_backend(
    *, workers: int, use_ray: bool, ray_address: str | None, runner: Runner = execute_run
) -> Backend:
    """Plain processes, or Ray when asked for (``ray_address``: an existing cluster)."""
    if workers < 1:
        raise SweepSetupError(f"--workers must be at least 1, got {workers}")
    if use_ray or ray_address:
        from research.ray_backend import RayBackend

        return RayBackend(workers=workers, address=ray_address, runner=runner)
    return ProcessBackend(workers=workers, runner=runner)


# --- plain processes ---------------------------------------------------------------------


def _worker(conn: Connection, runner: Runner) -> None:
    """A worker's loop: a job in, its row out, until told to stop (None)."""
    while (message := conn.recv()) is not None:
        run, run_id = message
        conn.send(runner(run, run_id=run_id))


class ProcessBackend:
    """``workers`` local processes, each running one run at a time (its data cached)."""

    name = "processes"

    def __init__(self, *, workers: int, runner: Runner = execute_run) -> None:
        self.workers = workers
        self.runner = runner
        # forkserver: workers fork from a clean single-threaded process, never from one whose
        # other threads (loggers, actors) might hold a lock at the moment of the fork
        self._context = multiprocessing.get_context("forkserver")
        # the server imports the backtest once; each worker forks from it ready to run
        self._context.set_forkserver_preload(["research.execute", "backtest.runner"])
        self._procs: list[_Proc] = []

    def __enter__(self) -> ProcessBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self._procs:
            proc.stop()
        self._procs = []

    def _spawn(self) -> _Proc:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker, args=(child, self.runner), daemon=True)
        process.start()
        child.close()
        return _Proc(process, parent)

    def map_runs(self, runs: Sequence[RunSpec], on_row: OnRow) -> None:
        queue = deque(Job(run, run.run_id()) for run in runs)
        while len(self._procs) < min(self.workers, len(queue)):
            self._procs.append(self._spawn())
        while queue or any(p.job for p in self._procs):
            for proc in self._procs:
                if proc.job is None and queue:
                    proc.give(queue.popleft())
            busy: dict[Any, _Proc] = {p.conn: p for p in self._procs if p.job} | {
                p.process.sentinel: p for p in self._procs if p.job
            }
            for ready in wait(list(busy)):
                proc = busy[ready]
                if proc.job is not None:
                    self._collect(proc, queue, on_row)

    def _collect(self, proc: _Proc, queue: deque[Job], on_row: OnRow) -> None:
        """The row a worker sent, or (it died) the run again / its failed row."""
        job, proc.job = proc.job, None
        assert job is not None
        try:
            row = proc.conn.recv()
        except (EOFError, OSError):
            proc.process.join(5)
            why = f"exit code {proc.process.exitcode}"
            proc.stop()
            self._procs[self._procs.index(proc)] = self._spawn()
            failed = died(job, why)
            if failed is None:
                queue.appendleft(job)
            else:
                on_row(failed)
            return
        row["attempts"] = job.attempt
        on_row(row)


@dataclass(slots=True)
class _Proc:
    process: BaseProcess
    conn: Connection
    job: Job | None = None

    def give(self, job: Job) -> None:
        self.job = job
        self.conn.send((job.run, job.run_id))

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
