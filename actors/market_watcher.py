"""MarketWatcher: one market's order book, kept from the WebSocket and published on every change.

Snapshots and deltas arrive already sequence-checked by the stream (a gap
invalidates the book and a fresh snapshot follows). While the socket is down the
watcher polls the REST order book instead, and a book that has not changed for
``stale_after`` seconds is published as stale so nothing trades on it.
"""

from __future__ import annotations

from typing import ClassVar

from loguru import logger

from kalshi.connection import ExchangeConnection
from kalshi.errors import KalshiError
from kalshi.orderbook import BookIntegrityError, OrderBook
from kalshi.rest import KalshiRestClient
from kalshi.tickers import series_of
from kalshi.ws_events import BookInvalidated, OrderbookDeltaEvent, OrderbookSnapshotEvent
from messages.market_data import BookUpdate, FeedState, ResyncBook, WatchMarket
from messages.queries import GetBook
from messages.system import Tick
from messages.timers import RestPollTick, StalenessTick
from runtime.actor import ActorContext
from runtime.bus import BOOK
from runtime.dispatch import Dispatch, DispatchedActor

STREAM = "stream"


class MarketWatcher(DispatchedActor):
    def __init__(
        self,
        context: ActorContext,
        ticker: str,
        connection: ExchangeConnection | None,
        depth: int = 10,
        stale_after: float = 30.0,
        rest_poll_interval: float = 1.0,
    ) -> None:
        super().__init__(context)
        self.ticker = ticker
        self.series = series_of(ticker)  # the key its books are published under
        self.connection = connection
        self.rest: KalshiRestClient | None = None
        self.depth = depth
        self.stale_after = stale_after
        self.rest_poll_interval = rest_poll_interval
        self.book = OrderBook(ticker)
        self.seq = 0
        self.synced = False  # a snapshot (WS or REST) has been applied since the last invalidation
        self.stale = True
        self.last_change = 0.0
        self.updates = 0
        self._polling = False

    def setup(self) -> None:
        if self.connection is not None:
            self.rest = self.connection.rest()  # for the fallback while the socket is down
        self.system.tell(STREAM, WatchMarket(self.ticker))
        self.every(1.0, StalenessTick)

    def teardown(self) -> None:
        if self.rest is not None:
            self.rest.close()

    def _on_snapshot(self, event: OrderbookSnapshotEvent) -> None:
        self.book.apply_snapshot(event.yes, event.no)
        self.seq = event.seq
        self._changed()

    def _on_invalidated(self, event: BookInvalidated) -> None:
        self._invalidate(event.reason)

    def _get_book(self, _: GetBook) -> OrderBook:
        return self.book.copy()

    def _on_delta(self, event: OrderbookDeltaEvent) -> None:
        if not self.synced:
            return  # deltas before the snapshot they belong to are meaningless
        try:
            self.book.apply_delta(event.side, event.price, event.delta)
        except BookIntegrityError as exc:
            self._invalidate(f"integrity: {exc}")
            self.system.tell(STREAM, ResyncBook(self.ticker, str(exc)))
            return
        self.seq = event.seq
        self._changed()

    def _changed(self) -> None:
        self.synced = True
        self.stale = False
        self.last_change = self.clock.now()
        self.updates += 1
        self.publish(BOOK, self._update(), self.series)

    def _invalidate(self, reason: str) -> None:
        logger.info("{}: book invalidated ({})", self.ticker, reason)
        self.book.clear()
        self.synced = False
        self._mark_stale()

    def _mark_stale(self) -> None:
        if not self.stale:
            self.stale = True
            self.publish(BOOK, self._update(), self.series)

    def _on_feed(self, state: FeedState) -> None:
        if state.connected:
            self._polling = False  # the stream resubscribes; its snapshot takes over
            return
        self._polling = self.rest is not None
        if self._polling:
            self.every(self.rest_poll_interval, RestPollTick)
        else:
            self._mark_stale()

    def _on_tick(self, tick: Tick) -> None:
        if type(tick) is RestPollTick:
            if self._polling:
                self._poll_rest()
            else:
                self.cancel_timer(RestPollTick)
        elif type(tick) is StalenessTick and self.clock.now() - self.last_change > self.stale_after:
            self._mark_stale()

    def _poll_rest(self) -> None:
        assert self.rest is not None
        try:
            snapshot = self.rest.get_orderbook(self.ticker, depth=self.depth * 2)
        except KalshiError as exc:
            logger.warning("{}: REST order book unavailable: {}", self.ticker, exc)
            self._mark_stale()
            return
        self.book.apply_snapshot(snapshot.yes, snapshot.no)
        self._changed()

    def _update(self) -> BookUpdate:
        book = self.book
        yes_bid, no_bid = book.best_yes_bid(), book.best_no_bid()
        return BookUpdate(
            ticker=self.ticker,
            seq=self.seq,
            ts=self.clock.now(),
            yes_bid=yes_bid.price if yes_bid else None,
            yes_ask=1 - no_bid.price if no_bid else None,
            no_bid=no_bid.price if no_bid else None,
            no_ask=1 - yes_bid.price if yes_bid else None,
            yes_bids=tuple((level.price, level.size) for level in book.bids("yes", self.depth)),
            no_bids=tuple((level.price, level.size) for level in book.bids("no", self.depth)),
            stale=self.stale,
        )

    _DISPATCH: ClassVar[Dispatch[MarketWatcher]] = Dispatch(
        {
            OrderbookDeltaEvent: _on_delta,
            OrderbookSnapshotEvent: _on_snapshot,
            BookInvalidated: _on_invalidated,
            FeedState: _on_feed,
            StalenessTick: _on_tick,
            RestPollTick: _on_tick,
            GetBook: _get_book,
        }
    )
