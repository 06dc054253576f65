"""The matching engine: validates, matches and books orders in one market at a time.

Price-time priority on each bid ladder. An incoming order bets on one outcome
(see :mod:`simulator.orders`) and trades against resting bids of the other
outcome whose price q satisfies q >= 1 − its own bid price; it trades at the
resting order's price. Every fill is booked for both users, with Kalshi's taker
fee and the series' maker fee, before the next one is matched. Orders in an
order group (:mod:`simulator.groups`) never match past the group's limit: the
fill that reaches it is cut there and the group is triggered.
"""

from __future__ import annotations

import heapq
from decimal import Decimal
from typing import Literal

from kalshi.fees import maker_fee, taker_fee
from kalshi.units import ONE, ZERO, PriceLevels, format_dollars
from simulator import errors
from simulator.config import SeriesConfig
from simulator.events import (
    BookDelta,
    FillEvent,
    OrderEvent,
    OrderGroupEvent,
    Outbox,
    PositionEvent,
    TradeEvent,
)
from simulator.groups import OrderGroup, OrderGroups
from simulator.history import MarketHistory
from simulator.ids import IdFactory
from simulator.markets import MarketState
from simulator.orders import Order, OrderRequest, UpdateReason, other
from simulator.portfolio import Account, Fill, PositionState

Stop = Literal["", "self_trade", "group"]  # why matching stopped before the book ran out


class MatchingEngine:
    """Order entry, matching and cancels for every market of the exchange."""

    def __init__(
        self,
        accounts: dict[str, Account],
        markets: dict[str, MarketState],
        ids: IdFactory,
        series: dict[str, SeriesConfig],
        levels: PriceLevels,
        outbox: Outbox,
        history: MarketHistory | None = None,
    ) -> None:
        """``history``: where every trade is also kept, for Kalshi's history endpoints."""
        self._accounts = accounts
        self._markets = markets
        self._ids = ids
        self._series = series
        self.levels = levels
        self._outbox = outbox
        self._history = history
        self._order_seq = 0
        self._fill_seq = 0
        self._expiries: list[tuple[int, int, Order]] = []
        self.groups = OrderGroups()

    # --- entry ----------------------------------------------------------------------

    def validate(
        self, market: MarketState, account: Account, req: OrderRequest, now: float
    ) -> None:
        """Refuse an order that must not be created; raises :class:`ExchangeError`."""
        if market.status != "active":
            raise errors.market_closed(
                f"market {market.ticker} is not open for trading", f"status={market.status}"
            )
        self.check_price(req.yes_price)
        self.check_count(req.count)
        if req.client_order_id and req.client_order_id in account.client_order_ids:
            raise errors.duplicate_order(req.client_order_id)
        if req.post_only and req.time_in_force != "good_till_canceled":
            raise errors.invalid("post_only orders must be good_till_canceled")
        if req.expiration_ts is not None and req.expiration_ts <= now:
            raise errors.invalid(
                "expiration_time is in the past", f"expiration_time={req.expiration_ts}"
            )
        if req.order_group_id is not None:
            self.groups.for_order(account.user_id, req.order_group_id)

    def check_price(self, yes_price: Decimal) -> None:
        if not self.levels.is_valid(yes_price):
            raise errors.invalid_price(
                "price is not a valid price for this market",
                f"price={format_dollars(yes_price)}; see the market's price_ranges",
            )

    @staticmethod
    def check_count(count: Decimal) -> None:
        if count <= ZERO:
            raise errors.invalid("count must be at least 1 contract", f"count={count}")
        if count != count.to_integral_value():
            raise errors.invalid(
                "count must be whole contracts: fractional trading is not enabled on this market",
                f"count={count}",
            )

    def submit(self, market: MarketState, account: Account, req: OrderRequest, now: float) -> Order:
        """Create, match and rest (or cancel the rest of) an order."""
        self.validate(market, account, req, now)
        state = account.position(market.ticker, market.event_ticker, now)
        reducible = account.reducible(state, req.outcome, req.count)
        count = reducible if req.reduce_only else req.count
        if not account.internal:
            fee = (
                ZERO
                if req.post_only
                else self.taker_fee(req.yes_price, count, market.series_ticker)
            )
            self.check_cash(account.balance, req.book_price, count, min(reducible, count), fee)
        order = self._create(market, account, req, count, now)
        account.hold(order, state, min(reducible, count))
        if count == ZERO:
            self._finish(account, state, order, "canceled", reason="ReduceOnlyCancel", now=now)
            return order
        if count < req.count:
            order.last_update_reason = "ReduceOnlyCancel"  # capped at placement
        self.enter(market, account, state, order, now)
        return order

    @staticmethod
    def check_cash(
        available: Decimal, book_price: Decimal, count: Decimal, closing: Decimal, fee: Decimal
    ) -> None:
        """Cash for the contracts that open a position, plus the taker fee less what
        closing contracts pay back (each closed pair returns $1 at once)."""
        need = (count - closing) * book_price + max(ZERO, fee - closing * (ONE - book_price))
        if available < need:
            raise errors.insufficient_balance(
                "insufficient balance for this order",
                f"needs {format_dollars(need)}, available {format_dollars(available)}",
            )

    def _create(
        self, market: MarketState, account: Account, req: OrderRequest, count: Decimal, now: float
    ) -> Order:
        self._order_seq += 1
        order = Order(
            order_id=self._ids.new(),
            user_id=account.user_id,
            client_order_id=req.client_order_id,
            ticker=market.ticker,
            side=req.side,
            action=req.action,
            outcome=req.outcome,
            yes_price=req.yes_price,
            book_price=req.book_price,
            initial_count=req.count,
            remaining=count,
            time_in_force=req.time_in_force,
            expiration_ts=req.expiration_ts if req.time_in_force == "good_till_canceled" else None,
            post_only=req.post_only,
            reduce_only=req.reduce_only,
            self_trade_prevention=req.self_trade_prevention,
            cancel_order_on_pause=req.cancel_order_on_pause,
            created_ts=now,
            seq=self._order_seq,
            order_group_id=req.order_group_id,
            last_update_ts=now,
        )
        account.orders[order.order_id] = order
        if not account.internal:
            account.order_list.append(order)
            if req.client_order_id:
                account.client_order_ids.add(req.client_order_id)
        group = self.groups.find(req.order_group_id)
        if group is not None:
            group.order_ids.append(order.order_id)
        return order

    def enter(
        self, market: MarketState, account: Account, state: PositionState, order: Order, now: float
    ) -> None:
        """Match an order that holds its cash, then rest what is left or cancel it."""
        if order.post_only and self._crosses(market, order):
            self._finish(account, state, order, "canceled", reason="PostOnlyCrossCancel", now=now)
            return
        if order.time_in_force == "fill_or_kill" and not self._fills_whole(market, order, now):
            self._finish(account, state, order, "canceled", reason="", now=now)
            return
        stop = self._match(market, account, state, order, now)
        if order.remaining == ZERO:
            self._finish(
                account, state, order, "executed", reason=order.last_update_reason, now=now
            )
        elif stop == "self_trade":
            self._finish(account, state, order, "canceled", reason="SelfTradeCancel", now=now)
        elif stop == "group" or order.time_in_force != "good_till_canceled":
            reason: UpdateReason = "" if stop == "group" else order.last_update_reason
            self._finish(account, state, order, "canceled", reason=reason, now=now)
        else:
            self._rest(market, account, state, order, now)

    def _rest(
        self, market: MarketState, account: Account, state: PositionState, order: Order, now: float
    ) -> None:
        market.book.ladder(order.outcome).add(order)
        order.on_book = True
        state.resting_count += order.remaining
        self.schedule_expiry(order)
        self._emit_delta(market, order, order.remaining, order, now)
        self.emit_order(account, order)

    # --- cancels --------------------------------------------------------------------

    def cancel(
        self,
        market: MarketState,
        account: Account,
        order: Order,
        now: float,
        *,
        reason: UpdateReason = "",
        cause: Order | None = None,
    ) -> Decimal:
        """Cancel a resting order; returns the contracts taken off the book."""
        if not order.on_book:
            raise errors.not_found("order is not resting", f"status={order.status}")
        reduced = order.remaining
        state = self.take_off_book(market, account, order, now, cause)
        self._finish(account, state, order, "canceled", reason=reason, now=now)
        return reduced

    def take_off_book(
        self,
        market: MarketState,
        account: Account,
        order: Order,
        now: float,
        cause: Order | None = None,
    ) -> PositionState:
        """Remove a resting order from its ladder (it keeps what it holds)."""
        market.book.ladder(order.outcome).remove(order)
        order.on_book = False
        state = account.position(market.ticker, market.event_ticker)
        state.resting_count -= order.remaining
        self._emit_delta(market, order, -order.remaining, cause or order, now)
        return state

    def resize(
        self, market: MarketState, account: Account, order: Order, remaining: Decimal, now: float
    ) -> None:
        """Shrink a resting order in place (it keeps its place in the queue)."""
        change = remaining - order.remaining
        market.book.ladder(order.outcome).resize(order, change)
        state = account.position(market.ticker, market.event_ticker)
        state.resting_count += change
        account.release(order, state)
        order.remaining = remaining
        account.hold(order, state, account.reducible(state, order.outcome, remaining))
        self._emit_delta(market, order, change, order, now)

    def cancel_all(self, market: MarketState, now: float, reason: UpdateReason) -> None:
        """Cancel every resting order of a market (at close)."""
        for ladder in (market.book.yes, market.book.no):
            for price in list(ladder.prices_descending()):
                for order in list(ladder.queue(price)):
                    self.cancel(market, self._accounts[order.user_id], order, now, reason=reason)

    def expire(self, now: int) -> None:
        """Cancel good-till-time orders whose ``expiration_ts`` has come."""
        while self._expiries and self._expiries[0][0] <= now:
            expiry, _, order = heapq.heappop(self._expiries)
            # An amend may have moved or removed the expiry: only the current one counts.
            if order.on_book and order.expiration_ts == expiry:
                market = self._markets[order.ticker]
                account = self._accounts[order.user_id]
                self.cancel(market, account, order, now, reason="ExpiryCancel")

    def schedule_expiry(self, order: Order) -> None:
        if order.expiration_ts is not None:
            heapq.heappush(self._expiries, (order.expiration_ts, order.seq, order))

    # --- order groups ---------------------------------------------------------------

    def trigger(self, group: OrderGroup, now: float) -> None:
        """Trigger a group: cancel its resting orders and refuse new ones until reset."""
        group.triggered = True
        self.cancel_group_orders(group, now)
        self._outbox.emit(OrderGroupEvent(group.user_id, group.group_id, "triggered", None, now))

    def cancel_group_orders(self, group: OrderGroup, now: float) -> None:
        account = self._accounts[group.user_id]
        for order_id in group.order_ids:
            order = account.orders.get(order_id)
            if order is not None and order.on_book:
                self.cancel(self._markets[order.ticker], account, order, now)

    def _room(self, order: Order, now: float) -> Decimal | None:
        group = self.groups.find(order.order_group_id)
        return None if group is None else group.room(now)

    def _count_for_groups(self, orders: tuple[Order, Order], quantity: Decimal, now: float) -> None:
        """Book a fill against the orders' groups; trigger any that reached its limit."""
        for order in orders:
            group = self.groups.find(order.order_group_id)
            if group is None:
                continue
            group.record(quantity, now)
            if not group.triggered and group.exhausted(now):
                self.trigger(group, now)

    # --- matching -------------------------------------------------------------------

    def _crosses(self, market: MarketState, order: Order) -> bool:
        best = market.book.ladder(other(order.outcome)).best()
        return best is not None and best >= ONE - order.book_price

    def _fills_whole(self, market: MarketState, order: Order, now: float) -> bool:
        """Whether a fill-or-kill order could take all it asks for now."""
        room = self._room(order, now)
        if room is not None and room < order.remaining:
            return False
        ladder = market.book.ladder(other(order.outcome))
        threshold = ONE - order.book_price
        quantity = ZERO
        for price in ladder.prices_descending():
            if price < threshold:
                break
            for maker in ladder.queue(price):
                if maker.user_id == order.user_id:
                    if order.self_trade_prevention == "maker":
                        continue
                    return False
                room = self._room(maker, now)
                quantity += maker.remaining if room is None else min(maker.remaining, room)
                if quantity >= order.remaining:
                    return True
        return False

    def _match(
        self, market: MarketState, account: Account, state: PositionState, taker: Order, now: float
    ) -> Stop:
        """Trade ``taker`` against the book until it is filled or must stop."""
        ladder = market.book.ladder(other(taker.outcome))
        threshold = ONE - taker.book_price
        group = self.groups.find(taker.order_group_id)
        while taker.remaining > ZERO:
            if group is not None and group.triggered:
                return "group"
            best = ladder.best()
            if best is None or best < threshold:
                return ""
            maker = ladder.front(best)
            if maker.user_id == taker.user_id:
                if taker.self_trade_prevention == "maker":
                    self.cancel(market, account, maker, now, reason="SelfTradeCancel", cause=taker)
                    continue
                return "self_trade"
            self._execute(market, account, state, taker, maker, maker_price=best, now=now)
        return ""

    def _execute(
        self,
        market: MarketState,
        taker_account: Account,
        taker_state: PositionState,
        taker: Order,
        maker: Order,
        *,
        maker_price: Decimal,
        now: float,
    ) -> None:
        rooms = [r for r in (self._room(taker, now), self._room(maker, now)) if r is not None]
        quantity = min(taker.remaining, maker.remaining, *rooms)
        # A group with no room left is triggered and has no order on the book or entering.
        assert quantity > ZERO, "matched an order of an exhausted group"
        maker_account = self._accounts[maker.user_id]
        maker_state = maker_account.position(market.ticker, market.event_ticker)
        yes_price = maker_price if maker.outcome == "yes" else ONE - maker_price
        series = self._series[market.series_ticker]
        fee_taker = self.taker_fee(yes_price, quantity, market.series_ticker)
        fee_maker = maker_fee(yes_price, quantity, series.fee_type, series.fee_multiplier)
        open_before = max(taker_state.position, ZERO) + max(maker_state.position, ZERO)
        maker_done = maker.remaining == quantity
        market.book.ladder(maker.outcome).fill_front(maker_price, quantity, maker_done)
        maker_state.resting_count -= quantity
        if maker_done:
            maker.on_book = False
        self._fill(
            maker_account, maker_state, maker, quantity, maker_price, fee_maker, now, is_taker=False
        )
        taker_price = ONE - maker_price
        self._fill(
            taker_account, taker_state, taker, quantity, taker_price, fee_taker, now, is_taker=True
        )
        open_after = max(taker_state.position, ZERO) + max(maker_state.position, ZERO)
        self._tally(market, taker, maker, quantity, yes_price, open_after - open_before)

        self._emit_delta(market, maker, -quantity, taker, now, price=maker_price)
        trade = TradeEvent(self._ids.new(), market.ticker, yes_price, quantity, taker.outcome, now)
        self._outbox.emit(trade)
        if self._history is not None:
            self._history.record_trade(trade)
        self._record_fill(taker_account, taker_state, taker, quantity, yes_price, fee_taker, now)
        self._record_fill(
            maker_account, maker_state, maker, quantity, yes_price, fee_maker, now, is_taker=False
        )
        if maker_done:
            self._finish(maker_account, maker_state, maker, "executed", reason="Trade", now=now)
        else:
            self.emit_order(maker_account, maker)
        self._count_for_groups((taker, maker), quantity, now)

    @staticmethod
    def _fill(
        account: Account,
        state: PositionState,
        order: Order,
        quantity: Decimal,
        own_price: Decimal,
        fee: Decimal,
        now: float,
        *,
        is_taker: bool,
    ) -> None:
        """Book ``quantity`` contracts of one side of a trade on its order and account."""
        order.remaining -= quantity
        order.fill_count += quantity
        if is_taker:
            order.taker_fill_cost += quantity * own_price
            order.taker_fees += fee
        else:
            order.maker_fill_cost += quantity * own_price
            order.maker_fees += fee
        order.last_update_ts = now
        order.last_update_reason = "Trade"
        account.book_fill(order, state, quantity, own_price, fee, now=now)

    @staticmethod
    def _tally(
        market: MarketState,
        taker: Order,
        maker: Order,
        quantity: Decimal,
        yes_price: Decimal,
        open_change: Decimal,
    ) -> None:
        market.open_interest += open_change
        market.last_price = yes_price
        market.last_trade_size = quantity
        market.volume += quantity
        market.dollar_volume += quantity * yes_price
        market.participants.add(taker.user_id)
        market.participants.add(maker.user_id)

    def _record_fill(
        self,
        account: Account,
        state: PositionState,
        order: Order,
        quantity: Decimal,
        yes_price: Decimal,
        fee: Decimal,
        now: float,
        *,
        is_taker: bool = True,
    ) -> None:
        if account.internal:
            return
        self._fill_seq += 1
        fill = Fill(
            fill_id=self._ids.new(),
            order_id=order.order_id,
            user_id=account.user_id,
            client_order_id=order.client_order_id,
            ticker=order.ticker,
            side=order.side,
            action=order.action,
            outcome=order.outcome,
            count=quantity,
            yes_price=yes_price,
            is_taker=is_taker,
            fee=fee,
            ts=now,
            post_position=state.position,
            seq=self._fill_seq,
        )
        account.fills.append(fill)
        self._outbox.emit(FillEvent(fill))
        self._emit_position(account, state)

    def _finish(
        self,
        account: Account,
        state: PositionState,
        order: Order,
        status: str,
        *,
        reason: UpdateReason,
        now: float,
    ) -> None:
        """End an order's life: it no longer rests, and what it held goes back."""
        order.status = "executed" if status == "executed" else "canceled"
        order.remaining = ZERO
        order.on_book = False
        order.last_update_ts = now
        order.last_update_reason = reason
        account.release(order, state)
        if account.internal:
            account.orders.pop(order.order_id, None)
        self.emit_order(account, order)

    # --- helpers --------------------------------------------------------------------

    def taker_fee(self, yes_price: Decimal, count: Decimal, series: str) -> Decimal:
        """The taker fee of a fill in a market of ``series`` (its own fee multiplier)."""
        return taker_fee(yes_price, count, self._series[series].fee_multiplier)

    def _emit_delta(
        self,
        market: MarketState,
        order: Order,
        change: Decimal,
        cause: Order,
        now: float,
        price: Decimal | None = None,
    ) -> None:
        self._outbox.emit(
            BookDelta(
                market.ticker,
                order.outcome,
                order.book_price if price is None else price,
                change,
                now,
                cause.user_id,
                cause.client_order_id,
            )
        )

    def emit_order(self, account: Account, order: Order) -> None:
        if not account.internal and self._outbox.enabled:
            self._outbox.emit(OrderEvent(order.snapshot()))

    def _emit_position(self, account: Account, state: PositionState) -> None:
        if not self._outbox.enabled:
            return
        self._outbox.emit(
            PositionEvent(
                account.user_id,
                state.ticker,
                state.position,
                state.exposure,
                state.realized_pnl,
                state.fees_paid,
                state.volume,
            )
        )
