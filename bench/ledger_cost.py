"""What the ledger costs the hot path: tick-to-order latency with and without it.

One run of ``bench/tick_to_order.py`` moves by ±20% from run to run on a busy 2-core
machine, more than the effect measured here. So this script alternates the two set-ups
(without, with the ledger, without, …) for ``--rounds`` rounds, pools each one's samples
and compares the pooled percentiles: drift and noise hit both sides alike.

It does so at two paces. ``--pace`` seconds between edges (default 0.02: fifty edges a
second, far more than a 15-minute market ever gives) is the hot path as the bot lives it:
the ledger's own work (about 0.3 ms of CPU per traded edge, in its writer process) has
room to run between orders. Back to back (pace 0) is a saturation test: every core is
busy all the time, so any work at all — the ledger's included — lands on some orders.

    python bench/ledger_cost.py [--rounds 5] [--events 500] [--pace 0.02] [--ledger URL] [--json]

Without ``--ledger`` each round writes a fresh SQLite ledger (WAL, as the bot's default)
in a temporary folder. The figure that matters is the change of p99.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from bench.stats import percentile
from bench.tick_to_order import measure


def compare(rounds: int, events: int, ledger: str | None, pace: float) -> dict[str, Any]:
    pooled: dict[str, list[float]] = {"without": [], "with": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            pooled["without"] += measure(events, 0, pace=pace)["latencies_us"]
            url = ledger or f"sqlite:///{Path(tmp) / f'ledger-{n}.db'}"
            pooled["with"] += measure(events, 0, url, pace)["latencies_us"]
    figures: dict[str, Any] = {"rounds": rounds, "events_per_round": events, "pace_s": pace}
    for name, samples in pooled.items():
        figures[name] = {
            "p50_us": round(percentile(samples, 50), 1),
            "p90_us": round(percentile(samples, 90), 1),
            "p99_us": round(percentile(samples, 99), 1),
        }
    for q in ("p50_us", "p99_us"):
        base = figures["without"][q]
        figures[f"{q[:3]}_change_pct"] = round(100 * (figures["with"][q] - base) / base, 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="alternations (default 5)")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
