"""Fills kept with the book each one met, judged when their market settles.

What a running bot needs for the realized edge against the cost floor: the top of each
market's book as the fill arrives (the cost floor of that fill), the market's close
(minutes left), its fee multiplier, and its settlement (what the fill made). Markets
that settle without a fill of ours are kept too: for the P&L interval they are windows
that made 0. A fill is counted once by its ``trade_id``, as the ledger books it (an order
actor's new incarnation may tell it again). Minutes left are scaled to a 15-minute window, so the simulator's shorter
markets fall in the same buckets as Kalshi's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle
from messages.trading import Fill
from scoring.costs import fill_floor
from scoring.edge import Entry

WINDOW_SECONDS = 900.0  # a real KXSOL15M market


@dataclass(frozen=True, slots=True)
class Judged:
    """What the fills of a session came to, so far."""

    entries: tuple[Entry, ...]  # fills of settled markets
    unsettled: int  # fills whose market has not settled yet
    quiet: tuple[str, ...]  # settled markets without a fill
    window_seconds: float | None  # the markets' length, when known


@dataclass(slots=True)
class _Market:
    close_time: float
    window: float
    fee_multiplier: Decimal


@dataclass(slots=True)
class FillBook:
    """Feed it books, market listings, lifecycle events and fills, in the order they arrive."""

    quotes: dict[str, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)
    markets: dict[str, _Market] = field(default_factory=dict)
    pending: dict[str, list[tuple[Fill, Decimal | None, float]]] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    quiet: list[str] = field(default_factory=list)
    settled: set[str] = field(default_factory=set)
    trade_ids: set[str] = field(default_factory=set)  # a fill told twice counts once

    def on_book(self, book: BookUpdate) -> None:
        self.quotes[book.ticker] = (book.yes_bid, book.yes_ask)

    def on_market(self, info: MarketInfo) -> None:
        window = info.close_time - info.open_time
        multiplier = info.fee_multiplier if info.fee_multiplier is not None else Decimal(1)
        self.markets[info.ticker] = _Market(info.close_time, window, multiplier)

    def on_fill(self, fill: Fill) -> None:
        if fill.trade_id in self.trade_ids:
            return
        self.trade_ids.add(fill.trade_id)
        market = self.markets.get(fill.ticker)
        bid, ask = self.quotes.get(fill.ticker, (None, None))
        floor = None
        minutes = float("nan")
        if market is not None:
            floor = fill_floor(fill.side, fill.action, bid, ask, market.fee_multiplier)
            if market.window > 0:
                scaled = (market.close_time - fill.timestamp) * WINDOW_SECONDS / market.window
                minutes = scaled / 60.0
        self.pending.setdefault(fill.ticker, []).append((fill, floor, minutes))

    def on_lifecycle(self, event: MarketLifecycle) -> None:
        if event.event_type != "settled" or event.result not in ("yes", "no"):
            return
        if event.ticker in self.settled:
            return
        self.settled.add(event.ticker)
        self.quotes.pop(event.ticker, None)
        fills = self.pending.pop(event.ticker, [])
        if not fills:
            self.quiet.append(event.ticker)
        for fill, floor, minutes in fills:
            if fill.count <= 0:
                continue
            self.entries.append(
                Entry(
                    fill.ticker,
                    minutes,
                    fill.action,
                    fill.count,
                    fill.price,
                    fill.fee,
                    fill.side == event.result,
                    floor,
                )
            )

    def judged(self) -> Judged:
        windows = {m.window for m in self.markets.values() if m.window > 0}
        return Judged(
            tuple(self.entries),
            sum(len(fills) for fills in self.pending.values()),
            tuple(self.quiet),
            windows.pop() if len(windows) == 1 else None,
        )
