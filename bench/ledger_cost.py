"""What the ledger costs the hot path: tick-to-order latency with and without it.

One run of ``bench/tick_to_order.py`` moves by ±20% from run to run on a busy 2-core
machine, more than the effect measured here. So this script alternates the two set-ups
for ``--rounds`` rounds (without then with, then with then without, …: drift hits both
sides alike), pools each one's samples and compares the pooled percentiles. It also
prints each round's own p99 change, whose median and spread show how far to trust the
pooled figure.

It does so at two paces. ``--pace`` seconds between edges (default 0.02: fifty edges a
second, far more than a 15-minute market ever gives) is the hot path as the bot lives it:
orders come in bursts, and the ledger writes in the pauses between them. Back to back
(pace 0) is a saturation test: every core is busy all the time, so the ledger's writes
(held back at most ``max_defer``, 2 s) land on some orders whatever it does.

    python bench/ledger_cost.py [--rounds 10] [--events 500] [--pace 0.02] [--ledger URL] [--json]

Without ``--ledger`` each round writes a fresh SQLite ledger (WAL, as the bot's default)
in a temporary folder. The figure that matters is the change of p99.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from bench.stats import percentile
from bench.tick_to_order import measure


def _change(base: float, other: float) -> float:
    return round(100 * (other - base) / base, 1)


def compare(rounds: int, events: int, ledger: str | None, pace: float) -> dict[str, Any]:
    pooled: dict[str, list[float]] = {"without": [], "with": []}
    during: list[bool] = []  # with the ledger: each sample overlapped one of its writes
    round_changes: dict[str, list[float]] = {"p50": [], "p99": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            url = ledger or f"sqlite:///{Path(tmp) / f'ledger-{n}.db'}"
            runs: dict[str, list[float]] = {}
            for name in ("without", "with") if n % 2 == 0 else ("with", "without"):
                database = url if name == "with" else None
                measured = measure(events, 0, database, pace)
                runs[name] = measured["latencies_us"]
                pooled[name] += runs[name]
                if name == "with":
                    during += measured["during_ledger_write"]
            for q, changes in round_changes.items():
                at = {name: percentile(samples, int(q[1:])) for name, samples in runs.items()}
                changes.append(_change(at["without"], at["with"]))
    figures: dict[str, Any] = {"rounds": rounds, "events_per_round": events, "pace_s": pace}
    hit = [us for us, flag in zip(pooled["with"], during, strict=True) if flag]
    clear = [us for us, flag in zip(pooled["with"], during, strict=True) if not flag]
    figures["during_ledger_write"] = {
        "samples": len(hit),
        "share_pct": round(100 * len(hit) / len(during), 2),
        "p99_us": round(percentile(hit, 99), 1) if hit else None,
        # how much slower an overlapped edge is than the others of the same runs, on average
        "mean_excess_us": (
            round(statistics.fmean(hit) - statistics.fmean(clear), 1) if hit and clear else None
        ),
    }
    for name, samples in pooled.items():
        figures[name] = {
            "p50_us": round(percentile(samples, 50), 1),
            "p90_us": round(percentile(samples, 90), 1),
            "p99_us": round(percentile(samples, 99), 1),
        }
    for q in ("p50_us", "p99_us"):
        figures[f"{q[:3]}_change_pct"] = _change(figures["without"][q], figures["with"][q])
    for q, changes in round_changes.items():
        figures[f"round_{q}_changes_pct"] = changes
        figures[f"round_{q}_change_median_pct"] = statistics.median(changes)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10, help="alternations (default 10)")
    parser.add_argument("--events", type=int, default=500, help="edges per run (default 500)")
    parser.add_argument(
        "--pace",
        type=float,
        default=0.02,
        help="seconds between edges (default 0.02; 0: back to back)",
    )
    parser.add_argument("--ledger", help="the ledger's database (default: SQLite, temporary)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = compare(args.rounds, args.events, args.ledger, args.pace)
    if args.json:
        print(orjson.dumps(figures).decode())
        return 0
    for name in ("without", "with"):
        f = figures[name]
        print(
            f"{name:>7} the ledger: p50 {f['p50_us']:.0f} us, p90 {f['p90_us']:.0f} us, "
            f"p99 {f['p99_us']:.0f} us"
        )
    print(
        f"ledger cost: p50 {figures['p50_change_pct']:+.1f}%, p99 {figures['p99_change_pct']:+.1f}% "
        f"({args.rounds} alternating rounds of {args.events} edges, {args.pace:g} s apart)"
    )
    hit = figures["during_ledger_write"]
    worst = (
        f", their p99 {hit['p99_us']:.0f} us, mean {hit['mean_excess_us']:+.0f} us over the others"
        if hit["samples"] and hit["mean_excess_us"] is not None
        else ""
    )
    print(
        f"edges that overlapped a ledger write: {hit['samples']} "
        f"({hit['share_pct']:.1f}% of those with the ledger){worst}"
    )
    for q in ("p50", "p99"):
        changes = figures[f"round_{q}_changes_pct"]
        print(
            f"each round's {q} change: median {figures[f'round_{q}_change_median_pct']:+.1f}%, "
            f"from {min(changes):+.1f}% to {max(changes):+.1f}% "
            f"({', '.join(f'{c:+.0f}' for c in changes)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
