"""Sweeps as Ray tasks on a local instance (2 CPUs): the same table as plain processes."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from research.backends import MAX_ATTEMPTS, ProcessBackend, make_backend
from research.results import read_table
from research.sweep import run_plan
from tests.research.sweep_helpers import (
    comparable,
    crash_runner,
    fetch_counting_runner,
    fetches_per_worker,
    tiny_csv,
    tiny_plan,
)

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # starting Ray takes a few seconds


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_csv(tmp_path_factory.mktemp("data"))


def test_ray_and_processes_give_identical_tables(
    local_ray: None, data: Path, tmp_path: Path
) -> None:
    plan = tiny_plan(data)
    assert len(plan) == 8
    logs = {name: tmp_path / f"fetches-{name}" for name in ("ray", "processes")}
    for log in logs.values():
        log.mkdir()
    ray_runner = functools.partial(fetch_counting_runner, logs["ray"])
    with make_backend(workers=2, use_ray=True, ray_address=None, runner=ray_runner) as backend:
        assert backend.name == "ray"
        on_ray = run_plan(plan, backend, out_dir=tmp_path / "ray")
    runner = functools.partial(fetch_counting_runner, logs["processes"])
    with ProcessBackend(workers=2, runner=runner) as backend:
        on_processes = run_plan(plan, backend, out_dir=tmp_path / "processes")
    assert all(row["status"] == "ok" for row in on_ray), on_ray
    assert comparable(on_ray) == comparable(on_processes)
    assert comparable(read_table(tmp_path / "ray")) == comparable(
        read_table(tmp_path / "processes")
    )
    assert ray.is_initialized()  # the sweep used the instance it found and left it running
    for name, log in logs.items():  # the data: fetched by a worker's first run only
        per_worker = fetches_per_worker(log)
        assert sum(len(runs) for runs in per_worker) == 8, name
        assert all(set(runs) == {1} for runs in per_worker), (name, per_worker)


def test_a_ray_task_whose_worker_dies_is_retried_once(
    local_ray: None, data: Path, tmp_path: Path
) -> None:
    plan = tiny_plan(data, seeds=2, grid=("min_edge=0.03",))
    markers = tmp_path / "markers"
    markers.mkdir()
    runner = functools.partial(crash_runner, markers)
    with make_backend(workers=2, use_ray=True, ray_address=None, runner=runner) as backend:
        rows = run_plan(plan, backend, out_dir=tmp_path / "out")
    by_seed = {r["seed"]: r for r in rows}
    assert (by_seed[0]["status"], by_seed[0]["attempts"]) == ("ok", 2)
    assert (by_seed[1]["status"], by_seed[1]["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert "worker died" in by_seed[1]["error"]
