"""Changing a resting order: amend (price, size, expiry, client id) and decrease.

As on Kalshi, a smaller size or a new expiry keeps the order's place in the
queue; a new price or a larger size takes it off the book and enters it again —
as a taker that may trade at once, then at the back of the queue. ``count`` in
an amend is the total the order may fill: what it already filled plus what it
should rest with.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kalshi.units import ONE, ZERO, format_count
from messages.vocabulary import BookSide
from simulator import errors
from simulator.markets import MarketState
from simulator.matching import MatchingEngine
from simulator.orders import Order, other
from simulator.portfolio import Account

KEEP_EXPIRY = -1  # ``Amendment.expiration_ts``: leave the expiry as it is


@dataclass(frozen=True, slots=True)
class Amendment:
    """A validated amend request. ``expiration_ts``: a new expiry, 0 to remove it,
    :data:`KEEP_EXPIRY` to keep it."""

    ticker: str
    book_side: BookSide
    yes_price: Decimal
    count: Decimal
    expiration_ts: int = KEEP_EXPIRY
    client_order_id: str | None = None
    updated_client_order_id: str | None = None


def _resting(order: Order) -> None:
    if not order.on_book:
        raise errors.not_found("order is not resting", f"status={order.status}")


def _check_amendment(order: Order, account: Account, change: Amendment, now: float) -> None:
    if change.ticker != order.ticker:
        raise errors.invalid(
            "ticker does not match the order", f"ticker={change.ticker}, order={order.ticker}"
        )
    if change.book_side != order.book_side:
        raise errors.invalid(
            "an amend cannot change the side of an order",
            f"side={change.book_side}, order={order.book_side}",
        )
    if change.client_order_id is not None and change.client_order_id != order.client_order_id:
        raise errors.invalid(
            "client_order_id does not match the order", f"client_order_id={change.client_order_id}"
        )
    new = change.updated_client_order_id
    if new is not None and new != order.client_order_id and new in account.client_order_ids:
        raise errors.invalid(
            "updated_client_order_id is already used", f"updated_client_order_id={new}"
        )
    if change.count <= order.fill_count:
        raise errors.invalid(
            "count is the total the order may fill: it must exceed what already filled",
            f"count={format_count(change.count)}, filled={format_count(order.fill_count)}",
        )
    if change.expiration_ts not in (KEEP_EXPIRY, 0) and change.expiration_ts <= now:
        raise errors.invalid(
            "expiration_time is in the past", f"expiration_time={change.expiration_ts}"
        )


def amend(
    engine: MatchingEngine,
    market: MarketState,
    account: Account,
    order: Order,
    change: Amendment,
    now: float,
) -> None:
    """Amend a resting order; raises :class:`ExchangeError` and changes nothing when refused."""
    _resting(order)
    engine.check_price(change.yes_price)
    engine.check_count(change.count)
    _check_amendment(order, account, change, now)
    remaining = change.count - order.fill_count
    in_place = change.yes_price == order.yes_price and remaining <= order.remaining
    if not in_place:
        _check_reentry_cash(engine, account, market, order, change.yes_price, remaining)
    if change.updated_client_order_id is not None:
        order.client_order_id = change.updated_client_order_id
        account.client_order_ids.add(change.updated_client_order_id)
    if change.expiration_ts != KEEP_EXPIRY:
        order.expiration_ts = change.expiration_ts or None
        engine.schedule_expiry(order)
    order.initial_count = change.count
    order.last_update_ts = now
    order.last_update_reason = "Amend"
    if in_place:
        if remaining != order.remaining:
            engine.resize(market, account, order, remaining, now)
        engine.emit_order(account, order)
        return
    state = engine.take_off_book(market, account, order, now)
    account.release(order, state)
    order.yes_price = change.yes_price
    order.book_price = change.yes_price if order.outcome == "yes" else ONE - change.yes_price
    order.remaining = remaining
    account.hold(order, state, account.reducible(state, order.outcome, remaining))
    engine.enter(market, account, state, order, now)


def _check_reentry_cash(
    engine: MatchingEngine,
    account: Account,
    market: MarketState,
    order: Order,
    yes_price: Decimal,
    remaining: Decimal,
) -> None:
    """Refuse an amend the account could not pay for, before anything changes."""
    if account.internal:
        return
    state = account.position(market.ticker, market.event_ticker)
    free = state.held(other(order.outcome)) - (state.committed(order.outcome) - order.reduce_left)
    closing = min(remaining, max(free, ZERO))
    book_price = yes_price if order.outcome == "yes" else ONE - yes_price
    fee = ZERO if order.post_only else engine.taker_fee(yes_price, remaining, market.series_ticker)
    # What the order holds now comes back before the new hold is taken.
    engine.check_cash(account.balance + order.reserved, book_price, remaining, closing, fee)


def decrease(
    engine: MatchingEngine,
    market: MarketState,
    account: Account,
    order: Order,
    remaining: Decimal,
    now: float,
) -> None:
    """Lower a resting order's remaining count in place; to zero cancels it."""
    _resting(order)
    if remaining < ZERO or remaining >= order.remaining:
        raise errors.invalid(
            "a decrease must leave fewer contracts than the order has resting",
            f"remaining={format_count(order.remaining)}, requested={format_count(remaining)}",
        )
    if remaining != remaining.to_integral_value():
        raise errors.invalid(
            "count must be whole contracts: fractional trading is not enabled on this market",
            f"count={remaining}",
        )
    if remaining == ZERO:
        engine.cancel(market, account, order, now, reason="Decrease")
        return
    engine.resize(market, account, order, remaining, now)
    order.last_update_ts = now
    order.last_update_reason = "Decrease"
    engine.emit_order(account, order)
