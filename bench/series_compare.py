"""All series live against one, tick → order, over alternating runs with pooled samples.

A single run's p99 is its 5th- or 20th-slowest edge, and on a two-core machine it swings
twofold between runs of the same command, so one pair of runs cannot show whether more
series cost 20%. This runs ``bench/tick_to_order.py`` ``--pairs`` times for each arm,
alternating which goes first, pools each arm's edges, and reports the pooled p50 and p99,
their ratio with a 95% interval (bootstrap over runs: runs, not edges, are the
independent units), and the median of the pair ratios.

``--split-simulator`` adds a third arm, the bot on one series while the simulator runs
all of them: the simulator shares this machine's two cores (a real exchange does not), so
``all/simulator_all`` is the bot's own cost of the other series and
``simulator_all/single`` the simulator's.

    python bench/series_compare.py [--pairs 8] [--events 2000] [--series all]
                                   [--others capped|free] [--split-simulator] [--json]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import orjson

from bench.stats import nearest_rank
from bench.tick_to_order import OTHERS

SCRIPT = Path(__file__).resolve().parent / "tick_to_order.py"
BOOTSTRAP_ROUNDS = 2000


@dataclass(frozen=True)
class Arm:
    """One side of the comparison: its runs' figures and every edge's latency per run."""

    name: str
    runs: list[dict[str, Any]]
    latencies: list[list[float]]

    @cached_property
    def _arrays(self) -> list[np.ndarray]:
        return [np.asarray(run, dtype=float) for run in self.latencies]

    def pooled(self, q: float, runs: Sequence[int] | None = None) -> float:
        """The nearest-rank ``q`` percentile of these runs' edges together (default: all)."""
        chosen = range(len(self.latencies)) if runs is None else runs
        values = np.concatenate([self._arrays[i] for i in chosen])
        rank = nearest_rank(len(values), q)
        return float(np.partition(values, rank)[rank])


def run_once(events: int, extra: Sequence[str]) -> tuple[dict[str, Any], list[float]]:
    """One ``tick_to_order.py`` run: its JSON figures and its per-edge latencies."""
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "latencies.json"
        args = ["--events", str(events), "--updates", "0", "--json", "--latencies", str(samples)]
        done = subprocess.run(
            [sys.executable, str(SCRIPT), *args, *extra],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        figures: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
        return figures, orjson.loads(samples.read_bytes())


def rotation(names: Sequence[str], round_: int) -> list[str]:
    """The order of the arms in round ``round_``: each arm goes first in turn (two arms:
    A B, B A, …) so a machine that slows down or speeds up does not favour one."""
    if len(names) == 2:
        return list(names) if round_ % 2 == 0 else list(reversed(names))
    shift = round_ % len(names)
    return [*names[shift:], *names[:shift]]


def alternate(rounds: int, events: int, arms: Mapping[str, Sequence[str]]) -> dict[str, Arm]:
    """``rounds`` runs of each arm, their order rotating from round to round."""
    results: dict[str, Arm] = {n: Arm(n, [], []) for n in arms}
    for round_ in range(rounds):
        for name in rotation(list(arms), round_):
            figures, latencies = run_once(events, arms[name])
            results[name].runs.append(figures)
            results[name].latencies.append(latencies)
            print(
                f"round {round_ + 1}/{rounds} {name}: p50 {figures['p50_us']:.0f} µs, "
                f"p99 {figures['p99_us']:.0f} µs",
                file=sys.stderr,
            )
    return results


def ratio_interval(base: Arm, other: Arm, q: float, seed: int = 1) -> tuple[float, float]:
    """95% bootstrap interval of pooled(other, q) / pooled(base, q), resampling runs."""
    rng = random.Random(seed)
    n_base, n_other = len(base.latencies), len(other.latencies)
    ratios = sorted(
        other.pooled(q, rng.choices(range(n_other), k=n_other))
        / base.pooled(q, rng.choices(range(n_base), k=n_base))
        for _ in range(BOOTSTRAP_ROUNDS)
    )
    return ratios[int(0.025 * len(ratios))], ratios[int(0.975 * len(ratios)) - 1]


def compare(base: Arm, other: Arm) -> dict[str, Any]:
    """Pooled percentiles of both arms, their ratios with intervals, the pair ratios."""
    out: dict[str, Any] = {"runs": len(base.runs), "edges_per_run": len(base.latencies[0])}
    for q, key in ((50, "p50"), (99, "p99")):
        low, high = ratio_interval(base, other, q)
        pair_ratios = [
            o[f"{key}_us"] / b[f"{key}_us"] for b, o in zip(base.runs, other.runs, strict=True)
        ]
        out[key] = {
            base.name: round(base.pooled(q), 1),
            other.name: round(other.pooled(q), 1),
            "ratio": round(other.pooled(q) / base.pooled(q), 3),
            "ratio_95": [round(low, 3), round(high, 3)],
            "median_pair_ratio": round(median(pair_ratios), 3),
        }
    out["other_orders_per_s"] = median(r["other_orders_per_s"] for r in other.runs)
    out["deepest_watcher_mailbox"] = max(r["deepest_watcher_mailbox"] for r in other.runs)
    out["sampling_cpu_s"] = {
        arm.name: round(median(r["sampling_cpu_s"]["bot"] for r in arm.runs), 2)
        for arm in (base, other)
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=8, help="runs of each arm (default 8)")
    parser.add_argument("--events", type=int, default=2000, help="edges a run (default 2000)")
    parser.add_argument("--series", default="all", help="the many-series arm's --series")
    parser.add_argument("--others", default="capped", choices=OTHERS)
    parser.add_argument(
        "--split-simulator",
        action="store_true",
        help="add a third arm: the bot on one series, the simulator on all of --series",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.pairs < 2 or args.events < 100:
        parser.error("--pairs must be at least 2 and --events at least 100")
    arms: dict[str, list[str]] = {
        "single": [],
        "all": ["--series", args.series, "--others", args.others],
    }
    if args.split_simulator:
        arms["simulator_all"] = ["--sim-series", args.series]
    results = alternate(args.pairs, args.events, arms)
    pairs = [("all", "single"), ("simulator_all", "single"), ("all", "simulator_all")]
    figures = {
        "series": args.series,
        "others": args.others,
        "comparisons": {
            f"{a}/{b}": compare(results[b], results[a]) for a, b in pairs if a in arms and b in arms
        },
    }
    if args.json:
        print(orjson.dumps(figures).decode())
        return 0
    for name, found in figures["comparisons"].items():
        for key in ("p50", "p99"):
            f = found[key]
            low, high = f["ratio_95"]
            print(f"{name} {key}: ×{f['ratio']:.2f} [{low:.2f}, {high:.2f}] ({f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
