"""REST handlers for ``/trade-api/v2``: the same paths, fields and errors as Kalshi.

Market data may be read without credentials (as on Kalshi); when credentials
are sent they must be valid. Portfolio endpoints require a signed request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from kalshi.units import format_count
from simulator import errors, wire
from simulator.markets import STATUS_FILTERS
from simulator.requests import (
    paginate,
    parse_order_request,
    query_bool,
    query_int,
    query_limit,
)
from simulator.ticks import max_price

if TYPE_CHECKING:
    from simulator.server import SimServer

API_PREFIX = "/trade-api/v2"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def error_response(error: errors.ExchangeError) -> web.Response:
    return json_response(error.body(), status=error.status)


class RestApi:
    """The handlers; each runs on the server loop and reads the core directly."""

    def __init__(self, server: SimServer) -> None:
        self._server = server
        self._exchange = server.exchange

    def routes(self) -> list[web.RouteDef]:
        p = API_PREFIX
        return [
            web.get(f"{p}/exchange/status", self.exchange_status),
            web.get(f"{p}/series/{{series_ticker}}", self.series),
            web.get(f"{p}/markets", self.markets),
            web.get(f"{p}/markets/{{ticker}}", self.market),
            web.get(f"{p}/markets/{{ticker}}/orderbook", self.orderbook),
            web.get(f"{p}/events/{{event_ticker}}", self.event),
            web.post(f"{p}/portfolio/orders", self.create_order),
            web.get(f"{p}/portfolio/orders", self.orders),
            web.get(f"{p}/portfolio/orders/{{order_id}}", self.order),
            web.delete(f"{p}/portfolio/orders/{{order_id}}", self.cancel_order),
            web.get(f"{p}/portfolio/fills", self.fills),
            web.get(f"{p}/portfolio/positions", self.positions),
            web.get(f"{p}/portfolio/balance", self.balance),
            web.get(f"{p}/portfolio/settlements", self.settlements),
        ]

    def _user(self, request: web.Request) -> str:
        return self._server.authenticate(request)

    def _maybe_user(self, request: web.Request) -> None:
        if self._server.keys.has_credentials(request.headers):
            self._server.authenticate(request)

    # --- exchange and market data -----------------------------------------------------

    async def exchange_status(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        return json_response(
            {
                "exchange_active": True,
                "trading_active": True,
                "exchange_estimated_resume_time": None,
            }
        )

    async def series(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        ticker = request.match_info["series_ticker"]
        if ticker != self._exchange.config.series.ticker:
            # GetSeries declares 400, not 404, for a series it cannot serve.
            raise errors.ExchangeError(
                400, errors.SERIES_NOT_FOUND, "series not found", f"series_ticker={ticker}"
            )
        return json_response({"series": wire.series_json(self._exchange.config)})

    async def markets(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        query = request.query
        limit = query_limit(query, allow_zero=True)
        markets = self._exchange.all_markets()
        series = query.get("series_ticker")
        if series:
            markets = [m for m in markets if m.series_ticker == series]
        event = query.get("event_ticker")
        if event:
            markets = [m for m in markets if m.event_ticker == event]
        status = query.get("status")
        if status:
            allowed = STATUS_FILTERS.get(status)
            if allowed is None:
                raise errors.invalid(
                    "status must be one of unopened, open, paused, closed, settled",
                    f"status={status}",
                )
            markets = [m for m in markets if m.status in allowed]
        tickers = query.get("tickers")
        if tickers:
            wanted = {t.strip() for t in tickers.split(",") if t.strip()}
            markets = [m for m in markets if m.ticker in wanted]
        min_close = query_int(query, "min_close_ts")
        if min_close is not None:
            markets = [m for m in markets if m.close_ts >= min_close]
        max_close = query_int(query, "max_close_ts")
        if max_close is not None:
            markets = [m for m in markets if m.close_ts <= max_close]
        page, cursor = paginate(
            markets, lambda m: m.close_ts, limit, query.get("cursor"), descending=True
        )
        return json_response(
            {"markets": [wire.market_json(self._exchange, m) for m in page], "cursor": cursor}
        )

    async def market(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        market = self._exchange.market(request.match_info["ticker"])
        return json_response({"market": wire.market_json(self._exchange, market)})

    async def orderbook(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        depth = query_int(request.query, "depth", 0)
        assert depth is not None
        if depth > 100:
            raise errors.invalid("depth must be between 0 and 100", f"depth={depth}")
        yes, no = self._exchange.orderbook(request.match_info["ticker"], max(depth, 0))
        return json_response(wire.orderbook_json(yes, no))

    async def event(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        event_ticker = request.match_info["event_ticker"]
        markets = [m for m in self._exchange.all_markets() if m.event_ticker == event_ticker]
        if not markets:
            raise errors.not_found("event not found", f"event_ticker={event_ticker}")
        nested = query_bool(request.query, "with_nested_markets")
        return json_response(
            {
                "event": wire.event_json(self._exchange, markets, nested),
                "markets": [wire.market_json(self._exchange, m) for m in markets],
            }
        )

    # --- orders -----------------------------------------------------------------------

    async def create_order(self, request: web.Request) -> web.StreamResponse:
        user = self._user(request)
        raw = await request.read()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise errors.bad_request("request body is not valid JSON") from None
        order_request = parse_order_request(body, max_price(self._exchange.levels))
        order = self._exchange.place_order(user, order_request, self._server.clock())
        if self._server.faults.take_lost_response():
            return await self._server.lose_response(request)
        return json_response({"order": wire.order_json(order)}, status=201)

    async def orders(self, request: web.Request) -> web.Response:
        user = self._user(request)
        query = request.query
        limit = query_limit(query)
        orders = self._exchange.orders(user)
        ticker = query.get("ticker")
        if ticker:
            orders = [o for o in orders if o.ticker == ticker]
        events = query.get("event_ticker")
        if events:
            wanted = {e.strip() for e in events.split(",") if e.strip()}
            orders = [o for o in orders if self._exchange.markets[o.ticker].event_ticker in wanted]
        status = query.get("status")
        if status:
            if status not in ("resting", "canceled", "executed"):
                raise errors.invalid(
                    "status must be resting, canceled or executed", f"status={status}"
                )
            orders = [o for o in orders if o.status == status]
        min_ts = query_int(query, "min_ts")
        if min_ts is not None:
            orders = [o for o in orders if o.created_ts >= min_ts]
        max_ts = query_int(query, "max_ts")
        if max_ts is not None:
            orders = [o for o in orders if o.created_ts <= max_ts]
        page, cursor = paginate(orders, lambda o: o.seq, limit, query.get("cursor"), True)
        return json_response({"orders": [wire.order_json(o) for o in page], "cursor": cursor})

    async def order(self, request: web.Request) -> web.Response:
        user = self._user(request)
        order = self._exchange.get_order(user, request.match_info["order_id"])
        return json_response({"order": wire.order_json(order)})

    async def cancel_order(self, request: web.Request) -> web.Response:
        user = self._user(request)
        order, reduced = self._exchange.cancel_order(
            user, request.match_info["order_id"], self._server.clock()
        )
        return json_response(
            {"order": wire.order_json(order), "reduced_by_fp": format_count(reduced)}
        )

    # --- portfolio --------------------------------------------------------------------

    async def fills(self, request: web.Request) -> web.Response:
        user = self._user(request)
        query = request.query
        limit = query_limit(query)
        fills = self._exchange.fills(user)
        ticker = query.get("ticker")
        if ticker:
            fills = [f for f in fills if f.ticker == ticker]
        order_id = query.get("order_id")
        if order_id:
            fills = [f for f in fills if f.order_id == order_id]
        min_ts = query_int(query, "min_ts")
        if min_ts is not None:
            fills = [f for f in fills if f.ts >= min_ts]
        max_ts = query_int(query, "max_ts")
        if max_ts is not None:
            fills = [f for f in fills if f.ts <= max_ts]
        page, cursor = paginate(fills, lambda f: f.seq, limit, query.get("cursor"), True)
        return json_response({"fills": [wire.fill_json(f) for f in page], "cursor": cursor})

    async def positions(self, request: web.Request) -> web.Response:
        user = self._user(request)
        query = request.query
        limit = query_limit(query)
        states = self._exchange.positions(user)
        ticker = query.get("ticker")
        if ticker:
            states = [s for s in states if s.ticker == ticker]
        event = query.get("event_ticker")
        if event:
            states = [s for s in states if s.event_ticker == event]
        count_filter = query.get("count_filter")
        if count_filter:
            names = {n.strip() for n in count_filter.split(",") if n.strip()}
            if not names <= {"position", "total_traded"}:
                raise errors.invalid(
                    "count_filter accepts position and total_traded", f"count_filter={count_filter}"
                )
            states = [
                s
                for s in states
                if ("position" in names and s.position != 0)
                or ("total_traded" in names and s.total_traded != 0)
            ]
        page, cursor = paginate(states, lambda s: s.ticker, limit, query.get("cursor"), False)
        return json_response(
            {
                "market_positions": [wire.market_position_json(s) for s in page],
                "event_positions": wire.event_positions_json(page),
                "cursor": cursor,
            }
        )

    async def balance(self, request: web.Request) -> web.Response:
        user = self._user(request)
        account = self._exchange.account(user)
        return json_response(
            {
                "balance": wire.cents_floor(account.balance),
                "portfolio_value": wire.cents_floor(self._exchange.portfolio_value(user)),
                "updated_ts": int(account.updated_ts),
            }
        )

    async def settlements(self, request: web.Request) -> web.Response:
        user = self._user(request)
        query = request.query
        limit = query_limit(query)
        records = self._exchange.settlements(user)
        ticker = query.get("ticker")
        if ticker:
            records = [r for r in records if r.ticker == ticker]
        event = query.get("event_ticker")
        if event:
            records = [r for r in records if r.event_ticker == event]
        min_ts = query_int(query, "min_ts")
        if min_ts is not None:
            records = [r for r in records if r.settled_ts >= min_ts]
        max_ts = query_int(query, "max_ts")
        if max_ts is not None:
            records = [r for r in records if r.settled_ts <= max_ts]
        page, cursor = paginate(
            records,
            lambda r: f"{int(r.settled_ts):012d}:{r.ticker}",
            limit,
            query.get("cursor"),
            True,
        )
        return json_response(
            {"settlements": [wire.settlement_json(r) for r in page], "cursor": cursor}
        )
