"""Kalshi's market history over REST: settled markets, 1-minute candlesticks, public trades.

Kalshi serves recent history from the live endpoints and moves older history to
``/historical/*`` at the moments ``GET /historical/cutoff`` gives: markets (and their
candlesticks) settled before ``market_settled_ts`` only from ``/historical/markets…``,
trades made before ``trades_created_ts`` only from ``/historical/trades``.

These reads keep Kalshi's JSON as it was sent — the items of a page as decoded, with
every number exact (:func:`encode_raw` writes them back unchanged), a candlestick answer
with its text — so a download can store the API's own JSON, unmodified. All of them are
public market data (no key needed; one configured signs them anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from kalshi.errors import ParseError
from kalshi.fields import Fields
from kalshi.rest_core import Answer, RestCore, params_of, segment

PERIOD_MINUTES = (1, 60, 1440)


def _exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))  # the digits Kalshi sent, not a float's
    raise TypeError(f"cannot encode {type(value).__name__}")


def _wide_ints(value: Any) -> Any:
    """Integers beyond 64 bits (orjson's limit) as Decimals, which keep their digits."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return Decimal(value)
    if isinstance(value, dict):
        return {key: _wide_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wide_ints(item) for item in value]
    return value


def encode_raw(value: Any) -> bytes:
    """Compact JSON of a decoded answer (or part of one), numbers exactly as received."""
    try:
        return orjson.dumps(value, default=_exact)
    except TypeError:  # an integer orjson cannot hold
        return orjson.dumps(_wide_ints(value), default=_exact)


@dataclass(frozen=True, slots=True)
class RawPage:
    """One page of a list endpoint: its objects as decoded, and the next cursor (None: last)."""

    items: tuple[Any, ...]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class HistoricalCutoff:
    """Where live data ends and ``/historical/*`` begins (Unix seconds)."""

    market_settled_ts: float
    trades_created_ts: float

    @classmethod
    def from_wire(cls, data: object) -> HistoricalCutoff:
        f = Fields("GetHistoricalCutoffResponse", data)
        return cls(f.time("market_settled_ts").timestamp(), f.time("trades_created_ts").timestamp())


def _raw_page(answer: Answer, key: str, endpoint: str) -> RawPage:
    data = answer.data
    items = data.get(key)
    if not isinstance(items, list):
        raise ParseError(f"{endpoint}: {key!r} is not a list")
    cursor = data.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ParseError(f"{endpoint}: cursor is not a string")
    return RawPage(tuple(items), cursor or None)


def _period(period_interval: int) -> int:
    if period_interval not in PERIOD_MINUTES:
        raise ValueError("period_interval must be 1, 60 or 1440 (minutes)")
    return period_interval


class HistoryApi(RestCore):
    """The history reads of :class:`~kalshi.rest.KalshiRestClient`."""

    def get_historical_cutoff(self) -> HistoricalCutoff:
        data = self._get("/historical/cutoff", "get_historical_cutoff", auth=False)
        return HistoricalCutoff.from_wire(data)

    def get_markets_raw(
        self,
        *,
        series_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] | None = None,
        min_settled_ts: int | None = None,
        max_settled_ts: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> RawPage:
        """One page of ``GET /markets`` (settled filters go with ``status=settled``)."""
        params = params_of(
            series_ticker=series_ticker,
            status=status,
            tickers=list(tickers) if tickers else None,
            min_settled_ts=min_settled_ts,
            max_settled_ts=max_settled_ts,
            limit=limit,
            cursor=cursor,
        )
        answer = self._get_answer("/markets", "get_markets", params)
        return _raw_page(answer, "markets", "get_markets")

    def get_historical_markets_raw(
        self,
        *,
        series_ticker: str | None = None,
        tickers: Sequence[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> RawPage:
        """One page of ``GET /historical/markets`` (its filters are mutually exclusive)."""
        params = params_of(
            series_ticker=series_ticker,
            tickers=list(tickers) if tickers else None,
            limit=limit,
            cursor=cursor,
        )
        answer = self._get_answer("/historical/markets", "get_historical_markets", params)
        return _raw_page(answer, "markets", "get_historical_markets")

    def get_candlesticks_raw(
        self, series_ticker: str, ticker: str, start_ts: int, end_ts: int, period_interval: int = 1
    ) -> Answer:
        """``GET /series/{series}/markets/{ticker}/candlesticks``: a
        ``GetMarketCandlesticksResponse``, its text as sent."""
        path = f"/series/{segment(series_ticker)}/markets/{segment(ticker)}/candlesticks"
        params = params_of(
            start_ts=start_ts, end_ts=end_ts, period_interval=_period(period_interval)
        )
        return self._get_answer(path, "get_market_candlesticks", params)

    def get_historical_candlesticks_raw(
        self, ticker: str, start_ts: int, end_ts: int, period_interval: int = 1
    ) -> Answer:
        """``GET /historical/markets/{ticker}/candlesticks``: a
        ``GetMarketCandlesticksHistoricalResponse`` (fields without ``_dollars``/``_fp``)."""
        path = f"/historical/markets/{segment(ticker)}/candlesticks"
        params = params_of(
            start_ts=start_ts, end_ts=end_ts, period_interval=_period(period_interval)
        )
        return self._get_answer(path, "get_historical_candlesticks", params)

    def get_trades_raw(
        self,
        *,
        ticker: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        historical: bool = False,
    ) -> RawPage:
        """One page of ``GET /markets/trades`` (or ``/historical/trades``), newest first."""
        params = params_of(ticker=ticker, min_ts=min_ts, max_ts=max_ts, limit=limit, cursor=cursor)
        path, endpoint = (
            ("/historical/trades", "get_historical_trades")
            if historical
            else ("/markets/trades", "get_trades")
        )
        return _raw_page(self._get_answer(path, endpoint, params), "trades", endpoint)
