"""Synchronous Kalshi REST client (httpx), safe to share between actor threads.

- Every request is signed over ``timestamp + METHOD + path`` (no query string).
- Token buckets keep us inside the tier's read/write budgets before we send.
- Reads and cancels are retried on 429, 5xx and transport failures with exponential
  backoff and jitter. Create Order is retried only with the *same* ``client_order_id``;
  when the exchange answers "duplicate" (or the outcome stays unknown) the order is
  looked up by that id and returned, so one call can never make two orders.
- Optional pre-signed headers for ``POST /portfolio/orders`` keep RSA signing off the
  order path; per-request latency lands in :attr:`KalshiRestClient.latency`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import orjson
from loguru import logger

from kalshi.auth import Signer
from kalshi.backoff import Backoff
from kalshi.environment import environment_name
from kalshi.errors import (
    AuthError,
    DuplicateOrder,
    KalshiError,
    LocalRateLimited,
    NotFound,
    OrderRejected,
    ParseError,
    RateLimited,
    ServerError,
    TransportError,
    error_from_response,
)
from kalshi.metrics import LatencyRecorder, RequestSample
from kalshi.models import (
    Balance,
    CancelResult,
    ExchangeStatus,
    Fill,
    Market,
    MarketPosition,
    Order,
    OrderbookSnapshot,
    Page,
    Series,
)
from kalshi.presign import PresignedHeaders
from kalshi.rate_limit import BASIC, RateLimiter, RateLimitTier
from kalshi.units import ONE, ZERO, format_count, format_dollars

T = TypeVar("T")
ORDERS_PATH = "/portfolio/orders"
_SIDES = ("yes", "no")
_ACTIONS = ("buy", "sell")
_TIME_IN_FORCE = ("fill_or_kill", "good_till_canceled", "immediate_or_cancel")


class OrderOutcomeUnknown(KalshiError):
    """Create Order kept failing and a lookup could not say whether the order exists.

    Look it up later by :attr:`client_order_id`; never resend it under a new id.
    """

    def __init__(self, message: str, *, client_order_id: str, cause: KalshiError) -> None:
        self.client_order_id = client_order_id
        super().__init__(
            f"{message}; client_order_id={client_order_id}",
            status=cause.status,
            code=cause.code,
            details=cause.details,
        )


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _params(**values: object) -> dict[str, str]:
    return {key: _query_value(value) for key, value in values.items() if value is not None}


def _segment(value: str) -> str:
    if not value:
        raise ValueError("an empty path segment (ticker or order id)")
    return quote(value, safe="")


class KalshiRestClient:
    """Blocking client for the endpoints the bot uses. One instance per API key."""

    def __init__(
        self,
        api_base: str,
        signer: Signer | None = None,
        *,
        timeout: float | httpx.Timeout = 5.0,
        tier: RateLimitTier = BASIC,
        rate_limiter: RateLimiter | None = None,
        rate_limit: bool = True,
        rate_limit_timeout: float | None = 10.0,
        max_attempts: int = 4,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        presign_orders: bool = False,
        presign_max_age: float = 1.0,
        latency: LatencyRecorder | None = None,
        perf_counter: Callable[[], float] = time.perf_counter,
        max_connections: int = 10,
        duplicate_lookup_pages: int = 20,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.api_base = api_base.rstrip("/")
        self.environment = environment_name(self.api_base)
        self._base_path = httpx.URL(self.api_base).path.rstrip("/")
        self._signer = signer
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._backoff = backoff or Backoff(base=0.2, maximum=5.0)
        self._limiter: RateLimiter | None = None
        if rate_limit:
            self._limiter = rate_limiter or RateLimiter(tier, sleep=sleep)
        self._rate_limit_timeout = rate_limit_timeout
        self._perf = perf_counter
        self._lookup_pages = duplicate_lookup_pages
        self.latency = latency or LatencyRecorder()
        self._order_headers: PresignedHeaders | None = None
        if presign_orders and signer is not None:
            self._order_headers = PresignedHeaders(
                signer, "POST", self._base_path + ORDERS_PATH, max_age=presign_max_age
            )
            self._order_headers.refresh()
        self._http = httpx.Client(
            base_url=self.api_base + "/",
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=30.0,
            ),
            headers={"Accept": "application/json", "User-Agent": "sol15-kalshi/0.1"},
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"KalshiRestClient({self.api_base!r}, environment={self.environment!r})"

    def __enter__(self) -> KalshiRestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing ------------------------------------------------------------------------

    def refresh_presigned(self) -> None:
        """Re-sign the cached order headers now (call from a timer, e.g. every 0.5 s)."""
        if self._order_headers is not None:
            self._order_headers.refresh()

    @property
    def presigned(self) -> PresignedHeaders | None:
        return self._order_headers

    def signing_path(self, path: str) -> str:
        """The path Kalshi verifies: the base's path plus ``path``, no query string."""
        return self._base_path + path.split("?", 1)[0]

    def _auth_headers(
        self, method: str, path: str, presigned: PresignedHeaders | None
    ) -> dict[str, str]:
        if self._signer is None:
            return {}
        if presigned is not None:
            return presigned.get()
        return self._signer.headers(method, self.signing_path(path))

    def _attempt(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        attempt: int,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        order_endpoint: bool = False,
        create_order: bool = False,
        auth: bool = True,
    ) -> Any:
        """Send once; the parsed JSON body of a 2xx, else a typed :class:`KalshiError`.

        Requests are signed whenever a key is configured; ``auth`` marks endpoints that
        cannot work without one (they fail here instead of earning a 401).
        """
        if auth and self._signer is None:
            raise AuthError(
                f"{endpoint} needs an API key and none is configured",
                environment=self.environment,
            )
        if self._limiter is not None:
            self._limiter.acquire(method, path, self._rate_limit_timeout)
        presigned = self._order_headers if create_order else None
        headers = self._auth_headers(method, path, presigned)
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = orjson.dumps(body)
        started = self._perf()
        status: int | None = None
        error: str | None = None
        try:
            response = self._http.request(
                method, path.lstrip("/"), params=params, content=content, headers=headers
            )
            status = response.status_code
        except httpx.TimeoutException as exc:
            error = "TransportError"
            raise TransportError(f"{endpoint}: timed out ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            error = "TransportError"
            raise TransportError(f"{endpoint}: connection failed ({type(exc).__name__})") from None
        finally:
            self.latency.record(
                RequestSample(endpoint, method, status, self._perf() - started, attempt, error)
            )
        data = self._decode(response, endpoint)
        if 200 <= status < 300:
            if data is None:
                raise ParseError(f"{endpoint}: HTTP {status} with an empty or non-JSON body")
            return data
        failure = error_from_response(
            status,
            data if data is not None else response.text[:500],
            environment=self.environment,
            order_endpoint=order_endpoint,
            create_order=create_order,
        )
        if isinstance(failure, RateLimited) and self._limiter is not None:
            self._limiter.penalize(method, path)
        raise failure

    @staticmethod
    def _decode(response: httpx.Response, endpoint: str) -> Any:
        if not response.content:
            return None
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            logger.warning("kalshi {}: HTTP {} body is not JSON", endpoint, response.status_code)
            return None

    def _with_retries(
        self,
        endpoint: str,
        send: Callable[[int], T],
        resolve: Callable[[KalshiError, bool], T | None] | None = None,
    ) -> T:
        """Run ``send(attempt)`` with retries on 429, 5xx and transport failures.

        ``resolve(error, uncertain)`` may turn a final error into a result; ``uncertain``
        is true once an earlier attempt may have reached the exchange.
        """
        uncertain = False
        last: KalshiError | None = None
        for attempt in range(self._max_attempts):
            if attempt:
                delay = self._backoff.delay(attempt - 1)
                logger.warning(
                    "kalshi {}: attempt {} failed ({}); retrying in {:.3f}s",
                    endpoint,
                    attempt,
                    last,
                    delay,
                )
                self._sleep(delay)
            try:
                return send(attempt)
            except LocalRateLimited:
                raise
            except (RateLimited, ServerError, TransportError) as exc:
                last = exc
                uncertain = uncertain or not isinstance(exc, RateLimited)
            except KalshiError as exc:
                if resolve is not None:
                    resolved = resolve(exc, uncertain)
                    if resolved is not None:
                        return resolved
                raise
        assert last is not None
        if resolve is not None:
            resolved = resolve(last, uncertain)
            if resolved is not None:
                return resolved
        raise last

    def _get(
        self, path: str, endpoint: str, params: Mapping[str, str] | None = None, auth: bool = True
    ) -> Any:
        return self._with_retries(
            endpoint,
            lambda attempt: self._attempt(
                "GET", path, endpoint=endpoint, attempt=attempt, params=params, auth=auth
            ),
        )

    @staticmethod
    def _field(data: Any, key: str, endpoint: str) -> Any:
        if not isinstance(data, Mapping) or data.get(key) is None:
            raise ParseError(f"{endpoint}: response has no {key!r}")
        return data[key]

    def _page(self, data: Any, key: str, parse: Callable[[object], T], endpoint: str) -> Page[T]:
        raw = self._field(data, key, endpoint)
        if not isinstance(raw, list):
            raise ParseError(f"{endpoint}: {key!r} is not a list")
        items: list[T] = []
        skipped = 0
        for entry in raw:
            try:
                items.append(parse(entry))
            except ParseError as exc:
                skipped += 1
                logger.warning("kalshi {}: skipping malformed entry: {}", endpoint, exc)
        cursor = data.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise ParseError(f"{endpoint}: cursor is not a string")
        return Page(tuple(items), cursor or None, skipped)

    # -- exchange and market data --------------------------------------------------------

    def get_exchange_status(self) -> ExchangeStatus:
        data = self._get("/exchange/status", "get_exchange_status", auth=False)
        return ExchangeStatus.from_wire(data)

    def get_series(self, series_ticker: str) -> Series:
        data = self._get(f"/series/{_segment(series_ticker)}", "get_series", auth=False)
        return Series.from_wire(self._field(data, "series", "get_series"))

    def get_markets_page(
        self,
        *,
        series_ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] | None = None,
        min_close_ts: int | None = None,
        max_close_ts: int | None = None,
        min_created_ts: int | None = None,
        max_created_ts: int | None = None,
        min_updated_ts: int | None = None,
        min_settled_ts: int | None = None,
        max_settled_ts: int | None = None,
        mve_filter: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Market]:
        """One page of ``GET /markets``; see :meth:`get_markets` for all pages."""
        params = _params(
            series_ticker=series_ticker,
            event_ticker=event_ticker,
            status=status,
            tickers=list(tickers) if tickers else None,
            min_close_ts=min_close_ts,
            max_close_ts=max_close_ts,
            min_created_ts=min_created_ts,
            max_created_ts=max_created_ts,
            min_updated_ts=min_updated_ts,
            min_settled_ts=min_settled_ts,
            max_settled_ts=max_settled_ts,
            mve_filter=mve_filter,
            limit=limit,
            cursor=cursor,
        )
        data = self._get("/markets", "get_markets", params, auth=False)
        return self._page(data, "markets", Market.from_wire, "get_markets")

    def get_markets(
        self,
        *,
        series_ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] | None = None,
        min_close_ts: int | None = None,
        max_close_ts: int | None = None,
        min_created_ts: int | None = None,
        max_created_ts: int | None = None,
        min_updated_ts: int | None = None,
        min_settled_ts: int | None = None,
        max_settled_ts: int | None = None,
        mve_filter: str | None = None,
        limit: int | None = None,
        max_pages: int = 100,
    ) -> list[Market]:
        """Every market matching the filters, following ``cursor`` while it is non-empty."""
        markets: list[Market] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(max_pages):
            page = self.get_markets_page(
                series_ticker=series_ticker,
                event_ticker=event_ticker,
                status=status,
                tickers=tickers,
                min_close_ts=min_close_ts,
                max_close_ts=max_close_ts,
                min_created_ts=min_created_ts,
                max_created_ts=max_created_ts,
                min_updated_ts=min_updated_ts,
                min_settled_ts=min_settled_ts,
                max_settled_ts=max_settled_ts,
                mve_filter=mve_filter,
                limit=limit,
                cursor=cursor,
            )
            markets.extend(page.items)
            if page.cursor is None:
                return markets
            if page.cursor in seen:
                logger.warning("kalshi get_markets: cursor repeated; stopping pagination")
                return markets
            seen.add(page.cursor)
            cursor = page.cursor
        logger.warning("kalshi get_markets: stopped after {} pages", max_pages)
        return markets

    def get_market(self, ticker: str) -> Market:
        data = self._get(f"/markets/{_segment(ticker)}", "get_market", auth=False)
        return Market.from_wire(self._field(data, "market", "get_market"))

    def get_orderbook(self, ticker: str, depth: int | None = None) -> OrderbookSnapshot:
        """Bids of both sides (ascending, best last); ``depth`` 1–100 levels, None for all."""
        if depth is not None and not 0 <= depth <= 100:
            raise ValueError("depth must be within 0..100")
        data = self._get(
            f"/markets/{_segment(ticker)}/orderbook",
            "get_orderbook",
            _params(depth=depth),
            auth=False,
        )
        return OrderbookSnapshot.from_wire(data, ticker)

    # -- orders --------------------------------------------------------------------------

    def create_order(
        self,
        ticker: str,
        side: str,
        action: str,
        count: Decimal | int,
        *,
        yes_price: Decimal | None = None,
        no_price: Decimal | None = None,
        client_order_id: str | None = None,
        time_in_force: str | None = None,
        expiration_ts: int | None = None,
        post_only: bool | None = None,
        reduce_only: bool | None = None,
        buy_max_cost: int | None = None,
        self_trade_prevention_type: str | None = None,
        cancel_order_on_pause: bool | None = None,
        order_group_id: str | None = None,
        subaccount: int | None = None,
    ) -> Order:
        """Place a limit order; prices in dollars (Decimal), exactly one of yes/no price.

        Always sends a ``client_order_id`` (a UUID4 unless given) and retries only with it.
        """
        if side not in _SIDES:
            raise ValueError(f"side must be yes or no, not {side!r}")
        if action not in _ACTIONS:
            raise ValueError(f"action must be buy or sell, not {action!r}")
        if (yes_price is None) == (no_price is None):
            raise ValueError("give exactly one of yes_price and no_price")
        price = yes_price if yes_price is not None else no_price
        assert price is not None
        if not ZERO < price < ONE:
            raise ValueError(f"price must be strictly between 0 and 1 dollars, not {price}")
        quantity = Decimal(count)
        if quantity <= ZERO:
            raise ValueError(f"count must be positive, not {count}")
        if time_in_force is not None and time_in_force not in _TIME_IN_FORCE:
            raise ValueError(f"unknown time_in_force {time_in_force!r}")
        coid = client_order_id or str(uuid.uuid4())
        body: dict[str, Any] = {
            "ticker": ticker,
            "client_order_id": coid,
            "side": side,
            "action": action,
            "count_fp": format_count(quantity),
        }
        if quantity == quantity.to_integral_value():
            body["count"] = int(quantity)
        body["yes_price_dollars" if yes_price is not None else "no_price_dollars"] = format_dollars(
            price
        )
        optional = {
            "time_in_force": time_in_force,
            "expiration_ts": expiration_ts,
            "post_only": post_only,
            "reduce_only": reduce_only,
            "buy_max_cost": buy_max_cost,
            "self_trade_prevention_type": self_trade_prevention_type,
            "cancel_order_on_pause": cancel_order_on_pause,
            "order_group_id": order_group_id,
            "subaccount": subaccount,
        }
        body.update({k: v for k, v in optional.items() if v is not None})

        def send(attempt: int) -> Order:
            data = self._attempt(
                "POST",
                ORDERS_PATH,
                endpoint="create_order",
                attempt=attempt,
                body=body,
                order_endpoint=True,
                create_order=True,
            )
            return Order.from_wire(self._field(data, "order", "create_order"))

        def resolve(error: KalshiError, uncertain: bool) -> Order | None:
            if isinstance(error, DuplicateOrder):
                try:
                    found = self.find_order_by_client_order_id(coid, ticker=ticker)
                except KalshiError as lookup_error:
                    raise OrderOutcomeUnknown(
                        f"the order exists (duplicate) but could not be read ({lookup_error})",
                        client_order_id=coid,
                        cause=error,
                    ) from error
                if found is None:
                    return None
                if (found.ticker, found.side, found.action) != (ticker, side, action):
                    raise DuplicateOrder(
                        f"client_order_id {coid} belongs to a different order "
                        f"({found.ticker} {found.action} {found.side})",
                        status=error.status,
                        code=error.code,
                    )
                logger.info("kalshi create_order: duplicate {} resolved to existing order", coid)
                return found
            if uncertain and isinstance(error, ServerError | TransportError | RateLimited):
                try:
                    found = self.find_order_by_client_order_id(coid, ticker=ticker)
                except KalshiError as lookup_error:
                    raise OrderOutcomeUnknown(
                        f"create_order failed ({error}) and the lookup failed ({lookup_error})",
                        client_order_id=coid,
                        cause=error,
                    ) from error
                if found is not None:
                    return found
            return None

        return self._with_retries("create_order", send, resolve)

    def find_order_by_client_order_id(
        self, client_order_id: str, *, ticker: str | None = None, max_pages: int | None = None
    ) -> Order | None:
        """Scan ``GET /portfolio/orders`` (the spec has no client_order_id filter)."""
        cursor: str | None = None
        for _ in range(max_pages or self._lookup_pages):
            page = self.get_orders(ticker=ticker, cursor=cursor, limit=200)
            for order in page.items:
                if order.client_order_id == client_order_id:
                    return order
            if page.cursor is None or page.cursor == cursor:
                return None
            cursor = page.cursor
        return None

    def cancel_order(self, order_id: str, *, subaccount: int | None = None) -> CancelResult:
        """Cancel the rest of an order. A 404 means unknown or already done (a fill won)."""
        path = f"{ORDERS_PATH}/{_segment(order_id)}"
        params = _params(subaccount=subaccount)

        def send(attempt: int) -> CancelResult:
            data = self._attempt(
                "DELETE",
                path,
                endpoint="cancel_order",
                attempt=attempt,
                params=params,
                order_endpoint=True,
            )
            return CancelResult.from_wire(data)

        def resolve(error: KalshiError, uncertain: bool) -> CancelResult | None:
            # An earlier attempt may have cancelled it; then the retry sees 404 or a refusal.
            if uncertain and isinstance(error, NotFound | OrderRejected):
                order = self.get_order(order_id)
                if order.status != "resting":
                    return CancelResult(order, None)
            return None

        return self._with_retries("cancel_order", send, resolve)

    def get_order(self, order_id: str) -> Order:
        data = self._get(f"{ORDERS_PATH}/{_segment(order_id)}", "get_order")
        return Order.from_wire(self._field(data, "order", "get_order"))

    def get_orders(
        self,
        *,
        ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        subaccount: int | None = None,
    ) -> Page[Order]:
        params = _params(
            ticker=ticker,
            event_ticker=event_ticker,
            status=status,
            min_ts=min_ts,
            max_ts=max_ts,
            limit=limit,
            cursor=cursor,
            subaccount=subaccount,
        )
        data = self._get(ORDERS_PATH, "get_orders", params)
        return self._page(data, "orders", Order.from_wire, "get_orders")

    # -- portfolio -----------------------------------------------------------------------

    def get_fills(
        self,
        *,
        ticker: str | None = None,
        order_id: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        subaccount: int | None = None,
    ) -> Page[Fill]:
        params = _params(
            ticker=ticker,
            order_id=order_id,
            min_ts=min_ts,
            max_ts=max_ts,
            limit=limit,
            cursor=cursor,
            subaccount=subaccount,
        )
        data = self._get("/portfolio/fills", "get_fills", params)
        return self._page(data, "fills", Fill.from_wire, "get_fills")

    def get_positions(
        self,
        *,
        ticker: str | None = None,
        event_ticker: str | None = None,
        count_filter: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        subaccount: int | None = None,
    ) -> Page[MarketPosition]:
        params = _params(
            ticker=ticker,
            event_ticker=event_ticker,
            count_filter=count_filter,
            limit=limit,
            cursor=cursor,
            subaccount=subaccount,
        )
        data = self._get("/portfolio/positions", "get_positions", params)
        return self._page(data, "market_positions", MarketPosition.from_wire, "get_positions")

    def get_balance(self, *, subaccount: int | None = None) -> Balance:
        data = self._get("/portfolio/balance", "get_balance", _params(subaccount=subaccount))
        return Balance.from_wire(data)
