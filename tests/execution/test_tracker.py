"""The order tracker: the state machine, fill de-duplication, netting, settlement and the
reconciliation decisions, as pure functions of what it is told."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution.tracker import ABSENT_AFTER, NOT_AT_EXCHANGE, NOT_FOUND_AFTER_CLOSE, OrderTracker
from execution.transitions import TRANSITIONS
from messages.trading import OrderIntent
from messages.vocabulary import OrderStatus
from tests.execution.builders import fill, intent, update

S = OrderStatus


def _tracked(status: OrderStatus, filled: int = 0) -> tuple[OrderTracker, OrderIntent]:
    """A tracker holding order c1 (10 contracts) in ``status``, reached legally."""
    tracker = OrderTracker()
    order = intent()
    tracker.open(order)
    if status is S.UNKNOWN:
        tracker.mark_unknown("c1", "lost", 1.0)
    elif status is not S.PENDING:
        assert tracker.apply(update(order, status, filled)) is not None
    return tracker, order


# -- the state machine ------------------------------------------------------------------------


def test_a_new_order_is_pending_and_tracked_once() -> None:
    tracker = OrderTracker()
    order = tracker.open(intent(count=7))
    assert (order.status, order.filled, order.remaining) == (S.PENDING, 0, 7)
    with pytest.raises(ValueError, match="already tracked"):
        tracker.open(intent(count=7))


def test_news_is_published_once_and_repeats_are_not() -> None:
    tracker, order = _tracked(S.PENDING)
    resting = update(order, S.RESTING)
    assert tracker.apply(resting) is resting
    assert tracker.apply(update(order, S.RESTING, now=2.0)) is None
    assert tracker.counts["repeat"] == 1
    tracked = tracker.get("c1")
    assert tracked is not None and tracked.order_id == "x1"
    assert tracker.by_order_id("x1") is tracked


def test_partial_fills_move_a_resting_order_and_an_older_report_is_ignored() -> None:
    tracker, order = _tracked(S.RESTING)
    assert tracker.apply(update(order, S.RESTING, 3)) is not None
    assert tracker.apply(update(order, S.RESTING, 6)) is not None
    assert tracker.apply(update(order, S.RESTING, 4)) is None  # overtaken by the 6
    tracked = tracker.get("c1")
    assert tracked is not None and (tracked.filled, tracked.remaining) == (6, 4)
    done = tracker.apply(update(order, S.EXECUTED, 10))
    assert done is not None and done.remaining == 0


@pytest.mark.parametrize(
    ("start", "then"),
    [
        (S.EXECUTED, S.RESTING),
        (S.CANCELED, S.EXECUTED),
        (S.REJECTED, S.RESTING),
        (S.REJECTED, S.EXECUTED),
        (S.REJECTED, S.CANCELED),
        (S.RESTING, S.PENDING),
        (S.UNKNOWN, S.PENDING),
        (S.UNKNOWN, S.REJECTED),
        (S.EXECUTED, S.CANCELED),
    ],
)
def test_an_impossible_transition_is_ignored_and_changes_nothing(
    start: OrderStatus, then: OrderStatus
) -> None:
    tracker, order = _tracked(start, 10 if start is S.EXECUTED else 0)
    before = tracker.get("c1")
    assert before is not None
    snapshot = (before.status, before.filled, before.remaining, before.order_id, before.reason)
    assert tracker.apply(update(order, then, 5, order_id="other", reason="late")) is None
    after = tracker.get("c1")
    assert after is not None
    assert (after.status, after.filled, after.remaining, after.order_id, after.reason) == snapshot
    assert tracker.by_order_id("other") is None
    assert tracker.counts["stale"] + tracker.counts["illegal"] == 1


def test_stale_news_of_a_live_state_after_the_end_is_counted_as_stale() -> None:
    tracker, order = _tracked(S.EXECUTED, 10)
    assert tracker.apply(update(order, S.RESTING, 4)) is None
    assert tracker.counts["stale"] == 1 and tracker.counts["illegal"] == 0
    assert tracker.apply(update(order, S.CANCELED, 10)) is None
    assert tracker.counts["illegal"] == 1


def test_an_update_for_an_order_nobody_placed_is_not_news() -> None:
    tracker = OrderTracker()
    assert tracker.apply(update(intent("ghost"), S.RESTING)) is None
    assert tracker.counts["untracked"] == 1


# -- fills and positions ------------------------------------------------------------------------


def test_a_fill_is_booked_once_by_trade_id() -> None:
    tracker, order = _tracked(S.RESTING)
    assert tracker.record_fill(fill(order, "t1", 3, ts=5.0))
    assert not tracker.record_fill(fill(order, "t1", 3, ts=6.0))  # the stream and REST both
    assert tracker.record_fill(fill(order, "t2", 2, ts=4.0))
    assert tracker.positions == {"T": 5}
    assert tracker.fills_booked == 2 and tracker.counts["duplicate_fill"] == 1
    assert tracker.last_fill_ts == 5.0


def test_positions_net_like_kalshi() -> None:
    tracker = OrderTracker()
    order = intent()
    tracker.record_fill(fill(order, "a", 3, side="yes", action="buy"))
    tracker.record_fill(fill(order, "b", 2, side="no", action="buy"))
    tracker.record_fill(fill(order, "c", 1, side="yes", action="sell"))
    tracker.record_fill(fill(order, "d", 4, side="no", action="sell"))
    assert tracker.position("T") == 3 - 2 - 1 + 4
    with pytest.raises(TypeError):
        tracker.positions["T"] = 0  # type: ignore[index]


def test_a_failed_order_is_revived_by_its_fill_and_the_venues_state() -> None:
    tracker, order = _tracked(S.PENDING)
    tracker.mark_unknown("c1", "lost", 1.0)
    failed = tracker.resolve("c1", None, 1.0 + ABSENT_AFTER)
    assert failed is not None and (failed.status, failed.reason) == (S.FAILED, NOT_AT_EXCHANGE)
    # yet it traded: the fill proves it was there, and names the venue's id
    assert tracker.record_fill(fill(order, "t1", 10, order_id="late-1"))
    revived = tracker.by_order_id("late-1")
    assert revived is not None and revived.status is S.FAILED
    executed = tracker.apply(update(order, S.EXECUTED, 10, order_id="late-1"))
    assert executed is not None and revived.status is S.EXECUTED
    assert tracker.position("T") == 10


def test_settlement_pays_the_winning_side_and_clears_the_position() -> None:
    tracker = OrderTracker()
    order = intent()
    tracker.record_fill(fill(order, "a", 4, side="yes"))
    tracker.record_fill(fill(intent(ticker="U"), "b", 3, side="no"))
    won = tracker.settle("T", "yes", 9.0)
    assert won is not None
    assert (won.yes_contracts, won.no_contracts, won.payout, won.timestamp) == (4, 0, D(4), 9.0)
    assert tracker.position("T") == 0 and tracker.settle("T", "yes", 9.0) is None
    lost = tracker.settle("U", "yes", 9.0)
    assert lost is not None and (lost.no_contracts, lost.payout) == (3, D(0))
    tracker.record_fill(fill(intent(ticker="V"), "c", 2, side="no"))
    paid = tracker.settle("V", "no", 9.0)
    assert paid is not None and paid.payout == D(2)


# -- unknown outcomes and reconciliation --------------------------------------------------------


def test_an_order_of_unknown_outcome_blocks_its_market_until_resolved() -> None:
    tracker = OrderTracker()
    first, second = intent("c1"), intent("c2")
    tracker.open(first)
    tracker.open(second)
    tracker.open(intent("c3", ticker="U"))
    assert not tracker.blocked("T")
    assert tracker.mark_unknown("c1", "timeout", 1.0)
    assert tracker.mark_unknown("c2", "timeout", 1.0)
    assert tracker.blocked("T") and not tracker.blocked("U")
    assert {o.client_order_id for o in tracker.unknown_orders()} == {"c1", "c2"}
    found = tracker.resolve("c1", update(first, S.RESTING, 2), 2.0)
    assert found is not None and found.status is S.RESTING
    assert tracker.blocked("T")  # c2 still unknown
    assert tracker.resolve("c2", None, 3.0) is None  # too soon: an attempt may be on its way
    gone = tracker.resolve("c2", None, 1.0 + ABSENT_AFTER)
    assert gone is not None and gone.status is S.FAILED
    assert not tracker.blocked("T")
    assert [o.client_order_id for o in tracker.resting()] == ["c1"]


def test_a_stream_update_resolves_an_unknown_order_too() -> None:
    tracker, order = _tracked(S.UNKNOWN)
    assert tracker.blocked("T")
    assert tracker.apply(update(order, S.EXECUTED, 10)) is not None
    assert not tracker.blocked("T")
    assert tracker.resolve("c1", None, 5.0) is None  # reconciliation came too late: no change
    tracked = tracker.get("c1")
    assert tracked is not None and tracked.status is S.EXECUTED


def test_not_found_right_after_an_uncertain_create_proves_nothing() -> None:
    """The create may still be on its way to the venue (or in its queue): a lookup that
    misses it is proof of absence only ``absent_after`` seconds after the last attempt."""
    tracker = OrderTracker(absent_after=10.0)
    tracker.open(intent("c1"))
    tracker.mark_unknown("c1", "lost", 100.0, since=95.0)
    assert tracker.resolve("c1", None, 104.9) is None
    still = tracker.get("c1")
    assert still is not None and still.status is S.UNKNOWN and tracker.blocked("T")
    gone = tracker.resolve("c1", None, 105.0)
    assert gone is not None and (gone.status, gone.reason) == (S.FAILED, NOT_AT_EXCHANGE)


def test_an_order_the_venue_said_exists_stays_unknown_until_found_or_its_market_is_over() -> None:
    tracker = OrderTracker(absent_after=10.0)
    order = intent("c1")
    tracker.open(order)
    tracker.mark_unknown("c1", "exists_not_found", 1.0, claimed=True)
    assert tracker.resolve("c1", None, 1_000.0) is None  # not found is no proof: a 409 said so
    assert tracker.blocked("T")
    ended = tracker.resolve("c1", None, 1_001.0, closed=True)
    assert ended is not None and (ended.status, ended.reason) == (
        S.CANCELED,
        NOT_FOUND_AFTER_CLOSE,
    )
    assert not tracker.blocked("T")
    other = intent("c2")
    tracker.open(other)
    tracker.mark_unknown("c2", "exists_not_found", 1.0, claimed=True)
    found = tracker.resolve("c2", update(other, S.RESTING, 0, order_id="o-2"), 2.0)
    assert found is not None and found.status is S.RESTING


def test_a_finished_order_cannot_become_unknown() -> None:
    tracker, _ = _tracked(S.EXECUTED, 10)
    assert not tracker.mark_unknown("c1", "late timeout", 2.0)
    assert not tracker.blocked("T")


def test_adopting_a_resting_order_the_tracker_did_not_know() -> None:
    tracker = OrderTracker()
    found = intent("venue-1", count=5)
    adopted = tracker.adopt(found, update(found, S.RESTING, 1, order_id="o-9", reason="adopted"))
    assert (adopted.status, adopted.filled, adopted.remaining, adopted.reason) == (
        S.RESTING,
        1,
        4,
        "adopted",
    )
    assert tracker.by_order_id("o-9") is adopted
    assert tracker.open_orders() == [adopted]


def test_forgetting_a_settled_market_keeps_its_fills_de_duplicated() -> None:
    tracker, order = _tracked(S.EXECUTED, 10)
    tracker.open(intent("c2"))
    tracker.record_fill(fill(order, "t1", 10))
    assert tracker.forget("T") == 1
    assert tracker.get("c1") is None and tracker.by_order_id("x1") is None
    assert tracker.get("c2") is not None  # still pending: not forgotten
    assert not tracker.record_fill(fill(order, "t1", 10))


# -- a property: whatever arrives, in whatever order ----------------------------------------------

_events = st.lists(
    st.one_of(
        st.tuples(
            st.just("update"),
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(list(OrderStatus)),
            st.integers(0, 10),
        ),
        st.tuples(st.just("unknown"), st.sampled_from(["a", "b", "c"]), st.none(), st.none()),
        st.tuples(st.just("resolve"), st.sampled_from(["a", "b", "c"]), st.none(), st.none()),
        st.tuples(
            st.just("fill"),
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["t1", "t2", "t3", "t4"]),
            st.integers(1, 5),
        ),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_events)
def test_the_tracker_never_breaks_its_invariants(events: list[tuple[object, ...]]) -> None:
    tracker = OrderTracker()
    intents = {
        "a": intent("a", ticker="T"),
        "b": intent("b", ticker="T", side="no"),
        "c": intent("c", ticker="U", action="sell"),
    }
    for order in intents.values():
        tracker.open(order)
    booked: dict[str, tuple[str, int]] = {}  # trade id → (ticker, change): the first one wins
    for kind, coid, arg, number in events:
        assert isinstance(coid, str)
        order = intents[coid]
        tracked = tracker.get(coid)
        assert tracked is not None
        before = (tracked.status, tracked.filled)
        if kind == "update":
            assert isinstance(arg, OrderStatus) and isinstance(number, int)
            published = tracker.apply(update(order, arg, number, order_id=f"x-{coid}"))
            if published is not None:
                assert tracked.status is arg
                assert arg in TRANSITIONS[before[0]]
                assert tracked.filled >= before[1]
            else:
                assert (tracked.status, tracked.filled) == before
        elif kind == "unknown":
            tracker.mark_unknown(coid, "lost", 1.0)
        elif kind == "resolve":
            tracker.resolve(coid, None, 2.0)
        else:
            assert isinstance(arg, str) and isinstance(number, int)
            sign = 1 if (order.side == "yes") == (order.action == "buy") else -1
            new = tracker.record_fill(fill(order, arg, number, order_id=f"x-{coid}"))
            assert new == (arg not in booked)
            booked.setdefault(arg, (order.ticker, sign * number))
        if before[0] in (S.EXECUTED, S.CANCELED, S.REJECTED):
            assert tracked.status is before[0]  # a finished order stays finished
        assert tracked.status is not S.PENDING or before[0] is S.PENDING
        for ticker in ("T", "U"):
            unknown = any(o.status is S.UNKNOWN for o in tracker if o.intent.ticker == ticker)
            assert tracker.blocked(ticker) == unknown
    expected: dict[str, int] = {}
    for ticker, change in booked.values():
        expected[ticker] = expected.get(ticker, 0) + change
    assert {t: n for t, n in tracker.positions.items() if n} == {
        t: n for t, n in expected.items() if n
    }
