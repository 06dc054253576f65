"""``python run.py research walk-forward``: the walk-forward study from the command line.

Bad input (spans, dates, --select, --heatmap, the grid, the data) is refused before any
run starts; the runs themselves go through the sweep's ``run_plan``, so they resume from
``DIR/in_sample`` and ``DIR/out_of_sample`` and failures are rows, not a stopped study.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from backtest.errors import BacktestInputError
from research.cli import EXIT_OK, plan_inputs, study_parser
from research.figures import Summary
from research.plan import make_runs
from research.report import check_heatmap, write_walk_forward_report
from research.rows import Row
from research.runs import RunSpec
from research.walk_forward import (
    DEFAULT_METRIC,
    METRICS,
    WalkForward,
    check_metric,
    parse_span,
    plan_folds,
    walk_forward,
)

EPILOG = """\
[--from, --to] is cut into rolling folds: --train days to choose on, the next --test days to
test on, then everything moves on by --step (default: --test, so the test spans tile). In
each fold every grid point × seed runs on the training span, the best by --select (mean over
seeds) is chosen from those rows alone, and only it runs on the test span.
DIR/report.html shows in-sample vs out-of-sample fold by fold, every test span together,
the deflated Sharpe ratio of each pick (Bailey & López de Prado 2014) and a heat map;
DIR/summary.json has the same figures. docs/research.md explains each.

--select sharpe (default): scale-free, penalizes one lucky day, and it is what the
deflated Sharpe ratio corrects for choosing the best of N. pnl and edge also work.

example:
  run.py research walk-forward --data SOLUSDT_1m.csv --from 2025-03-01 --to 2025-03-31 \\
      --train 14d --test 7d --param min_edge=0.03,0.05 --seeds 2 --out wf/ --workers 2
"""


def walk_forward_parser() -> argparse.ArgumentParser:
    parser = study_parser(
        "walk-forward",
        "Choose parameters on a training span, test them on the next, roll forward.",
        EPILOG,
    )
    parser.add_argument("--train", default="14d", metavar="SPAN", help="e.g. 14d, 36h, 2w")
    parser.add_argument("--test", default="7d", metavar="SPAN", help="e.g. 7d")
    parser.add_argument("--step", metavar="SPAN", help="default: --test")
    parser.add_argument("--select", default=DEFAULT_METRIC, choices=list(METRICS))
    parser.add_argument("--heatmap", metavar="KEY1,KEY2", help="default: first two swept keys")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="report here")
    return parser


def run_walk_forward(args: argparse.Namespace) -> int:
    from research.backends import make_backend
    from research.sweep import run_plan

    inputs = plan_inputs(args)
    if inputs.start is None or inputs.end is None:
        raise BacktestInputError("walk-forward needs both --from and --to")
    step = parse_span(args.step, "--step") if args.step else None
    train, test = parse_span(args.train, "--train"), parse_span(args.test, "--test")
    folds = plan_folds(inputs.start, inputs.end, train, test, step)
    check_metric(args.select, folds)
    base = make_runs(inputs)
    check_heatmap(base, args.heatmap)
    print(f"walk-forward: {len(folds)} folds × {len(base)} runs to train on", file=sys.stderr)
    with make_backend(workers=args.workers, use_ray=args.ray, ray_address=args.ray_address) as b:

        def evaluate(runs: Sequence[RunSpec], phase: str) -> list[Row]:
            return run_plan(runs, b, out_dir=args.out / phase, progress=True)

        result = walk_forward(base, folds, evaluate, args.select)
    page = write_walk_forward_report(args.out, result, heatmap=args.heatmap)
    print(headline(result))
    print(f"report → {page}, {args.out / 'summary.json'}")
    return EXIT_OK


def headline(result: WalkForward) -> str:
    """Two lines a terminal can show: the picks in sample, and every test span together."""

    def line(name: str, s: Summary | None) -> str:
        if s is None:
            return f"{name}: –"
        pnl = "–" if s.pnl is None else f"${s.pnl:,.2f} [{s.pnl_low}, {s.pnl_high}]"
        sharpe = "–" if s.sharpe is None else f"{s.sharpe:.2f}"
        edge = "–" if s.edge is None else f"{s.edge:.2f}¢ (floor {s.cost_floor or 0:.2f}¢)"
        return f"{name}: P&L {pnl} over {s.days} days, Sharpe {sharpe}, edge {edge}"

    return "\n".join(
        (line("in-sample (picks)", result.in_sample), line("out-of-sample", result.out_of_sample))
    )
