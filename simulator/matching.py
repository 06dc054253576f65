"""The matching engine: validates, matches and books orders in one market at a time.

Price-time priority on each bid ladder. An incoming order bets on one outcome
(see :mod:`simulator.orders`) and trades against resting bids of the other
outcome whose price q satisfies q >= 1 − its own bid price; it trades at the
resting order's price. Every fill is booked for both users, with Kalshi's taker
fee and the series' maker fee, before the next one is matched.
"""

from __future__ import annotations

import heapq
from decimal import Decimal

from kalshi.fees import maker_fee, taker_fee
from kalshi.units import ONE, ZERO, PriceLevels, format_dollars
from simulator import errors
from simulator.config import SeriesConfig
from simulator.events import BookDelta, FillEvent, OrderEvent, Outbox, PositionEvent, TradeEvent
from simulator.ids import IdFactory
from simulator.markets import MarketState
from simulator.orders import Order, OrderRequest, UpdateReason, other
from simulator.portfolio import Account, Fill, PositionState


class MatchingEngine:
    """Order entry, matching and cancels for every market of the exchange."""

    def __init__(
        self,
        accounts: dict[str, Account],
        ids: IdFactory,
        series: SeriesConfig,
        levels: PriceLevels,
        outbox: Outbox,
    ) -> None:
        self._accounts = accounts
        self._ids = ids
        self._series = series
        self._levels = levels
        self._outbox = outbox
        self._order_seq = 0
        self._fill_seq = 0
        self._expiries: list[tuple[int, int, Order]] = []

    # --- entry ----------------------------------------------------------------------

    def validate(
        self, market: MarketState, account: Account, req: OrderRequest, now: float
    ) -> None:
        """Refuse an order that must not be created; raises :class:`ExchangeError`."""
        if market.status != "active":
            raise errors.market_closed(
                f"market {market.ticker} is not open for trading", f"status={market.status}"
            )
        if not self._levels.is_valid(req.yes_price):
            raise errors.invalid(
                "price is not a valid price for this market",
                f"yes_price={format_dollars(req.yes_price)}; see the market's price_ranges",
            )
        if req.count <= ZERO:
            raise errors.invalid("count must be at least 1 contract", f"count={req.count}")
        if req.count != req.count.to_integral_value():
            raise errors.invalid(
                "fractional contracts are not enabled on this market", f"count={req.count}"
            )
        if req.client_order_id and req.client_order_id in account.client_order_ids:
            raise errors.duplicate_order(req.client_order_id)
        if req.post_only and req.time_in_force != "good_till_canceled":
            raise errors.invalid("post_only orders must be good_till_canceled")
        if req.buy_max_cost is not None:
            if req.action != "buy":
                raise errors.invalid("buy_max_cost is only allowed on buy orders")
            if req.buy_max_cost <= ZERO:
                raise errors.invalid("buy_max_cost must be positive")
        if (
            req.expiration_ts is not None
            and req.time_in_force == "good_till_canceled"
            and req.expiration_ts <= now
        ):
            raise errors.invalid(
                "expiration_ts is in the past", f"expiration_ts={req.expiration_ts}"
            )

    def submit(self, market: MarketState, account: Account, req: OrderRequest, now: float) -> Order:
        """Create, match and rest (or cancel the rest of) an order."""
        self.validate(market, account, req, now)
        state = account.position(market.ticker, market.event_ticker, now)
        reducible = account.reducible(state, req.outcome, req.count)
        count = reducible if req.reduce_only else req.count
        book_price = req.book_price
        if not account.internal:
            # Cash for the contracts that open a position, plus the taker fee less what
            # closing contracts pay back (each closed pair returns $1 at once).
            closing = min(reducible, count)
            fee = ZERO if req.post_only else self._taker_fee(req.yes_price, count)
            need = (count - closing) * book_price + max(ZERO, fee - closing * (ONE - book_price))
            if account.balance < need:
                raise errors.insufficient_balance(
                    "insufficient balance for this order",
                    f"needs {format_dollars(need)}, available {format_dollars(account.balance)}",
                )
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
            book_price=book_price,
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
            last_update_ts=now,
        )
        account.orders[order.order_id] = order
        if not account.internal:
            account.order_list.append(order)
            if req.client_order_id:
                account.client_order_ids.add(req.client_order_id)
        account.hold(order, state, min(reducible, count))

        if count == ZERO:
            self._finish(account, state, order, "canceled", reason="ReduceOnlyCancel", now=now)
            return order
        if req.post_only and self._crosses(market, order):
            self._finish(account, state, order, "canceled", reason="PostOnlyCrossCancel", now=now)
            return order
        if req.time_in_force == "fill_or_kill" or req.buy_max_cost is not None:
            quantity, cost = self._fillable(market, order)
            too_dear = req.buy_max_cost is not None and cost > req.buy_max_cost
            if quantity < count or too_dear:
                self._finish(account, state, order, "canceled", reason="", now=now)
                return order

        self_traded = self._match(market, account, state, order, now)
        if order.remaining == ZERO:
            self._finish(
                account, state, order, "executed", reason=order.last_update_reason, now=now
            )
        elif self_traded:
            self._finish(account, state, order, "canceled", reason="SelfTradeCancel", now=now)
        elif req.time_in_force != "good_till_canceled":
            self._finish(
                account, state, order, "canceled", reason=order.last_update_reason, now=now
            )
        else:
            market.book.ladder(order.outcome).add(order)
            state.resting_count += order.remaining
            if order.expiration_ts is not None:
                heapq.heappush(self._expiries, (order.expiration_ts, order.seq, order))
            self._outbox.emit(
                BookDelta(
                    market.ticker,
                    order.outcome,
                    order.book_price,
                    order.remaining,
                    now,
                    account.user_id,
                    order.client_order_id,
                )
            )
            if req.reduce_only and count < req.count:
                order.last_update_reason = "ReduceOnlyCancel"
            self._emit_order(account, order)
        return order

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
        if order.status != "resting":
            raise errors.not_found("order is not resting", f"status={order.status}")
        reduced = order.remaining
        market.book.ladder(order.outcome).remove(order)
        state = account.position(market.ticker, market.event_ticker)
        state.resting_count -= reduced
        cause_order = cause if cause is not None else order
        self._outbox.emit(
            BookDelta(
                market.ticker,
                order.outcome,
                order.book_price,
                -reduced,
                now,
                cause_order.user_id,
                cause_order.client_order_id,
            )
        )
        self._finish(account, state, order, "canceled", reason=reason, now=now)
        return reduced

    def cancel_all(self, market: MarketState, now: float, reason: UpdateReason) -> None:
        """Cancel every resting order of a market (at close)."""
        for ladder in (market.book.yes, market.book.no):
            for price in list(ladder.prices_descending()):
                for order in list(ladder.queue(price)):
                    self.cancel(market, self._accounts[order.user_id], order, now, reason=reason)

    def expire(self, now: int, markets: dict[str, MarketState]) -> None:
        """Cancel good-till-time orders whose ``expiration_ts`` has come."""
        while self._expiries and self._expiries[0][0] <= now:
            _, _, order = heapq.heappop(self._expiries)
            if order.status == "resting":
                market = markets[order.ticker]
                self.cancel(
                    market, self._accounts[order.user_id], order, now, reason="ExpiryCancel"
                )

    # --- matching -------------------------------------------------------------------

    def _crosses(self, market: MarketState, order: Order) -> bool:
        best = market.book.ladder(other(order.outcome)).best()
        return best is not None and best >= ONE - order.book_price

    def _fillable(self, market: MarketState, order: Order) -> tuple[Decimal, Decimal]:
        """Contracts (and their cost) the order could take now, honouring self-trade rules."""
        ladder = market.book.ladder(other(order.outcome))
        threshold = ONE - order.book_price
        quantity = ZERO
        cost = ZERO
        for price in ladder.prices_descending():
            if price < threshold:
                break
            for maker in ladder.queue(price):
                if maker.user_id == order.user_id:
                    if order.self_trade_prevention == "maker":
                        continue
                    return quantity, cost
                take = min(maker.remaining, order.remaining - quantity)
                quantity += take
                cost += take * (ONE - price)
                if quantity >= order.remaining:
                    return quantity, cost
        return quantity, cost

    def _match(
        self, market: MarketState, account: Account, state: PositionState, taker: Order, now: float
    ) -> bool:
        """Trade ``taker`` against the book; True when a self-trade stopped it."""
        ladder = market.book.ladder(other(taker.outcome))
        threshold = ONE - taker.book_price
        while taker.remaining > ZERO:
            best = ladder.best()
            if best is None or best < threshold:
                return False
            maker = ladder.front(best)
            if maker.user_id == taker.user_id:
                if taker.self_trade_prevention == "maker":
                    self.cancel(market, account, maker, now, reason="SelfTradeCancel", cause=taker)
                    continue
                return True
            self._execute(market, account, state, taker, maker, maker_price=best, now=now)
        return False

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
        quantity = min(taker.remaining, maker.remaining)
        maker_account = self._accounts[maker.user_id]
        maker_state = maker_account.position(market.ticker, market.event_ticker)
        yes_price = maker_price if maker.outcome == "yes" else ONE - maker_price
        taker_price = ONE - maker_price
        fee_taker = self._taker_fee(yes_price, quantity)
        fee_maker = maker_fee(
            yes_price, quantity, self._series.fee_type, self._series.fee_multiplier
        )
        open_before = max(taker_state.position, ZERO) + max(maker_state.position, ZERO)

        maker.remaining -= quantity
        maker.fill_count += quantity
        maker.maker_fill_cost += quantity * maker_price
        maker.maker_fees += fee_maker
        maker.last_update_ts = now
        maker.last_update_reason = "Trade"
        maker_done = maker.remaining == ZERO
        market.book.ladder(maker.outcome).fill_front(maker_price, quantity, maker_done)
        maker_state.resting_count -= quantity
        maker_account.book_fill(maker, maker_state, quantity, maker_price, fee_maker, now=now)

        taker.remaining -= quantity
        taker.fill_count += quantity
        taker.taker_fill_cost += quantity * taker_price
        taker.taker_fees += fee_taker
        taker.last_update_ts = now
        taker.last_update_reason = "Trade"
        taker_account.book_fill(taker, taker_state, quantity, taker_price, fee_taker, now=now)

        open_after = max(taker_state.position, ZERO) + max(maker_state.position, ZERO)
        market.open_interest += open_after - open_before
        market.last_price = yes_price
        market.last_trade_size = quantity
        market.volume += quantity
        market.dollar_volume += quantity * yes_price
        market.participants.add(taker.user_id)
        market.participants.add(maker.user_id)

        emit = self._outbox.emit
        emit(
            BookDelta(
                market.ticker,
                maker.outcome,
                maker_price,
                -quantity,
                now,
                taker.user_id,
                taker.client_order_id,
            )
        )
        emit(TradeEvent(self._ids.new(), market.ticker, yes_price, quantity, taker.outcome, now))
        self._record_fill(
            taker_account,
            taker_state,
            taker,
            quantity,
            yes_price,
            is_taker=True,
            fee=fee_taker,
            now=now,
        )
        self._record_fill(
            maker_account,
            maker_state,
            maker,
            quantity,
            yes_price,
            is_taker=False,
            fee=fee_maker,
            now=now,
        )
        if maker_done:
            self._finish(maker_account, maker_state, maker, "executed", reason="Trade", now=now)
        else:
            self._emit_order(maker_account, maker)

    def _record_fill(
        self,
        account: Account,
        state: PositionState,
        order: Order,
        quantity: Decimal,
        yes_price: Decimal,
        *,
        is_taker: bool,
        fee: Decimal,
        now: float,
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
        order.last_update_ts = now
        order.last_update_reason = reason
        account.release(order, state)
        if account.internal:
            account.orders.pop(order.order_id, None)
        self._emit_order(account, order)

    # --- helpers --------------------------------------------------------------------

    def _taker_fee(self, yes_price: Decimal, count: Decimal) -> Decimal:
        return taker_fee(yes_price, count, self._series.fee_multiplier)

    def _emit_order(self, account: Account, order: Order) -> None:
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
