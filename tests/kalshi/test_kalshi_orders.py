"""V2 order shapes: requests are validated and match the spec; answers parse exactly."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from kalshi.account import AccountLimits, BucketLimit, EndpointCost, EndpointCosts
from kalshi.errors import ParseError
from kalshi.models import CreatedOrder as CreatedFromModels
from kalshi.models import Order
from kalshi.orders import (
    AmendedOrder,
    CanceledOrder,
    CreatedOrder,
    DecreasedOrder,
    OrderGroup,
    OrderRequestV2,
)
from tests.kalshi.kalshi_fakes import TICKER, request
from tests.kalshi.kalshi_spec import openapi_problems


@pytest.mark.parametrize(
    ("side", "action", "price", "book", "yes_price"),
    [
        ("yes", "buy", D("0.56"), "bid", "0.5600"),
        ("no", "sell", D("0.44"), "bid", "0.5600"),
        ("no", "buy", D("0.30"), "ask", "0.7000"),
        ("yes", "sell", D("0.955"), "ask", "0.9550"),
    ],
)
def test_for_intent_maps_the_four_directions_onto_the_yes_book(
    side: str, action: str, price: D, book: str, yes_price: str
) -> None:
    req = OrderRequestV2.for_intent(
        TICKER,
        side,  # type: ignore[arg-type]
        action,  # type: ignore[arg-type]
        D("2.5"),
        price,
        client_order_id="c-1",
        time_in_force="immediate_or_cancel",
    )
    body = req.to_wire()
    assert body == {
        "ticker": TICKER,
        "client_order_id": "c-1",
        "side": book,
        "count": "2.50",
        "price": yes_price,
        "time_in_force": "immediate_or_cancel",
        "self_trade_prevention_type": "taker_at_cross",
    }
    assert openapi_problems("CreateOrderV2Request", body) == []


def test_every_option_is_sent_only_when_set_and_matches_the_spec() -> None:
    full = OrderRequestV2(
        TICKER,
        "c-9",
        "ask",
        D(10),
        D("0.0150"),
        "good_till_canceled",
        self_trade_prevention_type="maker",
        expiration_time=1_780_115_700,
        post_only=True,
        cancel_order_on_pause=False,
        order_group_id="og-1",
        subaccount=0,
        exchange_index=-1,
    )
    body = full.to_wire()
    assert body["price"] == "0.0150" and body["count"] == "10.00"
    assert body["post_only"] is True and body["cancel_order_on_pause"] is False
    assert (body["order_group_id"], body["expiration_time"]) == ("og-1", 1_780_115_700)
    assert (body["subaccount"], body["exchange_index"]) == (0, -1)
    assert openapi_problems("CreateOrderV2Request", body) == []
    reduce = request(time_in_force="immediate_or_cancel", reduce_only=True).to_wire()
    assert reduce["reduce_only"] is True
    assert openapi_problems("CreateOrderV2Request", reduce) == []
    plain = OrderRequestV2.for_intent(
        TICKER, "yes", "buy", D(1), D("0.5"), client_order_id="c", time_in_force="fill_or_kill"
    ).to_wire()
    assert "post_only" not in plain and "reduce_only" not in plain  # False is left out


def test_the_validator_would_catch_a_wrong_body() -> None:
    body = request().to_wire()
    del body["time_in_force"]
    body["count"] = 5
    problems = openapi_problems("CreateOrderV2Request", body)
    assert any("time_in_force" in p for p in problems)
    assert any("count" in p for p in problems)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"price": D(0)}, "strictly between"),
        ({"price": D(1)}, "strictly between"),
        ({"price": D("0.12345")}, "more than 4 decimals"),
        ({"price": 0.5}, "must be a Decimal"),
        ({"count": D(0)}, "count must be positive"),
        ({"count": D("-1")}, "count must be positive"),
        ({"count": D("0.001")}, "finer than 0.01"),
        ({"side": "buy"}, "side must be bid or ask"),
        ({"time_in_force": "gtc"}, "unknown time_in_force"),
        ({"self_trade_prevention_type": "none"}, "self_trade_prevention_type"),
        ({"ticker": ""}, "ticker"),
        ({"client_order_id": ""}, "client_order_id"),
        (
            {"time_in_force": "immediate_or_cancel", "expiration_time": 1},
            "expiration_time needs time_in_force good_till_canceled",
        ),
        ({"expiration_time": 0}, "positive Unix time"),
        ({"reduce_only": True}, "reduce_only needs time_in_force immediate_or_cancel"),
        ({"subaccount": -1}, "subaccount"),
        ({"exchange_index": -2}, "exchange_index"),
        ({"order_group_id": ""}, "order_group_id"),
    ],
)
def test_bad_requests_fail_before_anything_is_sent(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        request(**overrides)


def test_an_integer_count_becomes_a_decimal() -> None:
    assert request(count=3).count == D(3)
    assert isinstance(request(count=3).count, D)


def test_created_order_is_the_flat_answer() -> None:
    filled = CreatedOrder.from_wire(
        {
            "order_id": "o-1",
            "client_order_id": "c-1",
            "fill_count": "5.00",
            "remaining_count": "0.00",
            "average_fill_price": "0.5800",
            "average_fee_paid": "0.001200",
            "ts_ms": 1715793600456,
        }
    )
    assert (filled.fill_count, filled.remaining_count) == (D(5), D(0))
    assert (filled.average_fill_price, filled.average_fee_paid) == (D("0.58"), D("0.0012"))
    assert filled.found is None
    resting = CreatedOrder.from_wire(
        {"order_id": "o-2", "fill_count": "0.00", "remaining_count": "10.00", "ts_ms": 1}
    )
    assert resting.client_order_id is None and resting.average_fill_price is None
    assert CreatedFromModels is CreatedOrder  # also importable from kalshi.models


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"fill_count": "0.00", "remaining_count": "1.00", "ts_ms": 1}, "order_id: missing"),
        (
            {"order_id": "o", "fill_count": "1.5.0", "remaining_count": "1.00", "ts_ms": 1},
            "fill_count",
        ),
        ({"order_id": "o", "fill_count": 1, "remaining_count": "1.00", "ts_ms": 1}, "fill_count"),
        ({"order_id": "o", "fill_count": "0.00", "remaining_count": "1.00"}, "ts_ms"),
    ],
)
def test_created_order_refuses_what_it_cannot_read(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        CreatedOrder.from_wire(body)


def test_created_order_rebuilt_from_a_found_order() -> None:
    order = Order.from_wire(
        {
            "order_id": "o-7",
            "client_order_id": "c-7",
            "ticker": TICKER,
            "outcome_side": "no",
            "book_side": "ask",
            "status": "resting",
            "yes_price_dollars": "0.7000",
            "no_price_dollars": "0.3000",
            "fill_count_fp": "1.00",
            "remaining_count_fp": "4.00",
        }
    )
    created = CreatedOrder.from_order(order, 123)
    assert (created.order_id, created.client_order_id, created.ts_ms) == ("o-7", "c-7", 123)
    assert (created.fill_count, created.remaining_count) == (D(1), D(4))
    assert created.found is order and created.average_fill_price is None


def test_cancel_amend_decrease_answers() -> None:
    canceled = {"order_id": "o", "client_order_id": "c", "reduced_by": "10.00", "ts_ms": 5}
    assert openapi_problems("CancelOrderV2Response", canceled) == []
    assert CanceledOrder.from_wire(canceled) == CanceledOrder("o", "c", D(10), 5)
    amended = {"order_id": "o", "remaining_count": "8.00", "ts_ms": 6}
    assert openapi_problems("AmendOrderV2Response", amended) == []
    parsed = AmendedOrder.from_wire(amended)
    assert (parsed.remaining_count, parsed.fill_count, parsed.ts_ms) == (D(8), None, 6)
    decreased = {"order_id": "o", "remaining_count": "2.00", "ts_ms": 7}
    assert openapi_problems("DecreaseOrderV2Response", decreased) == []
    assert DecreasedOrder.from_wire(decreased) == DecreasedOrder("o", None, D(2), 7)
    with pytest.raises(ParseError, match="reduced_by"):
        CanceledOrder.from_wire({"order_id": "o", "reduced_by": "ten", "ts_ms": 1})


def test_order_group_shapes() -> None:
    listed = {
        "id": "og-1",
        "contracts_limit_fp": "150.00",
        "is_auto_cancel_enabled": True,
        "exchange_index": 0,
    }
    assert openapi_problems("OrderGroup", listed) == []
    assert OrderGroup.from_wire(listed) == OrderGroup("og-1", D(150), True, (), 0)
    detail = {"is_auto_cancel_enabled": False, "orders": ["o-1", "o-2"], "exchange_index": 0}
    assert openapi_problems("GetOrderGroupResponse", detail) == []
    group = OrderGroup.from_detail("og-1", detail)
    assert (group.orders, group.contracts_limit, group.is_auto_cancel_enabled) == (
        ("o-1", "o-2"),
        None,
        False,
    )
    created = {"order_group_id": "og-2", "subaccount": 0, "exchange_index": 0}
    assert openapi_problems("CreateOrderGroupResponse", created) == []
    assert OrderGroup.from_created(created, 40) == OrderGroup("og-2", D(40), None, (), 0)
    with pytest.raises(ParseError, match="orders"):
        OrderGroup.from_detail("og", {"is_auto_cancel_enabled": True, "orders": [1]})


def test_account_limits_and_endpoint_costs() -> None:
    limits_body = {
        "usage_tier": "advanced",
        "read": {"refill_rate": 300, "bucket_capacity": 300},
        "write": {"refill_rate": 300, "bucket_capacity": 600},
        "grants": [],
    }
    assert openapi_problems("GetAccountApiLimitsResponse", limits_body) == []
    limits = AccountLimits.from_wire(limits_body)
    assert limits == AccountLimits("advanced", BucketLimit(300, 300), BucketLimit(300, 600))
    costs_body = {
        "default_cost": 10,
        "endpoint_costs": [
            {
                "method": "delete",
                "path": "/trade-api/v2/portfolio/events/orders/{order_id}",
                "cost": 2,
            },
            {"method": "GET", "path": "/x"},  # malformed: skipped, not fatal
        ],
    }
    costs = EndpointCosts.from_wire(costs_body)
    assert costs.default_cost == 10
    assert costs.costs == (
        EndpointCost("DELETE", "/trade-api/v2/portfolio/events/orders/{order_id}", 2),
    )
    with pytest.raises(ParseError, match="refill_rate"):
        AccountLimits.from_wire({**limits_body, "read": {"refill_rate": 0, "bucket_capacity": 1}})
