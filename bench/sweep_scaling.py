"""Sweep scaling: runs per minute with 1 and 2 workers, on Ray and on plain processes.

A fixed small grid (``--runs`` seeds of ``kelly_volatility`` over the first
``--days`` days of March 2025 SOL history) goes through the sweep's own
backends (:func:`research.backends.make_backend` + :func:`research.sweep.run_plan`).
Reported:

- runs per minute per backend and worker count (backend start-up timed apart);
- scaling efficiency 1 → 2 workers: rate(2) / (2 × rate(1));
- Ray's overhead per run over plain processes at one worker, in seconds and as a
  fraction of a one-week backtest's run time (measured here, in this process);
- the load average before and after, since the figures mean little on a busy machine.

    python bench/sweep_scaling.py [--runs 8] [--days 2] [--backends process,ray]
                                  [--workers 1,2] [--repeat 1] [--json]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from research.backends import make_backend, ray_available
from research.execute import load
from research.runs import RunSpec
from research.search_plan import csv_span
from research.sweep import execute_run, run_plan

ROOT = Path(__file__).resolve().parents[1]
MONTH = ROOT.parent / "shared/data/sol/benicio1007-bot_trading/dataset/marzo_2025/SOLUSDT_1m.csv"
DAY = 86_400
WARMUP = 3_600


def first_window(data: Path) -> int:
    """The first window boundary after an hour of warm-up: where every run starts."""
    span = csv_span([str(data)])
    if span is None:
        raise SystemExit(f"{data}: expected a 1-minute OHLCV CSV file")
    return -(-(span[0] + WARMUP) // 900) * 900


def grid(data: Path, runs: int, days: float) -> list[RunSpec]:
    """``runs`` seeds over the same span: equal work per run, so rates compare cleanly."""
    start = first_window(data)
    end = start + int(days * DAY)
    return [
        RunSpec(params=(), seed=seed, data=(str(data),), start=start, end=end)
        for seed in range(runs)
    ]


def timed_sweep(runs: list[RunSpec], *, use_ray: bool, workers: int) -> dict[str, float]:
    """One sweep on a fresh backend: start-up and the runs timed apart."""
    started = time.perf_counter()
    with make_backend(workers=workers, use_ray=use_ray, ray_address=None) as backend:
        ready = time.perf_counter()
        rows = run_plan(runs, backend)
        done = time.perf_counter()
    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        raise RuntimeError(f"{len(failed)} runs failed, first: {failed[0]['error']}")
    seconds = done - ready
    return {
        "start_s": round(ready - started, 2),
        "seconds": round(seconds, 2),
        "runs_per_min": round(len(runs) * 60 / seconds, 2),
    }


def best_cells(
    repeat: int, runs: list[RunSpec], backends: list[str], workers: list[int]
) -> dict[str, dict[str, dict[str, float]]]:
    """The fastest of ``repeat`` sweeps per (backend, workers) cell, rounds alternating the
    cells (A B C D A B C D): on a shared machine the slow sweeps measure the other jobs."""
    best: dict[str, dict[str, dict[str, float]]] = {b: {} for b in backends}
    for _ in range(repeat):
        for backend in backends:
            for w in workers:
                timing = timed_sweep(runs, use_ray=backend == "ray", workers=w)
                known = best[backend].get(str(w))
                if known is None or timing["seconds"] < known["seconds"]:
                    best[backend][str(w)] = timing
    return best


def week_seconds(data: Path, days: float) -> float:
    """Wall time of a one-week backtest in this process (the unit the overhead is judged by)."""
    start = first_window(data)
    spec = RunSpec(params=(), seed=0, data=(str(data),), start=start, end=start + int(days * DAY))
    loaded = load(spec)  # a sweep's worker parses the history once: not part of a run's time
    started = time.perf_counter()
    row = execute_run(spec, loaded=loaded)
    if row["status"] != "ok":
        raise RuntimeError(f"the one-week run failed: {row['error']}")
    return time.perf_counter() - started


def measure(args: argparse.Namespace) -> dict[str, Any]:
    runs = grid(args.data, args.runs, args.days)
    figures: dict[str, Any] = {"runs": args.runs, "days": args.days, "cores": os.cpu_count()}
    figures["load_before"] = [round(x, 2) for x in os.getloadavg()]
    cells = best_cells(args.repeat, runs, args.backends, args.workers)
    for backend in args.backends:
        figures[backend] = rates = cells[backend]
        if "1" in rates and "2" in rates:
            figures[f"{backend}_efficiency"] = round(
                rates["2"]["runs_per_min"] / (2 * rates["1"]["runs_per_min"]), 3
            )
    if "process" in figures and "ray" in figures and "1" in figures["ray"]:
        overhead = (figures["ray"]["1"]["seconds"] - figures["process"]["1"]["seconds"]) / args.runs
        figures["ray_overhead_per_run_s"] = round(overhead, 3)
    figures["week_days"] = args.week_days
    figures["week_run_s"] = (
        round(week_seconds(args.data, args.week_days), 2) if args.week_days else None
    )
    if figures.get("ray_overhead_per_run_s") is not None and figures["week_run_s"]:
        figures["overhead_of_week"] = round(
            figures["ray_overhead_per_run_s"] / figures["week_run_s"], 4
        )
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return figures


def render(f: dict[str, Any]) -> str:
    lines = [f"{f['runs']} runs × {f['days']} days of SOL history, {f['cores']} cores"]
    for backend in ("process", "ray"):
        for workers, t in f.get(backend, {}).items():
            lines.append(
                f"  {backend:7} {workers} worker(s): {t['runs_per_min']:.1f} runs/min "
                f"({t['seconds']} s; start-up {t['start_s']} s)"
            )
        if f"{backend}_efficiency" in f:
            lines.append(f"  {backend} scaling efficiency 1→2: {f[f'{backend}_efficiency']:.0%}")
    if "ray_overhead_per_run_s" in f:
        lines.append(f"  Ray overhead per run over processes: {f['ray_overhead_per_run_s']} s")
    if f.get("week_run_s"):
        lines.append(f"  one {f['week_days']:g}-day backtest: {f['week_run_s']} s")
    if "overhead_of_week" in f:
        lines.append(f"  overhead as a share of a one-week run: {f['overhead_of_week']:.1%}")
    lines.append(f"  load average before {f['load_before']}, after {f['load_after']}")
    return "\n".join(lines)


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=MONTH, help="1-minute OHLCV CSV")
    parser.add_argument("--runs", type=int, default=8, help="runs in the grid (seeds)")
    parser.add_argument("--days", type=float, default=2.0, help="days each run replays")
    parser.add_argument("--backends", type=_list, default=["process", "ray"])
    parser.add_argument("--workers", type=_list, default=["1", "2"])
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds over every cell; each cell's best counts"
    )
    parser.add_argument(
        "--week-days", type=float, default=7.0, help="the reference run's days (0: skip it)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.data.is_file():
        parser.error(f"{args.data} not found: pass --data FILE")
    if unknown := set(args.backends) - {"process", "ray"}:
        parser.error(f"--backends {','.join(sorted(unknown))}: choose from process, ray")
    if "ray" in args.backends and not ray_available():
        parser.error(
            "--backends ray: Ray is not installed (pip install -r requirements-research.txt)"
        )
    args.workers = [int(w) for w in args.workers]
    figures = measure(args)
    print(orjson.dumps(figures).decode() if args.json else render(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
