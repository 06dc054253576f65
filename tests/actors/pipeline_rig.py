"""Shared pieces for the trading-pipeline tests: a waitable log, a deterministic signal
source, and the market-data + trading subtrees running against the in-process simulator.

Everything that crosses a socket is awaited on an event (``WaitLog.wait_until``) with a
timeout; everything in process is awaited with ``quiesce``/``settle``. No sleeps.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from actors.discovery import MarketDiscovery
from actors.ledger import LedgerActor
from actors.market_stream import MarketStream, spot_feeds
from actors.order import OrderActor
from actors.risk import RiskActor
from actors.spot_feed import SpotFeed
from app.series import resolve_series
from config.series import SeriesSettings
from execution.kalshi_broker import SessionOrderGroup
from kalshi.auth import Signer
from kalshi.connection import ExchangeConnection
from messages.base import message
from messages.ledger import LEDGER
from messages.market_data import BookUpdate, MarketInfo, SpotTick
from messages.queries import GetStatus, Query
from messages.status import RiskStatus
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Signal
from messages.vocabulary import TimeInForce
from risk.limits import RiskLimits
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import ALERTS, BOOK, FILLS, MARKETS, ORDERS, SIGNALS, SPOT, SYSTEM
from runtime.clock import SimClock
from runtime.quiescence import quiesce, settle
from runtime.restart_policy import Backoff, Strategy
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from simulator.catalog import with_series
from simulator.config import ExchangeConfig
from simulator.testing import SimHandle, running_exchange
from storage import Database, open_database, prepare
from tests.actors.probe import Probe, ProbeLog

SMALL_LIMITS = RiskLimits(
    max_position_size=Decimal(6),
    max_daily_loss=Decimal(100),
    circuit_breaker_pct=Decimal("0.5"),
    max_concurrent_positions=2,
    min_edge=Decimal("0.03"),
    max_orders_per_minute=30,
)
"""Limits a few contracts fill: a second order soon meets one of them."""

# Restarts happen at once on the simulated clock: ``settle`` never moves time.
NO_BACKOFF = Backoff(initial=0.0, maximum=0.0, jitter=0.0)
SIGNAL_SOURCE = "signaller"
PROBE = "probe"
EVERY_TOPIC = (BOOK, SPOT, MARKETS, SIGNALS, ORDERS, FILLS, ALERTS, SYSTEM, LEDGER)


class WaitLog(ProbeLog):
    """A ``ProbeLog`` that can also wait for a condition over everything received so far."""

    def wait_until(
        self, condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
    ) -> None:
        """Re-check ``condition`` on every message that arrives, until true or ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
                self._cond.wait(left)

    def notify(self) -> None:
        """Wake waiters after a change they cannot see as a message (e.g. the exchange)."""
        with self._cond:
            self._cond.notify_all()


# -- a deterministic signal source ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fire:
    """Send ``times`` signals for ``ticker`` at the current best ask (or at ``price``)."""

    ticker: str
    quantity: int = 1
    times: int = 1
    direction: str = "yes"
    action: str = "buy"
    price: Decimal | None = None
    edge: Decimal = Decimal("0.30")


@message("test_get_books")
class GetBooks(Query):
    """The signaller: the latest book of each ticker."""


class Signaller(SupervisedActor):
    """Stands in for the strategies: it signals exactly when a test tells it to.

    Signal ids are ``<incarnation>-<n>`` so a restarted source never reuses one. The
    answer to a ``Fire`` (when asked) is the tuple of signals it sent.
    """

    def __init__(self, context: ActorContext, strategy_name: str = "pipeline-test") -> None:
        super().__init__(context)
        self.strategy_name = strategy_name
        self.books: dict[str, BookUpdate] = {}
        self._ids = itertools.count(1)

    def setup(self) -> None:
        self.subscribe(BOOK)

    def handle(self, message: Any) -> Any:
        if isinstance(message, BookUpdate):
            self.books[message.ticker] = message
            return None
        if isinstance(message, Fire):
            return self._fire(message)
        if isinstance(message, GetBooks):
            return dict(self.books)
        return super().handle(message)

    def _fire(self, fire: Fire) -> tuple[Signal, ...]:
        book = self.books.get(fire.ticker)
        price = fire.price
        if price is None:
            if book is None:
                raise LookupError(f"no book for {fire.ticker} yet")
            price = book.yes_ask if fire.direction == "yes" else book.no_ask
            if price is None:
                raise LookupError(f"no {fire.direction} ask in {fire.ticker}")
        sent = []
        for _ in range(fire.times):
            signal = Signal(
                signal_id=f"{self.context.incarnation}-{next(self._ids)}",
                strategy_name=self.strategy_name,
                ticker=fire.ticker,
                direction=fire.direction,
                edge=fire.edge,
                model_prob=Decimal("0.9") if fire.direction == "yes" else Decimal("0.1"),
                market_price=price,
                quantity=fire.quantity,
                timestamp=self.clock.now(),
                action=fire.action,
            )
            self.system.tell("risk", signal)
            self.publish(SIGNALS, signal)
            sent.append(signal)
        return tuple(sent)


# -- the pipeline against the simulator -----------------------------------------------------


@dataclass
class Pipeline:
    sim: SimHandle
    system: ActorSystem
    clock: SimClock
    log: WaitLog
    connection: ExchangeConnection
    limits: RiskLimits
    database: Database | None = None
    ticker: str = ""
    # with several series: series → the index it settles on, and its market open now
    series: dict[str, str] = field(default_factory=dict)
    tickers: dict[str, str] = field(default_factory=dict)

    # time and barriers ------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move the exchange and the bot's clock together."""
        self.sim.advance(seconds)
        self.clock.advance_to(self.sim.now())

    def settle(self) -> None:
        settle(self.system, self.clock, timeout=20.0)

    def quiesce(self) -> None:
        quiesce(self.system, timeout=20.0)

    def fresh_market_data(self, timeout: float = 10.0) -> None:
        """Advance until risk has a live book for the current market and a fresh index print.

        Both travel over the WebSocket; the probe gets each message in the same ``publish``
        call as risk and the signal source, so once the probe has them, so do they.
        """
        ticker = self.ticker
        tickers = set(self.tickers.values()) or {ticker}
        indices = set(self.series.values())
        deadline = time.monotonic() + timeout
        start = len(self.log.messages)
        while True:
            seen = len(self.log.messages)
            self.advance(1)
            now = self.clock.now()

            def fresh(seen: int = seen, now: float = now) -> bool:
                new = self.log.messages[seen:]  # only what this advance brought
                # one market: its book in this advance; several: each since the call began
                since = new if len(tickers) == 1 else self.log.messages[start:]
                books = {
                    u.ticker
                    for u in since
                    if isinstance(u, BookUpdate) and u.ticker in tickers and not u.stale
                }
                spots = {
                    t.index
                    for t in new
                    if isinstance(t, SpotTick) and not t.stale and t.ts >= now - 1
                }
                return books == tickers and bool(spots) and indices <= spots

            left = deadline - time.monotonic()
            try:
                self.log.wait_until(
                    fresh, timeout=max(0.1, min(1.0, left)), what=f"fresh market data ({ticker})"
                )
            except AssertionError:
                if time.monotonic() >= deadline:
                    raise
                continue
            self.quiesce()
            return

    # the bot --------------------------------------------------------------------------

    def fire(self, fire: Fire) -> tuple[Signal, ...]:
        sent: tuple[Signal, ...] = self.system.ask(SIGNAL_SOURCE, fire, timeout=10)
        return sent

    def risk_status(self) -> RiskStatus:
        status: RiskStatus = self.system.ask("risk", GetStatus(), timeout=10)
        return status

    def intents(self) -> list[OrderIntent]:
        return self.log.of(OrderIntent)

    def decisions(self) -> list[RiskDecision]:
        return self.log.of(RiskDecision)

    def decision_for(self, signal: Signal) -> RiskDecision:
        self.log.wait_until(
            lambda: any(d.signal_id == signal.signal_id for d in self.decisions()),
            what=f"the decision on {signal.signal_id}",
        )
        return next(d for d in self.decisions() if d.signal_id == signal.signal_id)

    def updates(self, client_order_id: str) -> list[OrderUpdate]:
        return [u for u in self.log.of(OrderUpdate) if u.client_order_id == client_order_id]

    # the exchange ---------------------------------------------------------------------

    def exchange_orders(self) -> list[Any]:
        user = self.sim.user_id
        return self.sim.call(lambda ex: ex.orders(user))

    def exchange_fills(self) -> list[Any]:
        user = self.sim.user_id
        return self.sim.call(lambda ex: ex.fills(user))

    def exchange_positions(self) -> dict[str, tuple[Decimal, Decimal]]:
        """Signed position (YES > 0) and cost of the contracts held, per ticker."""
        user = self.sim.user_id
        states = self.sim.call(lambda ex: ex.positions(user))
        return {s.ticker: (s.position, s.exposure) for s in states if s.position != 0}

    def wait_fills_published(self, timeout: float = 10.0) -> None:
        """Every exchange fill for our user has been published on ``fills`` (by trade id)."""
        wanted = {f.fill_id for f in self.exchange_fills()}
        self.log.wait_until(
            lambda: wanted <= {f.trade_id for f in self.log.of(Fill)},
            timeout=timeout,
            what=f"{len(wanted)} exchange fills to be published",
        )
        self.quiesce()


@contextmanager
def exchange_paused(sim: SimHandle, timeout: float = 5.0) -> Iterator[None]:
    """Hold the exchange's event loop: every request waits (unanswered) until the block ends.

    An order actor that sends an order meanwhile is stuck inside that request, so what
    is told to it queues in its mailbox, deterministically.
    """
    entered, release = threading.Event(), threading.Event()

    def hold(_: Any) -> None:
        entered.set()
        release.wait(timeout)

    holder = threading.Thread(target=lambda: sim.call(hold, timeout=timeout + 5), daemon=True)
    holder.start()
    if not entered.wait(timeout):
        raise AssertionError("the exchange loop could not be paused")
    try:
        yield
    finally:
        release.set()
        holder.join(timeout + 5)


def open_ticker(sim: SimHandle, series: str) -> str:
    """The ticker of ``series``' market open for trading now."""
    market = sim.call(lambda ex: ex.current_market(series))
    if market is None:
        raise LookupError(f"no {series} market is open right now")
    ticker: str = market.ticker
    return ticker


def _ticker_is(ticker: str) -> Callable[[MarketInfo], bool]:
    return lambda info: info.ticker == ticker


@contextmanager
def running_pipeline(
    limits: RiskLimits,
    *,
    seed: int = 5,
    window_seconds: int = 120,
    starting_balance: Decimal | None = None,
    reconcile_interval: float = 5.0,
    ledger: bool = True,
    database: Database | None = None,
    make_connection: Callable[[SimHandle, Signer], ExchangeConnection] | None = None,
    paper: bool = False,
    order_group_contracts: int | None = None,
    private_channels: bool = True,
    time_in_force: TimeInForce = "immediate_or_cancel",
    max_intent_age: float = 2.0,
    extra: tuple[ChildSpec | SupervisorSpec, ...] = (),
    series: tuple[str, ...] = (),
) -> Iterator[Pipeline]:
    """The trading subtree (ledger → risk → order, ``rest_for_one``), the market-data actors, a
    deterministic signal source and a probe, against a fresh simulated exchange.

    The ledger writes to ``database`` (prepared), or to a fresh SQLite file; ``ledger=False``
    runs the trading actors without one. ``paper`` runs them as paper mode does: the
    exchange's market data, fills from the paper broker, nothing sent.
    ``order_group_contracts`` puts the session's orders in an order group with that cap.
    ``private_channels=False``: no ``user_orders``/``fill`` streams (the order actor learns
    only from its answers and its reconciliation); ``time_in_force``: of every order;
    ``extra``: more children of the root, started last (e.g. strategies). ``series``: the
    exchange lists these series (catalog order) and the bot trades them all, as ``SERIES``
    does: their indices read from the exchange, one ``SpotFeed`` per index."""
    config = None
    if series:
        config = with_series(ExchangeConfig(seed=seed, window_seconds=window_seconds), list(series))
    with (
        running_exchange(
            seed=seed,
            window_seconds=window_seconds,
            starting_balance=starting_balance,
            config=config,
        ) as sim,
        tempfile.TemporaryDirectory(prefix="ledger-") as scratch,
    ):
        if ledger and database is None:
            database = open_database(f"sqlite:///{scratch}/ledger.db")
            prepare(database)
        if not ledger:
            database = None
        clock = SimClock(start=sim.now())
        system = ActorSystem(clock=clock, seed=1)
        signer = Signer.from_file(sim.key_id, sim.private_key_path)
        if make_connection is not None:
            connection = make_connection(sim, signer)
        else:
            connection = ExchangeConnection(sim.api_base, sim.ws_url, signer, rate_limited=False)
        log = WaitLog()
        indices: dict[str, str] = {}
        if series:
            with connection.rest() as rest:
                indices = resolve_series(SeriesSettings(tickers=series), rest)
        feeds = spot_feeds(indices.values()) if indices else {"SOLUSD_RTI": "spot"}
        ledger_child = () if database is None else (ChildSpec.of(LEDGER, LedgerActor, database),)
        trading = SupervisorSpec(
            "trading",
            (
                *ledger_child,
                ChildSpec.of(
                    "risk",
                    RiskActor,
                    limits,
                    None if paper else connection,
                    taker_time_in_force=time_in_force,
                    ledger=None if database is None else LEDGER,
                ),
                ChildSpec.of(
                    "order",
                    OrderActor,
                    connection,
                    paper=paper,
                    reconcile_interval=reconcile_interval,
                    database=database,
                    order_group=(
                        None
                        if order_group_contracts is None
                        else SessionOrderGroup(order_group_contracts)
                    ),
                    max_intent_age=max_intent_age,
                ),
            ),
            strategy=Strategy.REST_FOR_ONE,
            max_restarts=50,
            within=60.0,
            backoff=NO_BACKOFF,
        )
        market_data = SupervisorSpec(
            "market-data",
            (
                *(ChildSpec.of(a, SpotFeed, index_id=i) for i, a in feeds.items()),
                ChildSpec.of(
                    "stream",
                    MarketStream,
                    connection,
                    private_channels=private_channels and not paper,
                    feeds=feeds,
                ),
                ChildSpec.of(
                    "discovery",
                    MarketDiscovery,
                    connection,
                    series=indices or "KXSOL15M",
                    window_seconds=window_seconds,
                    poll_interval=5.0,
                ),
            ),
            max_restarts=50,
            within=60.0,
            backoff=NO_BACKOFF,
        )
        root = SupervisorSpec(
            "root",
            (
                ChildSpec.of(PROBE, Probe, EVERY_TOPIC, log),
                trading,
                market_data,
                ChildSpec.of(SIGNAL_SOURCE, Signaller),
                *extra,
            ),
            max_restarts=50,
            within=60.0,
            backoff=NO_BACKOFF,
        )
        system.start(root)
        pipeline = Pipeline(sim, system, clock, log, connection, limits, database, series=indices)
        try:
            pipeline.ticker = sim.current_ticker()
            pipeline.tickers = {s: open_ticker(sim, s) for s in indices}
            for ticker in set(pipeline.tickers.values()) | {pipeline.ticker}:
                log.wait_for(MarketInfo, _ticker_is(ticker))
            pipeline.fresh_market_data()
            yield pipeline
        finally:
            system.shutdown()
            if database is not None:
                database.dispose()
