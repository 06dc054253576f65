"""Kalshi's history endpoints, served from the simulator's own past windows.

- ``GET /series/{series}/markets/{ticker}/candlesticks`` and
  ``GET /historical/markets/{ticker}/candlesticks``: 1-, 60- or 1440-minute candles
  (:mod:`simulator.history`);
- ``GET /markets/trades`` and ``GET /historical/trades``: the public trade tape,
  newest first;
- ``GET /historical/cutoff``, ``GET /historical/markets`` and
  ``GET /historical/markets/{ticker}``.

The archive follows Kalshi's split: a market settled before the cutoff, and its
candles, are served only by ``/historical/*`` (the live reads answer 404 for them and
``GET /markets`` leaves them out); a trade made before it only by
``/historical/trades``. The cutoff is ``historical_after_seconds`` before now, to the
minute. All of it is public market data: no signature is needed (one sent must be valid).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from simulator import errors, wire
from simulator.exchange import Exchange
from simulator.history import MINUTE, TapeEntry, period_end
from simulator.markets import MarketState
from simulator.requests import paginate, query_bool, query_int, query_limit
from simulator.responses import API_PREFIX, json_response
from simulator.wire_history import candle_json, cutoff_json, synthetic_before, trade_json

if TYPE_CHECKING:
    from simulator.server import SimServer

PERIODS = (1, 60, 1440)  # minutes, as Kalshi's period_interval allows


def cutoff_of(exchange: Exchange) -> int:
    """The live/historical boundary (Unix seconds, whole minutes)."""
    moment = exchange.now - exchange.config.historical_after_seconds
    return max(0, int(moment // MINUTE) * MINUTE)


def archived(market: MarketState, cutoff: int) -> bool:
    return market.settled_ts is not None and market.settled_ts < cutoff


def live_markets(
    exchange: Exchange, markets: list[MarketState], query: Mapping[str, str]
) -> list[MarketState]:
    """What ``GET /markets`` may show: no archived market; the settled-time filters
    (``min_settled_ts``/``max_settled_ts``, which go only with ``status=settled``)."""
    cutoff = cutoff_of(exchange)
    shown = [m for m in markets if not archived(m, cutoff)]
    low, high = query_int(query, "min_settled_ts"), query_int(query, "max_settled_ts")
    if low is None and high is None:
        return shown
    status = query.get("status")
    if status and status != "settled":
        raise errors.invalid(
            "min_settled_ts and max_settled_ts go only with status=settled (or no status)",
            f"status={status}",
        )
    return [
        m
        for m in shown
        if m.settled_ts is not None
        and (low is None or m.settled_ts >= low)
        and (high is None or m.settled_ts <= high)
    ]


def _required_int(query: Mapping[str, str], name: str) -> int:
    value = query_int(query, name)
    if value is None:
        raise errors.missing(name)
    return value


class HistoryApi:
    """The history routes (registered before ``/markets/{ticker}``: ``/markets/trades``)."""

    def __init__(self, server: SimServer) -> None:
        self._server = server

    def routes(self) -> list[web.RouteDef]:
        p = API_PREFIX
        return [
            web.get(f"{p}/series/{{series_ticker}}/markets/{{ticker}}/candlesticks", self.candles),
            web.get(f"{p}/markets/trades", self.trades),
            web.get(f"{p}/historical/cutoff", self.cutoff),
            web.get(f"{p}/historical/markets", self.historical_markets),
            web.get(f"{p}/historical/markets/{{ticker}}", self.historical_market),
            web.get(f"{p}/historical/markets/{{ticker}}/candlesticks", self.historical_candles),
            web.get(f"{p}/historical/trades", self.historical_trades),
        ]

    @property
    def _exchange(self) -> Exchange:
        return self._server.exchange

    def _maybe_user(self, request: web.Request) -> None:
        if self._server.keys.has_credentials(request.headers):
            self._server.authenticate(request)

    def _market(self, ticker: str, *, historical: bool) -> MarketState:
        market = self._exchange.markets.get(ticker)
        if market is not None and archived(market, cutoff_of(self._exchange)) == historical:
            return market
        if market is not None and historical:
            raise errors.not_found("market is not archived yet", f"ticker={ticker}")
        if market is not None:
            raise errors.not_found(
                "market settled before the historical cutoff: "
                "use GET /historical/markets/{ticker}/candlesticks",
                f"ticker={ticker}",
            )
        raise errors.not_found("market not found", f"ticker={ticker}")

    # --- candlesticks -----------------------------------------------------------------

    async def candles(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        market = self._market(request.match_info["ticker"], historical=False)
        if market.series_ticker != request.match_info["series_ticker"]:
            raise errors.not_found(
                "market not found in this series", f"series_ticker={market.series_ticker}"
            )
        return self._candles(request, market, historical=False)

    async def historical_candles(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        market = self._market(request.match_info["ticker"], historical=True)
        return self._candles(request, market, historical=True)

    def _candles(
        self, request: web.Request, market: MarketState, *, historical: bool
    ) -> web.Response:
        query = request.query
        start = _required_int(query, "start_ts")
        end = _required_int(query, "end_ts")
        period = _required_int(query, "period_interval")
        if period not in PERIODS:
            raise errors.invalid(
                "period_interval must be 1, 60 or 1440", f"period_interval={period}"
            )
        history = self._exchange.history
        candles = history.candles_of(market.ticker, start, end, period)
        if not historical and query_bool(query, "include_latest_before_start"):
            before = history.latest_before(market.ticker, start, period)
            if before is not None:
                candles.insert(0, synthetic_before(before, period_end(start, period * MINUTE)))
        return json_response(
            {
                "ticker": market.ticker,
                "candlesticks": [candle_json(c, historical=historical) for c in candles],
            }
        )

    # --- trades -----------------------------------------------------------------------

    async def trades(self, request: web.Request) -> web.Response:
        return self._trades(request, historical=False)

    async def historical_trades(self, request: web.Request) -> web.Response:
        return self._trades(request, historical=True)

    def _trades(self, request: web.Request, *, historical: bool) -> web.Response:
        self._maybe_user(request)
        query = request.query
        limit = query_limit(query, allow_zero=True)
        cutoff = cutoff_of(self._exchange)
        tape: list[TapeEntry] = [
            e for e in self._exchange.history.tape if (e.trade.ts < cutoff) == historical
        ]
        if query_bool(query, "is_block_trade"):
            tape = []  # nothing here is matched off the book
        ticker = query.get("ticker")
        if ticker:
            tape = [e for e in tape if e.trade.ticker == ticker]
        min_ts, max_ts = query_int(query, "min_ts"), query_int(query, "max_ts")
        if min_ts is not None:
            tape = [e for e in tape if e.trade.ts >= min_ts]
        if max_ts is not None:
            tape = [e for e in tape if e.trade.ts <= max_ts]
        tape.reverse()  # newest first
        page, cursor = paginate(tape, lambda e: e.seq, limit, query.get("cursor"), True)
        return json_response({"trades": [trade_json(e.trade) for e in page], "cursor": cursor})

    # --- the archive ------------------------------------------------------------------

    async def cutoff(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        return json_response(cutoff_json(cutoff_of(self._exchange)))

    async def historical_markets(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        query = request.query
        limit = query_limit(query, allow_zero=True)
        given = [name for name in ("tickers", "event_ticker", "series_ticker") if query.get(name)]
        if len(given) > 1:
            raise errors.invalid("these filters are mutually exclusive", ", ".join(given))
        mve = query.get("mve_filter")
        if mve and mve != "exclude":
            raise errors.invalid("mve_filter must be exclude", f"mve_filter={mve}")
        cutoff = cutoff_of(self._exchange)
        markets = [m for m in self._exchange.all_markets() if archived(m, cutoff)]
        if query.get("tickers"):
            wanted = {t.strip() for t in query["tickers"].split(",") if t.strip()}
            markets = [m for m in markets if m.ticker in wanted]
        if query.get("event_ticker"):
            markets = [m for m in markets if m.event_ticker == query["event_ticker"]]
        if query.get("series_ticker"):
            markets = [m for m in markets if m.series_ticker == query["series_ticker"]]
        page, cursor = paginate(
            markets, lambda m: m.close_ts, limit, query.get("cursor"), descending=True
        )
        return json_response(
            {"markets": [wire.market_json(self._exchange, m) for m in page], "cursor": cursor}
        )

    async def historical_market(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        market = self._market(request.match_info["ticker"], historical=True)
        return json_response({"market": wire.market_json(self._exchange, market)})
