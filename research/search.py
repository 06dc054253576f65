"""The ``--search`` flags of ``research sweep``, and the search sweep from flags to files.

Kept apart from :mod:`research.tune` so that building the plan and refusing bad
input need no Ray: the flags are checked and the plan made before Ray starts.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from backtest.errors import BacktestInputError
from backtest.params import parse_specs
from research.backends import SweepSetupError, make_backend
from research.results import CSV_NAME, ResultStore
from research.rows import Row, iso_time
from research.search_plan import (
    METRICS,
    MIN_RUNG_SECONDS,
    SEARCHES,
    UNDEFINED,
    SearchPlan,
    csv_span,
    make_rungs,
)

SEARCH_LOG = "search.csv"
INSTALL = "pip install -r requirements-research.txt"
DEFAULT_SAMPLES = 20


def add_search_args(parser: argparse.ArgumentParser) -> None:
    """``--search``, ``--metric``, ``--samples`` (the default stays the plain grid)."""
    group = parser.add_argument_group("search (Ray Tune; instead of the whole grid)")
    group.add_argument(
        "--search",
        choices=SEARCHES,
        help="let Optuna's or Hyperopt's TPE pick --samples points from the --param values, "
        "stopping poor ones early (ASHA over growing prefixes of the span); needs Ray",
    )
    group.add_argument(
        "--metric", choices=tuple(METRICS), default="pnl", help="what the search maximises"
    )
    group.add_argument(
        "--samples",
        type=int,
        default=DEFAULT_SAMPLES,
        metavar="N",
        help=f"points the search tries (default {DEFAULT_SAMPLES})",
    )
    group.add_argument(
        "--min-rung-hours",
        type=float,
        default=MIN_RUNG_SECONDS / 3600,
        metavar="H",
        help="shortest span a trial is judged on before it may be stopped (default 24)",
    )


def check_packages(search: str) -> None:
    """Refuse at once, naming the flag and the package, a search that cannot run here."""
    for module in ("ray", search):
        if importlib.util.find_spec(module) is None:
            raise SweepSetupError(f"--search {search} needs the {module} package: {INSTALL}")


def make_plan(args: argparse.Namespace) -> SearchPlan:
    """The search's plan from the flags, validated as the grid is (before Ray starts)."""
    from research.cli import plan_inputs
    from research.plan import grid_points, make_runs

    if args.samples < 1:
        raise BacktestInputError(f"--samples must be at least 1, got {args.samples}")
    if args.min_rung_hours <= 0:
        raise BacktestInputError(f"--min-rung-hours must be positive, got {args.min_rung_hours}")
    if args.random is not None:
        raise BacktestInputError("--random draws grid points; with --search use --samples")
    inputs = plan_inputs(args)
    first = make_runs(replace(inputs, sample=1, seeds=range(1)))[0]  # validates everything
    specs = parse_specs(inputs.params)
    choices = tuple((s.key, s.values) for s in specs if len(s.values) > 1)
    if not choices:
        raise BacktestInputError(
            "--search needs a --param with two or more values to choose from, e.g. "
            "--param kelly_volatility.min_edge=0.02,0.03,0.05"
        )
    span = _span(first.start, first.end, first.data)
    plan = SearchPlan(
        template=replace(first, params=(), seed=0),
        fixed=tuple((s.key, s.values[0]) for s in specs if len(s.values) == 1),
        choices=choices,
        seeds=tuple(inputs.seeds),
        rungs=make_rungs(*span, given_end=first.end, min_seconds=round(args.min_rung_hours * 3600)),
        metric=args.metric,
    )
    for point in grid_points(inputs.params):
        for rung in plan.rungs:
            plan.run_ids.update((run, run.run_id()) for run in plan.runs(point, rung))
    return plan


def _span(start: int | None, end: int | None, data: tuple[str, ...]) -> tuple[int, int]:
    """The span the rungs divide: --from/--to, else the CSV files' own first and last bar."""
    if start is not None and end is not None:
        return start, end
    found = csv_span(data)
    if found is None:
        raise BacktestInputError(
            "--search over recordings or folders needs --from and --to (the rungs replay "
            "growing parts of that span)"
        )
    warmup = 3600  # the backtest trades from an hour in when --from is not given
    return (start if start is not None else found[0] + warmup), (end or found[1])


def run_search_sweep(args: argparse.Namespace) -> int:
    """Plan, start Ray, search, and write results.csv/.parquet and search.csv."""
    from research.execute import load

    check_packages(args.search)
    plan = make_plan(args)
    from research.report import check_heatmap_keys  # loaded on use, as the grid's is

    check_heatmap_keys([key for key, _ in plan.choices], args.heatmap)
    from research.tune import run_search  # imports Ray: only now that it is known to be there

    store = ResultStore(args.out)
    done = {run_id: store.rows[run_id] for run_id in store.finished()}
    store.begin(key for key, _ in (*plan.fixed, *plan.choices))
    print(
        f"search: {args.samples} trials by {args.search}, maximising {args.metric}, "
        f"rungs at {', '.join(f'{r.days:g}' for r in plan.rungs)} days; "
        f"{len(done)} runs already finished in {args.out}",
        file=sys.stderr,
    )
    with make_backend(workers=args.workers, use_ray=True, ray_address=args.ray_address) as ray_:
        try:
            log = run_search(
                plan,
                search=args.search,
                samples=args.samples,
                workers=ray_.workers,
                out_dir=args.out,
                on_row=store.add,
                done=done,
                loaded=load(plan.template),
            )
        finally:
            table = store.close()
    write_log(args.out / SEARCH_LOG, log)
    print(f"{len(table)} rows → {args.out / CSV_NAME}; trials by rung → {args.out / SEARCH_LOG}")
    print(summary(log, plan))
    print(f"report → {write_search_report(args.out, table, plan, args.heatmap)}")
    return 0


def full_span(rows: Sequence[Row], plan: SearchPlan) -> list[Row]:
    """The rows that replayed the whole span: a trial stopped at an earlier rung ran a
    shorter prefix, and its P&L and Sharpe are not comparable with the others'."""
    start, end = (iso_time(plan.template.start), iso_time(plan.template.end))
    return [r for r in rows if r.get("start") == start and r.get("end") == end]


def write_search_report(
    out_dir: Path, rows: Sequence[Row], plan: SearchPlan, heatmap: str | None
) -> Path:
    """report.html and summary.json over the whole-span runs, as a grid sweep writes them."""
    from research.report import write_sweep_report

    full = full_span(rows, plan)
    note = (
        f"A {plan.metric}-driven search: only the {len(full)} runs over the whole span are on "
        f"this page; the {len(rows) - len(full)} runs of trials stopped at an earlier rung "
        f"(a shorter prefix) are in {CSV_NAME}, and every trial's rungs in {SEARCH_LOG}."
    )
    return write_sweep_report(out_dir, full, heatmap=heatmap, title="Parameter search", note=note)


def summary(log: list[dict[str, Any]], plan: SearchPlan) -> str:
    """How many trials ASHA stopped, and the best one that replayed the whole span."""
    trials = {entry["trial"] for entry in log}
    finals = [entry for entry in log if entry["t"] == plan.max_t]
    text = f"{len(trials)} trials, {len(trials) - len(finals)} stopped early"
    defined = [entry for entry in finals if entry["metric"] != UNDEFINED]
    if not defined:
        return text + f"; no trial's runs define {plan.metric} over the whole span"
    best = max(defined, key=lambda entry: entry["metric"])
    point = " ".join(f"{k}={v}" for k, v in best.items() if k.startswith("param."))
    return text + f"; best over the whole span: {plan.metric} {best['metric']:.4g} at {point}"


def write_log(path: Path, log: list[dict[str, Any]]) -> None:
    """``search.csv``: one line per trial per rung reached, in the order Tune reported them."""
    columns: list[str] = []
    for entry in log:
        columns += [c for c in entry if c not in columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns or ["trial"])
        writer.writeheader()
        writer.writerows(log)
