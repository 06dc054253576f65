"""MarketStream: the one WebSocket connection to the exchange, shared by every market-data actor.

Kalshi throttles clients that open a socket per book, so a single connection
carries every series' index, the order books, lifecycle events and our own orders and
fills. Events are routed on the socket's thread straight to the actor that
owns them (one ``tell``, no extra hop on the hot path).

Each index comes from ``cfbenchmarks_value_5hz`` (up to five prints a second) where
Kalshi offers it for that index, else from ``cfbenchmarks_value`` (about one a
second); if the exchange refuses the 5 Hz subscription the stream falls back to the
1-second channel and says so. Each index's prints go to its own ``SpotFeed``
(``feeds``: index id → the feed's address).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pykka
from loguru import logger

from kalshi.connection import ExchangeConnection
from kalshi.ws import KalshiWebSocket, Subscription, WebSocketThread
from kalshi.ws_events import (
    BookInvalidated,
    Connected,
    Disconnected,
    FillEvent,
    IndexValueEvent,
    LifecycleEvent,
    OrderbookDeltaEvent,
    OrderbookSnapshotEvent,
    OrderGroupEvent,
    OrderUpdateEvent,
    SubscriptionFailed,
)
from messages.market_data import FeedState, ResyncBook, UnwatchMarket, WatchMarket
from messages.queries import GetWatched
from runtime.actor import ActorContext, SupervisedActor
from runtime.address import ActorUnavailable, Address
from runtime.bus import MARKETS
from runtime.log import throttled

SPOT_INDEX = "SOLUSD_RTI"
INDEX_CHANNEL = "cfbenchmarks_value"
FAST_INDEX_CHANNEL = "cfbenchmarks_value_5hz"
# The indices Kalshi's AsyncAPI 2.0.0 lists on the 5 Hz channel.
FAST_INDICES = frozenset({"BRTI", "ETHUSD_RTI", "SOLUSD_RTI", "XRPUSD_RTI", "DOGEUSD_RTI"})
STREAM = "stream"
SPOT = "spot"
DISCOVERY = "discovery"
ORDER = "order"


def watcher_name(ticker: str) -> str:
    return f"watcher:{ticker}"


def index_channel(index_id: str) -> str:
    """The fastest channel Kalshi publishes ``index_id`` on."""
    return FAST_INDEX_CHANNEL if index_id in FAST_INDICES else INDEX_CHANNEL


def spot_address(index_id: str) -> str:
    """The address of the ``SpotFeed`` of ``index_id`` when the bot runs several."""
    return f"{SPOT}:{index_id}"


def spot_feeds(indices: Iterable[str]) -> dict[str, str]:
    """Index id → its feed's address, for a bot running a feed per index in ``indices``
    (one index alone keeps the address ``spot``, as the single-series bot always had)."""
    unique = list(dict.fromkeys(indices))
    if len(unique) == 1:
        return {unique[0]: SPOT}
    return {index_id: spot_address(index_id) for index_id in unique}


class MarketStream(SupervisedActor):
    def __init__(
        self,
        context: ActorContext,
        connection: ExchangeConnection,
        index_id: str = SPOT_INDEX,
        private_channels: bool = True,
        feeds: Mapping[str, str] | None = None,
    ) -> None:
        """``feeds``: index id → the address of its ``SpotFeed`` (default: ``index_id`` →
        ``spot``, the single-index bot)."""
        super().__init__(context)
        self.connection = connection
        self.private_channels = private_channels
        feeds = dict(feeds) if feeds else {index_id: SPOT}
        self.index_ids = tuple(feeds)
        self.index_id = self.index_ids[0]
        # the channel each index is read on (the 5 Hz one falls back to 1 s if refused)
        self.channels: dict[str, str] = {i: index_channel(i) for i in self.index_ids}
        self.tickers: list[str] = []
        self._books: Subscription | None = None
        self._thread: WebSocketThread | None = None
        self._watchers: dict[str, Address] = {}
        self._spots: dict[str, Address] = {i: self.system.address(a) for i, a in feeds.items()}
        self._discovery = self.system.address(DISCOVERY)
        self._order = self.system.address(ORDER)

    def setup(self) -> None:
        client = KalshiWebSocket(self.connection.ws_url, self.connection.signer, self._route)
        self._thread = WebSocketThread(client, name="kalshi-ws")
        self._thread.start()
        channels = ["market_lifecycle_v2"]
        if self.private_channels:
            channels += ["fill", "user_orders", "order_group_updates"]
        for channel in sorted(set(self.channels.values())):
            self._subscribe_index(channel)
        self._thread.submit(lambda: client.subscribe(channels, wait=False))
        for ticker in self._watched_before():  # after a restart: the books of live markets again
            self._watch(ticker)

    @property
    def index_channel(self) -> str:
        """The channel the first index is read on."""
        return self.channels[self.index_id]

    def _subscribe_index(self, channel: str, ids: list[str] | None = None) -> None:
        """One subscription for ``ids`` (default: every index read on ``channel``)."""
        if self._thread is None:
            return
        ids = ids or [i for i, c in self.channels.items() if c == channel]
        client = self._thread.client
        logger.info("index {}: subscribing to {}", ", ".join(ids), channel)
        self._thread.submit(lambda: client.subscribe([channel], index_ids=ids, wait=False))

    def _watched_before(self) -> list[str]:
        try:
            tickers: list[str] = self.system.ask(DISCOVERY, GetWatched(), timeout=5, probe=True)
        except (ActorUnavailable, pykka.Timeout):
            return []  # a first start: discovery will ask for each market as it finds it
        return tickers

    def teardown(self) -> None:
        if self._thread is not None and not self._thread.stop(timeout=5.0):
            logger.warning("market stream: WebSocket thread did not stop in time")

    def handle(self, message: Any) -> Any:
        if isinstance(message, WatchMarket):
            self._watch(message.ticker)
        elif isinstance(message, UnwatchMarket):
            self._unwatch(message.ticker)
        elif isinstance(message, ResyncBook):
            self._resync(message)
        elif isinstance(message, Connected | Disconnected):
            self._announce(message)
        elif isinstance(message, SubscriptionFailed):
            self._index_refused(message)
        else:
            return super().handle(message)
        return None

    # -- on the socket's thread: hand each event to its owner, nothing more --------

    def _route(self, event: object) -> None:
        kind = type(event)
        if kind is OrderbookDeltaEvent or kind is OrderbookSnapshotEvent or kind is BookInvalidated:
            self._watcher(event.market_ticker).tell(event)  # type: ignore[attr-defined]
        elif kind is IndexValueEvent:
            spot = self._spots.get(event.index_id)  # type: ignore[attr-defined]
            if spot is not None:
                spot.tell(event)
        elif kind is FillEvent or kind is OrderUpdateEvent or kind is OrderGroupEvent:
            self._order.tell(event)
        elif kind is LifecycleEvent:
            self._discovery.tell(event)
        elif kind is Connected or kind is Disconnected or kind is SubscriptionFailed:
            self.address.tell(event)  # few and far between: the actor sorts them out

    def _watcher(self, ticker: str) -> Address:
        address = self._watchers.get(ticker)
        if address is None:
            address = self._watchers[ticker] = self.system.address(watcher_name(ticker))
        return address

    # -- in the actor ------------------------------------------------------------

    def _announce(self, event: Connected | Disconnected) -> None:
        connected = isinstance(event, Connected)
        if isinstance(event, Connected):
            reason = "reconnected" if event.reconnect else "connected"
        else:
            reason = event.reason
        if connected:
            logger.info("market stream up: {}", reason)
        else:
            throttled("market stream down").warning("market stream down: {}", reason)
        state = FeedState(connected, reason, self.clock.now())
        self.publish(MARKETS, state)
        for spot in self._spots.values():
            spot.tell(state)
        for ticker in self.tickers:
            self._watcher(ticker).tell(state)

    def _index_refused(self, failure: SubscriptionFailed) -> None:
        """The 5 Hz index channel was refused: take the 1-second one instead."""
        if failure.channel != FAST_INDEX_CHANNEL or failure.terminal:
            return  # other channels, and terminal errors, re-subscribe by themselves
        fast = [i for i, c in self.channels.items() if c == FAST_INDEX_CHANNEL]
        if not fast:
            return
        logger.warning(
            "index {}: {} refused ({} {}); falling back to {}",
            ", ".join(fast),
            FAST_INDEX_CHANNEL,
            failure.code,
            failure.message,
            INDEX_CHANNEL,
        )
        for index_id in fast:
            self.channels[index_id] = INDEX_CHANNEL
        self._subscribe_index(INDEX_CHANNEL, fast)

    def _watch(self, ticker: str) -> None:
        if self._thread is None:
            return
        if ticker in self.tickers:  # a restarted watcher: it needs the whole book again
            self._resync(ResyncBook(ticker, "watcher restarted"))
            return
        self.tickers.append(ticker)
        client = self._thread.client
        if self._books is None:
            subs = self._thread.call(  # returns at once: wait=False only registers it
                lambda: client.subscribe(["orderbook_delta"], market_tickers=[ticker], wait=False)
            )
            self._books = subs[0]
        else:
            books = self._books
            self._thread.submit(lambda: client.update_subscription(books, "add_markets", [ticker]))

    def _unwatch(self, ticker: str) -> None:
        if ticker not in self.tickers or self._thread is None or self._books is None:
            return
        self.tickers.remove(ticker)
        self._watchers.pop(ticker, None)
        client, books = self._thread.client, self._books
        self._thread.submit(lambda: client.update_subscription(books, "delete_markets", [ticker]))

    def _resync(self, request: ResyncBook) -> None:
        if self._thread is None or request.ticker not in self.tickers:
            return
        logger.warning("resnapshot of {}: {}", request.ticker, request.reason)
        client = self._thread.client
        self._thread.submit(lambda: client.request_snapshot(request.ticker))
