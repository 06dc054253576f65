"""Tick-to-order latency and watcher throughput through the real actors and the real Kalshi client.

The simulator runs in its own process (``python run.py exchange-sim``). The bot's
market-data, strategy, risk and order actors run here exactly as in ``sim`` mode.
For each sample the benchmark hands the market's watcher an order-book delta —
the same event the WebSocket thread delivers — that opens an edge (a cheap ask
on the side the model favours), and measures the time until the OrderActor's
HTTP request for it starts being written to the socket. Then it removes the
level, waits for the IOC order to finish, and goes again.

    python bench/tick_to_order.py [--events 1000] [--updates 50000] [--ledger URL]
                                  [--series S1,S2,…|all] [--sim-series S1,…|all]
                                  [--latencies FILE] [--json]

``--series KXBTC15M,KXETH15M,…`` (or ``all``) runs every one of those series live in the
simulator and the bot (one WebSocket, a SpotFeed per index, a watcher per market) while
the edges are opened in one market; the figures then also give each watcher's deepest
mailbox over the run (sampled after every edge): 0–1 means it kept up with its book.
``--sim-series`` makes the simulator run other series than the bot trades (default: the
same), to tell the bot's own cost of more series from the simulator's, which shares this
machine's cores (a real exchange does not). Every run reports the CPU seconds the bot and
the simulator used while the edges were sampled.
The one strategy actor trades every market at the bench's settings (no cooldown, no cap).
In the other series' markets that would be tens of orders a second, while the bot's own
defaults allow 30 a minute in all, so by default (``--others capped``) each other series
may hold $50: it buys that, then its signals (one per book change) are refused by the
risk actor. ``--others free`` lifts the cap: a stress test of the order path. The figures
give the orders the other markets sent while the edges were sampled (``other_orders_per_s``).
``--console`` adds the ConsoleReporter and writes its INFO lines to stderr, as the bot does.
``--ledger URL`` adds the LedgerActor and the order actor's write-ahead handle (every
intent committed to that database before its request is sent), as the bot runs.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import orjson
from loguru import logger

from actors.console import CONSOLE, ConsoleReporter
from actors.discovery import MarketDiscovery
from actors.ledger import LedgerActor
from actors.market_stream import MarketStream, spot_feeds, watcher_name
from actors.order import OrderActor
from actors.risk import RiskActor
from actors.spot_feed import SpotFeed
from actors.strategy import StrategyActor, strategy_address
from bench.sim_process import exchange_process
from bench.stats import cpu_seconds, percentile, rss_mb
from kalshi.auth import Signer
from kalshi.connection import ExchangeConnection
from kalshi.indices import index_for
from kalshi.rest import KalshiRestClient
from kalshi.tickers import SERIES
from kalshi.ws_events import OrderbookDeltaEvent
from messages.ledger import LEDGER
from messages.market_data import MarketInfo
from messages.queries import Describe, GetBook, GetMarkets
from messages.trading import OrderUpdate
from risk.limits import RiskLimits
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import MARKETS, ORDERS
from runtime.restart_policy import Strategy
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from simulator.catalog import parse_series
from storage import Database, open_database, prepare
from storage.journal import Item
from storage.writer import Written
from storage.writer_process import ProcessWriter

ORDERS_PATH = "/portfolio/events/orders"  # V2 create
MEASURED = strategy_address("kelly_volatility")  # the actor trading the measured market
# One market a day: the model stays near even odds, where an edge can be opened on either
# side, except in the last minutes before 00:00 UTC.
WINDOW_SECONDS = 86_400
# A balance the strategy's own trades in the other markets cannot run out of: an edge
# refused for insufficient funds would stop the run.
SIM_ARGS = ("--window-seconds", str(WINDOW_SECONDS), "--starting-balance", "1000000000")


class OrderWrites:
    """Timestamps each order request as the transport starts sending it."""

    def __init__(self) -> None:
        self.sent = threading.Event()
        self.at = 0.0

    def expect(self) -> None:
        self.sent.clear()

    def mark(self) -> None:
        self.at = time.perf_counter()
        self.sent.set()


class TimingTransport(httpx.HTTPTransport):
    def __init__(self, writes: OrderWrites) -> None:
        super().__init__()
        self.writes = writes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith(ORDERS_PATH):
            self.writes.mark()
        return super().handle_request(request)


@contextlib.contextmanager
def ledger_write_spans() -> Iterator[list[tuple[float, float]]]:
    """Collects when the ledger's writer was busy: ``(start, end)`` of every batch it
    wrote during the block, ``perf_counter`` seconds (a benchmark-only wrapper)."""
    spans: list[tuple[float, float]] = []
    original = ProcessWriter.write

    def timed(writer: ProcessWriter, items: Sequence[Item]) -> Written:
        start = time.perf_counter()
        try:
            return original(writer, items)
        finally:
            spans.append((start, time.perf_counter()))

    ProcessWriter.write = timed  # type: ignore[method-assign,assignment]
    try:
        yield spans
    finally:
        ProcessWriter.write = original  # type: ignore[method-assign]


def overlapping(windows: list[tuple[float, float]], spans: list[tuple[float, float]]) -> list[bool]:
    """For each sample window, whether a ledger write was under way during it."""
    ordered = sorted(spans)
    starts = [a for a, _ in ordered]
    longest = max((b - a for a, b in ordered), default=0.0)
    flags = []
    for begin, end in windows:
        # Spans starting before ``end`` and late enough that they may reach ``begin``.
        first = bisect.bisect_left(starts, begin - longest)
        last = bisect.bisect_left(starts, end)
        flags.append(any(ordered[i][1] > begin for i in range(first, last)))
    return flags


@dataclass(frozen=True)
class TimedConnection(ExchangeConnection):
    writes: OrderWrites | None = None

    def rest(
        self, *, presign_orders: bool = False, timeout: float = 5.0, max_attempts: int = 4
    ) -> KalshiRestClient:
        transport = TimingTransport(self.writes) if presign_orders and self.writes else None
        return KalshiRestClient(
            self.api_base,
            self.signer,
            rate_limit=False,
            presign_orders=presign_orders,
            transport=transport,
            timeout=timeout,
            max_attempts=max_attempts,
        )


@dataclass(frozen=True, slots=True)
class Measure:
    """Recorder: end samples on orders in this market only."""

    ticker: str


@dataclass(frozen=True, slots=True)
class OtherOrders:
    """Recorder: how many orders it has seen in markets other than the measured one."""


class Recorder(SupervisedActor):
    """Keeps the latest market info and signals when an order in the measured market reaches
    a final state (orders the strategy places in other markets on its own must not end a
    sample early: the next edge would queue behind the order still in flight)."""

    def __init__(self, context: ActorContext, done: threading.Event) -> None:
        super().__init__(context)
        self.done = done
        self.markets: dict[str, MarketInfo] = {}
        self.measured: str | None = None
        self.others: set[str] = set()  # client order ids in the other markets

    def setup(self) -> None:
        self.subscribe(MARKETS, ORDERS)

    def handle(self, message: Any) -> Any:
        if isinstance(message, MarketInfo):
            self.markets[message.ticker] = message
        elif isinstance(message, OrderUpdate):
            self._order(message)
        elif isinstance(message, Measure):
            self.measured = message.ticker
        elif isinstance(message, GetMarkets):
            return dict(self.markets)
        elif isinstance(message, OtherOrders):
            return len(self.others)
        return None

    def _order(self, update: OrderUpdate) -> None:
        if update.ticker != self.measured:
            self.others.add(update.client_order_id)
        elif update.status in ("executed", "canceled", "rejected"):
            self.done.set()


def _markets(series: Sequence[str]) -> dict[str, str]:
    """Series → the index it settles on (the bot's fallback table: the simulator agrees)."""
    found = {s: index_for(s) for s in series}
    missing = [s for s, index in found.items() if index is None]
    if missing:
        raise SystemExit(f"--series: no index known for {', '.join(missing)}")
    return {s: index for s, index in found.items() if index is not None}


def _tree(
    connection: ExchangeConnection,
    done: threading.Event,
    database: Database | None = None,
    console: bool = False,
    markets: dict[str, str] | None = None,
    others: str = "capped",
    kelly: Mapping[str, Any] | None = None,
) -> SupervisorSpec:
    """The bot's actors as the bench runs them (``kelly``: the strategy's settings, default
    :data:`BENCH_KELLY`)."""
    return SupervisorSpec(
        "root",
        (
            ChildSpec.of("recorder", Recorder, done),
            *((ChildSpec.of(CONSOLE, ConsoleReporter),) if console else ()),
            SupervisorSpec(
                "trading",
                (
                    *(() if database is None else (ChildSpec.of(LEDGER, LedgerActor, database),)),
                    ChildSpec.of(
                        "risk",
                        RiskActor,
                        _limits(markets, others),
                        connection,
                        ledger=None if database is None else LEDGER,
                    ),
                    ChildSpec.of("order", OrderActor, connection, database=database),
                ),
                strategy=Strategy.REST_FOR_ONE,
            ),
            _market_data(connection, markets),
            ChildSpec.of(
                MEASURED,
                StrategyActor,
                "kelly_volatility",
                dict(BENCH_KELLY if kelly is None else kelly),
                feeds=None if markets is None else spot_feeds(markets.values()),
            ),
        ),
    )


# The bench's strategy settings, for every market: an order on every edge, back to back.
# In the other series' markets the risk limits decide how far that goes (``_limits``).
BENCH_KELLY = {
    "initial_sigma": 0.6,
    "cooldown_seconds": 0,
    "vol_warmup": 1,
    "bankroll": "1000000",
    "max_contracts": 1_000_000,
}


# Dollars each other series may hold (``--others capped``): it buys that much, then its
# signals are refused, as a bot's limits stop it; the measured series has no such cap.
OTHER_SERIES_EXPOSURE = Decimal(50)
OTHERS = ("capped", "free")


def _limits(markets: dict[str, str] | None, others: str) -> RiskLimits:
    """Limits that never bind on the measured market (a loss limit or position count
    reached mid-run would refuse its edges: seven series fill the default five positions).
    With ``others`` capped, every other series has a small exposure cap: the strategy still
    signals on each of their book changes (no cooldown), but the orders stop once the cap
    is held, as the bot's own limits (30 orders a minute, a 5-s cooldown) would stop them;
    ``free`` lets them trade without end, tens of orders a second (a stress test)."""
    capped = list(markets or ())[1:] if others == "capped" else []
    return RiskLimits(
        max_orders_per_minute=1_000_000,
        max_position_size=Decimal(10**9),
        max_daily_loss=Decimal(10**9),
        circuit_breaker_pct=Decimal(1),
        max_concurrent_positions=1_000,
        min_edge=Decimal("0.03"),
        series_max_exposure=dict.fromkeys(capped, OTHER_SERIES_EXPOSURE),
    )


def _market_data(connection: ExchangeConnection, markets: dict[str, str] | None) -> SupervisorSpec:
    """One SpotFeed per index, one stream, one discovery, as the bot runs them."""
    if markets is None:  # the single-series bot as it always was
        children = [
            ChildSpec.of("spot", SpotFeed),
            ChildSpec.of("stream", MarketStream, connection),
        ]
        wanted: str | dict[str, str] = SERIES
    else:
        feeds = spot_feeds(markets.values())
        children = [
            *(ChildSpec.of(a, SpotFeed, index_id=i) for i, a in feeds.items()),
            ChildSpec.of("stream", MarketStream, connection, feeds=feeds),
        ]
        wanted = markets
    discovery = ChildSpec.of(
        "discovery",
        MarketDiscovery,
        connection,
        series=wanted,
        window_seconds=WINDOW_SECONDS,
        poll_interval=30,
    )
    return SupervisorSpec("market-data", (*children, discovery))


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        threading.Event().wait(0.05)  # set-up only: the timed path never waits like this
    raise TimeoutError(f"benchmark set-up: {what} did not happen within {timeout} s")


def _model(system: ActorSystem, ticker: str) -> tuple[float, str | None] | None:
    """The strategy's model probability for ``ticker`` and the side it holds there, if any."""
    metrics = system.ask(MEASURED, Describe())["metrics"]
    model = (metrics.get("markets", {}).get(ticker) or {}).get("model_prob")
    held = next((p["side"] for p in metrics.get("positions", []) if p["ticker"] == ticker), None)
    return None if model is None else (float(model), held)


def _edge_delta(
    ticker: str, model: float, held: str | None, size: int, seq: int
) -> OrderbookDeltaEvent:
    """A bid priced so that one side's ask is 25¢ under the model: the side already held, else the favoured one."""
    favoured_yes = held == "yes" if held else model >= 0.5
    cheap_ask = Decimal(str(max(0.05, (model if favoured_yes else 1 - model) - 0.25))).quantize(
        Decimal("0.01"), rounding=ROUND_FLOOR
    )
    bid_side = "no" if favoured_yes else "yes"
    return OrderbookDeltaEvent(ticker, bid_side, 1 - cheap_ask, Decimal(size), 0, seq)


def measure(
    events: int,
    updates: int,
    ledger: str | None = None,
    pace: float = 0.0,
    console: bool = False,
    series: Sequence[str] = (),
    sim_series: Sequence[str] | None = None,
    others: str = "capped",
) -> dict[str, Any]:
    """Start the simulator and the bot's actors, sample ``events`` edges and ``updates``
    book updates; the figures as printed (``--json``) and kept in docs/benchmarks.md."""
    logger.remove()
    logger.add(sys.stderr, level="INFO" if console else "WARNING")
    database = _ledger_database(ledger)
    markets = _markets(series) if series else None
    simulated = series if sim_series is None else sim_series
    sim_args = ("--series", ",".join(simulated)) if simulated else ()
    with (
        tempfile.TemporaryDirectory() as tmp,
        exchange_process(Path(tmp), *SIM_ARGS, *sim_args) as sim,
        ledger_write_spans() as spans,
    ):
        writes = OrderWrites()
        done = threading.Event()
        signer = Signer.from_file(sim["KALSHI_API_KEY"], sim["KALSHI_PRIVATE_KEY_PATH"])
        connection = TimedConnection(
            sim["KALSHI_API_BASE"], sim["KALSHI_WS_URL"], signer, rate_limited=False, writes=writes
        )
        system = ActorSystem(seed=1)
        system.start(_tree(connection, done, database, console, markets, others))
        try:
            run = _sample(system, int(sim["SIM_PID"]), writes, done, series, events, pace, updates)
        finally:
            system.shutdown()
            if database is not None:
                database.dispose()
    return {
        "ledger": None if database is None else database.safe_url,
        "events": events,
        "p50_us": round(percentile(run.latencies, 50), 1),
        "p99_us": round(percentile(run.latencies, 99), 1),
        "updates_per_s": round(run.throughput),
        "rss_mb": round(rss_mb(), 1),
        "latencies_us": run.latencies,
        "ledger_writes": len(spans),
        "during_ledger_write": overlapping(run.windows, spans),
        "ticker": run.ticker,
        "series": list(series) or ["KXSOL15M"],
        "sim_series": list(simulated) or ["KXSOL15M"],
        "others": others if len(series) > 1 else None,
        "other_orders_per_s": round(run.other_orders / run.wall, 2),
        "sampling_cpu_s": {"bot": round(run.bot_cpu, 2), "simulator": round(run.sim_cpu, 2)},
        "watchers": len(run.deepest),
        "deepest_watcher_mailbox": max(run.deepest.values(), default=0),
    }


def _ledger_database(ledger: str | None) -> Database | None:
    """The ledger the run writes to, created or migrated first so its set-up is not timed."""
    if ledger is None:
        return None
    database = open_database(ledger)
    prepare(database)
    return database


@dataclass
class _Run:
    """What one run sampled, before it is rounded into the figures."""

    ticker: str
    latencies: list[float]
    windows: list[tuple[float, float]]
    throughput: float
    bot_cpu: float
    sim_cpu: float
    wall: float  # seconds the edges took, start to end
    other_orders: int  # orders placed in the other markets meanwhile
    deepest: dict[str, int]


def _sample(
    system: ActorSystem,
    sim_pid: int,
    writes: OrderWrites,
    done: threading.Event,
    series: Sequence[str],
    events: int,
    pace: float,
    updates: int,
) -> _Run:
    """Wait for a tradeable market and its model, then time the edges (with the CPU both
    processes spent on them) and the watcher's update throughput."""
    live = _wait(
        lambda: _tradeable(system, len(series) or 1),
        60,
        "a tradeable market in every series",
    )
    # the first series' market (KXSOL15M for ``all``): the same market and index as
    # the single-series run it is compared with
    first = (series or ["KXSOL15M"])[0]
    ticker = min(t for t in live if t.startswith(f"{first}-"))
    watcher = system.address(watcher_name(ticker))
    system.ask("recorder", Measure(ticker))
    _wait(lambda: _model(system, ticker) is not None, 30, "a model probability")
    deepest: dict[str, int] = {}
    cpu = (time.process_time(), cpu_seconds(sim_pid))
    began, orders = time.perf_counter(), system.ask("recorder", OtherOrders())
    latencies, windows = _sample_edges(system, writes, done, ticker, events, pace, deepest)
    wall = time.perf_counter() - began
    other_orders = system.ask("recorder", OtherOrders()) - orders
    bot_cpu = time.process_time() - cpu[0]
    sim_cpu = cpu_seconds(sim_pid) - cpu[1]
    throughput = _throughput(system, watcher, ticker, updates) if updates else 0.0
    return _Run(
        ticker, latencies, windows, throughput, bot_cpu, sim_cpu, wall, other_orders, deepest
    )


def _sample_edges(
    system: ActorSystem,
    writes: OrderWrites,
    done: threading.Event,
    ticker: str,
    events: int,
    pace: float,
    deepest: dict[str, int],
) -> tuple[list[float], list[tuple[float, float]]]:
    """Open ``events`` edges in ``ticker``'s book; each one's time to its order request."""
    watcher = system.address(watcher_name(ticker))
    latencies = []
    windows = []
    pause = threading.Event()  # never set: a wait on it is a plain pause
    seq = 10**9
    for _ in range(events):
        model, held = _model(system, ticker) or (0.5, None)
        seq += 1
        delta = _edge_delta(ticker, model, held, 50, seq)
        writes.expect()
        done.clear()
        started = time.perf_counter()
        watcher.tell(delta)
        if not writes.sent.wait(5):
            metrics = system.ask(MEASURED, Describe())["metrics"]
            raise TimeoutError(f"no order request followed an edge: {delta} {metrics}")
        latencies.append((writes.at - started) * 1e6)
        windows.append((started, writes.at))
        done.wait(5)
        seq += 1
        watcher.tell(OrderbookDeltaEvent(ticker, delta.side, delta.price, -delta.delta, 0, seq))
        watcher.ask(GetBook())  # barrier: the level is gone before the next sample
        system.ask(MEASURED, Describe())  # barrier: it saw the order end
        _deepest_watchers(system, deepest)
        if pace:
            pause.wait(pace)  # untimed: the next edge comes this much later
    return latencies, windows


def _tradeable(system: ActorSystem, series_count: int) -> dict[str, MarketInfo] | None:
    """The tradeable markets, once every series has one."""
    markets = {t: m for t, m in system.ask("recorder", GetMarkets()).items() if m.tradeable}
    prefixes = {t.split("-", 1)[0] for t in markets}
    return markets if len(prefixes) >= series_count else None


def _deepest_watchers(system: ActorSystem, deepest: dict[str, int]) -> None:
    """Keep each watcher's deepest mailbox seen so far (a backlog would grow without bound)."""
    for address in system.addresses():
        if address.name.startswith("watcher:"):
            size = address.mailbox_size()
            deepest[address.name] = max(size, deepest.get(address.name, 0))


def _throughput(system: ActorSystem, watcher: Any, ticker: str, updates: int) -> float:
    """Book deltas per second the watcher applies and publishes, with its subscribers attached."""
    price = Decimal("0.02")  # deep in the book: changes depth, never the edge
    events = [
        OrderbookDeltaEvent(
            ticker, "yes", price, Decimal(1 if i % 2 == 0 else -1), 0, 2 * 10**9 + i
        )
        for i in range(updates)
    ]
    watcher.tell(OrderbookDeltaEvent(ticker, "yes", price, Decimal(5), 0, 2 * 10**9 - 1))
    watcher.ask(GetBook())
    started = time.perf_counter()
    for event in events:
        watcher.tell(event)
    watcher.ask(GetBook(), timeout=120)  # every delta before this is applied and published
    return updates / (time.perf_counter() - started)


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    found.add_argument("--events", type=int, default=1000, help="edges to measure (default 1000)")
    found.add_argument(
        "--updates", type=int, default=50_000, help="book deltas for the throughput run"
    )
    found.add_argument(
        "--ledger",
        metavar="URL",
        help="attach the ledger and the write-ahead handle, writing to this database",
    )
    found.add_argument(
        "--console", action="store_true", help="attach the console lines (INFO, to stderr)"
    )
    found.add_argument(
        "--series",
        default="",
        help="series live at once (comma-separated, or all); default: KXSOL15M alone",
    )
    found.add_argument(
        "--sim-series",
        default=None,
        help="series the simulator runs (comma-separated, or all); default: those of --series",
    )
    found.add_argument(
        "--others",
        choices=OTHERS,
        default="capped",
        help="the other series' markets: capped at $50 each (default; they stop ordering "
        "once they hold it) or free to order on every edge (a stress test)",
    )
    found.add_argument(
        "--latencies", metavar="FILE", help="also write every edge's latency (µs, JSON list)"
    )
    found.add_argument("--json", action="store_true", help="print one JSON object")
    return found


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    series = parse_series(args.series) if args.series else []
    simulated = None if args.sim_series is None else parse_series(args.sim_series)
    figures = measure(
        args.events,
        args.updates,
        args.ledger,
        console=args.console,
        series=series,
        sim_series=simulated,
        others=args.others,
    )
    if args.latencies:
        Path(args.latencies).write_bytes(orjson.dumps(figures["latencies_us"]))
    if args.json:
        per_sample = ("latencies_us", "during_ledger_write")
        print(orjson.dumps({k: v for k, v in figures.items() if k not in per_sample}).decode())
    else:
        _print(figures)
    return 0


def _print(figures: dict[str, Any]) -> None:
    """The figures as lines of text."""
    ledger = f", ledger {figures['ledger']}" if figures["ledger"] else ""
    print(
        f"tick -> order request: p50 {figures['p50_us']:.0f} us, "
        f"p99 {figures['p99_us']:.0f} us ({figures['events']} edges{ledger})"
    )
    print(f"watcher throughput: {figures['updates_per_s']:,.0f} book updates/s")
    print(f"peak RSS: {figures['rss_mb']:.0f} MB")
    cpu = figures["sampling_cpu_s"]
    print(f"CPU while sampling: bot {cpu['bot']:.2f} s, simulator {cpu['simulator']:.2f} s")
    if len(figures["series"]) > 1:
        print(
            f"{len(figures['series'])} series live, {figures['watchers']} watchers, deepest "
            f"watcher mailbox {figures['deepest_watcher_mailbox']}, other markets "
            f"{figures['others']}: {figures['other_orders_per_s']} orders/s"
        )


if __name__ == "__main__":
    sys.exit(main())
