"""Paper fills walk the live book with Kalshi's taker fee, and never trade on a stale book."""

from __future__ import annotations

from decimal import Decimal as D

from execution.broker import Broker
from execution.paper import PaperBroker
from execution.positions import settlement_payout, signed_change
from execution.tracker import TrackedOrder
from messages.market_data import BookUpdate
from messages.trading import OrderIntent
from messages.vocabulary import TimeInForce
from tests.execution.builders import book, intent


def _intent(
    count: int,
    price: str,
    tif: TimeInForce = "immediate_or_cancel",
    coid: str = "c1",
    *,
    post_only: bool = False,
) -> OrderIntent:
    return intent(coid, count=count, price=price, tif=tif, post_only=post_only)


def _broker(*books: BookUpdate) -> PaperBroker:
    broker = PaperBroker()
    for shown in books:
        broker.on_book(shown, now=0.5)
    return broker


def test_it_is_a_broker() -> None:
    broker: Broker = PaperBroker()
    assert broker.needs_books


def test_a_buy_walks_the_asks_up_to_its_limit_and_pays_the_taker_fee() -> None:
    broker = _broker(book((("0.60", 5), ("0.58", 10), ("0.50", 100))))  # YES asks 0.40, 0.42, 0.50
    report = broker.submit(_intent(12, "0.42"), now=1.0)
    fills, update = report.fills, report.update
    assert [(f.price, f.count) for f in fills] == [(D("0.40"), 5), (D("0.42"), 7)]
    # 0.07 × C × P × (1 − P) rounded up to $0.0001: 5 @ 0.40 → 0.084; 7 @ 0.42 → 0.119364 → 0.1194
    assert [f.fee for f in fills] == [D("0.0840"), D("0.1194")]
    assert update is not None
    assert (update.status, update.filled, update.remaining, update.fees) == (
        "executed",
        12,
        0,
        D("0.2034"),
    )


def test_ioc_cancels_what_the_book_cannot_fill() -> None:
    report = _broker(book((("0.60", 5),))).submit(_intent(20, "0.41"), now=1.0)
    assert sum(f.count for f in report.fills) == 5
    assert report.update is not None
    assert (report.update.status, report.update.filled) == ("canceled", 5)


def test_fill_or_kill_is_all_or_nothing() -> None:
    report = _broker(book((("0.60", 5),))).submit(_intent(20, "0.41", "fill_or_kill"), now=1.0)
    assert report.fills == ()
    assert report.update is not None
    assert (report.update.status, report.update.filled) == ("canceled", 0)


def test_good_till_cancelled_rests_and_fills_when_the_book_crosses_it() -> None:
    broker = _broker(book((("0.60", 5),)))
    first = broker.submit(_intent(3, "0.35", "good_till_canceled"), now=1.0)
    assert first.update is not None and (first.update.status, first.fills) == ("resting", ())
    found = broker.lookup(_intent(3, "0.35"), now=1.5)
    assert found is not None and found.status == "resting"
    [later] = broker.on_book(book((("0.66", 2), ("0.65", 4))), now=2.0)  # YES asks 0.34, 0.35
    assert [(f.price, f.count) for f in later.fills] == [(D("0.34"), 2), (D("0.35"), 1)]
    assert later.update is not None and later.update.status == "executed"
    assert broker.resting == {}
    assert broker.lookup(_intent(3, "0.35"), now=3.0) is None


def test_depth_taken_once_is_not_taken_again_until_the_next_book() -> None:
    shown = book((("0.60", 5),))
    broker = _broker(shown)
    broker.submit(_intent(5, "0.40", coid="a"), now=1.0)
    second = broker.submit(_intent(5, "0.40", coid="b"), now=1.0)
    assert second.fills == ()
    assert second.update is not None and second.update.status == "canceled"
    broker.on_book(shown, now=2.0)  # a new book: its depth is there to take again
    third = broker.submit(_intent(5, "0.40", coid="c"), now=2.0)
    assert sum(f.count for f in third.fills) == 5


def test_post_only_that_would_cross_is_cancelled_and_cancel_removes_a_resting_order() -> None:
    broker = _broker(book((("0.60", 5),)))
    crossed = broker.submit(_intent(1, "0.45", "good_till_canceled", post_only=True), 1.0)
    assert crossed.update is not None
    assert (crossed.update.status, crossed.update.reason) == ("canceled", "PostOnlyCrossCancel")
    rests = _intent(1, "0.30", "good_till_canceled", "r", post_only=True)
    resting = broker.submit(rests, 1.0)
    assert resting.update is not None and resting.update.status == "resting"
    tracked = TrackedOrder(rests, resting.update.order_id)
    cancelled = broker.cancel(tracked, 2.0)
    assert cancelled.update is not None and cancelled.update.status == "canceled"
    assert broker.cancel(tracked, 3.0).update is None


def test_no_trading_on_a_stale_or_missing_book_or_a_settled_market() -> None:
    stale = _broker(book((("0.60", 5),), stale=True)).submit(_intent(1, "0.99"), 1.0)
    assert stale.update is not None
    assert (stale.update.status, stale.update.reason, stale.fills) == (
        "rejected",
        "no_live_book",
        (),
    )
    missing = PaperBroker().submit(_intent(1, "0.99"), 1.0)
    assert missing.update is not None and missing.update.status == "rejected"
    broker = _broker(book((("0.60", 5),)))
    broker.forget("T")
    gone = broker.submit(_intent(1, "0.99"), 1.0)
    assert gone.update is not None and gone.update.reason == "no_live_book"


def test_halt_cancels_everything_and_refuses_orders_until_resumed() -> None:
    broker = _broker(book((("0.60", 5),)))
    broker.submit(_intent(2, "0.30", "good_till_canceled", "r1"), 1.0)
    broker.submit(_intent(2, "0.31", "good_till_canceled", "r2"), 1.0)
    cancelled = broker.halt("circuit_breaker", 2.0)
    assert sorted((r.update.client_order_id, r.update.status) for r in cancelled if r.update) == [
        ("r1", "canceled"),
        ("r2", "canceled"),
    ]
    refused = broker.submit(_intent(1, "0.99", coid="x"), 3.0)
    assert refused.update is not None
    assert (refused.update.status, refused.update.reason, refused.fills) == (
        "rejected",
        "halted",
        (),
    )
    broker.resume()
    accepted = broker.submit(_intent(1, "0.99", coid="y"), 4.0)
    assert accepted.update is not None and accepted.update.status == "executed"


def test_positions_net_like_kalshi_and_settle_at_one_dollar() -> None:
    position = signed_change("yes", "buy", 3) + signed_change("no", "buy", 2)
    assert position == 1
    assert signed_change("yes", "sell", 1) == -1 and signed_change("no", "sell", 1) == 1
    assert settlement_payout(position, "yes") == D(1)
    assert settlement_payout(position, "no") == D(0)
    assert settlement_payout(-4, "no") == D(4)
