"""MarketDiscovery: finds the live and next ``KXSOL15M`` markets and keeps a watcher on each.

A new window can take minutes to appear in Kalshi's market list, so discovery
first asks for the ticker it expects (built from the window grid and the close
time in New York) and only falls back to listing. It learns ``floor_strike``,
open/close times and the series' fee parameters, starts a ``MarketWatcher`` per
live market, and stops it once the market has settled.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pykka
from loguru import logger

from actors.market_stream import DISCOVERY, STREAM, watcher_name
from actors.market_watcher import MarketWatcher
from app.connection import ExchangeConnection
from kalshi.errors import KalshiError, NotFound
from kalshi.models import Market, Series
from kalshi.rest import KalshiRestClient
from kalshi.tickers import SERIES, market_ticker_for, window_close_after
from kalshi.ws_events import LifecycleEvent
from messages.market_data import ExchangeState, MarketInfo, MarketLifecycle, UnwatchMarket
from messages.system import Tick
from runtime.actor import ActorContext, SupervisedActor
from runtime.address import ActorUnavailable, AddressState
from runtime.bus import MARKETS
from runtime.log import throttled
from runtime.supervisor import ChildSpec, StartChild, StopChild
from runtime.system import ActorSystem

LIVE = frozenset({"active", "open"})
SETTLED = frozenset({"determined", "finalized", "settled"})


def market_info(market: Market, series: Series | None) -> MarketInfo:
    """A wire ``Market`` (plus its series' fees) as the message the rest of the bot reads."""
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
    )


def known_markets(system: ActorSystem, timeout: float = 5.0) -> dict[str, MarketInfo]:
    """The markets discovery tracks now, for an actor catching up after a (re)start."""
    if system.address(DISCOVERY).state is not AddressState.RUNNING:
        return {}  # not up yet (a first start): its MarketInfo messages will arrive on the bus
    try:
        markets: dict[str, MarketInfo] = system.ask(
            DISCOVERY, "markets", timeout=timeout, probe=True
        )
    except (ActorUnavailable, pykka.Timeout):
        return {}  # not up yet: its MarketInfo messages will arrive on the bus
    return markets


class MarketDiscovery(SupervisedActor):
    def __init__(
        self,
        context: ActorContext,
        connection: ExchangeConnection,
        series: str = SERIES,
        window_seconds: int = 900,
        poll_interval: float = 5.0,
        watchers: str = "market-data",
        watcher_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(context)
        self.connection = connection
        self.rest: KalshiRestClient = connection.rest()
        self.series_ticker = series
        self.window = timedelta(seconds=window_seconds)
        self.poll_interval = poll_interval
        self.watchers = watchers
        self.watcher_options = watcher_options or {}
        self.series: Series | None = None
        self.markets: dict[str, MarketInfo] = {}
        self.watched: set[str] = set()
        self.finished: set[str] = set()  # settled markets, announced once
        self.exchange: ExchangeState | None = None
        self._warned: set[str] = set()

    def setup(self) -> None:
        self.refresh()
        self.every(self.poll_interval, "discover")

    def teardown(self) -> None:
        self.rest.close()

    def handle(self, message: Any) -> Any:
        if isinstance(message, Tick) and message.timer == "discover":
            self.refresh()
        elif isinstance(message, LifecycleEvent):
            self._on_lifecycle(message)
        elif message == "markets":
            return dict(self.markets)
        elif message == "watched":
            return sorted(self.watched)
        else:
            return super().handle(message)
        return None

    # -- discovering -----------------------------------------------------------------

    def refresh(self) -> None:
        self._load_series()
        self._load_exchange_status()
        found: dict[str, Market] = {}
        for ticker in self._expected_tickers():
            market = self._get(ticker)
            if market is not None:
                found[ticker] = market
        if not any(m.status in LIVE for m in found.values()):
            try:
                for market in self.rest.get_markets(
                    series_ticker=self.series_ticker, status="open"
                ):
                    found.setdefault(market.ticker, market)
            except KalshiError as exc:
                throttled("discovery: listing").warning(
                    "discovery: listing {} failed: {}", self.series_ticker, exc
                )
        for ticker in list(self.markets):
            if ticker not in found:  # follow markets we know until they settle
                market = self._get(ticker)
                if market is not None:
                    found[ticker] = market
        for market in found.values():
            self._track(market)

    def _expected_tickers(self) -> list[str]:
        close = window_close_after(datetime.fromtimestamp(self.clock.now(), tz=UTC), self.window)
        return [market_ticker_for(close + k * self.window, self.series_ticker) for k in (0, 1)]

    def _get(self, ticker: str) -> Market | None:
        try:
            return self.rest.get_market(ticker)
        except NotFound:
            return None
        except KalshiError as exc:
            throttled("discovery: market").warning("discovery: {} unavailable: {}", ticker, exc)
            return None

    def _load_series(self) -> None:
        if self.series is not None:
            return
        try:
            self.series = self.rest.get_series(self.series_ticker)
        except KalshiError as exc:
            self._warn_once(
                "series",
                f"series {self.series_ticker} unavailable ({exc}): markets stay untradeable",
            )

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

    def _track(self, market: Market) -> None:
        if market.ticker in self.finished:
            return
        info = market_info(market, self.series)
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
            market = self._get(event.market_ticker)
            if market is not None:
                self._track(market)

    def _warn_once(self, key: str, text: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning("discovery: {}", text)
