"""``python run.py research``: parameter sweeps (and walk-forward studies) over the backtest.

Exit codes: 0 done (failed runs are rows in the table, not a failed command),
2 bad input — refused before any run starts, with a message naming it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from backtest.cli import parse_date
from backtest.errors import BacktestInputError
from backtest.params import DEFAULT_STRATEGY
from research.backends import SweepSetupError, make_backend
from research.folder_lock import FolderBusy
from research.plan import PlanInputs, make_runs
from research.results import CSV_NAME, PARQUET_NAME
from research.search import add_search_args, run_search_sweep

EXIT_OK = 0
EXIT_BAD_INPUT = 2

SWEEP_EPILOG = """\
Every grid point (or --random N of them) runs once per seed, each an ordinary backtest
(run.py backtest --help lists the --param keys). One row per run streams into
DIR/results.csv (and DIR/results.parquet at the end, with pyarrow): parameters, seed,
P&L with its 95%% interval, trades, fees, realized edge against the cost floor, Brier at
5 min, Sharpe with its interval. Run the same command again to resume: runs whose inputs
(data content, parameters, seed, span) hash to an ok row are not run again.

examples:
  run.py research sweep --data SOLUSDT_1m.csv --from 2025-03-01 --to 2025-03-07 \\
      --param min_edge=0.03,0.05 --param market.lag_seconds=0,5 --seeds 3 --out sweeps/a
  run.py research sweep ... --ray --workers 8            (a local Ray instance)
  run.py research sweep ... --ray-address auto           (the Ray cluster this node is in)
  run.py research sweep ... --ray-address ray://head:10001
"""


def add_plan_args(parser: argparse.ArgumentParser) -> None:
    """The flags that say what to run (shared by every research subcommand)."""
    parser.add_argument(
        "--data", nargs="+", required=True, metavar="FILE", help="as run.py backtest --data"
    )
    parser.add_argument("--from", dest="start", metavar="DATE", help="first day (UTC) to trade")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last day (UTC), included")
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=V1,V2", help="repeatable"
    )
    parser.add_argument("--seeds", type=int, default=1, metavar="N", help="seeds 0…N-1 per point")
    parser.add_argument("--series", metavar="TICKERS", help="as run.py backtest --series")
    parser.add_argument(
        "--strategy",
        action="extend",
        nargs="+",
        metavar="NAME",
        help=f"strategies run together (default: {DEFAULT_STRATEGY})",
    )
    parser.add_argument(
        "--random", type=int, metavar="N", help="run N grid points drawn at random (seeded)"
    )
    parser.add_argument(
        "--random-seed", type=int, default=0, metavar="S", help="seed of --random's draw"
    )


def add_backend_args(parser: argparse.ArgumentParser) -> None:
    """Where the runs execute."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--ray", action="store_true", help="a local Ray instance (--workers CPUs)")
    where.add_argument(
        "--ray-address", metavar="ADDR", help="an existing Ray cluster: auto or ray://host:10001"
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="parallel runs (default 1)"
    )


def plan_inputs(args: argparse.Namespace) -> PlanInputs:
    """The command line as :class:`PlanInputs` (dates parsed as ``run.py backtest`` does)."""
    if args.seeds < 1:
        raise BacktestInputError(f"--seeds must be at least 1, got {args.seeds}")
    start = parse_date(args.start, end=False) if args.start else None
    end = parse_date(args.end, end=True) if args.end else None
    if start is not None and end is not None and end <= start:
        raise BacktestInputError(f"--to {args.end} is not after --from {args.start}")
    names = tuple(n for value in args.strategy or () for n in value.split(",") if n)
    return PlanInputs(
        data=tuple(args.data),
        params=tuple(args.param),
        seeds=range(args.seeds),
        start=start,
        end=end,
        series=args.series,
        strategies=names,
        sample=args.random,
        sample_seed=args.random_seed,
    )


def study_parser(command: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """A research command's parser with what every study takes: the plan and the backend."""
    parser = argparse.ArgumentParser(
        prog=f"run.py research {command}",
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_plan_args(parser)
    add_backend_args(parser)
    return parser


def sweep_parser() -> argparse.ArgumentParser:
    parser = study_parser(
        "sweep",
        "Run a grid of backtests (parameters × seeds) on local processes or Ray.",
        SWEEP_EPILOG,
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="results here")
    parser.add_argument("--heatmap", metavar="KEY1,KEY2", help="report.html's heat map axes")
    add_search_args(parser)  # --search: run_sweep hands such a sweep to research/search.py
    return parser


def run_sweep(args: argparse.Namespace) -> int:
    from research.report import check_heatmap, write_sweep_report
    from research.sweep import run_plan

    if args.search:
        return run_search_sweep(args)
    runs = make_runs(plan_inputs(args))
    check_heatmap(runs, args.heatmap)
    with make_backend(workers=args.workers, use_ray=args.ray, ray_address=args.ray_address) as b:
        rows = run_plan(runs, b, out_dir=args.out, progress=True)
    failed = [r for r in rows if r["status"] != "ok"]
    print(
        f"{len(rows)} run{'' if len(rows) == 1 else 's'}, {len(failed)} failed → "
        f"{args.out / CSV_NAME}"
        + (f", {args.out / PARQUET_NAME}" if (args.out / PARQUET_NAME).is_file() else "")
    )
    for row in failed[:5]:
        print(f"  failed {row['run_id']}: {row['error']}", file=sys.stderr)
    print(f"report → {write_sweep_report(args.out, rows, heatmap=args.heatmap)}")
    return EXIT_OK


Subcommand = tuple[str, Callable[[], argparse.ArgumentParser], Callable[[argparse.Namespace], int]]
# name → (help, parser builder, runner); walk-forward's live in research/walk_forward_cli.py
SUBCOMMANDS: dict[str, Subcommand] = {
    "sweep": ("parameter × seed grids of backtests", sweep_parser, run_sweep),
    "walk-forward": (
        "choose on a training span, test on the next, roll forward",
        lambda: _walk_forward().walk_forward_parser(),
        lambda args: _walk_forward().run_walk_forward(args),
    ),
}


def _walk_forward() -> Any:
    import research.walk_forward_cli as module  # imports this module: loaded on use

    return module


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or args_list[0] not in SUBCOMMANDS:
        listed = "\n".join(f"  {name:<14}{text}" for name, (text, _, _) in SUBCOMMANDS.items())
        print(f"usage: run.py research COMMAND ...\n\ncommands:\n{listed}", file=sys.stderr)
        return EXIT_OK if args_list[:1] in (["-h"], ["--help"]) else EXIT_BAD_INPUT
    name, rest = args_list[0], args_list[1:]
    _, build, run = SUBCOMMANDS[name]
    try:
        args = build().parse_args(rest)
    except SystemExit as exc:  # argparse printed the usage and the problem
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        return run(args)
    except (BacktestInputError, SweepSetupError, FolderBusy) as exc:
        print(f"run.py research {name}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
