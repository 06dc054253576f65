"""The paper broker: orders filled against the live book, walking depth, with Kalshi's taker fee.

Used in ``paper`` mode, where market data is real but no order may leave the process,
and by the backtest. It keeps the latest book of every market it is shown
(:meth:`PaperBroker.on_book`). A buy of one side lifts the asks of that side (the other
side's bids at 1 − p), level by level, up to the limit price; what is left is cancelled
(IOC) or, for good-till-cancelled orders, rests and fills when a later book crosses it.
Depth taken from a book is not taken again until the next book of that market.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from execution.broker import NOTHING, BrokerReport
from execution.tracker import TrackedOrder
from execution.updates import order_update
from kalshi.fees import taker_fee
from messages.market_data import BookUpdate
from messages.trading import Fill, OrderIntent, OrderUpdate
from messages.vocabulary import OrderStatus

ONE = Decimal(1)
Level = tuple[Decimal, Decimal]
NO_LIVE_BOOK = "no_live_book"
POST_ONLY_CROSS = "PostOnlyCrossCancel"
HALTED = "halted"


@dataclass
class _Resting:
    intent: OrderIntent
    order_id: str
    remaining: int
    filled: int = 0
    fees: Decimal = field(default_factory=lambda: Decimal(0))


class PaperBroker:
    """A :class:`~execution.broker.Broker` that matches against the books it is shown."""

    needs_books = True

    def __init__(
        self, fee_multiplier: Decimal = ONE, books: dict[str, BookUpdate] | None = None
    ) -> None:
        """``books``: the latest book per ticker, when the caller keeps them itself (the
        backtest shares its own, so a book needs :meth:`on_book` only while an order rests or
        depth was taken from it); otherwise the broker keeps what :meth:`on_book` shows it."""
        self.fee_multiplier = fee_multiplier
        self._ids = itertools.count(1)
        self._trades = itertools.count(1)
        self.books: dict[str, BookUpdate] = {} if books is None else books
        self.resting: dict[str, _Resting] = {}  # by client_order_id
        # depth already taken from the current book: ticker → (direction, price) → contracts
        self.consumed: dict[str, dict[tuple[str, Decimal], int]] = {}
        self.halted = ""

    # -- the Broker protocol -----------------------------------------------------------

    def submit(self, intent: OrderIntent, now: float) -> BrokerReport:
        order = _Resting(intent, f"paper-{next(self._ids)}", intent.count)
        book = self.books.get(intent.ticker)
        if self.halted:
            return self._report(order, OrderStatus.REJECTED, now, reason=HALTED)
        if book is None or book.stale:
            return self._report(order, OrderStatus.REJECTED, now, reason=NO_LIVE_BOOK)
        if intent.post_only:
            if self._crosses(intent, book):
                return self._report(order, OrderStatus.CANCELED, now, reason=POST_ONLY_CROSS)
            self.resting[intent.client_order_id] = order
            return self._report(order, OrderStatus.RESTING, now)
        fills = self._take(order, book, now)
        if order.remaining == 0:
            return self._report(order, OrderStatus.EXECUTED, now, fills)
        if intent.time_in_force == "good_till_canceled":
            self.resting[intent.client_order_id] = order
            return self._report(order, OrderStatus.RESTING, now, fills)
        return self._report(order, OrderStatus.CANCELED, now, fills)  # IOC/FOK: the rest goes

    def cancel(self, order: TrackedOrder, now: float) -> BrokerReport:
        resting = self.resting.pop(order.client_order_id, None)
        if resting is None:
            return NOTHING
        return self._report(resting, OrderStatus.CANCELED, now)

    def refresh(self, order: TrackedOrder, now: float) -> OrderUpdate | None:
        return self.lookup(order.intent, now)

    def lookup(self, intent: OrderIntent, now: float) -> OrderUpdate | None:
        """Only resting paper orders are remembered; the others are done."""
        resting = self.resting.get(intent.client_order_id)
        return None if resting is None else self._update(resting, OrderStatus.RESTING, now)

    def on_book(self, book: BookUpdate, now: float) -> list[BrokerReport]:
        """Keep ``book`` and let resting paper orders trade against it."""
        ticker = book.ticker
        self.books[ticker] = book
        if self.consumed:
            self.consumed.pop(ticker, None)
        if not self.resting or book.stale:
            return []
        reports = []
        for coid, order in list(self.resting.items()):
            if order.intent.ticker != ticker:
                continue
            fills = self._take(order, book, now)
            if fills:
                if order.remaining == 0:
                    del self.resting[coid]
                    reports.append(self._report(order, OrderStatus.EXECUTED, now, fills))
                else:
                    reports.append(self._report(order, OrderStatus.RESTING, now, fills))
        return reports

    def forget(self, ticker: str) -> None:
        self.books.pop(ticker, None)
        self.consumed.pop(ticker, None)

    def halt(self, reason: str, now: float) -> list[BrokerReport]:
        """Cancel every resting paper order and refuse new ones until :meth:`resume`."""
        self.halted = reason or HALTED
        cancelled = [
            self._report(order, OrderStatus.CANCELED, now, reason=HALTED)
            for order in self.resting.values()
        ]
        self.resting.clear()
        return cancelled

    def resume(self) -> None:
        self.halted = ""

    def close(self) -> None:
        """Nothing to release: paper orders live in memory."""

    # -- matching ------------------------------------------------------------------------

    @staticmethod
    def _levels(intent: OrderIntent, book: BookUpdate) -> tuple[Level, ...]:
        if intent.action == "buy":
            return book.yes_ask_levels if intent.side == "yes" else book.no_ask_levels
        return book.yes_bids if intent.side == "yes" else book.no_bids

    def _crosses(self, intent: OrderIntent, book: BookUpdate) -> bool:
        levels = self._levels(intent, book)
        if not levels:
            return False
        best = levels[0][0]
        return best <= intent.price if intent.action == "buy" else best >= intent.price

    def _take(self, order: _Resting, book: BookUpdate, now: float) -> list[Fill]:
        intent = order.intent
        buying = intent.action == "buy"
        levels = self._levels(intent, book)
        if intent.time_in_force == "fill_or_kill":
            available = sum(
                int(size)
                for price, size in levels
                if (price <= intent.price if buying else price >= intent.price)
            )
            if available < order.remaining:
                return []
        consumed = self.consumed.setdefault(book.ticker, {})
        direction = f"{intent.side}-{intent.action}"
        fills: list[Fill] = []
        for price, size in levels:
            if order.remaining == 0 or (price > intent.price if buying else price < intent.price):
                break
            key = (direction, price)
            take = min(int(size) - consumed.get(key, 0), order.remaining)
            if take <= 0:
                continue
            consumed[key] = consumed.get(key, 0) + take
            fills.append(self._fill(order, price, take, now))
        return fills

    def _fill(self, order: _Resting, price: Decimal, count: int, now: float) -> Fill:
        intent = order.intent
        fee = taker_fee(price, Decimal(count), self.fee_multiplier)
        order.remaining -= count
        order.filled += count
        order.fees += fee
        return Fill(
            trade_id=f"paper-trade-{next(self._trades)}",
            order_id=order.order_id,
            client_order_id=intent.client_order_id,
            ticker=intent.ticker,
            side=intent.side,
            action=intent.action,
            count=count,
            price=price,
            fee=fee,
            is_taker=True,
            timestamp=now,
            strategy_name=intent.strategy_name,
        )

    def _update(
        self, order: _Resting, status: OrderStatus, now: float, reason: str = ""
    ) -> OrderUpdate:
        return order_update(
            order.intent,
            status,
            now,
            order_id=order.order_id,
            filled=order.filled,
            remaining=order.remaining,
            fees=order.fees,
            reason=reason,
        )

    def _report(
        self,
        order: _Resting,
        status: OrderStatus,
        now: float,
        fills: list[Fill] | None = None,
        *,
        reason: str = "",
    ) -> BrokerReport:
        return BrokerReport(self._update(order, status, now, reason), tuple(fills or ()))
