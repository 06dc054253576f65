"""The WebSocket client (in its actor-facing thread) against the simulator on 127.0.0.1.

The simulator's clock is manual: ``sim.advance`` returns once the messages it caused
are on the socket, so each test pumps events until the locally kept book equals the
exchange's REST book — no sleeps, bounded waits only.
"""

from __future__ import annotations

import queue
import random
import time
from collections.abc import Callable, Iterator
from decimal import Decimal as D
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from kalshi.auth import Signer, generate_private_key
from kalshi.backoff import Backoff
from kalshi.errors import AuthError
from kalshi.orderbook import OrderBook
from kalshi.orders import OrderRequestV2
from kalshi.rest import KalshiRestClient
from kalshi.ws import KalshiWebSocket, WebSocketThread
from kalshi.ws_events import (
    BookInvalidated,
    Connected,
    Disconnected,
    FillEvent,
    IndexValueEvent,
    LifecycleEvent,
    OrderbookDeltaEvent,
    OrderbookSnapshotEvent,
    OrderUpdateEvent,
    PositionEvent,
    SequenceGap,
    TickerEvent,
    TradeEvent,
)
from messages.vocabulary import Side

simulator_testing = pytest.importorskip("simulator.testing")


def take(ticker: str, side: Side, price: D, count: int, coid: str) -> OrderRequestV2:
    """A taker buy of ``side`` at ``price`` (V2, on the YES book)."""
    return OrderRequestV2.for_intent(
        ticker,
        side,
        "buy",
        D(count),
        price,
        client_order_id=coid,
        time_in_force="immediate_or_cancel",
    )


if TYPE_CHECKING:
    from simulator.testing import SimHandle
else:
    SimHandle = simulator_testing.SimHandle
E = TypeVar("E")


class Feed:
    """The consumer side: keeps books from events, as a MarketWatcher actor would."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue()
        self.seen: list[Any] = []
        self.books: dict[str, OrderBook] = {}

    def __call__(self, event: Any) -> None:  # runs on the WebSocket thread
        self.queue.put(event)

    def apply(self, event: Any) -> None:
        self.seen.append(event)
        if isinstance(event, OrderbookSnapshotEvent):
            self.books[event.market_ticker] = OrderBook(event.market_ticker, event.yes, event.no)
        elif isinstance(event, OrderbookDeltaEvent):
            # A delta for a book we do not hold would be a client bug: KeyError fails the test.
            self.books[event.market_ticker].apply_delta(event.side, event.price, event.delta)
        elif isinstance(event, BookInvalidated):
            self.books.pop(event.market_ticker, None)

    def pump(self, until: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not until():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met; last events: {self.seen[-5:]}")
            try:
                self.apply(self.queue.get(timeout=remaining))
            except queue.Empty:
                continue

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.seen if isinstance(e, kind)]

    def count(self, kind: type[Any]) -> int:
        return len(self.of(kind))


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with simulator_testing.running_exchange(seed=5) as handle:
        yield handle


@pytest.fixture
def rest(sim: SimHandle) -> Iterator[KalshiRestClient]:
    with KalshiRestClient(sim.api_base, sim.signer(), rate_limit=False) as client:
        yield client


@pytest.fixture
def feed() -> Feed:
    return Feed()


@pytest.fixture
def ws(sim: SimHandle, feed: Feed) -> Iterator[WebSocketThread]:
    client = KalshiWebSocket(
        sim.ws_url,
        sim.signer(),
        feed,
        backoff=Backoff(base=0.02, maximum=0.2, rng=random.Random(4)),
        snapshot_timeout=2.0,
        command_timeout=5.0,
    )
    thread = WebSocketThread(client)
    thread.start()
    yield thread
    assert thread.stop(timeout=5.0)


def rest_book(rest: KalshiRestClient, ticker: str) -> OrderBook:
    snapshot = rest.get_orderbook(ticker)
    return OrderBook(ticker, snapshot.yes, snapshot.no)


def in_sync(feed: Feed, rest: KalshiRestClient, ticker: str) -> Callable[[], bool]:
    expected = rest_book(rest, ticker)  # the manual clock holds the exchange still
    return lambda: feed.books.get(ticker) == expected


def test_book_follows_the_exchange_through_deltas(
    sim: SimHandle, rest: KalshiRestClient, feed: Feed, ws: WebSocketThread
) -> None:
    ticker = sim.current_ticker()
    ws.subscribe(["orderbook_delta"], market_tickers=[ticker])
    feed.pump(in_sync(feed, rest, ticker))
    for _ in range(6):
        sim.advance(10)
        feed.pump(in_sync(feed, rest, ticker))
    assert feed.count(OrderbookDeltaEvent) > 0
    assert feed.count(SequenceGap) == 0
    book = feed.books[ticker]
    market = rest.get_market(ticker)
    best_bid, best_ask = book.best_yes_bid(), book.best_yes_ask()
    assert best_bid is not None and best_ask is not None
    assert (best_bid.price, best_ask.price) == (market.yes_bid, market.yes_ask)


def test_seq_gap_is_recovered_with_a_fresh_snapshot(
    sim: SimHandle, rest: KalshiRestClient, feed: Feed, ws: WebSocketThread
) -> None:
    ticker = sim.current_ticker()
    ws.subscribe(["orderbook_delta"], market_tickers=[ticker])
    feed.pump(in_sync(feed, rest, ticker))
    sim.faults.update(seq_skip_next=1)
    advanced = 0
    while feed.count(SequenceGap) == 0 and advanced < 120:
        sim.advance(5)  # until a delta is sent with the skipped number
        advanced += 5
        feed.pump(feed.queue.empty)
    assert feed.count(SequenceGap) == 1
    assert any(e.reason == "sequence gap" for e in feed.of(BookInvalidated))
    snapshots = feed.count(OrderbookSnapshotEvent)
    feed.pump(lambda: feed.count(OrderbookSnapshotEvent) > snapshots or ticker in feed.books)
    feed.pump(in_sync(feed, rest, ticker))
    sim.advance(10)
    feed.pump(in_sync(feed, rest, ticker))
    assert feed.count(SequenceGap) == 1


def test_reconnect_after_a_dropped_socket(
    sim: SimHandle, rest: KalshiRestClient, feed: Feed, ws: WebSocketThread
) -> None:
    ticker = sim.current_ticker()
    ws.subscribe(["orderbook_delta"], market_tickers=[ticker])
    ws.subscribe(["fill"])
    feed.pump(in_sync(feed, rest, ticker))
    assert sim.drop_websockets() == 1
    feed.pump(lambda: any(e.reconnect for e in feed.of(Connected)))
    assert any(e.reason == "connection lost" for e in feed.of(BookInvalidated))
    assert feed.count(Disconnected) >= 1
    feed.pump(lambda: ticker in feed.books)  # the fresh snapshot after resubscribing
    sim.advance(15)
    feed.pump(in_sync(feed, rest, ticker))
    assert sim.websocket_count() == 1
    # The fill subscription came back too: a taker order reaches us on the new socket.
    order = rest.create_order(take(ticker, "yes", D("0.99"), 1, "reconnect-1"))
    feed.pump(lambda: any(e.fill.order_id == order.order_id for e in feed.of(FillEvent)))


def test_ws_drop_rate_knob(
    sim: SimHandle, rest: KalshiRestClient, feed: Feed, ws: WebSocketThread
) -> None:
    ticker = sim.current_ticker()
    ws.subscribe(["orderbook_delta"], market_tickers=[ticker])
    feed.pump(in_sync(feed, rest, ticker))
    sim.faults.update(ws_drop_rate=1.0)
    sim.advance(1)  # every connection is dropped during that simulated second
    sim.faults.update(ws_drop_rate=0.0)
    feed.pump(lambda: any(e.reconnect for e in feed.of(Connected)))
    feed.pump(lambda: ticker in feed.books)
    sim.advance(10)
    feed.pump(in_sync(feed, rest, ticker))


def test_private_channels_report_our_order(
    sim: SimHandle, rest: KalshiRestClient, feed: Feed, ws: WebSocketThread
) -> None:
    ticker = sim.current_ticker()
    ws.subscribe(["fill", "user_orders", "market_positions"])
    order = rest.create_order(take(ticker, "yes", D("0.99"), 2, "ws-private-1"))
    feed.pump(
        lambda: (
            any(e.fill.client_order_id == "ws-private-1" for e in feed.of(FillEvent))
            and any(
                e.client_order_id == "ws-private-1" and e.status == "executed"
                for e in feed.of(OrderUpdateEvent)
            )
            and any(e.market_ticker == ticker for e in feed.of(PositionEvent))
        )
    )
    fills = [e.fill for e in feed.of(FillEvent) if e.fill.order_id == order.order_id]
    assert sum(f.count for f in fills) == D(2)
    assert all(f.is_taker for f in fills)
    assert all(
        (f.side, f.action, f.book_side, f.exchange_index) == ("yes", "buy", "bid", 0) for f in fills
    )
    assert sum(f.fee for f in fills) == rest.get_order(order.order_id).taker_fees
    update = next(e for e in feed.of(OrderUpdateEvent) if e.client_order_id == "ws-private-1")
    assert (update.book_side, update.outcome_side) == ("bid", "yes")
    position = [e for e in feed.of(PositionEvent) if e.market_ticker == ticker][-1]
    assert position.position == D(2)


def test_public_channels_ticker_trade_index_and_lifecycle(
    sim: SimHandle, rest: KalshiRestClient, feed: Feed, ws: WebSocketThread
) -> None:
    ticker = sim.current_ticker()
    ws.subscribe(["ticker", "trade"], market_tickers=[ticker])
    ws.subscribe(["market_lifecycle_v2"])
    ws.subscribe(["cfbenchmarks_value"], index_ids=["SOLUSD_RTI"])
    ws.subscribe(["cfbenchmarks_value_5hz"], index_ids=["SOLUSD_RTI"])
    rest.create_order(take(ticker, "no", D("0.99"), 1, "public-1"))
    feed.pump(
        lambda: (
            any(e.market_ticker == ticker for e in feed.of(TradeEvent))
            and any(e.market_ticker == ticker for e in feed.of(TickerEvent))
        )
    )
    trade = feed.of(TradeEvent)[-1]
    assert trade.yes_price + trade.no_price == D(1)
    sim.advance(3)
    feed.pump(lambda: any(t.channel == "cfbenchmarks_value" for t in feed.of(IndexValueEvent)))
    ticks = feed.of(IndexValueEvent)
    tick = next(t for t in reversed(ticks) if t.channel == "cfbenchmarks_value")
    assert tick.index_id == "SOLUSD_RTI" and tick.value > 0
    assert tick.avg_60s is not None and tick.avg_60s.window_size >= 1
    feed.pump(lambda: any(t.channel == "cfbenchmarks_value_5hz" for t in feed.of(IndexValueEvent)))
    fast = next(t for t in feed.of(IndexValueEvent) if t.channel == "cfbenchmarks_value_5hz")
    assert fast.index_id == "SOLUSD_RTI" and fast.value > 0 and fast.avg_60s is None
    sim.advance_to_next_window()
    sim.advance(5)
    feed.pump(
        lambda: any(
            e.market_ticker == ticker and e.event_type == "determined"
            for e in feed.of(LifecycleEvent)
        )
    )
    determined = next(
        e
        for e in feed.of(LifecycleEvent)
        if e.market_ticker == ticker and e.event_type == "determined"
    )
    assert determined.result in ("yes", "no")
    market = rest.get_market(ticker)
    assert market.result == determined.result
    assert feed.count(SequenceGap) == 0


def test_handshake_with_a_wrong_key_stops_with_auth_error(sim: SimHandle) -> None:
    stranger = Signer(sim.key_id, generate_private_key())
    thread = WebSocketThread(KalshiWebSocket(sim.ws_url, stranger, lambda _e: None))
    thread.start()
    assert thread.join(timeout=10)
    assert isinstance(thread.error, AuthError)
    assert "demo and production" in str(thread.error)
    assert sim.key_id not in str(thread.error)


def test_update_subscription_request_snapshot_and_unsubscribe(
    sim: SimHandle, rest: KalshiRestClient, feed: Feed, ws: WebSocketThread
) -> None:
    current = sim.current_ticker()
    upcoming = next(
        m.ticker for m in rest.get_markets(series_ticker="KXSOL15M") if m.ticker != current
    )
    (sub,) = ws.subscribe(["orderbook_delta"], market_tickers=[current])
    feed.pump(in_sync(feed, rest, current))
    reply = ws.update_subscription(sub, "add_markets", [upcoming])
    assert sorted(reply["msg"]["market_tickers"]) == sorted([current, upcoming])
    feed.pump(in_sync(feed, rest, upcoming))
    ws.update_subscription(sub, "delete_markets", [upcoming])
    assert sub.market_tickers == [current]
    before = feed.count(OrderbookSnapshotEvent)
    ws.request_snapshot(current)
    feed.pump(lambda: feed.count(OrderbookSnapshotEvent) > before)
    feed.pump(in_sync(feed, rest, current))
    ws.unsubscribe(sub)
    deltas = feed.count(OrderbookDeltaEvent)
    sim.advance(30)  # the market makers keep quoting the market
    # A WebSocket round trip: its reply comes after everything the server sent before it,
    # and the client dispatches in order, so every earlier event is in the queue now.
    ws.subscribe(["ticker"], market_tickers=[current])
    feed.pump(feed.queue.empty)
    assert feed.count(OrderbookDeltaEvent) == deltas
