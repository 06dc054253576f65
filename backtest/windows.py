"""The 15-minute windows of a stretch of 1-second prints: tickers, strikes, settlements, outcomes.

Kalshi's rule, as the simulator applies it (``simulator.index.IndexProcess``):
the strike (``floor_strike``) of a window opening at ``open`` is the simple
average of the 60 prints in ``(open − 60, open]``, its settlement value the
average of those in ``(close − 60, close]``, both to 8 decimals, and it settles
YES iff settlement ≥ strike. A window is *complete* when every print from
``open − lead`` to ``close`` is there; an incomplete one (a gap in the data)
is listed with its reason and never traded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from kalshi.tickers import SERIES, event_ticker_for, market_ticker_for

WINDOW_SECONDS = 900
SETTLEMENT_PRINTS = 60
AVERAGE_QUANTUM = Decimal("0.00000001")  # averages carry 8 decimals, as CF Benchmarks' do
PRICE_EXPONENT = -4  # prints are integers of 1e-4 dollars

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Window:
    """One market: its prints are ``q[start:stop]`` (``open − lead`` … ``close`` inclusive)."""

    ticker: str
    event_ticker: str
    open_ts: int
    close_ts: int
    start: int  # index of the first print it needs
    stop: int  # one past the print at close
    strike: Decimal
    settlement: Decimal
    result: str  # yes | no

    def index_of(self, ts: int) -> int:
        """Index (into the prints) of the print at second ``ts`` inside this window's span."""
        return self.stop - 1 - (self.close_ts - ts)


@dataclass(frozen=True, slots=True)
class SkippedWindow:
    ticker: str
    open_ts: int
    reason: str


def average(q: IntArray, lo: int, hi: int) -> Decimal:
    """Exact mean of prints ``q[lo:hi]`` (1e-4 units) to 8 decimals."""
    total = int(q[lo:hi].sum())
    count = hi - lo
    value: Decimal = (Decimal(total).scaleb(PRICE_EXPONENT) / count).quantize(AVERAGE_QUANTUM)
    return value


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def find_windows(
    ts: IntArray,
    q: IntArray,
    *,
    start: int | None = None,
    end: int | None = None,
    lead: int = SETTLEMENT_PRINTS,
    series: str = SERIES,
    window: int = WINDOW_SECONDS,
) -> tuple[list[Window], list[SkippedWindow]]:
    """Windows opening at or after ``start`` and closing at or before ``end``, aligned to the epoch.

    ``lead`` ≥ 60 seconds of prints before the open are required (the strike,
    and whatever else looks back, such as a market maker's lag). Two windows
    whose tickers coincide (New York's repeated hour in November) keep the
    first, as the simulator does.
    """
    if ts.size == 0:
        return [], []
    lead = max(lead, SETTLEMENT_PRINTS)
    first_open = -(-(int(ts[0]) + lead) // window) * window
    if start is not None:
        first_open = max(first_open, -(-start // window) * window)
    last_close = int(ts[-1]) if end is None else min(int(ts[-1]), end)
    windows: list[Window] = []
    skipped: list[SkippedWindow] = []
    seen: set[str] = set()
    for open_ts in range(first_open, last_close - window + 1, window):
        close_ts = open_ts + window
        ticker = market_ticker_for(_utc(close_ts), series)
        if ticker in seen:
            skipped.append(SkippedWindow(ticker, open_ts, "duplicate ticker (repeated hour)"))
            continue
        seen.add(ticker)
        lo = int(np.searchsorted(ts, open_ts - lead, side="left"))
        hi = lo + (close_ts - (open_ts - lead)) + 1
        if hi > ts.size or ts[lo] != open_ts - lead or ts[hi - 1] != close_ts:
            skipped.append(SkippedWindow(ticker, open_ts, "gap in the data"))
            continue
        strike_at = hi - 1 - window  # the print at the open
        strike = average(q, strike_at - SETTLEMENT_PRINTS + 1, strike_at + 1)
        settlement = average(q, hi - SETTLEMENT_PRINTS, hi)
        windows.append(
            Window(
                ticker=ticker,
                event_ticker=event_ticker_for(_utc(close_ts), series),
                open_ts=open_ts,
                close_ts=close_ts,
                start=lo,
                stop=hi,
                strike=strike,
                settlement=settlement,
                result="yes" if settlement >= strike else "no",
            )
        )
    return windows, skipped
