"""What each simulated market did, kept for Kalshi's history endpoints: 1-minute quotes and trades.

Kalshi serves a market's past as candlesticks — the best YES bid and ask over each
period (open, high, low, close), the prices, volume and open interest of its trades —
and as a tape of public trades, both from the live endpoints and, once a market is
archived, from ``/historical/*``. The exchange samples every active market's top of book
once a second, after the makers and noise traders have acted, and records each trade as
it matches. A 1-minute candle covers ``(end − 60, end]``: ``end_period_ts`` is the
period's inclusive end, as Kalshi's is. Longer periods are built from the minutes.

Nothing here is trimmed: like the markets themselves, a simulated day's history stays
in memory (about 16 candles and a few hundred trades per market).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from kalshi.units import ZERO
from simulator.events import TradeEvent
from simulator.markets import MarketState

MINUTE = 60


@dataclass(slots=True)
class Ohlc:
    """Open, high, low and close of one price over a period."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal

    @classmethod
    def of(cls, value: Decimal) -> Ohlc:
        return cls(value, value, value, value)

    def add(self, value: Decimal) -> None:
        self.high = max(self.high, value)
        self.low = min(self.low, value)
        self.close = value

    def merge(self, later: Ohlc) -> Ohlc:
        return Ohlc(self.open, max(self.high, later.high), min(self.low, later.low), later.close)


def _merge_optional(first: Ohlc | None, later: Ohlc | None) -> Ohlc | None:
    if first is None or later is None:
        return first or later
    return first.merge(later)


@dataclass(slots=True)
class Candle:
    """One period of one market. ``yes_bid``/``yes_ask`` stay None until the first sample."""

    end_ts: int
    yes_bid: Ohlc | None = None
    yes_ask: Ohlc | None = None
    trades: Ohlc | None = None  # trade prices (YES, dollars); None: no trade in the period
    volume: Decimal = ZERO
    notional: Decimal = ZERO  # Σ count × price, for the volume-weighted mean
    open_interest: Decimal = ZERO  # at the end of the period
    previous: Decimal | None = None  # the last trade price before the period

    @property
    def mean(self) -> Decimal | None:
        return None if self.volume == ZERO else self.notional / self.volume

    def merge(self, later: Candle, end_ts: int) -> Candle:
        """This period and the one after it, as one period ending at ``end_ts``."""
        return Candle(
            end_ts=end_ts,
            yes_bid=_merge_optional(self.yes_bid, later.yes_bid),
            yes_ask=_merge_optional(self.yes_ask, later.yes_ask),
            trades=_merge_optional(self.trades, later.trades),
            volume=self.volume + later.volume,
            notional=self.notional + later.notional,
            open_interest=later.open_interest,
            previous=self.previous,
        )


@dataclass(frozen=True, slots=True)
class TapeEntry:
    """A public trade with its place in the tape (the cursor's key)."""

    seq: int
    trade: TradeEvent


def period_end(ts: float, period: int = MINUTE) -> int:
    """The inclusive end of the period holding ``ts``: ``(end − period, end]``."""
    return -int(-ts // period) * period


@dataclass(slots=True)
class MarketHistory:
    """Candles by ticker (oldest first) and the tape of every trade (oldest first)."""

    candles: dict[str, list[Candle]] = field(default_factory=dict)
    tape: list[TapeEntry] = field(default_factory=list)
    _last_price: dict[str, Decimal] = field(default_factory=dict)

    def _candle(self, ticker: str, ts: float) -> Candle:
        end = period_end(ts)
        series = self.candles.setdefault(ticker, [])
        if not series or series[-1].end_ts != end:
            series.append(Candle(end, previous=self._last_price.get(ticker)))
        return series[-1]

    def record_trade(self, trade: TradeEvent) -> None:
        """A trade just matched (called by the matching engine, in time order)."""
        self.tape.append(TapeEntry(len(self.tape) + 1, trade))
        candle = self._candle(trade.ticker, trade.ts)
        if candle.trades is None:
            candle.trades = Ohlc.of(trade.yes_price)
        else:
            candle.trades.add(trade.yes_price)
        candle.volume += trade.count
        candle.notional += trade.count * trade.yes_price
        self._last_price[trade.ticker] = trade.yes_price

    def sample(self, t: int, market: MarketState, yes_bid: Decimal, yes_ask: Decimal) -> None:
        """The top of an active market's book at the end of second ``t``."""
        candle = self._candle(market.ticker, t)
        if candle.yes_bid is None or candle.yes_ask is None:
            candle.yes_bid, candle.yes_ask = Ohlc.of(yes_bid), Ohlc.of(yes_ask)
        else:
            candle.yes_bid.add(yes_bid)
            candle.yes_ask.add(yes_ask)
        candle.open_interest = market.open_interest

    # --- reads ------------------------------------------------------------------------

    def candles_of(
        self, ticker: str, start_ts: int, end_ts: int, period_minutes: int = 1
    ) -> list[Candle]:
        """Quoted candles of ``period_minutes`` ending within ``[start_ts, end_ts]``."""
        minutes = [c for c in self.candles.get(ticker, ()) if c.yes_bid is not None]
        periods = aggregate(minutes, period_minutes * MINUTE)
        return [c for c in periods if start_ts <= c.end_ts <= end_ts]

    def latest_before(self, ticker: str, ts: int, period_minutes: int = 1) -> Candle | None:
        minutes = [c for c in self.candles.get(ticker, ()) if c.yes_bid is not None]
        earlier = [c for c in aggregate(minutes, period_minutes * MINUTE) if c.end_ts < ts]
        return earlier[-1] if earlier else None


def aggregate(minutes: Iterable[Candle], period: int) -> list[Candle]:
    """1-minute candles combined into periods of ``period`` seconds (a copy for 60)."""
    out: list[Candle] = []
    for candle in minutes:
        end = period_end(candle.end_ts, period)
        if out and out[-1].end_ts == end:
            out[-1] = out[-1].merge(candle, end)
        else:
            out.append(replace(candle, end_ts=end))
    return out
