"""What a ``--search`` sweep runs, as plain data: the space, the metric and the rungs.

Early stopping needs a figure part-way through a trial. A backtest keeps no
checkpoint it could resume from, so the honest part-way figure is the same
backtest over a *prefix* of the span: rung k replays the first 1/η^(K−1−k) of
it (η = 3: a ninth, a third, all of it). Every rung is a complete run with its
own row, so a trial is judged at a rung on exactly the quantity it is finally
judged on, over the same days as every other trial at that rung. ASHA stops a
trial at a rung when it falls below the top 1/η of the trials seen there. A
trial stopped at the first rung costs 1/9 of a full run; a survivor costs
1 + 1/3 + 1/9 ≈ 1.44 full runs. The last rung is the span as given, so a
survivor's final row is the very run (same run id) the plain grid would make.

No Ray import here: this is tested without Ray installed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from research.runs import RunSpec

ETA = 3  # ASHA's reduction factor: keep the top third at each rung
MAX_RUNGS = 3
MIN_RUNG_SECONDS = 86_400  # a first rung shorter than a day is mostly noise
WINDOW_SECONDS = 900  # rung ends fall on 15-minute window boundaries
METRICS = {"pnl": "pnl", "sharpe": "sharpe", "edge": "edge_realized"}
SEARCHES = ("optuna", "hyperopt")
UNDEFINED = float("-inf")  # a failed run, or a metric a run leaves undefined, ranks last


@dataclass(frozen=True, slots=True)
class Rung:
    """One checkpoint of a trial: ASHA's time ``t`` (η^k) and the prefix's end."""

    t: int
    end: int | None  # None: the span's own end (the last rung, when --to is not given)
    days: float


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """Everything a trial needs (picklable: it travels to Ray workers)."""

    template: RunSpec  # data, span, series, strategies; params and seed are set per run
    fixed: tuple[tuple[str, str], ...]  # --param keys given one value
    choices: tuple[tuple[str, tuple[str, ...]], ...]  # --param keys the search picks from
    seeds: tuple[int, ...]
    rungs: tuple[Rung, ...]
    metric: str  # a key of METRICS
    # every run's id, hashed on the driver: a cluster node may not have the data files
    run_ids: dict[RunSpec, str] = field(default_factory=dict, compare=False)

    @property
    def column(self) -> str:
        return METRICS[self.metric]

    @property
    def max_t(self) -> int:
        return self.rungs[-1].t

    def run_id(self, run: RunSpec) -> str:
        known = self.run_ids.get(run)
        return known if known is not None else run.run_id()

    def runs(self, sampled: Mapping[str, str], rung: Rung) -> list[RunSpec]:
        """The runs of one trial at one rung: one per seed."""
        params = tuple(sorted({**dict(self.fixed), **dict(sampled)}.items()))
        end = self.template.end if rung.end is None else rung.end
        return [replace(self.template, params=params, seed=seed, end=end) for seed in self.seeds]


def make_rungs(
    first: int,
    last: int,
    *,
    given_end: int | None,
    eta: int = ETA,
    max_rungs: int = MAX_RUNGS,
    min_seconds: int = MIN_RUNG_SECONDS,
) -> tuple[Rung, ...]:
    """Prefixes of ``[first, last)`` at 1/η^k of it, shortest at least ``min_seconds``."""
    span = last - first
    count = 1
    while count < max_rungs and span / eta**count >= min_seconds:
        count += 1
    rungs = []
    for k in range(count):
        t = eta**k
        if k == count - 1:
            rungs.append(Rung(t, given_end, round(span / 86_400, 2)))
            continue
        cut = first + span * t // eta ** (count - 1)
        cut -= cut % WINDOW_SECONDS
        rungs.append(Rung(t, cut, round((cut - first) / 86_400, 2)))
    return tuple(rungs)


def metric_value(rows: Sequence[Mapping[str, Any]], column: str) -> float:
    """The mean of ``column`` over the seeds' rows; UNDEFINED when no row defines it."""
    values = [_number(row.get(column)) for row in rows if row.get("status") == "ok"]
    defined = [v for v in values if v is not None]
    if not defined or len(defined) < len(rows):
        return UNDEFINED
    return math.fsum(defined) / len(defined)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
    return None if math.isnan(number) else number


def csv_span(entries: Sequence[str]) -> tuple[int, int] | None:
    """First and last second of plain CSV data entries (``COIN=PATH`` too); None otherwise."""
    from backtest.history import read_bars

    spans = []
    for entry in entries:
        path = Path(entry.partition("=")[2] if "=" in entry else entry)
        if not path.is_file() or not path.name.endswith((".csv", ".csv.gz")):
            return None
        bars, _ = read_bars(path)
        spans.append((int(bars.ts[0]), int(bars.ts[-1]) + 60))
    if not spans:
        return None
    return min(s for s, _ in spans), max(e for _, e in spans)
