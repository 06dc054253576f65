"""Paper fills: orders filled against the live book, walking depth, with Kalshi's taker fee.

Used in ``paper`` mode, where market data is real but no order may leave the
process. A buy of one side lifts the asks of that side (the other side's bids at
1 − p), level by level, up to the limit price; what is left is cancelled (IOC)
or, for good-till-cancelled orders, rests and fills when a later book crosses it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from kalshi.fees import taker_fee
from messages.market_data import BookUpdate
from messages.trading import Fill, OrderIntent, OrderUpdate

ONE = Decimal(1)


@dataclass
class _Resting:
    intent: OrderIntent
    order_id: str
    remaining: int
    filled: int = 0
    fees: Decimal = field(default_factory=lambda: Decimal(0))


class PaperBroker:
    """Fills ``OrderIntent``s against ``BookUpdate``s; returns the updates and fills a real exchange would send."""

    def __init__(self, fee_multiplier: Decimal = ONE) -> None:
        self.fee_multiplier = fee_multiplier
        self._ids = itertools.count(1)
        self._trades = itertools.count(1)
        self.resting: dict[str, _Resting] = {}  # by client_order_id
        self.consumed: dict[tuple[str, str, Decimal], int] = {}  # depth we already took, per level

    def submit(
        self, intent: OrderIntent, book: BookUpdate | None, now: float
    ) -> tuple[OrderUpdate, list[Fill]]:
        order = _Resting(intent, f"paper-{next(self._ids)}", intent.count)
        if book is None or book.stale:
            return self._update(order, "rejected", now, "no_live_book"), []
        if intent.post_only:
            if self._crosses(intent, book):
                return self._update(order, "canceled", now, "PostOnlyCrossCancel"), []
            self.resting[intent.client_order_id] = order
            return self._update(order, "resting", now), []
        fills = self._take(order, book, now)
        if order.remaining == 0:
            return self._update(order, "executed", now), fills
        if intent.time_in_force == "good_till_canceled":
            self.resting[intent.client_order_id] = order
            return self._update(order, "resting", now), fills
        return self._update(order, "canceled", now), fills  # IOC / FOK: the rest is cancelled

    def on_book(self, book: BookUpdate, now: float) -> list[tuple[OrderUpdate, list[Fill]]]:
        """Let resting paper orders trade against a new book."""
        self.consumed = {k: v for k, v in self.consumed.items() if k[0] != book.ticker}
        results = []
        for coid, order in list(self.resting.items()):
            if order.intent.ticker != book.ticker or book.stale:
                continue
            fills = self._take(order, book, now)
            if fills:
                status = "executed" if order.remaining == 0 else "resting"
                if order.remaining == 0:
                    del self.resting[coid]
                results.append((self._update(order, status, now), fills))
        return results

    def cancel(self, client_order_id: str, now: float) -> OrderUpdate | None:
        order = self.resting.pop(client_order_id, None)
        return None if order is None else self._update(order, "canceled", now)

    # -- matching --------------------------------------------------------------------

    def _levels(self, intent: OrderIntent, book: BookUpdate) -> tuple[tuple[Decimal, Decimal], ...]:
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
        fills: list[Fill] = []
        for price, size in levels:
            if order.remaining == 0 or (price > intent.price if buying else price < intent.price):
                break
            key = (book.ticker, f"{intent.side}-{intent.action}", price)
            free = int(size) - self.consumed.get(key, 0)
            take = min(free, order.remaining)
            if take <= 0:
                continue
            self.consumed[key] = self.consumed.get(key, 0) + take
            fee = taker_fee(price, Decimal(take), self.fee_multiplier)
            order.remaining -= take
            order.filled += take
            order.fees += fee
            fills.append(
                Fill(
                    trade_id=f"paper-trade-{next(self._trades)}",
                    order_id=order.order_id,
                    client_order_id=intent.client_order_id,
                    ticker=intent.ticker,
                    side=intent.side,
                    action=intent.action,
                    count=take,
                    price=price,
                    fee=fee,
                    is_taker=True,
                    timestamp=now,
                    strategy_name=intent.strategy_name,
                )
            )
        return fills

    def _update(self, order: _Resting, status: str, now: float, reason: str = "") -> OrderUpdate:
        intent = order.intent
        return OrderUpdate(
            client_order_id=intent.client_order_id,
            order_id=order.order_id,
            ticker=intent.ticker,
            side=intent.side,
            action=intent.action,
            status=status,
            filled=order.filled,
            remaining=order.remaining if status == "resting" else 0,
            price=intent.price,
            strategy_name=intent.strategy_name,
            timestamp=now,
            fees=order.fees,
            reason=reason,
        )
