"""Replaying a recording: each message reaches the session at the time the bot received it.

Messages before ``start`` only warm the volatility (index prints within
``warmup`` seconds of it); a market is traded when its listing falls inside
``[start, end)``. The actors' once-a-second timers fire at every whole second
the recording passes through (a silence longer than a minute is skipped over).
Fills walk the recorded books, as in paper mode: our own fills cannot change a
real book, so the depth they take comes back with the market's next update.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from backtest.session import Session
from messages.base import Message
from messages.market_data import BookUpdate, ExchangeState, MarketInfo, MarketLifecycle, SpotTick

MAX_TIMER_CATCH_UP = 60


def replay(
    session: Session,
    messages: Iterable[tuple[float, Message]],
    *,
    start: float | None = None,
    end: float | None = None,
    warmup: float = 3600.0,
    progress: Callable[[float], None] | None = None,
) -> tuple[float | None, float | None]:
    """Feed ``messages`` to ``session``; returns the first and last time traded."""
    first: float | None = None
    last: float | None = None
    next_timer = -math.inf
    count = 0
    deliver = _handlers(session)
    for at, message in messages:
        if end is not None and at >= end:
            break
        kind = type(message)
        if start is not None and at < start:
            if kind is SpotTick and at >= start - warmup:
                session.spot_tick(message, at)  # type: ignore[arg-type]
            continue
        if first is None:
            first = at
            next_timer = math.floor(at) + 1.0
        next_timer = _fire_timers(session, next_timer, at)
        handler = deliver.get(kind)
        if handler is not None:
            handler(message, at)
        last = at
        count += 1
        if progress is not None and not count & 0xFFF:
            progress(at)
    if last is not None:
        session.finish(last)
    return first, last


def _handlers(session: Session) -> dict[type, Callable[[Any, float], None]]:
    """The session's entry for each replayed kind; other kinds pass by (counted as traded)."""
    return {
        SpotTick: session.spot_tick,
        BookUpdate: session.book_update,
        MarketInfo: session.market_info,
        MarketLifecycle: session.lifecycle,
        ExchangeState: session.exchange_state,
    }


def _fire_timers(session: Session, next_timer: float, at: float) -> float:
    """Fire the once-a-second timers up to ``at``; returns the next one's time.

    A silence longer than :data:`MAX_TIMER_CATCH_UP` seconds is skipped over, not replayed
    second by second.
    """
    if at - next_timer > MAX_TIMER_CATCH_UP:
        next_timer = float(math.floor(at))
    while next_timer <= at:
        session.timer(next_timer)
        next_timer += 1.0
    return next_timer
