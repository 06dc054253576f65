"""WebSocket fan-out benchmark: N dashboard clients on loopback while the bus runs at peak rate.

The hub runs in this process exactly as in the bot (actor + aiohttp loop thread);
a publisher thread pushes a mix of book updates, signals and trades through the
bus at ``--rate`` events/s; the clients run in ``--client-procs`` separate
processes (so their parsing does not share the hub's GIL) and measure delivery
latency from the event's timestamp (set at publish) to the moment the frame
is parsed. Book updates are coalesced by the hub (latest per ticker, ≤ 10/s per
client), so their latency is reported apart from the ordered events.

    python bench/ws_fanout.py                     # 50 clients, 2,000 events/s, 10 s
    python bench/ws_fanout.py --clients 10 --rate 5000 --duration 5 --json
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import orjson

ORDERED = ("trading_signal", "trade_execution")


# -- clients (in worker processes) ------------------------------------------------------------


async def _client(url: str, stop: Any, out: dict[str, list[float]], counts: dict[str, int]) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
        counts["connected"] += 1
        while not stop.is_set():
            try:
                message = await ws.receive(timeout=0.5)
            except TimeoutError:
                continue
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            now = time.time()
            frame = orjson.loads(message.data)
            kind = frame["type"]
            counts[kind] = counts.get(kind, 0) + 1
            data = frame["data"]
            if kind in ORDERED:
                out["ordered"].append(now - data["timestamp"])
            elif kind == "market_update" and data.get("kind") == "book":
                out["book"].append(now - data["ts"])


def _worker(url: str, clients: int, ready: Any, stop: Any, results: Any) -> None:
    async def main() -> None:
        out: dict[str, list[float]] = {"ordered": [], "book": []}
        counts: dict[str, int] = {"connected": 0}
        tasks = [asyncio.create_task(_client(url, stop, out, counts)) for _ in range(clients)]
        while counts["connected"] < clients:
            await asyncio.sleep(0.01)
        ready.put(clients)
        await asyncio.gather(*tasks, return_exceptions=True)
        counts.pop("connected")
        results.put(
            (
                np.asarray(out["ordered"], dtype=np.float64),
                np.asarray(out["book"], dtype=np.float64),
                counts,
            )
        )

    asyncio.run(main())


# -- the publisher ------------------------------------------------------------------------------


def _events(mix: tuple[float, float, float], total: int) -> list[str]:
    """A deterministic interleaving of event kinds in the requested proportions."""
    kinds = ("book", "signal", "trade")
    weights = np.asarray(mix, dtype=float) / sum(mix)
    rng = np.random.default_rng(15)
    return [kinds[i] for i in rng.choice(3, size=total, p=weights)]


def _publish(system: Any, rate: float, duration: float, mix: tuple[float, float, float]) -> int:
    from messages.market_data import BookUpdate
    from messages.trading import Fill, Signal
    from runtime.bus import BOOK, FILLS, SIGNALS

    tickers = [f"KXSOL15M-26JAN01{h:02d}15-15" for h in range(4)]
    plan = _events(mix, int(rate * duration))
    bus = system.bus
    start = time.perf_counter()
    for n, kind in enumerate(plan):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0.0005:
            time.sleep(delay)
        now = time.time()
        ticker = tickers[n % len(tickers)]
        if kind == "book":
            bid = Decimal(40 + n % 20) / 100
            bus.publish(
                BOOK,
                BookUpdate(ticker, n, now, bid, bid + Decimal("0.02"), Decimal("0.58"), None),
            )
        elif kind == "signal":
            bus.publish(
                SIGNALS,
                Signal(
                    f"s{n}",
                    "kelly_volatility",
                    ticker,
                    "yes",
                    Decimal("0.04"),
                    Decimal("0.65"),
                    Decimal("0.61"),
                    5,
                    now,
                ),
            )
        else:
            bus.publish(
                FILLS,
                Fill(
                    f"t{n}",
                    f"o{n}",
                    f"c{n}",
                    ticker,
                    "yes",
                    "buy",
                    5,
                    Decimal("0.61"),
                    Decimal("0.02"),
                    True,
                    now,
                    "kelly_volatility",
                ),
            )
    return len(plan)


# -- main ------------------------------------------------------------------------------------------


def _percentiles(values: np.ndarray) -> dict[str, float | None]:
    if values.size == 0:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    p50, p99 = np.percentile(values, [50, 99]) * 1000
    return {
        "p50_ms": round(float(p50), 2),
        "p99_ms": round(float(p99), 2),
        "max_ms": round(float(values.max() * 1000), 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the hub and the client processes, publish for ``--duration``, wait for the
    hub to send what it has, and gather what the clients received; the figures."""
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    system, endpoint = _start_hub(args.queue)
    context = mp.get_context("spawn")
    ready, results, stop = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(target=_worker, args=(endpoint.ws_url, n, ready, stop, results))
        for n in _split(args.clients, args.client_procs)
        if n
    ]
    for worker in workers:
        worker.start()
    connected = sum(ready.get(timeout=60) for _ in workers)
    mix = tuple(float(x) for x in args.mix.split(","))
    assert len(mix) == 3, "--mix is book,signal,trade"

    started = time.perf_counter()
    published = _publish(system, args.rate, args.duration, mix)
    publish_seconds = time.perf_counter() - started
    _drain(system, endpoint.url)
    stop.set()
    ordered_all, book_all, counts = _collect(workers, results)
    elapsed = time.perf_counter() - started

    metrics = _scrape(endpoint.url)
    system.shutdown()
    ordered_published = sum(1 for k in _events(mix, published) if k != "book")
    frames = sum(counts.values())
    return {
        "clients": connected,
        "client_procs": len(workers),
        "target_rate": args.rate,
        "duration_s": args.duration,
        "published": published,
        "publish_rate": round(published / publish_seconds, 1),
        "ordered_published": ordered_published,
        "ordered_delivered": int(ordered_all.size),
        "ordered_delivery_ratio": round(
            ordered_all.size / max(1, ordered_published * connected), 4
        ),
        "ordered_latency": _percentiles(ordered_all),
        "book_frames_delivered": int(book_all.size),
        "book_latency": _percentiles(book_all),
        "frames_by_type": counts,
        "frames_per_s": round(frames / elapsed, 1),
        "hub_resyncs": metrics.get("sol15_ws_resyncs_total", 0.0),
        "hub_drops": metrics.get("sol15_ws_clients_dropped_total", 0.0),
        "hub_overflows": metrics.get("sol15_hub_overflows_total", 0.0),
    }


def _start_hub(queue: int) -> tuple[Any, Any]:
    """The hub alone under a root supervisor, as the bot runs it; the system and the hub's
    endpoint (an OS-chosen port). Imported here: the client processes never need it."""
    from actors.ws_hub import WebSocketHub
    from hub.config import HubConfig
    from messages.queries import GetEndpoint
    from runtime.supervisor import ChildSpec, SupervisorSpec
    from runtime.system import ActorSystem

    system = ActorSystem(seed=1)
    config = HubConfig(port=0, client_queue=queue, history_limit=5_000)
    system.start(SupervisorSpec("root", (ChildSpec.of("hub", WebSocketHub, config),)))
    return system, system.ask("hub", GetEndpoint())


def _split(clients: int, procs: int) -> list[int]:
    """``clients`` spread over ``procs`` processes, the first ones taking the remainder."""
    per = [clients // procs] * procs
    for i in range(clients % procs):
        per[i] += 1
    return per


def _drain(system: Any, url: str) -> None:
    """Wait until the actor has handed everything over and the loop has sent it (bounded by
    30 s), then for the last frames' trip through the clients' sockets."""
    from runtime.quiescence import quiesce

    quiesce(system, timeout=60)
    sent, deadline = -1.0, time.perf_counter() + 30.0
    while time.perf_counter() < deadline:
        now_sent = _scrape(url).get("sol15_ws_frames_sent_total", 0.0)
        if now_sent == sent:
            break
        sent = now_sent
        time.sleep(0.5)
    time.sleep(0.5)  # the last frames' trip through the clients' sockets


def _collect(workers: list[Any], results: Any) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Every client process's latencies (ordered events, book updates) and frame counts,
    merged; the processes joined."""
    ordered_parts, book_parts = [], []
    counts: dict[str, int] = {}
    for _ in workers:
        ordered, book, count = results.get(timeout=60)
        ordered_parts.append(ordered)
        book_parts.append(book)
        for key, value in count.items():
            counts[key] = counts.get(key, 0) + value
    for worker in workers:
        worker.join(timeout=10)
    ordered_all = np.concatenate(ordered_parts) if ordered_parts else np.empty(0)
    book_all = np.concatenate(book_parts) if book_parts else np.empty(0)
    return ordered_all, book_all, counts


def _scrape(url: str) -> dict[str, float]:
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        base = name.split("{", 1)[0]
        found[base] = found.get(base, 0.0) + float(value)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2000.0, help="events per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of publishing")
    parser.add_argument(
        "--mix", default="60,25,15", help="book,signal,trade proportions (default 60,25,15)"
    )
    parser.add_argument("--queue", type=int, default=256, help="per-client queue size")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(orjson.dumps(result).decode())
        return 0
    lat, book = result["ordered_latency"], result["book_latency"]
    print(
        f"{result['clients']} clients, {result['published']} events at "
        f"{result['publish_rate']:.0f}/s (target {args.rate:.0f}/s, mix book/signal/trade {args.mix})"
    )
    print(
        f"ordered events (signals, trades): delivered {result['ordered_delivered']} of "
        f"{result['ordered_published']} × {result['clients']} "
        f"({result['ordered_delivery_ratio']:.2%}); latency p50 {lat['p50_ms']} ms, "
        f"p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms"
    )
    print(
        f"book updates (coalesced ≤10/s/client/ticker): {result['book_frames_delivered']} frames; "
        f"latency p50 {book['p50_ms']} ms, p99 {book['p99_ms']} ms"
    )
    print(
        f"throughput: {result['frames_per_s']:.0f} frames/s to clients; resyncs "
        f"{result['hub_resyncs']:.0f}, drops {result['hub_drops']:.0f}, "
        f"overflows {result['hub_overflows']:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
