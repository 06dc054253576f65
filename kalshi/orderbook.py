"""A binary market's order book, kept from a snapshot plus signed deltas.

Kalshi publishes bids only: YES bids and NO bids. A NO bid at ``p`` is a YES offer at
``1 − p``, so the asks are derived (YES ask = 1 − best NO bid). Sizes and prices are
Decimals; each side is a dict ``price → size`` with the best price cached, so a delta
costs one dict update and only removing the best level rescans the side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from heapq import nlargest
from typing import Literal, NamedTuple

ZERO = Decimal(0)
ONE = Decimal(1)
TWO = Decimal(2)

Side = Literal["yes", "no"]
Action = Literal["buy", "sell"]


class PriceLevel(NamedTuple):
    price: Decimal
    size: Decimal


class BookIntegrityError(ValueError):
    """The book cannot be right any more (negative size, bad price): drop it, resnapshot."""


@dataclass(frozen=True, slots=True)
class TakerWalk:
    """What taking ``requested`` contracts against the book would do, level by level."""

    side: Side
    action: Action
    requested: Decimal
    filled: Decimal
    cost: Decimal  # Σ price × size, dollars, before fees
    levels: tuple[PriceLevel, ...]  # (price, size taken) in the order they are hit

    @property
    def complete(self) -> bool:
        return self.filled == self.requested

    @property
    def average_price(self) -> Decimal | None:
        return self.cost / self.filled if self.filled else None

    @property
    def worst_price(self) -> Decimal | None:
        return self.levels[-1].price if self.levels else None


def _load(levels: Iterable[tuple[Decimal, Decimal]], side: str) -> dict[Decimal, Decimal]:
    book: dict[Decimal, Decimal] = {}
    for price, size in levels:
        if not ZERO < price < ONE:
            raise BookIntegrityError(f"{side} level at price {price} is outside (0, 1)")
        if size < ZERO:
            raise BookIntegrityError(f"{side} level at {price} has negative size {size}")
        if size > ZERO:
            book[price] = size
    return book


class OrderBook:
    """YES and NO bids of one market. Not thread-safe: one owner applies every update."""

    __slots__ = ("_best_no", "_best_yes", "_no", "_yes", "ticker")

    def __init__(
        self,
        ticker: str = "",
        yes: Iterable[tuple[Decimal, Decimal]] = (),
        no: Iterable[tuple[Decimal, Decimal]] = (),
    ) -> None:
        self.ticker = ticker
        self._yes: dict[Decimal, Decimal] = {}
        self._no: dict[Decimal, Decimal] = {}
        self._best_yes: Decimal | None = None
        self._best_no: Decimal | None = None
        self.apply_snapshot(yes, no)

    # -- updates -------------------------------------------------------------------------

    def apply_snapshot(
        self,
        yes: Iterable[tuple[Decimal, Decimal]],
        no: Iterable[tuple[Decimal, Decimal]],
    ) -> None:
        """Replace both sides. Zero-size levels are dropped; negative ones are an error."""
        new_yes = _load(yes, "yes")
        new_no = _load(no, "no")
        self._yes, self._no = new_yes, new_no
        self._best_yes = max(new_yes) if new_yes else None
        self._best_no = max(new_no) if new_no else None

    def apply_delta(self, side: str, price: Decimal, delta: Decimal) -> Decimal:
        """Add a signed ``delta`` to the level at ``price``; returns the new size.

        A level that reaches zero is removed. A negative result, an unknown side or a price
        outside (0, 1) raises :class:`BookIntegrityError` and leaves the book unchanged.
        """
        if side == "yes":
            book = self._yes
        elif side == "no":
            book = self._no
        else:
            raise BookIntegrityError(f"unknown side {side!r}")
        if not ZERO < price < ONE:
            raise BookIntegrityError(f"{side} delta at price {price} is outside (0, 1)")
        new = book.get(price, ZERO) + delta
        if new > ZERO:
            book[price] = new
            if side == "yes":
                if self._best_yes is None or price > self._best_yes:
                    self._best_yes = price
            elif self._best_no is None or price > self._best_no:
                self._best_no = price
            return new
        if new < ZERO:
            raise BookIntegrityError(
                f"{self.ticker or 'book'}: {side} level {price} would become {new}"
            )
        if book.pop(price, None) is not None:
            self._level_removed(side, price, book)
        return ZERO

    def _level_removed(self, side: str, price: Decimal, book: dict[Decimal, Decimal]) -> None:
        """Find the side's new best bid when its best level went (a scan, so only then)."""
        if side == "yes":
            if price == self._best_yes:
                self._best_yes = max(book) if book else None
        elif price == self._best_no:
            self._best_no = max(book) if book else None

    def clear(self) -> None:
        self.apply_snapshot((), ())

    def copy(self) -> OrderBook:
        return OrderBook(self.ticker, self._yes.items(), self._no.items())

    # -- reads ---------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        return not self._yes and not self._no

    def size_at(self, side: Side, price: Decimal) -> Decimal:
        return (self._yes if side == "yes" else self._no).get(price, ZERO)

    def best_yes_bid(self) -> PriceLevel | None:
        best = self._best_yes
        return None if best is None else PriceLevel(best, self._yes[best])

    def best_no_bid(self) -> PriceLevel | None:
        best = self._best_no
        return None if best is None else PriceLevel(best, self._no[best])

    def best_yes_ask(self) -> PriceLevel | None:
        """Cheapest YES offer: a NO bid at ``p`` sells YES at ``1 − p``."""
        best = self._best_no
        return None if best is None else PriceLevel(ONE - best, self._no[best])

    def best_no_ask(self) -> PriceLevel | None:
        best = self._best_yes
        return None if best is None else PriceLevel(ONE - best, self._yes[best])

    def spread(self) -> Decimal | None:
        """YES ask − YES bid (the same number as the NO spread)."""
        if self._best_yes is None or self._best_no is None:
            return None
        return ONE - self._best_no - self._best_yes

    def mid(self) -> Decimal | None:
        """Midpoint of the YES bid and YES ask."""
        if self._best_yes is None or self._best_no is None:
            return None
        return (self._best_yes + ONE - self._best_no) / TWO

    def is_crossed(self) -> bool:
        """True when the best bids overlap (YES bid ≥ YES ask), which a sane book never is."""
        if self._best_yes is None or self._best_no is None:
            return False
        return self._best_yes + self._best_no >= ONE

    def bids(self, side: Side, depth: int | None = None) -> list[PriceLevel]:
        """Bids of ``side``, best (highest) first; ``depth`` levels or all."""
        book = self._yes if side == "yes" else self._no
        prices = sorted(book, reverse=True) if depth is None else nlargest(depth, book)
        return [PriceLevel(p, book[p]) for p in prices]

    def asks(self, side: Side, depth: int | None = None) -> list[PriceLevel]:
        """Offers to sell ``side``, best (lowest) first, derived from the other side's bids."""
        other: Side = "no" if side == "yes" else "yes"
        return [PriceLevel(ONE - p, s) for p, s in self.bids(other, depth)]

    def yes_depth(self, depth: int | None = None) -> list[PriceLevel]:
        return self.bids("yes", depth)

    def no_depth(self, depth: int | None = None) -> list[PriceLevel]:
        return self.bids("no", depth)

    def snapshot(self) -> tuple[list[PriceLevel], list[PriceLevel]]:
        """Both sides in Kalshi's wire order: ascending, best bid last."""
        yes = [PriceLevel(p, self._yes[p]) for p in sorted(self._yes)]
        no = [PriceLevel(p, self._no[p]) for p in sorted(self._no)]
        return yes, no

    def walk(
        self,
        side: Side,
        count: Decimal,
        action: Action = "buy",
        limit: Decimal | None = None,
    ) -> TakerWalk:
        """Take up to ``count`` contracts of ``side`` at market (or no worse than ``limit``).

        A buyer lifts the asks of ``side``; a seller hits its bids.
        """
        if count < ZERO:
            raise ValueError(f"count must not be negative: {count}")
        levels = self.asks(side) if action == "buy" else self.bids(side)
        remaining = count
        cost = ZERO
        used: list[PriceLevel] = []
        for price, size in levels:
            if remaining <= ZERO:
                break
            if limit is not None and (price > limit if action == "buy" else price < limit):
                break
            take = size if size < remaining else remaining
            used.append(PriceLevel(price, take))
            cost += price * take
            remaining -= take
        return TakerWalk(side, action, count, count - remaining, cost, tuple(used))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrderBook):
            return NotImplemented
        return self._yes == other._yes and self._no == other._no

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.ticker!r}, yes_bid={self.best_yes_bid()}, "
            f"no_bid={self.best_no_bid()}, levels={len(self._yes)}+{len(self._no)})"
        )
