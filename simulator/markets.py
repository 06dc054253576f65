"""Markets of the series: one per window, with Kalshi's tickers and lifecycle.

Windows are aligned to epoch multiples of the window length. A market is
``initialized`` when listed (one window ahead), ``active`` from its open,
``closed`` at its close, ``determined`` once the settlement average is known
and ``finalized`` when payouts are credited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from kalshi.tickers import event_ticker_for, market_ticker_for
from kalshi.units import ZERO
from messages.vocabulary import Side
from simulator.book import OrderBook
from simulator.ids import stable_id

MarketStatus = Literal["initialized", "active", "closed", "determined", "finalized"]
# GET /markets?status= filter values (spec: unopened, open, paused, closed, settled).
STATUS_FILTERS: dict[str, frozenset[str]] = {
    "unopened": frozenset({"initialized"}),
    "open": frozenset({"active"}),
    "paused": frozenset({"inactive"}),
    "closed": frozenset({"closed", "determined"}),
    "settled": frozenset({"finalized"}),
}


def window_open_at_or_before(ts: float, window_seconds: int) -> int:
    """The open of the window that contains ``ts``."""
    return int(ts // window_seconds) * window_seconds


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


@dataclass(slots=True)
class MarketState:
    """One market; the exchange mutates it, the wire layer reads it."""

    ticker: str
    event_ticker: str
    series_ticker: str
    market_id: str
    open_ts: int
    close_ts: int
    created_ts: float
    status: MarketStatus = "initialized"
    floor_strike: Decimal | None = None
    expiration_value: Decimal | None = None
    result: Side | None = None
    determined_ts: int | None = None
    settled_ts: int | None = None
    book: OrderBook = field(default_factory=OrderBook)
    last_price: Decimal = ZERO
    last_trade_size: Decimal = ZERO
    volume: Decimal = ZERO
    dollar_volume: Decimal = ZERO
    open_interest: Decimal = ZERO
    updated_ts: float = 0.0
    participants: set[str] = field(default_factory=set)  # users who traded here

    @classmethod
    def for_window(cls, series: str, open_ts: int, window_seconds: int, now: float) -> MarketState:
        close = utc(open_ts + window_seconds)
        ticker = market_ticker_for(close, series)
        return cls(
            ticker=ticker,
            event_ticker=event_ticker_for(close, series),
            series_ticker=series,
            market_id=stable_id(f"market:{ticker}"),
            open_ts=open_ts,
            close_ts=open_ts + window_seconds,
            created_ts=now,
            updated_ts=now,
        )

    def best_bids(self) -> tuple[Decimal | None, Decimal | None]:
        return self.book.yes.best(), self.book.no.best()
