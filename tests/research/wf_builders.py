"""A fake evaluator for walk-forward tests: rows computed from the run, no backtest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from research.runs import RunSpec

DAY = 86_400
# RunSpec ids hash the data by content, so the fake runs name a file that exists
DATA = (__file__,)
Row = dict[str, Any]


def base_runs(values: Sequence[str], seeds: int = 1, key: str = "min_edge") -> list[RunSpec]:
    return [
        RunSpec(params=((key, v),), seed=s, data=DATA, start=None, end=None)
        for v in values
        for s in range(seeds)
    ]


def row(run: RunSpec, pnl: float, sharpe: float | None, edge: float = 1.0) -> Row:
    """A result row in the sweep's columns, with a ±$10 interval and 5 days."""
    out: Row = {"run_id": run.run_id(), "status": "ok", "error": "", "seed": run.seed}
    out |= {f"param.{k}": v for k, v in run.params}
    out |= {
        "pnl": f"{pnl:.2f}",
        "pnl_low": f"{pnl - 10:.2f}",
        "pnl_high": f"{pnl + 10:.2f}",
        "sharpe": "" if sharpe is None else sharpe,
        "sharpe_low": "" if sharpe is None else sharpe - 1,
        "sharpe_high": "" if sharpe is None else sharpe + 1,
        "edge_realized": edge,
        "edge_low": edge - 1,
        "edge_high": edge + 1,
        "cost_floor": 2.6,
        "contracts": 100,
        "trades": 20,
        "days": max(2, ((run.end or 0) - (run.start or 0)) // DAY),
        "ret_skew": 0.1,
        "ret_kurt": 3.5,
    }
    return out


class FakeEvaluator:
    """Records every batch it is given; ``figures(run)`` decides each run's row."""

    def __init__(self, figures: Callable[[RunSpec], Row]) -> None:
        self.figures = figures
        self.batches: list[list[RunSpec]] = []
        self.phases: list[str] = []

    def __call__(self, runs: Sequence[RunSpec], phase: str) -> list[Row]:
        self.batches.append(list(runs))
        self.phases.append(phase)
        return [self.figures(run) for run in runs]
