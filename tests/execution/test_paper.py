"""Paper fills walk the live book with Kalshi's taker fee, and never trade on a stale book."""

from __future__ import annotations

from decimal import Decimal as D

from execution.paper import PaperBroker
from execution.positions import settlement_payout, signed_change
from messages.market_data import BookUpdate
from messages.trading import OrderIntent


def _book(
    no_bids: tuple[tuple[str, int], ...],
    yes_bids: tuple[tuple[str, int], ...] = (),
    stale: bool = False,
) -> BookUpdate:
    no = tuple((D(p), D(s)) for p, s in no_bids)
    yes = tuple((D(p), D(s)) for p, s in yes_bids)
    return BookUpdate(
        ticker="T",
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


def _intent(
    count: int, price: str, tif: str = "immediate_or_cancel", coid: str = "c1", **extra: object
) -> OrderIntent:
    return OrderIntent(coid, "s1", "kelly", "T", "yes", "buy", count, D(price), tif, **extra)  # type: ignore[arg-type]


def test_a_buy_walks_the_asks_up_to_its_limit_and_pays_the_taker_fee() -> None:
    book = _book(
        (("0.60", 5), ("0.58", 10), ("0.50", 100))
    )  # YES asks 0.40 ×5, 0.42 ×10, 0.50 ×100
    update, fills = PaperBroker().submit(_intent(12, "0.42"), book, now=1.0)
    assert [(f.price, f.count) for f in fills] == [(D("0.40"), 5), (D("0.42"), 7)]
    # 0.07 × C × P × (1 − P) rounded up to $0.0001: 5 @ 0.40 → 0.084; 7 @ 0.42 → 0.119364 → 0.1194
    assert [f.fee for f in fills] == [D("0.0840"), D("0.1194")]
    assert (update.status, update.filled, update.remaining, update.fees) == (
        "executed",
        12,
        0,
        D("0.2034"),
    )


def test_ioc_cancels_what_the_book_cannot_fill() -> None:
    update, fills = PaperBroker().submit(_intent(20, "0.41"), _book((("0.60", 5),)), now=1.0)
    assert sum(f.count for f in fills) == 5
    assert (update.status, update.filled) == ("canceled", 5)


def test_fill_or_kill_is_all_or_nothing() -> None:
    update, fills = PaperBroker().submit(
        _intent(20, "0.41", "fill_or_kill"), _book((("0.60", 5),)), now=1.0
    )
    assert fills == []
    assert (update.status, update.filled) == ("canceled", 0)


def test_good_till_cancelled_rests_and_fills_when_the_book_crosses_it() -> None:
    broker = PaperBroker()
    update, fills = broker.submit(
        _intent(3, "0.35", "good_till_canceled"), _book((("0.60", 5),)), now=1.0
    )
    assert (update.status, fills) == ("resting", [])
    [(later, more)] = broker.on_book(
        _book((("0.66", 2), ("0.65", 4))), now=2.0
    )  # YES asks 0.34, 0.35
    assert [(f.price, f.count) for f in more] == [(D("0.34"), 2), (D("0.35"), 1)]
    assert later.status == "executed"
    assert broker.resting == {}


def test_depth_taken_once_is_not_taken_again_from_the_same_book() -> None:
    broker = PaperBroker()
    book = _book((("0.60", 5),))
    broker.submit(_intent(5, "0.40", coid="a"), book, now=1.0)
    update, fills = broker.submit(_intent(5, "0.40", coid="b"), book, now=1.0)
    assert fills == []
    assert update.status == "canceled"


def test_post_only_that_would_cross_is_cancelled_and_cancel_removes_a_resting_order() -> None:
    broker = PaperBroker()
    crossed, _ = broker.submit(
        _intent(1, "0.45", "good_till_canceled", post_only=True), _book((("0.60", 5),)), 1.0
    )
    assert (crossed.status, crossed.reason) == ("canceled", "PostOnlyCrossCancel")
    resting, _ = broker.submit(
        _intent(1, "0.30", "good_till_canceled", "r", post_only=True), _book((("0.60", 5),)), 1.0
    )
    assert resting.status == "resting"
    cancelled = broker.cancel("r", 2.0)
    assert cancelled is not None and cancelled.status == "canceled"
    assert broker.cancel("r", 3.0) is None


def test_no_trading_on_a_stale_or_missing_book() -> None:
    stale, fills = PaperBroker().submit(_intent(1, "0.99"), _book((("0.60", 5),), stale=True), 1.0)
    assert (stale.status, stale.reason, fills) == ("rejected", "no_live_book", [])
    missing, _ = PaperBroker().submit(_intent(1, "0.99"), None, 1.0)
    assert missing.status == "rejected"


def test_positions_net_like_kalshi_and_settle_at_one_dollar() -> None:
    position = signed_change("yes", "buy", 3) + signed_change("no", "buy", 2)
    assert position == 1
    assert signed_change("yes", "sell", 1) == -1 and signed_change("no", "sell", 1) == 1
    assert settlement_payout(position, "yes") == D(1)
    assert settlement_payout(position, "no") == D(0)
    assert settlement_payout(-4, "no") == D(4)
