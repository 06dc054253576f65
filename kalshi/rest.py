"""Synchronous Kalshi REST client (httpx), safe to share between actor threads.

One instance per API key. Plumbing (signing, rate limits, retries) is in
:mod:`kalshi.rest_core`, order writes and order groups in :mod:`kalshi.order_api`; this
module adds market data, the portfolio reads and the account's rate-limit budget
(:mod:`kalshi.cfbenchmarks` the index's recent prints, :mod:`kalshi.history` candlesticks,
trades and the historical archive).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from loguru import logger

from kalshi.account import AccountLimits, EndpointCosts
from kalshi.cfbenchmarks import IndexApi
from kalshi.errors import KalshiError, OrderOutcomeUnknown
from kalshi.history import HistoryApi
from kalshi.models import (
    Balance,
    ExchangeStatus,
    Fill,
    Market,
    MarketPosition,
    OrderbookSnapshot,
    Page,
    PortfolioSettlement,
    Series,
)
from kalshi.order_api import OrderApi
from kalshi.rate_limit import RateLimiter, RateLimitTier
from kalshi.rest_core import params_of, segment

__all__ = ["KalshiRestClient", "OrderOutcomeUnknown", "every_page"]

T = TypeVar("T")
# After a (re)start the order actor re-reports the exchange's fills this far back, so the
# risk actor, rebuilding, must read (and mark as booked) every fill of the same span.
FILL_LOOKBACK_SECONDS = 3600
FILL_PAGES = 50  # pages of fills read at most when rebuilding from the exchange


def every_page(read: Callable[[str | None], Page[T]], max_pages: int, what: str) -> Iterator[T]:
    """The items of a list endpoint, page after page, while its cursor goes on: a cursor the
    server repeats would loop for ever, so it stops there (and after ``max_pages``)."""
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        page = read(cursor)
        yield from page.items
        if page.cursor is None:
            return
        if page.cursor in seen:
            logger.warning("kalshi {}: cursor repeated; stopping pagination", what)
            return
        seen.add(page.cursor)
        cursor = page.cursor
    logger.warning("kalshi {}: stopped after {} pages", what, max_pages)


class KalshiRestClient(OrderApi, IndexApi, HistoryApi):
    """Blocking client for the endpoints the bot uses. One instance per API key."""

    def __enter__(self) -> KalshiRestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- exchange and market data --------------------------------------------------------

    def get_exchange_status(self) -> ExchangeStatus:
        data = self._get("/exchange/status", "get_exchange_status", auth=False)
        return ExchangeStatus.from_wire(data)

    def get_series(self, series_ticker: str) -> Series:
        data = self._get(f"/series/{segment(series_ticker)}", "get_series", auth=False)
        return Series.from_wire(self._field(data, "series", "get_series"))

    def list_series(self, *, category: str | None = None) -> list[Series]:
        """``GET /series``: every series (of ``category``), to find the 15-minute ones."""
        data = self._get("/series", "list_series", params=params_of(category=category), auth=False)
        listed = data.get("series") if isinstance(data, dict) else None
        return [Series.from_wire(item) for item in listed or []]

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
        params = params_of(
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

        def page(cursor: str | None) -> Page[Market]:
            return self.get_markets_page(
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

        return list(every_page(page, max_pages, "get_markets"))

    def get_market(self, ticker: str) -> Market:
        data = self._get(f"/markets/{segment(ticker)}", "get_market", auth=False)
        return Market.from_wire(self._field(data, "market", "get_market"))

    def get_orderbook(self, ticker: str, depth: int | None = None) -> OrderbookSnapshot:
        """Bids of both sides (ascending, best last); ``depth`` 1–100 levels, None for all."""
        if depth is not None and not 0 <= depth <= 100:
            raise ValueError("depth must be within 0..100")
        data = self._get(
            f"/markets/{segment(ticker)}/orderbook",
            "get_orderbook",
            params_of(depth=depth),
            auth=False,
        )
        return OrderbookSnapshot.from_wire(data, ticker)

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
        params = params_of(
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

    def every_fill(
        self,
        *,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int | None = None,
        max_pages: int = FILL_PAGES,
    ) -> Iterator[Fill]:
        """Every fill in the span, all pages (as the exchange lists them, newest first)."""

        def page(cursor: str | None) -> Page[Fill]:
            return self.get_fills(min_ts=min_ts, max_ts=max_ts, limit=limit, cursor=cursor)

        return every_page(page, max_pages, "get_fills")

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
        params = params_of(
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
        data = self._get("/portfolio/balance", "get_balance", params_of(subaccount=subaccount))
        return Balance.from_wire(data)

    def get_settlements(
        self,
        *,
        ticker: str | None = None,
        event_ticker: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        subaccount: int | None = None,
    ) -> Page[PortfolioSettlement]:
        params = params_of(
            ticker=ticker,
            event_ticker=event_ticker,
            min_ts=min_ts,
            max_ts=max_ts,
            limit=limit,
            cursor=cursor,
            subaccount=subaccount,
        )
        data = self._get("/portfolio/settlements", "get_settlements", params)
        return self._page(data, "settlements", PortfolioSettlement.from_wire, "get_settlements")

    # -- account -------------------------------------------------------------------------

    def get_account_limits(self) -> AccountLimits:
        """The account's usage tier and its read and write token buckets."""
        return AccountLimits.from_wire(self._get("/account/limits", "get_account_limits"))

    def get_endpoint_costs(self) -> EndpointCosts:
        """The default token cost and every endpoint that costs something else."""
        data = self._get("/account/endpoint_costs", "get_endpoint_costs", auth=False)
        return EndpointCosts.from_wire(data)

    def adopt_account_limits(self, tier: RateLimitTier | None = None) -> RateLimiter | None:
        """Size the client's rate limiter from the account (call once at start).

        Either read that fails is logged and replaced by ``tier`` (default: the tier the
        client was built with). None when the client does not rate-limit.
        """
        if self._limiter is None:
            return None
        fallback = tier or self._limiter.tier
        limits: AccountLimits | None = None
        costs: EndpointCosts | None = None
        try:
            limits = self.get_account_limits()
        except KalshiError as exc:
            logger.warning("kalshi: account limits unavailable ({}); tier {}", exc, fallback.name)
        try:
            costs = self.get_endpoint_costs()
        except KalshiError as exc:
            logger.warning("kalshi: endpoint costs unavailable ({}); documented costs", exc)
        limiter = RateLimiter.from_account(limits, costs, tier=fallback, sleep=self._sleep)
        self.use_rate_limiter(limiter)
        if limits is not None:
            logger.info(
                "kalshi rate limits: tier {}, read {}/s (burst {}), write {}/s (burst {})",
                limits.usage_tier,
                limits.read.refill_rate,
                limits.read.bucket_capacity,
                limits.write.refill_rate,
                limits.write.bucket_capacity,
            )
        return limiter
