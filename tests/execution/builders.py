"""Small builders for the execution tests: intents, updates, fills and books."""

from __future__ import annotations

from decimal import Decimal as D

from execution.updates import order_update
from messages.market_data import BookUpdate
from messages.trading import Fill, OrderIntent, OrderUpdate
from messages.vocabulary import Action, OrderStatus, Side, TimeInForce


def intent(
    coid: str = "c1",
    *,
    ticker: str = "T",
    side: Side = "yes",
    action: Action = "buy",
    count: int = 10,
    price: str = "0.40",
    tif: TimeInForce = "immediate_or_cancel",
    post_only: bool = False,
    reduce_only: bool = False,
) -> OrderIntent:
    return OrderIntent(
        coid,
        "s1",
        "kelly",
        ticker,
        side,
        action,
        count,
        D(price),
        tif,
        post_only=post_only,
        reduce_only=reduce_only,
    )


def update(
    order: OrderIntent,
    status: OrderStatus,
    filled: int = 0,
    *,
    remaining: int | None = None,
    order_id: str | None = "x1",
    now: float = 1.0,
    reason: str = "",
) -> OrderUpdate:
    return order_update(
        order, status, now, order_id=order_id, filled=filled, remaining=remaining, reason=reason
    )


def fill(
    order: OrderIntent,
    trade_id: str,
    count: int,
    *,
    order_id: str = "x1",
    side: Side | None = None,
    action: Action | None = None,
    price: str = "0.40",
    ts: float = 1.0,
    coid: str | None = "",
) -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id=order_id,
        client_order_id=order.client_order_id if coid == "" else coid,
        ticker=order.ticker,
        side=order.side if side is None else side,
        action=order.action if action is None else action,
        count=count,
        price=D(price),
        fee=D("0.0100"),
        is_taker=True,
        timestamp=ts,
        strategy_name=order.strategy_name,
    )


def book(
    no_bids: tuple[tuple[str, int], ...],
    yes_bids: tuple[tuple[str, int], ...] = (),
    *,
    ticker: str = "T",
    stale: bool = False,
) -> BookUpdate:
    no = tuple((D(p), D(s)) for p, s in no_bids)
    yes = tuple((D(p), D(s)) for p, s in yes_bids)
    return BookUpdate(
        ticker=ticker,
        seq=1,
        ts=0.0,
        yes_bid=yes[0][0] if yes else None,
        yes_ask=1 - no[0][0] if no else None,
        no_bid=no[0][0] if no else None,
        no_ask=1 - yes[0][0] if yes else None,
        yes_bids=yes,
        no_bids=no,
        stale=stale,
    )
