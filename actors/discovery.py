"""MarketDiscovery: finds the live and next markets of every configured series and keeps a
watcher on each.

One actor handles every series (``KXSOL15M``, ``KXBTC15M``, …): each poll walks them in
turn. A new window can take minutes to appear in Kalshi's market list, so discovery
first asks for the ticker it expects (built from the window grid and the close
time in New York) and only falls back to listing. It learns ``floor_strike``,
open/close times and the series' fee parameters and settlement index, starts a
``MarketWatcher`` per live market, and stops it once the market has settled. It also
notes, per series, when it last saw a live market: a series whose markets stop appearing
is reported (``"series"``), and the others go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pykka
from loguru import logger

from actors.market_stream import DISCOVERY, STREAM, watcher_name
from actors.market_watcher import MarketWatcher
from kalshi.connection import ExchangeConnection
from kalshi.errors import KalshiError, NotFound
from kalshi.indices import index_for
from kalshi.models import Market, Series
from kalshi.rest import KalshiRestClient
from kalshi.tickers import SERIES, market_ticker_for, series_of, window_close_after
from kalshi.ws_events import LifecycleEvent
from messages.market_data import ExchangeState, MarketInfo, MarketLifecycle, UnwatchMarket
from messages.queries import GetMarkets, GetSeries, GetWatched
from messages.timers import DiscoverTick
from runtime.actor import ActorContext, SupervisedActor
from runtime.address import ActorUnavailable, AddressState
from runtime.bus import MARKETS
from runtime.log import throttled
from runtime.supervisor import ChildSpec, StartChild, StopChild
from runtime.system import ActorSystem

LIVE = frozenset({"active", "open"})
SETTLED = frozenset({"determined", "finalized", "settled"})


def market_info(
    market: Market, series: Series | None, series_ticker: str = "", index: str = ""
) -> MarketInfo:
    """A wire ``Market`` (plus its series' fees and index) as the message the rest of the
    bot reads."""
    return MarketInfo(
        ticker=market.ticker,
        event_ticker=market.event_ticker,
        status=market.status,
        open_time=market.open_time.timestamp(),
        close_time=market.close_time.timestamp(),
        floor_strike=market.floor_strike,
        fee_type=series.fee_type if series else None,
        fee_multiplier=series.fee_multiplier if series else None,
        tick_ranges=tuple((r.start, r.end, r.step) for r in market.price_levels.ranges),
        result=market.result,
        expiration_value=market.expiration_value,
        series=series_ticker,
        index=index,
    )


def known_markets(system: ActorSystem, timeout: float = 5.0) -> dict[str, MarketInfo]:
    """The markets discovery tracks now, for an actor catching up after a (re)start."""
    if system.address(DISCOVERY).state is not AddressState.RUNNING:
        return {}  # not up yet (a first start): its MarketInfo messages will arrive on the bus
    try:
        markets: dict[str, MarketInfo] = system.ask(
            DISCOVERY, GetMarkets(), timeout=timeout, probe=True
        )
    except (ActorUnavailable, pykka.Timeout):
        return {}  # not up yet: its MarketInfo messages will arrive on the bus
    return markets


class MarketDiscovery(SupervisedActor):
    def __init__(
        self,
        context: ActorContext,
        connection: ExchangeConnection,
        series: str | Mapping[str, str] = SERIES,
        window_seconds: int = 900,
        poll_interval: float = 5.0,
        watchers: str = "market-data",
        watcher_options: dict[str, Any] | None = None,
    ) -> None:
        """``series``: one series ticker, or series → index id ("" = as the exchange says)."""
        super().__init__(context)
        self.connection = connection
        self.rest: KalshiRestClient = connection.rest()
        wanted = {series: ""} if isinstance(series, str) else dict(series)
        self.indices: dict[str, str] = wanted  # series → its index ("" until known)
        self.window = timedelta(seconds=window_seconds)
        self.poll_interval = poll_interval
        self.watchers = watchers
        self.watcher_options = watcher_options or {}
        self.series: dict[str, Series] = {}  # as GET /series/{ticker} described each
        self.last_live: dict[str, float] = {}  # series → when a live market was last seen
        self.markets: dict[str, MarketInfo] = {}
        self.watched: set[str] = set()
        self.finished: set[str] = set()  # settled markets, announced once
        self.exchange: ExchangeState | None = None
        self._warned: set[str] = set()

    @property
    def series_ticker(self) -> str:
        """The first configured series (the only one, by default)."""
        return next(iter(self.indices))

    def setup(self) -> None:
        self.refresh()
        self.every(self.poll_interval, DiscoverTick)

    def teardown(self) -> None:
        self.rest.close()

    def handle(self, message: Any) -> Any:
        kind = type(message)
        if kind is DiscoverTick:
            self.refresh()
        elif kind is LifecycleEvent:
            self._on_lifecycle(message)
        elif kind is GetMarkets:
            return dict(self.markets)
        elif kind is GetWatched:
            return sorted(self.watched)
        elif kind is GetSeries:
            return self.describe_series()
        else:
            return super().handle(message)
        return None

    def describe_series(self) -> dict[str, dict[str, Any]]:
        """Each series: its index, its live markets and when one was last seen (None: never)."""
        return {
            ticker: {
                "index": index,
                "live": sorted(
                    m.ticker
                    for m in self.markets.values()
                    if m.series == ticker and m.status in LIVE
                ),
                "last_live": self.last_live.get(ticker),
            }
            for ticker, index in self.indices.items()
        }

    # -- discovering -----------------------------------------------------------------

    def refresh(self) -> None:
        self._load_exchange_status()
        for series_ticker in self.indices:
            self._load_series(series_ticker)
            self._refresh_series(series_ticker)

    def _refresh_series(self, series_ticker: str) -> None:
        found: dict[str, Market] = {}
        for ticker in self._expected_tickers(series_ticker):
            market = self._get(ticker)
            if market is not None:
                found[ticker] = market
        if not any(m.status in LIVE for m in found.values()):
            try:
                for market in self.rest.get_markets(series_ticker=series_ticker, status="open"):
                    found.setdefault(market.ticker, market)
            except KalshiError as exc:
                throttled(f"discovery: listing {series_ticker}").warning(
                    "discovery: listing {} failed: {}", series_ticker, exc
                )
        for ticker, info in list(self.markets.items()):
            if ticker not in found and info.series in ("", series_ticker):
                market = self._get(ticker)  # follow markets we know until they settle
                if market is not None:
                    found[ticker] = market
        for market in found.values():
            self._track(market, series_ticker)
        if any(m.status in LIVE for m in found.values()):
            self.last_live[series_ticker] = self.clock.now()

    def _expected_tickers(self, series_ticker: str) -> list[str]:
        close = window_close_after(datetime.fromtimestamp(self.clock.now(), tz=UTC), self.window)
        return [market_ticker_for(close + k * self.window, series_ticker) for k in (0, 1)]

    def _get(self, ticker: str) -> Market | None:
        try:
            return self.rest.get_market(ticker)
        except NotFound:
            return None
        except KalshiError as exc:
            throttled("discovery: market").warning("discovery: {} unavailable: {}", ticker, exc)
            return None

    def _load_series(self, series_ticker: str) -> None:
        if series_ticker in self.series:
            return
        try:
            series = self.series[series_ticker] = self.rest.get_series(series_ticker)
        except KalshiError as exc:
            self._warn_once(
                f"series {series_ticker}",
                f"series {series_ticker} unavailable ({exc}): markets stay untradeable",
            )
            return
        if not self.indices[series_ticker]:
            index = series.settlement_index or index_for(series_ticker)
            self.indices[series_ticker] = index or ""

    def _load_exchange_status(self) -> None:
        try:
            status = self.rest.get_exchange_status()
        except KalshiError as exc:
            throttled("discovery: exchange status").warning(
                "discovery: exchange status unavailable: {}", exc
            )
            return
        state = ExchangeState(status.exchange_active, status.trading_active, self.clock.now())
        if self.exchange is None or (
            self.exchange.exchange_active,
            self.exchange.trading_active,
        ) != (
            state.exchange_active,
            state.trading_active,
        ):
            self.exchange = state
            self.publish(MARKETS, state)

    # -- tracking ------------------------------------------------------------------

    def _track(self, market: Market, series_ticker: str) -> None:
        if market.ticker in self.finished:
            return
        series = self.series.get(series_ticker)
        info = market_info(market, series, series_ticker, self.indices.get(series_ticker, ""))
        if not info.tradeable and info.status in LIVE:
            missing = "floor_strike" if info.floor_strike is None else "fee parameters"
            self._warn_once(info.ticker, f"{info.ticker} untradeable: no {missing} yet")
        if self.markets.get(info.ticker) != info:
            self.markets[info.ticker] = info
            self.publish(MARKETS, info)
        if info.status in LIVE and info.ticker not in self.watched:
            self._start_watcher(info.ticker)
        if info.status in SETTLED and info.result:
            self._settled(info)

    def _settled(self, info: MarketInfo) -> None:
        self.finished.add(info.ticker)
        self.publish(
            MARKETS,
            MarketLifecycle(
                info.ticker, "settled", self.clock.now(), info.result, info.expiration_value
            ),
        )
        if info.ticker in self.watched:
            self._stop_watcher(info.ticker)
        del self.markets[info.ticker]
        logger.info(
            "{} settled: {} (index average {})", info.ticker, info.result, info.expiration_value
        )

    def _start_watcher(self, ticker: str) -> None:
        spec = ChildSpec.of(
            watcher_name(ticker), MarketWatcher, ticker, self.connection, **self.watcher_options
        )
        # tell, never ask: our supervisor may be busy starting us (exist_ok: we may have restarted)
        self.system.tell(self.watchers, StartChild(spec, exist_ok=True))
        self.watched.add(ticker)

    def _stop_watcher(self, ticker: str) -> None:
        self.watched.discard(ticker)
        self.system.tell(STREAM, UnwatchMarket(ticker))
        self.system.tell(self.watchers, StopChild(watcher_name(ticker), missing_ok=True))

    def _on_lifecycle(self, event: LifecycleEvent) -> None:
        if event.event_type in (
            "determined",
            "settled",
            "activated",
            "created",
            "metadata_updated",
        ):
            series_ticker = series_of(event.market_ticker)
            if series_ticker not in self.indices:
                return  # a market of a series we do not trade
            market = self._get(event.market_ticker)
            if market is not None:
                self._track(market, series_ticker)

    def _warn_once(self, key: str, text: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning("discovery: {}", text)
