"""Simultaneous edges in several series: how long the last one's order waits to be sent.

The coins move together, so edges tend to open in every series at once. The one
``OrderActor`` sends creates one at a time, each a blocking HTTP request, so the n-th
order of a burst waits for the n − 1 before it. On loopback a create takes about a
millisecond; against Kalshi it takes a network round trip. The simulator's
``latency_ms`` fault adds that round trip to every REST answer. For each burst the bench
hands one edge to the watcher of one market per series, back to back, and records when
each order request starts being written, from the burst's start.

    python bench/create_burst.py [--series all] [--bursts 20] [--latency-ms 0,30] [--json]

The strategy needs an edge of 15¢ here (the bench's edges are 25¢), so the simulated
makers' own quotes send no orders of their own in between.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import orjson
from loguru import logger

from actors.market_stream import watcher_name
from bench.sim_process import exchange_process
from bench.tick_to_order import (
    BENCH_KELLY,
    MEASURED,
    SIM_ARGS,
    OrderWrites,
    TimedConnection,
    _edge_delta,
    _markets,
    _model,
    _tradeable,
    _tree,
    _wait,
)
from kalshi.auth import Signer
from kalshi.ws_events import OrderbookDeltaEvent
from messages.queries import Describe, GetBook, GetStats
from runtime.system import ActorSystem
from simulator.catalog import parse_series

BURST_KELLY = {**BENCH_KELLY, "min_edge": "0.15"}


class RequestTimes(OrderWrites):
    """When each order request started being written (``TimingTransport`` calls ``mark``)."""

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition()
        self.marks: list[float] = []

    def expect(self) -> None:
        with self._cond:
            self.marks.clear()

    def mark(self) -> None:
        with self._cond:
            self.marks.append(time.perf_counter())
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float) -> list[float]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.marks) >= count, timeout)
            return list(self.marks)


def burst(system: ActorSystem, times: RequestTimes, tickers: list[str], seq: int) -> list[float]:
    """One edge in each market at once: each order request's start, ms after the burst."""
    deltas = []
    for ticker in tickers:
        model, held = _model(system, ticker) or (0.5, None)
        deltas.append(_edge_delta(ticker, model, held, 50, seq))
    times.expect()
    started = time.perf_counter()
    for delta in deltas:
        system.tell(watcher_name(delta.market_ticker), delta)
    marks = times.wait_for(len(deltas), timeout=30)
    for delta in deltas:  # the edges close at once: no more signals on them
        removal = OrderbookDeltaEvent(
            delta.market_ticker, delta.side, delta.price, -delta.delta, 0, seq + 1
        )
        system.tell(watcher_name(delta.market_ticker), removal)
    for delta in deltas:
        system.ask(watcher_name(delta.market_ticker), GetBook())  # barrier: the levels are gone
    system.ask(MEASURED, Describe())  # barrier: the strategy saw them go
    system.ask("order", GetStats(), timeout=60)  # barrier: every create queued has returned
    return [(m - started) * 1e3 for m in marks[: len(deltas)]]


def measure(series: list[str], bursts: int, latency_ms: float) -> dict[str, Any]:
    """``bursts`` bursts over one market per series, every REST answer ``latency_ms`` late."""
    markets = _markets(series)
    with (
        tempfile.TemporaryDirectory() as tmp,
        exchange_process(Path(tmp), *SIM_ARGS, "--series", ",".join(series)) as sim,
    ):
        times = RequestTimes()
        signer = Signer.from_file(sim["KALSHI_API_KEY"], sim["KALSHI_PRIVATE_KEY_PATH"])
        connection = TimedConnection(
            sim["KALSHI_API_BASE"],
            sim["KALSHI_WS_URL"],
            signer,
            rate_limited=False,
            writes=times,
        )
        system = ActorSystem(seed=1)
        system.start(
            _tree(connection, threading.Event(), markets=markets, others="free", kelly=BURST_KELLY)
        )
        try:
            live = _wait(lambda: _tradeable(system, len(series)), 60, "a market in every series")
            tickers = [min(t for t in live if t.startswith(f"{s}-")) for s in series]
            for ticker in tickers:
                _wait(lambda t=ticker: _model(system, t) is not None, 30, f"a model for {ticker}")
            httpx.post(
                f"{sim['KALSHI_API_BASE'].split('/trade-api')[0]}/sim/faults",
                json={"latency_ms": latency_ms},
            ).raise_for_status()
            offsets = [burst(system, times, tickers, 10**9 + 2 * i) for i in range(bursts)]
        finally:
            system.shutdown()
    complete = [o for o in offsets if len(o) == len(tickers)]
    return {
        "series": len(series),
        "latency_ms": latency_ms,
        "bursts": bursts,
        "complete_bursts": len(complete),
        "first_request_ms": round(median(min(o) for o in complete), 2) if complete else None,
        "last_request_ms": round(median(max(o) for o in complete), 2) if complete else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--series", default="all", help="series with an edge each (or all)")
    parser.add_argument("--bursts", type=int, default=20, help="bursts to time (default 20)")
    parser.add_argument(
        "--latency-ms", default="0,30", help="REST round trips to add, comma-separated"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per latency")
    args = parser.parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    for latency in (float(x) for x in args.latency_ms.split(",")):
        figures = measure(parse_series(args.series), args.bursts, latency)
        if args.json:
            print(orjson.dumps(figures).decode())
        else:
            print(
                f"{figures['series']} simultaneous edges, REST +{latency:g} ms: first order "
                f"request after {figures['first_request_ms']} ms, last after "
                f"{figures['last_request_ms']} ms (medians of {figures['complete_bursts']} bursts)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
