"""The Kalshi broker against a fake REST client: V2 requests, the create answer as the
first state, and every answer Kalshi can give mapped to the execution core."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D

import pytest
from loguru import logger

from execution.broker import Broker, OutcomeUnknown, VenueFailure, VenueUnavailable
from execution.kalshi_broker import KalshiBroker, SessionOrderGroup
from execution.tracker import OrderTracker, TrackedOrder
from kalshi import errors
from kalshi.models import Fill as WireFill
from kalshi.models import OrderRequestV2
from messages.vocabulary import Action, OrderStatus, Side
from tests.execution.builders import intent
from tests.execution.fake_kalshi import FakeRest, answer_error, rest_fill

S = OrderStatus


def _broker(**fake: object) -> tuple[KalshiBroker, FakeRest]:
    rest = FakeRest(**fake)  # type: ignore[arg-type]
    return KalshiBroker(rest, order_group_id="g-1"), rest  # type: ignore[arg-type]


def _tracked(broker: KalshiBroker, **kw: object) -> TrackedOrder:
    tracker = OrderTracker()
    order = intent(**kw)  # type: ignore[arg-type]
    tracker.open(order)
    report = broker.submit(order, 1.0)
    assert report.update is not None and tracker.apply(report.update) is not None
    tracked = tracker.get(order.client_order_id)
    assert tracked is not None
    return tracked


@pytest.fixture
def logs() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lines.append, format="{message}", level="DEBUG")
    yield lines
    logger.remove(sink)


def test_it_is_a_broker() -> None:
    broker: Broker = _broker()[0]
    assert not broker.needs_books


# -- requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "action", "price", "book_side", "yes_price"),
    [
        ("yes", "buy", "0.40", "bid", "0.40"),
        ("no", "sell", "0.40", "bid", "0.60"),
        ("no", "buy", "0.30", "ask", "0.70"),
        ("yes", "sell", "0.55", "ask", "0.55"),
    ],
)
def test_each_direction_becomes_one_side_of_the_yes_book(
    side: Side, action: Action, price: str, book_side: str, yes_price: str
) -> None:
    broker, rest = _broker()
    broker.submit(intent(side=side, action=action, price=price, count=3), 1.0)
    [request] = rest.created
    assert (request.side, request.price, request.count) == (book_side, D(yes_price), D(3))
    assert (request.client_order_id, request.order_group_id) == ("c1", "g-1")
    assert request.time_in_force == "immediate_or_cancel"


def test_a_combination_kalshi_refuses_is_rejected_before_it_is_sent() -> None:
    broker, rest = _broker()
    bad = intent(tif="good_till_canceled", action="sell", reduce_only=True)
    report = broker.submit(bad, 1.0)
    assert report.update is not None
    assert (report.update.status, report.update.reason) == (S.REJECTED, "invalid_order")
    assert rest.created == []


# -- the create answer ----------------------------------------------------------------------


def test_a_filled_ioc_is_executed_with_its_fees() -> None:
    broker, _ = _broker()
    report = broker.submit(intent(count=10), 1.0)
    update = report.update
    assert update is not None
    assert (update.status, update.order_id, update.filled, update.remaining) == (
        S.EXECUTED,
        "o-1",
        10,
        0,
    )
    assert update.fees == D("0.1680")  # average fee per contract × contracts
    assert report.fills == ()  # fills arrive on the fill stream


def test_a_partly_filled_ioc_is_canceled_and_a_partly_filled_gtc_rests() -> None:
    broker, _ = _broker(liquidity={"T": 4})
    ioc = broker.submit(intent("a", count=10), 1.0).update
    assert ioc is not None and (ioc.status, ioc.filled, ioc.remaining) == (S.CANCELED, 4, 0)
    broker2, _ = _broker(liquidity={"T": 4})
    gtc = broker2.submit(intent("b", count=10, tif="good_till_canceled"), 1.0).update
    assert gtc is not None and (gtc.status, gtc.filled, gtc.remaining) == (S.RESTING, 4, 6)


def test_a_410_rejects_the_order_with_its_code_and_is_a_venue_failure() -> None:
    broker, _ = _broker(deprecated=True)
    with pytest.raises(VenueFailure) as failure:
        broker.submit(intent(), 1.0)
    assert failure.value.cause == "deprecated_v1_order_endpoint"
    assert "410" in str(failure.value)
    report = failure.value.report
    assert report is not None and report.update is not None
    assert (report.update.status, report.update.reason) == (
        S.REJECTED,
        "deprecated_v1_order_endpoint",
    )


def test_a_malformed_answer_is_an_unknown_outcome_that_halts() -> None:
    broker, rest = _broker(malformed_answers=1)
    with pytest.raises(OutcomeUnknown) as unknown:
        broker.submit(intent(), 1.0)
    assert unknown.value.halt and unknown.value.client_order_id == "c1"
    assert unknown.value.raw is not None and "c1" in unknown.value.raw
    found = broker.lookup(intent(), 2.0)  # it was made: reconciliation will find it
    assert found is not None and found.status is S.EXECUTED and len(rest.orders) == 1


def test_a_lost_answer_is_an_unknown_outcome_that_does_not_halt() -> None:
    broker, _ = _broker(lose_answers=1)
    with pytest.raises(OutcomeUnknown) as unknown:
        broker.submit(intent(), 1.0)
    assert not unknown.value.halt and unknown.value.reason == "order_outcome_unknown"


def test_a_5xx_that_slipped_through_is_unknown_not_rejected() -> None:
    broker, _ = _broker(refuse_next=errors.ServerError("boom", status=502))
    with pytest.raises(OutcomeUnknown):
        broker.submit(intent(), 1.0)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            errors.OrderRejected("no", status=400, code="insufficient_balance"),
            "insufficient_balance",
        ),
        (errors.BadRequest("bad", status=422, code="invalid_parameters"), "invalid_parameters"),
        (errors.LocalRateLimited("no tokens"), "LocalRateLimited"),
    ],
)
def test_a_refusal_is_a_rejected_report_with_its_code(
    error: errors.KalshiError, reason: str
) -> None:
    broker, _ = _broker(refuse_next=error)
    report = broker.submit(intent(), 1.0)
    assert report.update is not None
    assert (report.update.status, report.update.reason) == (S.REJECTED, reason)


# -- cancel, refresh, lookup ------------------------------------------------------------------


def test_cancel_reports_what_filled_before_the_rest_was_cancelled() -> None:
    broker, rest = _broker(liquidity={"T": 3})
    order = _tracked(broker, count=10, tif="good_till_canceled")
    rest.trade(rest.orders["o-1"], 2)  # 5 filled, 5 left
    report = broker.cancel(order, 2.0)
    assert report.update is not None
    assert (report.update.status, report.update.filled, report.update.remaining) == (
        S.CANCELED,
        5,
        0,
    )
    assert rest.calls[-1] == "cancel_order"


def test_a_cancel_that_lost_the_race_with_a_fill_reads_the_order() -> None:
    broker, rest = _broker(liquidity={"T": 3})
    order = _tracked(broker, count=10, tif="good_till_canceled")
    rest.trade(rest.orders["o-1"], 7)  # now executed: the cancel finds nothing resting
    report = broker.cancel(order, 2.0)
    assert report.update is not None and (report.update.status, report.update.filled) == (
        S.EXECUTED,
        10,
    )


def test_cancel_failures() -> None:
    broker, rest = _broker(liquidity={"T": 0})
    order = _tracked(broker, count=10, tif="good_till_canceled")
    unacknowledged = TrackedOrder(intent("never"))
    assert broker.cancel(unacknowledged, 2.0).update is None
    rest.deprecated = True
    with pytest.raises(VenueFailure):
        broker.cancel(order, 2.0)
    rest.deprecated = False
    rest.orders.clear()
    rest.failing_reads = 1
    with pytest.raises(VenueUnavailable):
        broker.cancel(order, 2.0)  # 404, then the read fails


def test_lookup_by_client_order_id() -> None:
    broker, rest = _broker()
    assert broker.lookup(intent("nowhere"), 1.0) is None
    broker.submit(intent("here"), 1.0)
    found = broker.lookup(intent("here"), 2.0)
    assert found is not None and (found.order_id, found.status) == ("o-1", S.EXECUTED)
    rest.failing_reads = 1
    with pytest.raises(VenueUnavailable):
        broker.lookup(intent("here"), 3.0)


def test_an_unreadable_venue_status_is_not_taken() -> None:
    broker, rest = _broker(liquidity={"T": 0})
    order = _tracked(broker, count=2, tif="good_till_canceled")
    rest.orders["o-1"].status = "paused"
    with pytest.raises(VenueUnavailable, match="unreadable status"):
        broker.refresh(order, 2.0)


# -- fills, adoption, paging -------------------------------------------------------------------


def test_a_fill_takes_the_direction_of_its_intent() -> None:
    broker, rest = _broker()
    sell = intent(side="yes", action="sell", price="0.55", count=2)
    broker.submit(sell, 1.0)
    [wire] = rest.fills
    assert (wire.side, wire.action, wire.book_side) == ("no", "buy", "ask")  # canonical
    fill = broker.fill_of(wire, sell, 9.0)
    assert (fill.side, fill.action, fill.price, fill.count) == ("yes", "sell", D("0.55"), 2)
    assert (fill.client_order_id, fill.strategy_name, fill.timestamp) == ("c1", "kelly", 1001.0)
    anonymous = broker.fill_of(wire, None, 9.0)
    assert (anonymous.side, anonymous.action, anonymous.price) == ("no", "buy", D("0.45"))


def test_a_fill_that_contradicts_its_intent_keeps_the_venues_direction() -> None:
    broker, _ = _broker()
    wire = WireFill.from_wire(rest_fill("t9", "o-9", "T", "bid", D(1), D("0.4")))
    fill = broker.fill_of(wire, intent(side="no", action="buy"), 5.0)
    assert (fill.side, fill.action, fill.price, fill.timestamp) == ("yes", "buy", D("0.4"), 5.0)
    assert fill.client_order_id == "c1"  # a REST fill does not name it: the intent does


def test_resting_orders_and_fills_are_read_to_the_last_page() -> None:
    broker, rest = _broker(liquidity={"T": 0})
    for n in range(5):
        broker.submit(intent(f"r{n}", tif="good_till_canceled", count=2), 1.0)
    resting = broker.resting_orders()
    assert len(resting) == 5
    adopted = broker.intent_of(resting[0])
    assert (adopted.client_order_id, adopted.count, adopted.time_in_force) == (
        "r0",
        2,
        "good_till_canceled",
    )
    for order in list(rest.orders.values()):
        rest.trade(order, 1)
    fills = broker.fills_since(0)
    assert [f.ts_ms for f in fills] == sorted(f.ts_ms or 0 for f in rest.fills)
    assert len(fills) == 5
    rest.failing_reads = 1
    with pytest.raises(VenueUnavailable):
        broker.resting_orders()


# -- the kill switch -------------------------------------------------------------------------------


def test_halt_triggers_the_order_group_and_resume_resets_it() -> None:
    rest = FakeRest(liquidity={"T": 0})
    group = SessionOrderGroup(40)
    broker = KalshiBroker.for_session(rest, group)  # type: ignore[arg-type]
    assert broker.order_group_id == group.order_group_id == "g-1"
    assert rest.calls.count("create_order_group:40") == 1
    # a later broker of the session (a restarted order actor) joins the same group
    again = KalshiBroker.for_session(rest, group)  # type: ignore[arg-type]
    assert again.order_group_id == "g-1" and rest.calls.count("create_order_group:40") == 1
    _tracked(broker, count=3, tif="good_till_canceled")
    assert broker.halt("circuit_breaker", 2.0) == []
    assert rest.orders["o-1"].status == "canceled"  # the exchange cancelled the group
    refused = broker.submit(intent("after"), 3.0).update
    assert refused is not None and refused.reason == "order_group_triggered"
    broker.resume()
    accepted = broker.submit(intent("later", tif="good_till_canceled"), 4.0).update
    assert accepted is not None and (accepted.status, accepted.reason) == (S.RESTING, "")


def test_a_kill_switch_that_fails_is_logged_not_raised(logs: list[str]) -> None:
    rest = FakeRest()
    broker = KalshiBroker.for_session(rest, SessionOrderGroup(40))  # type: ignore[arg-type]

    def broken(order_group_id: str) -> None:
        raise answer_error(503, "service_unavailable", "unavailable")

    rest.trigger_order_group = broken  # type: ignore[method-assign]
    assert broker.halt("shutdown", 1.0) == []
    assert any("kill switch failed" in line for line in logs)


def test_without_an_order_group_halt_leaves_the_account_alone(logs: list[str]) -> None:
    rest = FakeRest(liquidity={"T": 0})
    manual = rest.create_order(  # a person's order on the same account
        OrderRequestV2("T", "by-hand", "bid", D(5), D("0.20"), "good_till_canceled")
    )
    broker = KalshiBroker.for_session(rest, None)  # type: ignore[arg-type]
    assert broker.order_group_id is None
    rest.calls.clear()
    assert broker.halt("shutdown", 1.0) == []
    assert rest.calls == []  # nothing at the venue: cancel_all_orders would take the manual one
    assert rest.orders[manual.order_id].status == "resting"
    assert any("no exchange-side kill switch" in line for line in logs)
    broker.resume()  # nothing to reset
    assert rest.calls == []


def test_an_order_group_kalshi_will_not_make_leaves_the_broker_without_one() -> None:
    rest = FakeRest(refuse_groups=True)
    group = SessionOrderGroup(10)
    assert KalshiBroker.for_session(rest, group).order_group_id is None  # type: ignore[arg-type]
    assert group.order_group_id is None
    assert rest.calls == ["create_order_group:10"]


def test_close_closes_the_client() -> None:
    broker, rest = _broker()
    broker.refresh_presigned()
    broker.close()
    assert rest.closed and rest.calls == ["refresh_presigned"]
