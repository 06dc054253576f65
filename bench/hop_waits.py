"""What an edge waits behind at each hop of tick → order, with one series or several.

Runs :func:`bench.tick_to_order.measure` with every message to the strategy, risk and
order actors timed: when it was told, when its handling started and ended. For each
message on the edges' path (the strategy's ``BookUpdate``, the risk actor's ``Signal``,
the order actor's ``OrderIntent`` of the measured market) it sums the time that actor
spent on other messages while that one waited, split by whether they were about the same
series or another. A shared actor that makes one series wait for another shows up in
the second column; waits nobody accounts for are thread wake-ups (GIL, scheduler).

The ``tail`` figures take the slowest 1% of the edges apart hop by hop, beside the middle
fifth: the mean wait of the edge's message at each hop, how much of that wait the actor
was busy with other messages (and which), the rest being a thread waking up.

    python bench/hop_waits.py [--events 1000] [--series S1,…|all] [--others capped|free]

Bench-only: it wraps ``Address.tell`` and ``SupervisedActor.on_receive`` in this process.
"""

from __future__ import annotations

import argparse
import bisect
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
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
    rows, starts = _by_role(handled)
    out: dict[str, dict[str, Any]] = {}
    series = series_of(ticker)
    for role, kind in PATH.items():
        spent = {"same_series_ms": 0.0, "other_series_ms": 0.0, "no_market_ms": 0.0}
        ahead: dict[str, float] = defaultdict(float)
        waited = [
            h for h in rows[role] if h.kind == kind and h.ticker == ticker and h.told is not None
        ]
        for mine in waited:
            for h, overlap in _ahead(rows[role], starts[role], mine):
                spent[_bucket(h.ticker, series)] += overlap
                ahead[h.kind] += overlap
        out[role] = {
            "messages": len(waited),
            **{k: round(v * 1e3, 2) for k, v in spent.items()},
            "ahead_ms": {k: round(v * 1e3, 2) for k, v in sorted(ahead.items(), key=_most)[:5]},
        }
    return out


def _by_role(handled: list[Handled]) -> tuple[dict[str, list[Handled]], dict[str, list[float]]]:
    """Each hop's handled messages in the order they started, and their start times."""
    rows = {role: sorted((h for h in handled if h.actor == role), key=_start) for role in PATH}
    return rows, {role: [h.start for h in found] for role, found in rows.items()}


def _ahead(found: list[Handled], at: list[float], mine: Handled) -> Iterator[tuple[Handled, float]]:
    """The messages the actor handled while ``mine`` waited in its mailbox, each with the
    seconds of that wait it took (``found``: the actor's messages by start, ``at`` their
    starts)."""
    assert mine.told is not None
    first = max(0, bisect.bisect_left(at, mine.told) - 1)
    for h in found[first : bisect.bisect_left(at, mine.start)]:
        overlap = min(h.end, mine.start) - max(h.start, mine.told)
        if overlap > 0 and h is not mine:
            yield h, overlap


@dataclass(frozen=True, slots=True)
class EdgeHop:
    """One edge's message at one hop: how long it waited in the mailbox, what the actor did
    meanwhile, and how long the actor then took to pass it on (to tell the next hop, or, at
    the order actor, to start writing the request)."""

    wait: float
    busy: dict[str, float]  # kind of message → seconds the actor spent on it
    run: float


# A sampled edge: its latency, the time from the edge to the strategy being told (the
# watcher's hop), and its hops; the parts add up to the latency.
Edge = tuple[float, float, dict[str, EdgeHop]]


def edge_hops(
    handled: list[Handled], windows: list[tuple[float, float]], ticker: str
) -> list[Edge]:
    """Each sampled edge (``windows``: its start and its order request) split into its
    hops; edges whose path was not recorded whole are left out."""
    rows, starts = _by_role(handled)
    edges = []
    for begin, end in windows:
        path = [
            _edge_message(rows[role], starts[role], kind, ticker, begin, end)
            for role, kind in PATH.items()
        ]
        found = [h for h in path if h is not None and h.told is not None]
        if len(found) < len(PATH):
            continue
        told = [h.told or 0.0 for h in found]
        passed_on = [*told[1:], end]  # when each hop told the next (the order: the request)
        hops = {
            role: EdgeHop(h.start - t, _busy(rows[role], starts[role], h), later - h.start)
            for role, h, t, later in zip(PATH, found, told, passed_on, strict=True)
        }
        edges.append((end - begin, told[0] - begin, hops))
    return edges


def _edge_message(
    found: list[Handled], at: list[float], kind: str, ticker: str, begin: float, end: float
) -> Handled | None:
    """The edge's message at one hop: the first of ``kind`` about ``ticker`` handled in it."""
    window = found[bisect.bisect_left(at, begin) : bisect.bisect_right(at, end)]
    return next((h for h in window if h.kind == kind and h.ticker == ticker), None)


def _busy(found: list[Handled], at: list[float], mine: Handled) -> dict[str, float]:
    """What the actor handled while ``mine`` waited in its mailbox, by kind."""
    busy: dict[str, float] = defaultdict(float)
    for h, overlap in _ahead(found, at, mine):
        busy[h.kind] += overlap
    return busy


def slowest(edges: list[Edge], share: float) -> dict[str, Any]:
    """The slowest ``share`` of the edges beside the middle fifth, each taken apart: the
    watcher's hop, then per actor the mean wait in its mailbox (µs), how much of that wait
    it was busy with other messages (and which kinds; the rest is a thread waking up: the
    GIL, the scheduler) and the time it took to pass the edge on."""
    ordered = sorted(edges, key=_latency)
    n = len(ordered)
    groups = {
        "slowest": ordered[max(0, n - max(1, round(n * share))) :],
        "middle": ordered[int(n * 0.4) : max(int(n * 0.4) + 1, int(n * 0.6))],
    }
    return {name: _summary(group) for name, group in groups.items() if group}


def _summary(group: list[Edge]) -> dict[str, Any]:
    count = len(group)

    def mean_us(total: float) -> int:
        return round(total / count * 1e6)

    out: dict[str, Any] = {
        "edges": count,
        "mean_us": mean_us(sum(e[0] for e in group)),
        "watcher_us": mean_us(sum(e[1] for e in group)),
    }
    for role in PATH:
        kinds: dict[str, float] = defaultdict(float)
        for _, _, hops in group:
            for kind, seconds in hops[role].busy.items():
                kinds[kind] += seconds
        out[role] = {
            "wait_us": mean_us(sum(hops[role].wait for _, _, hops in group)),
            "busy_us": mean_us(sum(kinds.values())),
            "busy_by_kind_us": {k: mean_us(v) for k, v in sorted(kinds.items(), key=_most)[:4]},
            "run_us": mean_us(sum(hops[role].run for _, _, hops in group)),
        }
    return out


def _start(h: Handled) -> float:
    return h.start


def _latency(edge: Edge) -> float:
    return edge[0]


def _most(item: tuple[str, float]) -> float:
    return -item[1]


def _bucket(ticker: str | None, series: str) -> str:
    if ticker is None:  # timers, index prints, asks
        return "no_market_ms"
    return "same_series_ms" if series_of(ticker) == series else "other_series_ms"


def keep_windows() -> list[tuple[float, float]]:
    """The list that will hold each sampled edge's (start, order request) times."""
    windows: list[tuple[float, float]] = []
    sample = tick_to_order._sample_edges

    def kept(*args: Any, **kwargs: Any) -> tuple[list[float], list[tuple[float, float]]]:
        latencies, found = sample(*args, **kwargs)
        windows.extend(found)
        return latencies, found

    tick_to_order._sample_edges = kept
    return windows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1000, help="edges to measure")
    parser.add_argument("--series", default="", help="series live at once (or all)")
    parser.add_argument("--others", default="capped", choices=tick_to_order.OTHERS)
    args = parser.parse_args(argv)
    handled: list[Handled] = []
    windows = keep_windows()
    record(handled)
    series = parse_series(args.series) if args.series else []
    figures = tick_to_order.measure(args.events, 0, series=series, others=args.others)
    summary = {
        "series": figures["series"],
        "others": figures["others"],
        "ticker": figures["ticker"],
        "p50_us": figures["p50_us"],
        "p99_us": figures["p99_us"],
        "hops": waits(handled, figures["ticker"]),
        "tail": slowest(edge_hops(handled, windows, figures["ticker"]), 0.01),
    }
    print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
