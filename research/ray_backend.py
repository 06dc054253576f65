"""Runs as Ray tasks: a local Ray instance (``--ray``) or an existing cluster (``--ray-address``).

The driver parses each distinct data set once and ``ray.put``s it; every task gets
the reference (boxed, so Ray does not fetch it eagerly) and each worker process
fetches it the first time only (``research.execute.cached``). Cluster nodes need
neither the data files nor the project checked out: the code travels as the job's
``working_dir`` (honouring ``.gitignore``).

Only imported when Ray is asked for; ``ray`` itself is imported on entering.
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from research.backends import Job, OnRow, Runner, SweepSetupError, died, ray_available
from research.execute import cached, data_key, describe, execute_run, load
from research.rows import Row, failed_row
from research.runs import RunSpec

PROJECT = Path(__file__).resolve().parent.parent
CONNECT_TIMEOUT = 2.0  # seconds to find the cluster's port open before giving up
RAY_CLIENT_PORT = 10001
CLUSTER_EXCLUDES = [".venv/", ".git/", "data/", "logs/", "*.db", "**/__pycache__/"]


def check_address(address: str) -> None:
    """Refuse at once an address where nothing listens (``auto``: Ray itself looks)."""
    if address == "auto":
        return
    parsed = urlparse(address if "://" in address else f"ray://{address}")
    host, port = parsed.hostname, parsed.port or RAY_CLIENT_PORT
    if not host:
        raise SweepSetupError(f"--ray-address {address!r}: expected auto or ray://host:port")
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise SweepSetupError(
            f"--ray-address {address}: no Ray cluster answers at {host}:{port} ({exc})"
        ) from None


def _ray_task(runner: Runner, run: RunSpec, run_id: str, key: str, boxed: list[Any]) -> Row:
    """One run in a Ray worker: the data fetched from the object store once per worker."""
    import ray

    loaded = cached(key, lambda: ray.get(boxed[0]))
    return runner(run, run_id=run_id, loaded=loaded)


class RayBackend:
    """Each run a Ray task (1 CPU); a task whose worker dies is retried once by us, not Ray,
    so the count of attempts is the same as on plain processes."""

    name = "ray"

    def __init__(self, *, workers: int, address: str | None, runner: Runner = execute_run):
        flag = f"--ray-address {address}" if address else "--ray"
        if not ray_available():
            raise SweepSetupError(
                f"{flag}: Ray is not installed (pip install -r requirements-research.txt), "
                "or leave the flag out to run on local processes"
            )
        if address:
            check_address(address)
        self.workers = workers
        self.address = address
        self.runner = runner
        self._owned = False
        self._task: Any = None

    def __enter__(self) -> RayBackend:
        import ray

        if not ray.is_initialized():
            try:
                if self.address:
                    ray.init(
                        address=self.address,
                        runtime_env={"working_dir": str(PROJECT), "excludes": CLUSTER_EXCLUDES},
                    )
                else:
                    ray.init(num_cpus=self.workers, include_dashboard=False)
            except (ConnectionError, RuntimeError, ValueError, ImportError) as exc:
                where = self.address or "a local instance"
                raise SweepSetupError(f"Ray: cannot start or reach {where}: {exc}") from None
            self._owned = True
        if self.address:
            resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
            self.workers = int(resources.get("CPU", self.workers))
        self._task = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
        return self

    def __exit__(self, *exc: object) -> None:
        import ray

        if self._owned:
            ray.shutdown()
            self._owned = False

    def map_runs(self, runs: Sequence[RunSpec], on_row: OnRow) -> None:
        import ray

        refs: dict[str, Any] = {}
        queue = deque(Job(run, run.run_id()) for run in runs)
        pending: dict[Any, tuple[Job, str]] = {}
        in_flight = max(2 * self.workers, 2)  # enough to keep every CPU busy, cheap to wait on
        while queue or pending:
            while queue and len(pending) < in_flight:
                job = queue.popleft()
                key = self._data_ref(job, refs, on_row)
                if key is not None:
                    pending[self._submit(job, key, refs)] = (job, key)
            if not pending:
                continue
            (ready,), _ = ray.wait(list(pending), num_returns=1)
            job, key = pending.pop(ready)
            row = self._collect(ready, job)
            if row is None:
                queue.appendleft(job)
            else:
                on_row(row)

    def _data_ref(self, job: Job, refs: dict[str, Any], on_row: OnRow) -> str | None:
        """The key of ``job``'s data in ``refs``, put there the first time (parsed once, here);
        None when it cannot be loaded: its runs fail, not the sweep."""
        import ray

        try:
            key = data_key(job.run)
            if key not in refs:
                refs[key] = ray.put(load(job.run))
        except Exception as exc:
            on_row(failed_row(job.run, describe(exc), run_id=job.run_id))
            return None
        return key

    def _submit(self, job: Job, key: str, refs: dict[str, Any]) -> Any:
        return self._task.remote(self.runner, job.run, job.run_id, key, [refs[key]])

    def _collect(self, ref: Any, job: Job) -> Row | None:
        """The task's row; on a dead worker None (run it again) or the failed row."""
        import ray
        from ray.exceptions import RayTaskError

        try:
            row: Row = ray.get(ref)
        except RayTaskError as exc:  # the runner itself raised (execute_run never does)
            return failed_row(job.run, describe(exc), attempts=job.attempt, run_id=job.run_id)
        except ray.exceptions.RayError as exc:  # the worker or its node died mid-run
            return died(job, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        row["attempts"] = job.attempt
        return row
