"""History as the bot would have seen it: index prints, market listings and books, second by second.

Each second, in the simulated exchange's order: the index print; market
lifecycle (at a close the old market closes — its book empties — and the next
opens with its strike; two seconds later the closed one is determined and
settled); the market makers' requote; the actors' once-a-second timers.
Only complete windows inside ``[trade_start, trade_end]`` are listed; prints
flow from ``warmup`` seconds before the first, so the volatility estimate is
warm when trading starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from backtest.bridge import expand, variance_ratio
from backtest.errors import BacktestInputError
from backtest.history import BAR_SECONDS, Bars, Gap, load_bars
from backtest.market import MarketModel, WindowBook
from backtest.session import Session
from backtest.windows import PRICE_EXPONENT, SkippedWindow, Window, find_windows
from kalshi.tickers import SERIES
from kalshi.units import PriceLevels
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.trading import Fill
from simulator.config import ExchangeConfig

DETERMINATION_DELAY = ExchangeConfig().determination_delay_seconds
LONG_GAP = 900  # seconds; the EWMA volatility re-anchors after a longer silence
_SCALE = 10**-PRICE_EXPONENT

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class HistoryData:
    """Prints of the stretch to replay, and the windows in it."""

    bars: Bars
    ts: IntArray
    q: IntArray  # prints in 1e-4 dollars
    price: FloatArray
    windows: list[Window]
    skipped: list[SkippedWindow]
    gaps: tuple[Gap, ...]
    variance_ratio: float
    trade_start: int
    trade_end: int


def prepare_history(
    paths: Sequence[Path],
    *,
    seed: int,
    start: int | None,
    end: int | None,
    warmup: int,
    lead: int,
    series: str = SERIES,
    bars: Bars | None = None,
) -> HistoryData:
    """Load, cut to ``[start − warmup, end]``, expand to 1-second prints, list ``series``' windows.

    ``bars``: ``paths`` already loaded (by :func:`load_bars`), e.g. once per sweep worker.
    """
    if bars is None:
        bars = load_bars(paths)
    ratio = variance_ratio(bars)  # of everything loaded: a bar's prints do not depend on --from
    first = int(bars.ts[0])
    data_end = int(bars.ts[-1]) + BAR_SECONDS
    trade_start = start if start is not None else first + warmup
    trade_end = end if end is not None else data_end
    if trade_end <= trade_start:
        raise BacktestInputError(
            f"nothing to replay: the range {_iso(trade_start)} to {_iso(trade_end)} is empty"
        )
    part = bars.between(trade_start - warmup - lead - BAR_SECONDS, trade_end + BAR_SECONDS)
    if len(part) == 0:
        raise BacktestInputError(
            f"no bars between {_iso(trade_start)} and {_iso(trade_end)} "
            f"(the data covers {_iso(first)} to {_iso(data_end)})"
        )
    prints = expand(part, seed, ratio)
    q = np.rint(prints.price * _SCALE).astype(np.int64)
    windows, skipped = find_windows(
        prints.ts, q, start=trade_start, end=trade_end, lead=lead, series=series
    )
    windows, cold = _warm_only(windows, prints.ts, warmup)
    skipped = sorted([*skipped, *cold], key=lambda w: w.open_ts)
    if not windows:
        raise BacktestInputError(
            f"no complete 15-minute window between {_iso(trade_start)} and {_iso(trade_end)} "
            f"(the data covers {_iso(first)} to {_iso(data_end)}; a window needs its "
            f"{lead} s before the open and every print to its close)"
        )
    return HistoryData(
        part,
        prints.ts,
        q,
        q / _SCALE,
        windows,
        skipped,
        part.gaps,
        ratio,
        trade_start,
        trade_end,
    )


def _warm_only(
    windows: list[Window], ts: IntArray, warmup: int
) -> tuple[list[Window], list[SkippedWindow]]:
    """Windows opening within ``warmup`` s after a gap longer than ``LONG_GAP`` are not traded.

    As at the start of the data: the volatility estimate has nothing recent to go on.
    """
    steps = np.diff(ts)
    resumes = ts[1:][steps > LONG_GAP]
    if resumes.size == 0 or warmup <= 0:
        return windows, []
    keep: list[Window] = []
    cold: list[SkippedWindow] = []
    for window in windows:
        i = int(np.searchsorted(resumes, window.open_ts, side="right"))
        if i and window.open_ts - int(resumes[i - 1]) < warmup:
            cold.append(SkippedWindow(window.ticker, window.open_ts, "warming up after a gap"))
        else:
            keep.append(window)
    return keep, cold


def _iso(ts: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M")


def market_info(
    window: Window, status: str, fee_multiplier: Decimal, levels: PriceLevels
) -> MarketInfo:
    determined = status == "determined"
    return MarketInfo(
        ticker=window.ticker,
        event_ticker=window.event_ticker,
        status=status,
        open_time=float(window.open_ts),
        close_time=float(window.close_ts),
        floor_strike=window.strike,
        fee_type="quadratic",
        fee_multiplier=fee_multiplier,
        tick_ranges=tuple((r.start, r.end, r.step) for r in levels.ranges),
        result=window.result if determined else None,
        expiration_value=window.settlement if determined else None,
    )


class HistoryFeed:
    """Drives a :class:`Session` through prepared history with the market model's books."""

    def __init__(
        self,
        data: HistoryData,
        model: MarketModel,
        session: Session,
        *,
        index: str = "SOLUSD_RTI",
        progress: Progress | None = None,
    ) -> None:
        self.data = data
        self.model = model
        self.session = session
        self.index = index
        self.progress = progress
        self.levels = model.grid.levels
        self.fee_multiplier = model.params.fee_multiplier
        self.books: dict[str, WindowBook] = {}
        session.impact = self._impact

    def _impact(self, ticker: str, fills: list[Fill], now: float) -> BookUpdate | None:
        book = self.books.get(ticker)
        if book is None:
            return None
        changed = False
        for fill in fills:
            changed = book.consume(fill.side, fill.price, fill.count, fill.action) or changed
        return book.snapshot(now) if changed else None

    def _schedule(self) -> list[tuple[int, int, Window]]:
        """(time, order, window): 0 close, 1 determine, 2 open — the exchange's order in a second."""
        events = []
        for window in self.data.windows:
            events.append((window.open_ts, 2, window))
            events.append((window.close_ts, 0, window))
            events.append((window.close_ts + DETERMINATION_DELAY, 1, window))
        events.sort(key=lambda e: (e[0], e[1]))
        return events

    def _event(self, kind: int, window: Window, now: float) -> None:
        session = self.session
        if kind == 2:
            session.market_info(
                market_info(window, "active", self.fee_multiplier, self.levels), now
            )
            self.books[window.ticker] = self.model.book(window, self.data.price)
        elif kind == 0:
            session.market_info(
                market_info(window, "closed", self.fee_multiplier, self.levels), now
            )
            book = self.books.get(window.ticker)
            if book is not None:
                session.book_update(book.close(now), now)
        else:
            info = market_info(window, "determined", self.fee_multiplier, self.levels)
            session.market_info(info, now)
            session.lifecycle(
                MarketLifecycle(window.ticker, "settled", now, window.result, window.settlement),
                now,
            )
            self.books.pop(window.ticker, None)

    def cursor(self) -> FeedCursor:
        """This feed's prints and market events, a second at a time (:func:`run_together`)."""
        return FeedCursor(self)

    def run(self) -> None:
        run_together([self], self.progress)


class FeedCursor:
    """Where one feed is: its next print, its next market event, its open market's book.

    ``step`` does one print's second in the exchange's order (the print, then closes,
    determinations and opens, then the makers' requote); the caller runs the timers.
    """

    def __init__(self, feed: HistoryFeed) -> None:
        self.feed = feed
        self.ts: list[int] = feed.data.ts.tolist()
        self.q: list[int] = feed.data.q.tolist()
        self.k = 0
        self.events = feed._schedule()
        self.e = 0
        self.next_event: int | None = self.events[0][0] if self.events else None
        self.live: WindowBook | None = None
        self.live_open = self.live_close = 0
        self.prices: dict[int, Decimal] = {}  # prints repeat: one Decimal per distinct price

    def step(self, t: int) -> None:
        """The print at second ``t`` (the cursor's next one) and what happens at that second."""
        feed = self.feed
        session = feed.session
        price = self.q[self.k]
        self.k += 1
        now = float(t)
        exact = self.prices.get(price)
        if exact is None:
            exact = self.prices[price] = Decimal(price).scaleb(PRICE_EXPONENT)
        session.spot_tick(SpotTick(feed.index, exact, now), now)
        if self.next_event is not None and t >= self.next_event:
            self.events_until(t)
        live = self.live
        if live is not None and self.live_open <= t < self.live_close:
            update = live.requote(t - self.live_open, now)
            if update is not None:
                session.book_update(update, now)

    def events_until(self, t: int) -> None:
        """Market events due at or before ``t``, each at its own time."""
        events = self.events
        feed = self.feed
        while self.e < len(events) and events[self.e][0] <= t:
            at, kind, window = events[self.e]
            self.e += 1
            feed._event(kind, window, float(at))
            if kind == 2:
                self.live = feed.books[window.ticker]
                self.live_open, self.live_close = window.open_ts, window.close_ts
        self.next_event = events[self.e][0] if self.e < len(events) else None

    def settle_rest(self) -> float:
        """Settlements after the last print; the time of the last thing done."""
        last = float(self.ts[-1]) if self.ts else 0.0
        while self.e < len(self.events):
            at, kind, window = self.events[self.e]
            self.e += 1
            self.feed._event(kind, window, float(at))
            last = float(at)
        return last


def run_together(feeds: Sequence[HistoryFeed], progress: Progress | None = None) -> None:
    """Drive one session through several feeds' prints in one timeline (each second: every
    feed's print and events in the order given, then the timers once)."""
    session = feeds[0].session
    by_ticker: dict[str, HistoryFeed] = {}

    def impact(ticker: str, fills: list[Fill], now: float) -> BookUpdate | None:
        feed = by_ticker.get(ticker)
        return feed._impact(ticker, fills, now) if feed is not None else None

    for feed in feeds:
        by_ticker.update((w.ticker, feed) for w in feed.data.windows)
    session.impact = impact
    cursors = [feed.cursor() for feed in feeds]
    timeline = np.unique(np.concatenate([feed.data.ts for feed in feeds])).tolist()
    timer = session.timer
    for n, t in enumerate(timeline):
        for cursor in cursors:
            if cursor.k < len(cursor.ts) and cursor.ts[cursor.k] == t:
                cursor.step(t)
            elif cursor.next_event is not None and cursor.next_event <= t:
                cursor.events_until(t)  # settlements after this feed's last print
        timer(float(t))
        if progress is not None and not n & 0xFFF:
            progress(float(t))
    session.finish(max(cursor.settle_rest() for cursor in cursors))
