"""A real Kalshi market, replayed from a folder of its own history into a :class:`Session`.

Each second of the replayed windows, in the exchange's order: a window's close (its
book empties), settlement (``result`` and ``expiration_value`` from the folder) and
open (``floor_strike`` from the folder); the book of a live window whose 1-minute
candlestick ends this second — its closing YES bid and ask; the index print, if the
folder's values or ``--data`` have one; the actors' once-a-second timers.

The book at a candle's end offers the recorded ask and bid, each as deep as the
contracts takers bought on that side during that minute (``trades.jsonl``; without it,
the candle's volume): an order fills at the recorded price, with Kalshi's fee
(``PaperBroker``), never beyond the depth the market showed, and what it takes is gone
until the next candle. Nothing else is quoted: between candles the last book stands and
goes stale as the risk rules say (``risk.max_book_age_seconds``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from backtest.kalshi_folder import FolderMarket, Quote, TapeTrade
from backtest.kalshi_index import IndexTimeline
from backtest.session import Session
from kalshi.units import ONE, ZERO
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.trading import Fill
from simulator.config import ExchangeConfig

DETERMINATION_DELAY = ExchangeConfig().determination_delay_seconds
MINUTE = 60
CLOSE, SETTLE, OPEN = 0, 1, 2  # the exchange's order within one second
Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class ReplayWindow:
    market: FolderMarket
    quotes: tuple[Quote, ...]  # those inside [open, close)
    depth: dict[int, tuple[Decimal, Decimal]]  # candle end → (YES-ask side, YES-bid side)

    @property
    def settle_ts(self) -> int:
        settled = self.market.settled_ts
        close = self.market.close_ts
        return (
            int(settled) if settled is not None and settled > close else close + DETERMINATION_DELAY
        )


def depth_by_minute(
    quotes: Sequence[Quote], trades: list[TapeTrade] | None
) -> dict[int, tuple[Decimal, Decimal]]:
    """Per candle: contracts takers bought YES (the ask side's depth) and NO (the bid side's)
    in the minute it closes; the candle's volume on both sides when there is no tape."""
    if trades is None:
        return {q.end_ts: (q.volume, q.volume) for q in quotes}
    depth = {q.end_ts: [ZERO, ZERO] for q in quotes}
    for trade in trades:
        end = -int(-trade.ts // MINUTE) * MINUTE  # the candle holding it: (end − 60, end]
        sides = depth.get(end)
        if sides is not None:
            sides[0 if trade.taker == "yes" else 1] += trade.count
    return {end: (a, b) for end, (a, b) in depth.items()}


def market_info(market: FolderMarket, status: str, fee_multiplier: Decimal) -> MarketInfo:
    settled = status == "determined"
    return MarketInfo(
        ticker=market.ticker,
        event_ticker=market.event_ticker,
        status=status,
        open_time=float(market.open_ts),
        close_time=float(market.close_ts),
        floor_strike=market.floor_strike,
        fee_type="quadratic",
        fee_multiplier=fee_multiplier,
        tick_ranges=market.tick_ranges,
        result=market.result if settled else None,
        expiration_value=market.expiration_value if settled else None,
    )


class _Book:
    """One window's current quote and what is left of its depth this minute."""

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.seq = 0
        self.quote: Quote | None = None
        self.ask_depth = ZERO  # YES ask (taken by YES buyers and NO sellers)
        self.bid_depth = ZERO  # YES bid (taken by NO buyers and YES sellers)

    def show(self, quote: Quote | None, depth: tuple[Decimal, Decimal], now: float) -> BookUpdate:
        self.quote = quote
        self.ask_depth, self.bid_depth = depth
        return self.snapshot(now)

    def take(self, fill: Fill) -> None:
        if (fill.side == "yes") == (fill.action == "buy"):
            self.ask_depth = max(self.ask_depth - fill.count, ZERO)
        else:
            self.bid_depth = max(self.bid_depth - fill.count, ZERO)

    def snapshot(self, now: float) -> BookUpdate:
        self.seq += 1
        bid = ask = None
        if self.quote is not None:
            bid, ask = self.quote.yes_bid, self.quote.yes_ask
        ask_size = Decimal(int(self.ask_depth))  # whole contracts
        bid_size = Decimal(int(self.bid_depth))
        return BookUpdate(
            ticker=self.ticker,
            seq=self.seq,
            ts=now,
            yes_bid=bid,
            yes_ask=ask,
            no_bid=None if ask is None else ONE - ask,
            no_ask=None if bid is None else ONE - bid,
            yes_bids=((bid, bid_size),) if bid is not None and bid_size > 0 else (),
            no_bids=((ONE - ask, ask_size),) if ask is not None and ask_size > 0 else (),
        )


class KalshiFeed:
    """Drives a :class:`Session` through the windows of a folder, second by second."""

    def __init__(
        self,
        windows: Sequence[ReplayWindow],
        index: IndexTimeline,
        session: Session,
        *,
        fee_multiplier: Decimal,
        index_name: str,
        warmup: int,
        progress: Progress | None = None,
    ) -> None:
        self.windows = sorted(windows, key=lambda w: w.market.open_ts)
        self.index = index
        self.session = session
        self.fee_multiplier = fee_multiplier
        self.index_name = index_name
        self.warmup = warmup if not index.empty else 0
        self.progress = progress
        self.books: dict[str, _Book] = {}
        session.impact = self._impact

    def _impact(self, ticker: str, fills: list[Fill], now: float) -> BookUpdate | None:
        book = self.books.get(ticker)
        if book is None:
            return None
        for fill in fills:
            book.take(fill)
        return book.snapshot(now)

    def spans(self) -> list[tuple[int, int]]:
        """The stretches of time to replay: each window from ``warmup`` before its open to
        its settlement, overlapping stretches merged."""
        spans: list[list[int]] = []
        for window in self.windows:
            lo, hi = window.market.open_ts - self.warmup, window.settle_ts
            if spans and lo <= spans[-1][1] + 1:
                spans[-1][1] = max(spans[-1][1], hi)
            else:
                spans.append([lo, hi])
        return [(lo, hi) for lo, hi in spans]

    def _events(self) -> dict[int, list[tuple[int, ReplayWindow]]]:
        events: dict[int, list[tuple[int, ReplayWindow]]] = {}
        for window in self.windows:
            market = window.market
            for at, kind in (
                (market.open_ts, OPEN),
                (market.close_ts, CLOSE),
                (window.settle_ts, SETTLE),
            ):
                events.setdefault(at, []).append((kind, window))
        for due in events.values():
            due.sort(key=lambda e: e[0])
        return events

    def _event(self, kind: int, window: ReplayWindow, now: float) -> None:
        market, session = window.market, self.session
        if kind == OPEN:
            session.market_info(market_info(market, "active", self.fee_multiplier), now)
            self.books[market.ticker] = _Book(market.ticker)
        elif kind == CLOSE:
            session.market_info(market_info(market, "closed", self.fee_multiplier), now)
            book = self.books.get(market.ticker)
            if book is not None:
                session.book_update(book.show(None, (ZERO, ZERO), now), now)
        else:
            session.market_info(market_info(market, "determined", self.fee_multiplier), now)
            event = MarketLifecycle(
                market.ticker, "settled", now, market.result, market.expiration_value
            )
            session.lifecycle(event, now)
            self.books.pop(market.ticker, None)

    def run(self) -> None:
        events = self._events()
        quotes = {(w.market.ticker, q.end_ts): (w, q) for w in self.windows for q in w.quotes}
        by_second: dict[int, list[tuple[ReplayWindow, Quote]]] = {}
        for (_, end), pair in quotes.items():
            by_second.setdefault(end, []).append(pair)
        last = 0
        for lo, hi in self.spans():
            prints = self.index.prints(lo, hi)
            pending = next(prints, None)
            for t in range(lo, hi + 1):
                now = float(t)
                for kind, window in events.get(t, ()):
                    self._event(kind, window, now)
                for window, quote in by_second.get(t, ()):
                    book = self.books.get(window.market.ticker)
                    if book is not None:
                        depth = window.depth.get(t, (ZERO, ZERO))
                        self.session.book_update(book.show(quote, depth, now), now)
                if pending is not None and pending[0] == t:
                    self.session.spot_tick(SpotTick(self.index_name, pending[1], now), now)
                    pending = next(prints, None)
                self.session.timer(now)
                if self.progress is not None and not t & 0xFFF:
                    self.progress(now)
            last = hi
        self.session.finish(float(last))
