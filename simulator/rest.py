"""REST handlers for ``/trade-api/v2``: the same paths, fields and errors as Kalshi.

Market data may be read without credentials (as on Kalshi); when credentials
are sent they must be valid. Portfolio endpoints require a signed request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web

from simulator import errors, wire
from simulator.markets import STATUS_FILTERS
from simulator.requests import paginate, query_bool, query_int, query_limit
from simulator.responses import API_PREFIX, json_response
from simulator.rest_account import AccountApi
from simulator.rest_cfbenchmarks import CfBenchmarksApi
from simulator.rest_history import HistoryApi, live_markets
from simulator.rest_orders import OrderWrites

if TYPE_CHECKING:
    from simulator.server import SimServer


def _other_shard(query: Mapping[str, str]) -> bool:
    """``exchange_index`` filters reads by shard: any but 0 finds nothing here."""
    shard = query_int(query, "exchange_index")
    if shard is not None and shard < 0:
        raise errors.invalid("exchange_index must be >= 0", f"exchange_index={shard}")
    return shard not in (None, 0)


T = TypeVar("T")


def _equal(items: list[T], query: Mapping[str, str], name: str, key: Callable[[T], str]) -> list[T]:
    """``items`` whose ``key`` is ``?name=`` (all of them when it is absent or empty)."""
    wanted = query.get(name)
    return [i for i in items if key(i) == wanted] if wanted else items


def _one_of(
    items: list[T], query: Mapping[str, str], name: str, key: Callable[[T], str]
) -> list[T]:
    """``items`` whose ``key`` is in the comma-separated ``?name=`` (all when it is absent)."""
    listed = query.get(name)
    if not listed:
        return items
    wanted = {w.strip() for w in listed.split(",") if w.strip()}
    return [i for i in items if key(i) in wanted]


def _within(
    items: list[T],
    query: Mapping[str, str],
    key: Callable[[T], float],
    names: tuple[str, str] = ("min_ts", "max_ts"),
) -> list[T]:
    """``items`` whose ``key`` lies from ``?min_ts=`` to ``?max_ts=``, both ends included,
    either one optional (``names``: the two parameters, when they are called otherwise)."""
    low, high = (query_int(query, name) for name in names)
    return [i for i in items if (low is None or key(i) >= low) and (high is None or key(i) <= high)]


class RestApi:
    """The handlers; each runs on the server loop and reads the core directly.

    Order writes live in :class:`~simulator.rest_orders.OrderWrites`, order
    groups and API limits in :class:`~simulator.rest_account.AccountApi`, the CF
    Benchmarks passthrough in :class:`~simulator.rest_cfbenchmarks.CfBenchmarksApi`.
    """

    def __init__(self, server: SimServer) -> None:
        self._server = server
        self._exchange = server.exchange
        self._parts = (
            OrderWrites(server),
            AccountApi(server),
            CfBenchmarksApi(server),
            HistoryApi(server),  # candlesticks, trades, /historical/*
        )

    def routes(self) -> list[web.RouteDef]:
        """Every REST route; the write routes come first (``/batched`` before ``/{order_id}``)."""
        p = API_PREFIX
        writes = [route for part in self._parts for route in part.routes()]
        return [
            *writes,
            web.get(f"{p}/exchange/status", self.exchange_status),
            web.get(f"{p}/series", self.series_list),
            web.get(f"{p}/series/{{series_ticker}}", self.series),
            web.get(f"{p}/markets", self.markets),
            web.get(f"{p}/markets/{{ticker}}", self.market),
            web.get(f"{p}/markets/{{ticker}}/orderbook", self.orderbook),
            web.get(f"{p}/events/{{event_ticker}}", self.event),
            web.get(f"{p}/portfolio/orders", self.orders),
            web.get(f"{p}/portfolio/orders/{{order_id}}", self.order),
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
        listing = self._exchange.listings.get(ticker)
        if listing is None:
            # GetSeries declares 400, not 404, for a series it cannot serve.
            raise errors.ExchangeError(
                400, errors.SERIES_NOT_FOUND, "series not found", f"series_ticker={ticker}"
            )
        return json_response({"series": wire.series_json(self._exchange.config, listing.setup)})

    async def series_list(self, request: web.Request) -> web.Response:
        """``GET /series``: every listed series, filtered by ``category`` and ``tags``."""
        self._maybe_user(request)
        config = self._exchange.config
        found = [
            wire.series_json(config, listing.setup) for listing in self._exchange.listings.values()
        ]
        category = request.query.get("category")
        if category:
            found = [s for s in found if category in s["categories"]]
        tags = {t.strip() for t in request.query.get("tags", "").split(",") if t.strip()}
        if tags:
            found = [s for s in found if tags & set(s["tags"])]
        return json_response({"series": found})

    async def markets(self, request: web.Request) -> web.Response:
        self._maybe_user(request)
        query = request.query
        limit = query_limit(query, allow_zero=True)
        markets = live_markets(self._exchange, self._exchange.all_markets(), query)
        markets = _equal(markets, query, "series_ticker", lambda m: m.series_ticker)
        markets = _equal(markets, query, "event_ticker", lambda m: m.event_ticker)
        status = query.get("status")
        if status:
            allowed = STATUS_FILTERS.get(status)
            if allowed is None:
                raise errors.invalid(
                    "status must be one of unopened, open, paused, closed, settled",
                    f"status={status}",
                )
            markets = [m for m in markets if m.status in allowed]
        markets = _one_of(markets, query, "tickers", lambda m: m.ticker)
        markets = _within(markets, query, lambda m: m.close_ts, ("min_close_ts", "max_close_ts"))
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

    async def orders(self, request: web.Request) -> web.Response:
        user = self._user(request)
        query = request.query
        limit = query_limit(query)
        hidden = self._server.faults.take_hidden_orders()  # a lagging read: nothing yet
        orders = [] if hidden or _other_shard(query) else self._exchange.orders(user)
        orders = _equal(orders, query, "ticker", lambda o: o.ticker)
        event_of = self._exchange.markets
        orders = _one_of(orders, query, "event_ticker", lambda o: event_of[o.ticker].event_ticker)
        status = query.get("status")
        if status:
            if status not in ("resting", "canceled", "executed"):
                raise errors.invalid(
                    "status must be resting, canceled or executed", f"status={status}"
                )
            orders = [o for o in orders if o.status == status]
        orders = _within(orders, query, lambda o: o.created_ts)
        page, cursor = paginate(orders, lambda o: o.seq, limit, query.get("cursor"), True)
        return json_response({"orders": [wire.order_json(o) for o in page], "cursor": cursor})

    async def order(self, request: web.Request) -> web.Response:
        user = self._user(request)
        order = self._exchange.get_order(user, request.match_info["order_id"])
        return json_response({"order": wire.order_json(order)})

    # --- portfolio --------------------------------------------------------------------

    async def fills(self, request: web.Request) -> web.Response:
        user = self._user(request)
        query = request.query
        limit = query_limit(query)
        fills = [] if _other_shard(query) else self._exchange.fills(user)
        fills = _equal(fills, query, "ticker", lambda f: f.ticker)
        fills = _equal(fills, query, "order_id", lambda f: f.order_id)
        fills = _within(fills, query, lambda f: f.ts)
        page, cursor = paginate(fills, lambda f: f.seq, limit, query.get("cursor"), True)
        return json_response({"fills": [wire.fill_json(f) for f in page], "cursor": cursor})

    async def positions(self, request: web.Request) -> web.Response:
        user = self._user(request)
        query = request.query
        limit = query_limit(query)
        states = [] if _other_shard(query) else self._exchange.positions(user)
        states = _equal(states, query, "ticker", lambda s: s.ticker)
        states = _equal(states, query, "event_ticker", lambda s: s.event_ticker)
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
        return json_response(wire.balance_json(account, self._exchange.portfolio_value(user)))

    async def settlements(self, request: web.Request) -> web.Response:
        user = self._user(request)
        query = request.query
        limit = query_limit(query)
        records = self._exchange.settlements(user)
        records = _equal(records, query, "ticker", lambda r: r.ticker)
        records = _equal(records, query, "event_ticker", lambda r: r.event_ticker)
        records = _within(records, query, lambda r: r.settled_ts)
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
