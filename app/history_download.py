"""Download a series' settled markets, 1-minute candlesticks, trades and index values.

Steps, each recorded in the folder's state as it completes (:mod:`app.history_store`):

1. ``GET /historical/cutoff``;
2. list the markets closing in ``[since, until)``: ``/historical/markets`` (when the range
   reaches before the cutoff) and ``GET /markets?status=settled`` with the settled-time
   filters, page by page → ``markets.jsonl``;
3. for each market, in that file's order: its candlesticks (live, or archived; the other
   one when the first answers 404) → ``candlesticks/<TICKER>.json``, and its trades
   (``/historical/trades`` before the trades cutoff, ``/markets/trades`` after it,
   oldest first, each once) → ``trades.jsonl``;
4. the CF Benchmarks passthrough's ``values`` for the series' index, when the key may
   use it → ``index_values.jsonl``.

Requests go through the client's rate limiter and its retries; a 429, 5xx or network
failure that outlasts them is retried here with longer waits, and one that outlasts
those stops the download with its state saved, to be resumed by running it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import orjson

from app.history_store import DownloadState, FolderStore
from backtest.kalshi_layout import INDEX_FILE, MARKETS_FILE, TRADES_FILE
from kalshi.cfbenchmarks import parse_values
from kalshi.errors import (
    AuthError,
    LocalRateLimited,
    NotFound,
    ParseError,
    RateLimited,
    ServerError,
    TransportError,
)
from kalshi.fields import parse_time
from kalshi.history import HistoricalCutoff, RawPage, encode_raw
from kalshi.rest import KalshiRestClient
from kalshi.rest_core import Answer

T = TypeVar("T")
PAGE_LIMIT = 1000
SETTLE_SLACK = 86_400  # a market closing before ``until`` settles at most this much later
TIERS = ("historical", "live")
RETRYABLE = (RateLimited, ServerError, TransportError, LocalRateLimited)


class DownloadInterrupted(Exception):
    """The exchange kept refusing (rate limits, errors); the state is saved."""


@dataclass(frozen=True)
class DownloadRequest:
    series: str
    since: int
    until: int
    index_id: str | None  # None: no index values
    source: dict[str, str] = field(default_factory=dict)  # api_base, simulator (if one)


@dataclass(slots=True)
class DownloadReport:
    markets: int = 0
    resumed: bool = False
    trades: int = 0  # written by this run
    without_candles: list[str] = field(default_factory=list)
    index: str = ""  # what happened to the index values, in a sentence


@dataclass(frozen=True, slots=True)
class _Window:
    ticker: str
    open_ts: int
    close_ts: int
    settled_ts: float


def _window(line: bytes) -> _Window:
    market: dict[str, Any] = orjson.loads(line)
    ticker = market["ticker"]
    if not ticker or "/" in ticker or ticker.startswith("."):
        raise ParseError(f"markets.jsonl: ticker {ticker!r} cannot name a file")
    close = parse_time(market["close_time"]).timestamp()
    settled = market.get("settlement_ts")
    return _Window(
        ticker,
        int(parse_time(market["open_time"]).timestamp()),
        int(close),
        parse_time(settled).timestamp() if settled else close,
    )


class Downloader:
    """One download into one folder; :meth:`run` resumes wherever the folder stopped."""

    def __init__(
        self,
        client: KalshiRestClient,
        store: FolderStore,
        request: DownloadRequest,
        *,
        signed: bool,
        say: Callable[[str], None],
        progress: Callable[[int, int, str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retries: int = 6,
        page_limit: int = PAGE_LIMIT,
    ) -> None:
        self.client = client
        self.store = store
        self.request = request
        self.signed = signed
        self.say = say
        self.progress = progress
        self.sleep = sleep
        self.retries = retries
        self.page_limit = page_limit
        self.report = DownloadReport()

    def run(self) -> DownloadReport:
        r = self.request
        state = self.store.open(r.series, r.since, r.until, r.source)
        self.report.resumed = bool(state.tiers_listed or state.listing or state.next_market)
        self.store.cut_back(MARKETS_FILE, state.markets_bytes)
        self.store.cut_back(TRADES_FILE, state.trades_bytes)
        cutoff = self._call(self.client.get_historical_cutoff)
        self._list(state, cutoff)
        self._fetch(state, cutoff)
        self.report.index = self._index(state)
        return self.report

    # --- retries beyond the client's -----------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except RETRYABLE as exc:
                if attempt == self.retries:
                    raise DownloadInterrupted(f"{type(exc).__name__}: {exc}") from None
                delay = min(60.0, 2.0**attempt)
                self.say(f"  {type(exc).__name__} ({exc}); waiting {delay:.0f} s")
                self.sleep(delay)
        raise AssertionError("unreachable")

    # --- 2. the markets ------------------------------------------------------------------

    def _list(self, state: DownloadState, cutoff: HistoricalCutoff) -> None:
        seen = {orjson.loads(line)["ticker"] for line in self.store.lines(MARKETS_FILE)}
        for tier in TIERS:
            if tier in state.tiers_listed:
                continue
            if tier == "historical" and self.request.since >= cutoff.market_settled_ts:
                state.tiers_listed.append(tier)  # nothing archived in the range
                continue
            if state.listing != tier:
                state.listing, state.cursor = tier, None
            self.say(f"listing {tier} markets of {self.request.series}")
            while True:
                page = self._call(partial(self._page, tier, state.cursor))
                fresh = [m for m in page.items if self._wanted(m) and m["ticker"] not in seen]
                seen.update(m["ticker"] for m in fresh)
                state.markets_bytes = self.store.append(
                    MARKETS_FILE, [encode_raw(m) for m in fresh]
                )
                repeated = page.cursor is not None and page.cursor == state.cursor
                state.cursor = None if repeated else page.cursor
                self.store.save(state)
                if state.cursor is None:
                    break
            state.tiers_listed.append(tier)
            state.listing = None
            self.store.save(state)

    def _page(self, tier: str, cursor: str | None) -> RawPage:
        r = self.request
        if tier == "historical":
            return self.client.get_historical_markets_raw(
                series_ticker=r.series, limit=self.page_limit, cursor=cursor
            )
        return self.client.get_markets_raw(
            series_ticker=r.series,
            status="settled",
            min_settled_ts=r.since,
            max_settled_ts=r.until + SETTLE_SLACK,
            limit=self.page_limit,
            cursor=cursor,
        )

    def _wanted(self, market: Any) -> bool:
        """A market of the range that this download can name and fetch."""
        try:
            window = _window(encode_raw(market))
        except (KeyError, TypeError, ValueError, ParseError):
            return False
        return self.request.since <= window.close_ts < self.request.until

    # --- 3. each market's candlesticks and trades ----------------------------------------

    def _fetch(self, state: DownloadState, cutoff: HistoricalCutoff) -> None:
        lines = self.store.lines(MARKETS_FILE)
        self.report.markets = len(lines)
        self.say(
            f"{len(lines)} markets; candlesticks and trades from market {state.next_market + 1}"
        )
        for i in range(state.next_market, len(lines)):
            window = _window(lines[i])
            archived = window.settled_ts < cutoff.market_settled_ts
            answer = self._candles(window, archived)
            if answer is None:
                self.report.without_candles.append(window.ticker)
            else:
                self.store.write_candles(window.ticker, answer.text.encode())
            trades = self._trades(window, cutoff.trades_created_ts)
            state.trades_bytes = self.store.append(TRADES_FILE, trades)
            self.report.trades += len(trades)
            state.next_market = i + 1
            self.store.save(state)
            if self.progress is not None:
                self.progress(i + 1, len(lines), window.ticker)

    def _candles(self, window: _Window, archived: bool) -> Answer | None:
        """The 1-minute candles of ``window`` from the tier it should be in, else the other."""
        for historical in (archived, not archived):
            try:
                return self._call(partial(self._candles_from, window, historical))
            except NotFound:
                continue
        return None

    def _candles_from(self, window: _Window, historical: bool) -> Answer:
        if historical:
            return self.client.get_historical_candlesticks_raw(
                window.ticker, window.open_ts, window.close_ts
            )
        return self.client.get_candlesticks_raw(
            self.request.series, window.ticker, window.open_ts, window.close_ts
        )

    def _trades(self, window: _Window, cutoff: float) -> list[bytes]:
        """Every trade of the market, oldest first, each once (lines to append)."""
        tiers = []
        if window.open_ts < cutoff:
            tiers.append(True)  # archived trades
        if window.close_ts >= cutoff:
            tiers.append(False)
        seen: set[str] = set()
        lines: list[bytes] = []
        for historical in tiers:
            for trade in reversed(self._tape(window.ticker, historical)):
                trade_id = trade.get("trade_id")
                if trade_id in seen:
                    continue
                seen.add(trade_id)
                lines.append(encode_raw(trade))
        return lines

    def _tape(self, ticker: str, historical: bool) -> list[Any]:
        """One tier's trades of ``ticker``, newest first (as Kalshi pages them)."""
        trades: list[Any] = []
        cursor: str | None = None
        while True:
            fetch = partial(
                self.client.get_trades_raw,
                ticker=ticker,
                limit=self.page_limit,
                cursor=cursor,
                historical=historical,
            )
            page = self._call(fetch)
            trades.extend(page.items)
            if page.cursor is None or page.cursor == cursor:
                return trades
            cursor = page.cursor

    # --- 4. the index ------------------------------------------------------------------

    def _index(self, state: DownloadState) -> str:
        index_id = self.request.index_id
        if index_id is None:
            return f"no index values: no index is known for {self.request.series} (give --index)"
        if state.index_done:
            return f"{index_id}: fetched by an earlier run of this download"
        if not self.signed:
            return (
                f"no {index_id} values: the CF Benchmarks passthrough needs an API key "
                "(KALSHI_API_KEY, KALSHI_PRIVATE_KEY_PATH)"
            )
        try:
            answer = self._call(partial(self.client.get_index_values_answer, index_id))
        except AuthError as exc:
            why = "is not entitled to" if exc.status == 403 else "was refused by"
            return (
                f"no {index_id} values: this account {why} the CF Benchmarks passthrough "
                f"(HTTP {exc.status}); replays of this folder need --data for strategies "
                "that use the index"
            )
        self.store.append(INDEX_FILE, [encode_raw(answer.data)])
        state.index_done = True
        self.store.save(state)
        return _describe_values(index_id, answer, self.request)


def _describe_values(index_id: str, answer: Answer, request: DownloadRequest) -> str:
    values = parse_values(answer.data)
    if not values:
        return f"{index_id}: the passthrough answered no values"
    first, last = values[0].ts, values[-1].ts
    inside = sum(1 for v in values if request.since <= v.ts < request.until)
    return (
        f"{index_id}: {len(values)} values from {_iso(first)} to {_iso(last)}, {inside} inside "
        "the range (the passthrough answers only an index's most recent values — ten minutes "
        "for a real-time index — so older windows need --data when replayed)"
    )


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
