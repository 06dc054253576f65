"""Contracts a strategy has asked for and not yet seen filled: counted against its targets.

A signal's contracts are "on their way" from the moment it is sent until risk turns it
down, the order ends without them, or their fills arrive; a signal nobody answers stops
counting after ``timeout`` seconds. The strategy asks for the count per market and side
on every evaluation that could trade, so the sums are kept between changes: asking is a
dict lookup, however many signals are waiting for fills (the tick-to-order benchmark
leaves hundreds waiting, and scanning them all on every book change cut the watcher's
throughput by two thirds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class _Pending:
    ticker: str
    side: str
    quantity: int
    ts: float


class PendingBuys:
    """Buys in flight, by signal id (oldest first)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._by_signal: dict[str, _Pending] = {}
        self._sums: dict[tuple[str, str], int] | None = None  # None: to be counted again
        self._oldest = math.inf  # the earliest ``ts`` among them, when ``_sums`` was counted

    def __len__(self) -> int:
        return len(self._by_signal)

    def total(self) -> int:
        return sum(p.quantity for p in self._by_signal.values())

    def add(self, signal_id: str, ticker: str, side: str, quantity: int, ts: float) -> None:
        self._by_signal[signal_id] = _Pending(ticker, side, quantity, ts)
        self._sums = None

    def approved(self, signal_id: str, quantity: int) -> None:
        """Risk's answer: ``quantity`` approved (0: turned down)."""
        pending = self._by_signal.get(signal_id)
        if pending is None:
            return
        if quantity <= 0:
            del self._by_signal[signal_id]
        else:
            pending.quantity = min(pending.quantity, quantity)
        self._sums = None

    def reduce(self, ticker: str, side: str, count: int) -> None:
        """``count`` contracts arrived (a fill) or will not (an order ended short), oldest first."""
        by_signal = self._by_signal
        for key in list(by_signal):
            if count <= 0:
                break
            pending = by_signal[key]
            if pending.ticker == ticker and pending.side == side:
                used = min(count, pending.quantity)
                pending.quantity -= used
                count -= used
                if pending.quantity <= 0:
                    del by_signal[key]
                self._sums = None

    def drop_market(self, ticker: str) -> None:
        for key in [k for k, p in self._by_signal.items() if p.ticker == ticker]:
            del self._by_signal[key]
        self._sums = None

    def quantity(self, ticker: str, side: str, now: float) -> int:
        """Contracts on their way in ``ticker``/``side`` at ``now`` (expired ones dropped)."""
        sums = self._sums
        if sums is None or now - self._oldest > self.timeout:
            sums = self._count(now)
        return sums.get((ticker, side), 0)

    def _count(self, now: float) -> dict[tuple[str, str], int]:
        by_signal = self._by_signal
        for key in [k for k, p in by_signal.items() if now - p.ts > self.timeout]:
            del by_signal[key]
        sums: dict[tuple[str, str], int] = {}
        oldest = math.inf
        for pending in by_signal.values():
            market_side = (pending.ticker, pending.side)
            sums[market_side] = sums.get(market_side, 0) + pending.quantity
            oldest = min(oldest, pending.ts)
        self._sums, self._oldest = sums, oldest
        return sums
