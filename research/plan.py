"""A sweep's plan: the parameter grid (all of it, or a seeded random sample) × seeds → runs.

Validation happens here, before anything runs: every grid point goes through the
backtest's own parameter checks (``backtest.params.build_configs``), and every data
file must exist, so a typo costs a second, not a half-finished sweep.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from backtest.errors import BacktestInputError
from backtest.params import DEFAULT_STRATEGY, build_configs, parse_specs
from research.runs import RunSpec, make_params


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """What the command line says about the runs (the backend aside)."""

    data: tuple[str, ...]
    params: tuple[str, ...]  # --param texts, KEY=V1,V2
    seeds: Sequence[int]
    start: int | None = None
    end: int | None = None
    series: str | None = None
    strategies: tuple[str, ...] = ()
    sample: int | None = None  # --random N: N grid points drawn without replacement
    sample_seed: int = 0


def grid_points(params: Sequence[str]) -> list[dict[str, str]]:
    """Every combination of ``KEY=V1,V2`` values, in the order given."""
    specs = parse_specs(params)
    values = itertools.product(*(spec.values for spec in specs))
    return [dict(zip((s.key for s in specs), point, strict=True)) for point in values]


def sampled(points: list[dict[str, str]], count: int | None, seed: int) -> list[dict[str, str]]:
    """``count`` points drawn by a seeded generator (the same plan every time), or all."""
    if count is None or count >= len(points):
        return points
    chosen = sorted(random.Random(seed).sample(range(len(points)), count))
    return [points[i] for i in chosen]


def validate(inputs: PlanInputs) -> None:
    """Refuse bad input naming it: empty grid, bad parameters, seeds, missing data."""
    if not inputs.params:
        raise BacktestInputError(
            "empty grid: give at least one --param KEY=V1,V2 (a single value runs the defaults "
            "but that one setting)"
        )
    if len(inputs.seeds) < 1:
        raise BacktestInputError("--seeds must be at least 1")
    if inputs.sample is not None and inputs.sample < 1:
        raise BacktestInputError(f"--random must be at least 1, got {inputs.sample}")
    build_configs(list(inputs.strategies) or [DEFAULT_STRATEGY], list(inputs.params), 0)
    check_data(inputs.data, inputs.series)


def check_data(data: Sequence[str], series: str | None) -> None:
    """Every ``--data`` file or folder exists and is one kind of history the backtest reads."""
    from backtest.runner import source_kind
    from research.execute import resolve

    if not data:
        raise BacktestInputError("no data files given (--data FILE ...)")
    probe = RunSpec((), 0, tuple(data), None, None, series)
    for entry in data:
        path = Path(entry.partition("=")[2] if "=" in entry else entry)
        if not path.exists():
            raise BacktestInputError("--data: no such file or folder", path=path)
    for paths in resolve(probe).values():
        for path in paths:
            if not path.is_file():
                raise BacktestInputError("--data: not a file", path=path)
        source_kind(paths)


def make_runs(inputs: PlanInputs) -> list[RunSpec]:
    """The plan: each (sampled) grid point × each seed, after :func:`validate`."""
    validate(inputs)
    points = sampled(grid_points(inputs.params), inputs.sample, inputs.sample_seed)
    data = tuple(_resolved(entry) for entry in inputs.data)
    return [
        RunSpec(
            make_params(point),
            seed,
            data,
            inputs.start,
            inputs.end,
            inputs.series,
            inputs.strategies,
        )
        for point in points
        for seed in inputs.seeds
    ]


def _resolved(entry: str) -> str:
    """An absolute path (``COIN=`` kept), so a run means the same from any directory."""
    coin, sep, rest = entry.partition("=")
    return f"{coin}={Path(rest).resolve()}" if sep else str(Path(entry).resolve())
