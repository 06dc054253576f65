"""A market's order book: two bid ladders (YES and NO) with price-time priority.

Pure data structure: it stores resting orders and aggregates size per level;
matching decisions live in :mod:`simulator.matching`.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from decimal import Decimal

from kalshi.units import ZERO
from messages.vocabulary import Side
from simulator.orders import Order


class BidLadder:
    """Resting bids of one outcome side: FIFO queues per price, best = highest."""

    __slots__ = ("_prices", "_queues", "_sizes")

    def __init__(self) -> None:
        self._prices: list[Decimal] = []  # ascending
        self._queues: dict[Decimal, deque[Order]] = {}
        self._sizes: dict[Decimal, Decimal] = {}

    def add(self, order: Order) -> None:
        price = order.book_price
        queue = self._queues.get(price)
        if queue is None:
            queue = deque()
            self._queues[price] = queue
            self._sizes[price] = ZERO
            bisect.insort(self._prices, price)
        queue.append(order)
        self._sizes[price] += order.remaining

    def remove(self, order: Order) -> None:
        """Take a resting order out of its queue (a cancel) with all its remaining size."""
        price = order.book_price
        queue = self._queues[price]
        queue.remove(order)
        self._sizes[price] -= order.remaining
        if not queue:
            self._drop(price)

    def resize(self, order: Order, change: Decimal) -> None:
        """A resting order's size changed by ``change`` where it stands in the queue."""
        self._sizes[order.book_price] += change

    def fill_front(self, price: Decimal, size: Decimal, done: bool) -> None:
        """The first order of a level traded ``size``; ``done`` when it has nothing left."""
        self._sizes[price] -= size
        if done:
            queue = self._queues[price]
            queue.popleft()
            if not queue:
                self._drop(price)

    def _drop(self, price: Decimal) -> None:
        del self._sizes[price]
        del self._queues[price]
        del self._prices[bisect.bisect_left(self._prices, price)]

    def best(self) -> Decimal | None:
        return self._prices[-1] if self._prices else None

    def front(self, price: Decimal) -> Order:
        return self._queues[price][0]

    def size_at(self, price: Decimal) -> Decimal:
        return self._sizes.get(price, ZERO)

    def prices_descending(self) -> Iterator[Decimal]:
        return reversed(self._prices)

    def queue(self, price: Decimal) -> deque[Order]:
        return self._queues[price]

    def levels(self) -> list[tuple[Decimal, Decimal]]:
        """``(price, size)`` ascending, as Kalshi lists bids (best last)."""
        return [(price, self._sizes[price]) for price in self._prices]

    def __len__(self) -> int:
        return len(self._prices)


class OrderBook:
    """The YES and NO bid ladders of one market."""

    __slots__ = ("no", "yes")

    def __init__(self) -> None:
        self.yes = BidLadder()
        self.no = BidLadder()

    def ladder(self, side: Side) -> BidLadder:
        return self.yes if side == "yes" else self.no
