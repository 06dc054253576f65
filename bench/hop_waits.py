"""What an edge waits behind at each hop of tick → order, with one series or several.

Runs :func:`bench.tick_to_order.measure` with every message to the strategy, risk and
order actors timed: when it was told, when its handling started and ended. For each
message on the edges' path (the strategy's ``BookUpdate``, the risk actor's ``Signal``,
the order actor's ``OrderIntent`` of the measured market) it sums the time that actor
spent on other messages while that one waited, split by whether they were about the same
series or another. A shared actor that makes one series wait for another shows up in
the second column; waits nobody accounts for are thread wake-ups (GIL, scheduler).

    python bench/hop_waits.py [--events 1000] [--series S1,…|all]

Bench-only: it wraps ``Address.tell`` and ``SupervisedActor.on_receive`` in this process.
"""

from __future__ import annotations

import argparse
import bisect
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from bench import tick_to_order
from kalshi.tickers import series_of
from runtime.actor import SupervisedActor
from runtime.address import Address
from simulator.catalog import parse_series

PATH = {"strategy": "BookUpdate", "risk": "Signal", "order": "OrderIntent"}  # the edge's hops


@dataclass(frozen=True, slots=True)
class Handled:
    actor: str
    kind: str
    ticker: str | None
    told: float | None
    start: float
    end: float


def _role(name: str) -> str | None:
    role = name.split(":", 1)[0]
    return role if role in PATH else None


def record(handled: list[Handled]) -> None:
    """Time every message to the strategy, risk and order actors (from now on)."""
    told: dict[tuple[str, int], float] = {}
    tell, receive = Address.tell, SupervisedActor.on_receive

    def timed_tell(address: Address, message: object) -> None:
        if _role(address.name):
            told[(address.name, id(message))] = time.perf_counter()
        tell(address, message)

    def timed_receive(actor: SupervisedActor, message: Any) -> Any:
        start = time.perf_counter()
        try:
            return receive(actor, message)
        finally:
            role = _role(actor.name)
            if role is not None:
                at = told.pop((actor.name, id(message)), None)
                kind = type(message).__name__
                ticker = getattr(message, "ticker", None)
                handled.append(Handled(role, kind, ticker, at, start, time.perf_counter()))

    Address.tell = timed_tell  # type: ignore[method-assign,assignment]
    SupervisedActor.on_receive = timed_receive  # type: ignore[method-assign,assignment]


def waits(handled: list[Handled], ticker: str) -> dict[str, dict[str, Any]]:
    """Per hop: ms spent on other messages of the same series / of others while the edge's
    message waited, and the kinds that took the most of it."""
    by_actor: dict[str, list[Handled]] = defaultdict(list)
    for h in handled:
        by_actor[h.actor].append(h)
    out: dict[str, dict[str, Any]] = {}
    series = series_of(ticker)
    for role, kind in PATH.items():
        rows = sorted(by_actor[role], key=lambda h: h.start)
        starts = [h.start for h in rows]
        spent = {"same_series_ms": 0.0, "other_series_ms": 0.0, "no_market_ms": 0.0}
        ahead: dict[str, float] = defaultdict(float)
        waited = [h for h in rows if h.kind == kind and h.ticker == ticker and h.told is not None]
        for mine in waited:
            assert mine.told is not None
            first = max(0, bisect.bisect_left(starts, mine.told) - 1)
            for h in rows[first : bisect.bisect_left(starts, mine.start)]:
                overlap = min(h.end, mine.start) - max(h.start, mine.told)
                if overlap <= 0:
                    continue
                spent[_bucket(h.ticker, series)] += overlap
                ahead[h.kind] += overlap
        out[role] = {
            "messages": len(waited),
            **{k: round(v * 1e3, 2) for k, v in spent.items()},
            "ahead_ms": {k: round(v * 1e3, 2) for k, v in sorted(ahead.items(), key=_most)[:5]},
        }
    return out


def _most(item: tuple[str, float]) -> float:
    return -item[1]


def _bucket(ticker: str | None, series: str) -> str:
    if ticker is None:  # timers, index prints, asks
        return "no_market_ms"
    return "same_series_ms" if series_of(ticker) == series else "other_series_ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1000, help="edges to measure")
    parser.add_argument("--series", default="", help="series live at once (or all)")
    args = parser.parse_args(argv)
    handled: list[Handled] = []
    record(handled)
    series = parse_series(args.series) if args.series else []
    figures = tick_to_order.measure(args.events, 0, series=series)
    summary = {
        "series": figures["series"],
        "ticker": figures["ticker"],
        "p50_us": figures["p50_us"],
        "p99_us": figures["p99_us"],
        "hops": waits(handled, figures["ticker"]),
    }
    print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
