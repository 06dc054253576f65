"""Walk-forward: choose parameters on a training span, test them on the next, roll forward.

A grid's best row is the luckiest of many; only its figures on days it was not chosen
on say whether it keeps working. So the span is cut into rolling folds; in each, every
configuration × seed runs on the training span, the best by one metric is chosen from
those rows alone, and only that configuration runs on the test span that follows.

The runs go through an ``Evaluator`` (in the CLI: the sweep's ``run_plan`` on a backend),
so the planning and the selection here are pure and tested with a fake.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from backtest.errors import BacktestInputError
from research.figures import Summary, aggregate, summarize
from research.rows import Row
from research.runs import RunSpec
from research.stats import Deflated, deflated_sharpe, per_period, sample_variance

Params = tuple[tuple[str, str], ...]
# (runs, phase) → one row per run; phase is "in_sample" or "out_of_sample"
Evaluator = Callable[[Sequence[RunSpec], str], list[Row]]
IN_SAMPLE, OUT_OF_SAMPLE = "in_sample", "out_of_sample"

DAY = 86_400
_UNITS = {"d": DAY, "h": 3_600, "w": 7 * DAY}
# Sharpe by default: it is the figure the deflated Sharpe ratio corrects for choosing
# the best of N, it is scale-free (a config that just bets more does not win by it) and
# it penalizes a P&L that came from one lucky day.
METRICS = {"sharpe": "sharpe", "pnl": "pnl", "edge": "edge_realized"}
DEFAULT_METRIC = "sharpe"


class WalkForwardInputError(BacktestInputError):
    """A walk-forward setting that cannot work; the message names the flag."""


def parse_span(text: str, flag: str) -> int:
    """``14d``, ``36h`` or ``2w`` to seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([dhw])\s*", text.lower())
    if not match or int(match.group(1)) == 0:
        raise WalkForwardInputError(
            f"{flag} {text!r}: expected a positive span such as 14d, 36h or 2w"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True, slots=True)
class Fold:
    """One training span and the test span right after it (Unix seconds, end exclusive)."""

    index: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int


def plan_folds(start: int, end: int, train: int, test: int, step: int | None = None) -> list[Fold]:
    """Rolling folds over [start, end): each test span follows its training span, and the
    next fold starts ``step`` later (default: one test span, so test spans tile)."""
    step = test if step is None else step
    if step <= 0:
        raise WalkForwardInputError("--step must be a positive span")
    if end - start < train + test:
        raise WalkForwardInputError(
            f"--from/--to span {_days(end - start)} but one fold needs --train "
            f"{_days(train)} + --test {_days(test)} = {_days(train + test)}: widen the "
            "dates or shorten the spans"
        )
    folds: list[Fold] = []
    at = start
    while at + train + test <= end:
        folds.append(Fold(len(folds), at, at + train, at + train, at + train + test))
        at += step
    return folds


def _days(seconds: int) -> str:
    return f"{seconds / DAY:g} days"


def check_metric(metric: str, folds: Sequence[Fold]) -> None:
    """Refuse a metric that cannot rank anything: a Sharpe needs two daily returns."""
    if metric not in METRICS:
        raise WalkForwardInputError(f"--select {metric!r}: choose one of {', '.join(METRICS)}")
    short = [f for f in folds if f.train_end - f.train_start < 2 * DAY]
    if metric == "sharpe" and short:
        raise WalkForwardInputError(
            "--select sharpe needs a --train span of at least 2d (a Sharpe ratio needs two "
            "daily returns); lengthen --train or use --select pnl or edge"
        )


def configs_of(runs: Sequence[RunSpec]) -> list[Params]:
    """The distinct configurations, in the order the grid gave them."""
    return list(dict.fromkeys(run.params for run in runs))


def on_span(runs: Sequence[RunSpec], start: int, end: int) -> list[RunSpec]:
    return [dataclasses.replace(run, start=start, end=end) for run in runs]


def score(rows: Sequence[Row], metric: str) -> float | None:
    """Mean of ``metric`` over the seeds that finished with a value; None if none did."""
    column = METRICS[metric]
    values = [float(r[column]) for r in rows if r.get("status") == "ok" and _has(r, column)]
    return sum(values) / len(values) if values else None


def _has(row: Row, column: str) -> bool:
    return row.get(column) not in (None, "")


def select(by_config: dict[Params, list[Row]], metric: str) -> Params | None:
    """The best configuration by its training rows only; the grid's order breaks ties."""
    scored = [
        (s, -i, p)
        for i, (p, rows) in enumerate(by_config.items())
        if (s := score(rows, metric)) is not None
    ]
    return max(scored)[2] if scored else None


@dataclass(frozen=True, slots=True)
class FoldResult:
    fold: Fold
    chosen: Params | None  # None: no configuration finished on the training span
    scores: dict[Params, float | None]  # every configuration's training score
    in_sample: Summary | None
    out_of_sample: Summary | None
    deflated: Deflated | None  # DSR of the training pick among all configurations


@dataclass(frozen=True, slots=True)
class WalkForward:
    metric: str
    configs: list[Params]
    seeds: int
    folds: list[FoldResult]
    out_of_sample: Summary | None  # every test span together
    # the picks on their training spans; these overlap when --step < --train, so only
    # ratios (Sharpe, edge, P&L per day) of this are comparable with the test spans'
    in_sample: Summary | None
    training_rows: list[Row]  # every configuration × seed on every training span


def walk_forward(
    base: Sequence[RunSpec],
    folds: Sequence[Fold],
    evaluate: Evaluator,
    metric: str = DEFAULT_METRIC,
) -> WalkForward:
    """Run every fold's training grid, choose per fold, run the choices out of sample.

    All training runs go in one batch and all test runs in a second, so a backend keeps
    every worker busy; each fold still chooses from its own training rows only.
    """
    check_metric(metric, folds)
    configs = configs_of(base)
    seeds = len({run.seed for run in base})
    train = {f.index: on_span(base, f.train_start, f.train_end) for f in folds}
    train_rows = _by_run(evaluate([r for runs in train.values() for r in runs], IN_SAMPLE))
    picks = {}
    for fold in folds:
        grouped = _grouped(train[fold.index], train_rows, configs)
        picks[fold.index] = (select(grouped, metric), grouped)
    test = {
        f.index: on_span(
            [r for r in base if r.params == picks[f.index][0]], f.test_start, f.test_end
        )
        for f in folds
    }
    # a test run identical to a training run (same span: --train equal to --step) is
    # the same deterministic backtest, so its row is taken, not run again
    fresh = [r for runs in test.values() for r in runs if r.run_id() not in train_rows]
    test_rows = train_rows | _by_run(evaluate(fresh, OUT_OF_SAMPLE))
    results = []
    for fold in folds:
        chosen, grouped = picks[fold.index]
        oos = [test_rows.get(r.run_id(), _missing(r)) for r in test[fold.index]]
        results.append(_fold_result(fold, chosen, grouped, oos, metric))
    return WalkForward(
        metric=metric,
        configs=configs,
        seeds=seeds,
        folds=results,
        out_of_sample=aggregate([f.out_of_sample for f in results if f.out_of_sample]),
        in_sample=aggregate([f.in_sample for f in results if f.in_sample]),
        training_rows=list(train_rows.values()),
    )


def _grouped(
    runs: Sequence[RunSpec], rows: dict[str, Row], configs: Sequence[Params]
) -> dict[Params, list[Row]]:
    """One fold's rows by configuration (a run without a row counts as failed)."""
    grouped: dict[Params, list[Row]] = {p: [] for p in configs}
    for run in runs:
        grouped[run.params].append(rows.get(run.run_id(), _missing(run)))
    return grouped


def _by_run(rows: Sequence[Row]) -> dict[str, Row]:
    return {str(row["run_id"]): row for row in rows}


def _missing(run: RunSpec) -> Row:
    return {"run_id": run.run_id(), "status": "failed", "error": "no result returned"}


def _fold_result(
    fold: Fold, chosen: Params | None, grouped: dict[Params, list[Row]], oos: list[Row], metric: str
) -> FoldResult:
    scores = {p: score(rows, metric) for p, rows in grouped.items()}
    if chosen is None:
        return FoldResult(fold, None, scores, None, None, None)
    in_sample = summarize(grouped[chosen])
    return FoldResult(
        fold, chosen, scores, in_sample, summarize(oos), selection_dsr(grouped, in_sample)
    )


def selection_dsr(grouped: dict[Params, list[Row]], pick: Summary | None) -> Deflated | None:
    """DSR of the pick's Sharpe given every configuration tried on the same span.

    N counts every configuration tried (one that never traded was still a trial); the
    variance is over those with a Sharpe. Seeds are averaged, not counted as trials:
    they are the simulator's dice, not a choice the study made.
    """
    if pick is None or pick.sharpe is None or not pick.days:
        return None
    sharpes = [s for rows in grouped.values() if (s := score(rows, "sharpe")) is not None]
    return deflated_sharpe(
        per_period(pick.sharpe),
        pick.days,
        pick.skew,
        pick.kurtosis,
        len(grouped),
        sample_variance([per_period(s) for s in sharpes]),
    )
