"""``/metrics``: the runtime, the orders and the hub itself in Prometheus text format.

Each hub has its own ``CollectorRegistry`` (two hubs in one test process must not
collide, and nothing else registers into it). Runtime figures are read when
scraped, so there is nothing to keep in sync.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from hub.store import HubStore
from runtime.address import AddressState
from runtime.system import ActorSystem

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TRADING_STATES = ("running", "waiting_for_data", "stopped", "halted")


class RuntimeCollector(Collector):
    """Per-actor messages, mailboxes, restarts and dead letters; order counts and P&L."""

    def __init__(self, system: ActorSystem, store: HubStore) -> None:
        self.system = system
        self.store = store

    def describe(self) -> list[object]:
        return []  # dynamic label sets: nothing to check at registration

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        yield from self._actors()
        yield from self._trading()

    def _actors(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        sent = CounterMetricFamily(
            "sol15_actor_messages_sent", "Messages sent to each actor address", labels=["actor"]
        )
        handled = CounterMetricFamily(
            "sol15_actor_messages_handled",
            "Messages handled by the current incarnation of each actor",
            labels=["actor"],
        )
        mailbox = GaugeMetricFamily(
            "sol15_actor_mailbox_size", "Messages waiting in each mailbox", labels=["actor"]
        )
        up = GaugeMetricFamily("sol15_actor_up", "1 while the actor is running", labels=["actor"])
        for address in self.system.addresses():
            if address.state is AddressState.UNBOUND:
                continue
            sent.add_metric([address.name], address.sent)
            handled.add_metric([address.name], address.handled)
            mailbox.add_metric([address.name], address.mailbox_size() + address.buffered())
            up.add_metric([address.name], 1 if address.state is AddressState.RUNNING else 0)
        yield from (sent, handled, mailbox, up)

        restarts = CounterMetricFamily(
            "sol15_actor_restarts", "Restarts of each supervised actor", labels=["actor"]
        )
        try:
            nodes = self.system.tree(timeout=2.0).walk()
        except Exception:  # no root yet, or a supervisor busy restarting: skip this scrape
            nodes = []
        for node in nodes:
            restarts.add_metric([node.name], node.restarts)
        yield restarts

        letters = self.system.dead_letters
        dead = CounterMetricFamily(
            "sol15_dead_letters", "Messages that could not be delivered", labels=["actor"]
        )
        for name, count in sorted(letters.by_name.items()):
            dead.add_metric([name], count)
        yield dead

    def _trading(self) -> Iterator[GaugeMetricFamily]:
        orders = GaugeMetricFamily("sol15_orders", "Orders by status", labels=["status"])
        for status, count in sorted(self.store.history.status_counts().items()):
            orders.add_metric([status], count)
        yield orders

        metrics = self.store.state.risk_metrics()
        for key, help_text in (
            ("daily_pnl", "Profit and loss today, dollars"),
            ("realized_pnl", "Realized P&L today, dollars"),
            ("unrealized_pnl", "Unrealized P&L, dollars"),
            ("exposure", "Dollars at risk in open positions"),
            ("reserved", "Dollars reserved for approved orders"),
            ("fees_paid", "Fees paid today, dollars"),
        ):
            gauge = GaugeMetricFamily(f"sol15_{key}_dollars", help_text)
            gauge.add_metric([], float(Decimal(str(metrics[key]))))
            yield gauge
        positions = GaugeMetricFamily("sol15_open_positions", "Open positions")
        positions.add_metric([], int(metrics["open_positions"]))
        breaker = GaugeMetricFamily("sol15_circuit_breaker_triggered", "1 when the breaker is open")
        breaker.add_metric([], 1 if metrics["circuit_breaker_triggered"] else 0)
        state = GaugeMetricFamily(
            "sol15_trading_state", "1 for the current state", labels=["state"]
        )
        current = self.store.state.trading_state()
        for name in TRADING_STATES:
            state.add_metric([name], 1 if name == current else 0)
        yield from (positions, breaker, state)


class _FeedCollector(Collector):
    def __init__(self) -> None:
        self.sources: tuple[Callable[[], int], Callable[[], int], Callable[[], int]] | None = None

    def describe(self) -> list[object]:
        return []

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        clients = sent = overflows = 0
        if self.sources is not None:
            clients, sent, overflows = (source() for source in self.sources)
        gauge = GaugeMetricFamily("sol15_ws_clients", "Connected WebSocket clients")
        gauge.add_metric([], clients)
        frames = CounterMetricFamily("sol15_ws_frames_sent", "WebSocket frames sent to clients")
        frames.add_metric([], sent)
        behind = CounterMetricFamily(
            "sol15_hub_overflows", "Times the event loop fell behind and every client was resynced"
        )
        behind.add_metric([], overflows)
        yield from (gauge, frames, behind)


class HubMetrics:
    """The hub's own instruments plus the runtime collector, in one private registry."""

    def __init__(self, system: ActorSystem, store: HubStore) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.order_latency = Histogram(
            "sol15_order_latency_seconds",
            "Order intent created → first update from the exchange",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.events = Counter(
            "sol15_hub_events", "Bus events the hub handled", ["type"], registry=registry
        )
        self.resyncs = Counter(
            "sol15_ws_resyncs",
            "Slow clients given a fresh status instead of a backlog",
            registry=registry,
        )
        self.drops = Counter(
            "sol15_ws_clients_dropped",
            "Clients dropped for not reading",
            ["reason"],
            registry=registry,
        )
        self.http_requests = Counter(
            "sol15_http_requests", "HTTP requests by status", ["status"], registry=registry
        )
        registry.register(RuntimeCollector(system, store))

        self._feed = _FeedCollector()
        registry.register(self._feed)

    def track_feed(
        self,
        clients: Callable[[], int],
        frames_sent: Callable[[], int],
        overflows: Callable[[], int],
    ) -> None:
        """Read the fan-out's own counters at scrape time (kept as plain ints on the hot path)."""
        self._feed.sources = (clients, frames_sent, overflows)

    def render(self) -> bytes:
        """The text exposition; blocks briefly (asks the supervisors), so call it off the loop."""
        return generate_latest(self.registry)
