"""The V2 order writes over HTTP on a quiet exchange (only the tests' own orders trade).

Directions on the single YES book, the flat answers, amend, decrease, batches,
cancel-all, routing by shard and subaccount, and the V1 writes answering 410.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from simulator.testing import SimHandle, running_exchange
from tests.simulator.helpers import V2_ORDERS, Api, v2_body

D = Decimal


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_exchange(seed=5, market_makers=False, noise_traders=False) as handle:
        yield handle


@pytest.fixture
def users(sim: SimHandle) -> Iterator[list[Api]]:
    """Four fresh users; the book is emptied first so each test sees only its orders."""
    sim.call(
        lambda ex: [ex.cancel_all(u) for u in list(ex.accounts) if not ex.accounts[u].internal]
    )
    clients = [Api(sim, sim.add_user().signer()) for _ in range(4)]
    yield clients
    for client in clients:
        client.close()


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    error: dict[str, str] = body["error"]
    return error


def create(api: Api, side: str, price: str, count: int, **extra: Any) -> dict[str, Any]:
    response = api.create(v2_body(api.sim.current_ticker(), side, price, count, **extra))
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def order_of(api: Api, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = api.get(f"/portfolio/orders/{order_id}").json()["order"]
    return order


def position(api: Api) -> Decimal:
    positions = api.get("/portfolio/positions").json()["market_positions"]
    return sum((D(p["position_fp"]) for p in positions), D(0))


def direction(order: dict[str, Any]) -> tuple[str, str, str, str]:
    return order["book_side"], order["outcome_side"], order["side"], order["action"]


def test_the_four_directions_on_one_yes_book(users: list[Api]) -> None:
    alice, bob, carol, dave = users
    # buy YES at 0.40: a bid at 0.40.
    bid = create(alice, "bid", "0.40", 5)
    assert direction(order_of(alice, bid["order_id"])) == ("bid", "yes", "yes", "buy")
    # buy NO at 0.60: an ask at YES 0.40; it trades with alice's bid at 0.40.
    ask = create(bob, "ask", "0.40", 5, time_in_force="immediate_or_cancel")
    assert (ask["fill_count"], ask["remaining_count"], ask["average_fill_price"]) == (
        "5.00",
        "0.00",
        "0.4000",
    )
    assert direction(order_of(bob, ask["order_id"])) == ("ask", "no", "no", "buy")
    assert (position(alice), position(bob)) == (5, -5)
    fill = bob.get("/portfolio/fills").json()["fills"][0]
    assert (fill["book_side"], fill["outcome_side"], fill["yes_price_dollars"]) == (
        "ask",
        "no",
        "0.4000",
    )
    assert (fill["no_price_dollars"], fill["is_taker"]) == ("0.6000", True)
    # sell YES at 0.35: a reduce-only ask, capped at the 5 YES alice holds.
    create(carol, "bid", "0.35", 10)
    sell_yes = create(
        alice, "ask", "0.35", 8, time_in_force="immediate_or_cancel", reduce_only=True
    )
    assert (sell_yes["fill_count"], sell_yes["remaining_count"]) == ("5.00", "0.00")
    assert direction(order_of(alice, sell_yes["order_id"])) == ("ask", "no", "yes", "sell")
    assert position(alice) == 0
    # sell NO at 0.30: a reduce-only bid at YES 0.70, closing the 5 NO bob holds.
    create(dave, "ask", "0.70", 5)
    sell_no = create(bob, "bid", "0.70", 5, time_in_force="immediate_or_cancel", reduce_only=True)
    assert (sell_no["fill_count"], sell_no["average_fill_price"]) == ("5.00", "0.7000")
    assert direction(order_of(bob, sell_no["order_id"])) == ("bid", "yes", "no", "sell")
    assert position(bob) == 0


def test_reduce_only_without_a_position_fills_nothing(users: list[Api]) -> None:
    alice, bob, *_ = users
    create(bob, "bid", "0.50", 3)
    nothing = create(alice, "ask", "0.50", 3, time_in_force="immediate_or_cancel", reduce_only=True)
    assert (nothing["fill_count"], nothing["remaining_count"]) == ("0.00", "0.00")
    assert "average_fill_price" not in nothing
    assert order_of(alice, nothing["order_id"])["status"] == "canceled"
    assert position(alice) == 0


def test_a_plain_ask_nets_against_held_yes(users: list[Api]) -> None:
    alice, bob, carol, _ = users
    create(alice, "bid", "0.50", 4)
    create(bob, "ask", "0.50", 4, time_in_force="immediate_or_cancel")  # alice: 4 YES
    create(carol, "bid", "0.55", 6)
    # Not reduce-only: 4 of the 6 close her YES, the other 2 open NO.
    create(alice, "ask", "0.55", 6, time_in_force="immediate_or_cancel")
    assert position(alice) == -2


def test_amend_keeps_or_loses_queue_position(users: list[Api]) -> None:
    alice, bob, carol, _ = users
    first = create(alice, "bid", "0.30", 5, client_order_id="amend-a")
    create(bob, "bid", "0.30", 5)
    path = f"{V2_ORDERS}/{first['order_id']}/amend"
    ticker = alice.sim.current_ticker()
    smaller = alice.post(path, {"ticker": ticker, "side": "bid", "price": "0.30", "count": "3"})
    assert smaller.status_code == 200, smaller.text
    assert smaller.json()["remaining_count"] == "3.00" and smaller.json()["fill_count"] == "0.00"
    assert "average_fill_price" not in smaller.json()
    # Smaller keeps its place: a seller of 3 fills alice first.
    create(carol, "ask", "0.30", 3, time_in_force="immediate_or_cancel")
    assert order_of(alice, first["order_id"])["status"] == "executed"

    again = create(alice, "bid", "0.30", 2)
    bigger = alice.post(
        f"{V2_ORDERS}/{again['order_id']}/amend",
        {
            "ticker": ticker,
            "side": "bid",
            "price": "0.30",
            "count": "4",
            "updated_client_order_id": "amend-b",
        },
    )
    assert bigger.json()["client_order_id"] == "amend-b"
    # Bigger goes to the back, behind bob's 5.
    create(carol, "ask", "0.30", 5, time_in_force="immediate_or_cancel")
    assert order_of(alice, again["order_id"])["fill_count_fp"] == "0.00"
    assert order_of(alice, again["order_id"])["remaining_count_fp"] == "4.00"
    assert order_of(alice, again["order_id"])["client_order_id"] == "amend-b"


def test_amend_to_a_crossing_price_trades(users: list[Api]) -> None:
    alice, bob, *_ = users
    create(bob, "ask", "0.45", 2)
    resting = create(alice, "bid", "0.20", 3)
    answer = alice.post(
        f"{V2_ORDERS}/{resting['order_id']}/amend",
        {"ticker": alice.sim.current_ticker(), "side": "bid", "price": "0.45", "count": "3"},
    ).json()
    assert (answer["fill_count"], answer["remaining_count"]) == ("2.00", "1.00")
    assert answer["average_fill_price"] == "0.4500"
    assert D(answer["average_fee_paid"]) > 0
    order = order_of(alice, resting["order_id"])
    assert (order["yes_price_dollars"], order["status"]) == ("0.4500", "resting")


def test_amend_refusals_change_nothing(users: list[Api]) -> None:
    alice, *_ = users
    resting = create(alice, "bid", "0.20", 3)
    path = f"{V2_ORDERS}/{resting['order_id']}/amend"
    ticker = alice.sim.current_ticker()
    base = {"ticker": ticker, "side": "bid", "price": "0.20", "count": "3"}
    for patch, code in (
        ({"count": "0"}, "invalid_parameters"),
        ({"side": "ask"}, "invalid_parameters"),
        ({"price": "0.205"}, "invalid_price"),
        ({"expiration_time": 1}, "invalid_parameters"),
        ({"exchange_index": 4}, "invalid_parameters"),
        ({"price": None}, "missing_parameters"),
    ):
        response = alice.post(path, {k: v for k, v in {**base, **patch}.items() if v is not None})
        assert response.status_code == 400, (patch, response.text)
        assert error_of(response)["code"] == code
    assert order_of(alice, resting["order_id"])["remaining_count_fp"] == "3.00"
    assert alice.post(f"{V2_ORDERS}/nope/amend", base).status_code == 404


def test_decrease(users: list[Api]) -> None:
    alice, *_ = users
    resting = create(alice, "bid", "0.20", 6)
    path = f"{V2_ORDERS}/{resting['order_id']}/decrease"
    by = alice.post(path, {"reduce_by": "2"})
    assert by.status_code == 200, by.text
    assert set(by.json()) == {"order_id", "remaining_count", "ts_ms"}
    assert by.json()["remaining_count"] == "4.00"
    assert alice.post(path, {"reduce_by": "1", "reduce_to": "1"}).status_code == 400
    assert alice.post(path, {}).status_code == 400
    assert alice.post(path, {"reduce_to": "4"}).status_code == 400  # not a decrease
    to_zero = alice.post(path, {"reduce_to": "0.00"}).json()
    assert to_zero["remaining_count"] == "0.00"
    order = order_of(alice, resting["order_id"])
    assert (order["status"], order["fill_count_fp"]) == ("canceled", "0.00")
    assert alice.post(path, {"reduce_by": "1"}).status_code == 404  # nothing left to decrease


def test_batch_create_and_cancel(users: list[Api]) -> None:
    alice, *_ = users
    ticker = alice.sim.current_ticker()
    orders = [
        v2_body(ticker, "bid", "0.10", 1, client_order_id="b-1"),
        v2_body("KXSOL15M-26JAN010000-00", "bid", "0.10", 1, client_order_id="b-2"),
        v2_body(ticker, "ask", "0.90", 2),
    ]
    created = alice.post(f"{V2_ORDERS}/batched", {"orders": orders})
    assert created.status_code == 201, created.text
    first, failed, third = created.json()["orders"]
    assert (first["client_order_id"], first["remaining_count"]) == ("b-1", "1.00")
    assert "error" not in first
    assert failed == {
        "client_order_id": "b-2",
        "error": {
            "code": "market_not_found",
            "message": "market not found",
            "details": "ticker=KXSOL15M-26JAN010000-00",
        },
    }
    assert "client_order_id" not in third and third["remaining_count"] == "2.00"
    canceled = alice.delete(
        f"{V2_ORDERS}/batched",
        body={"orders": [{"order_id": first["order_id"]}, {"order_id": "nope"}]},
    )
    assert canceled.status_code == 200, canceled.text
    done, unknown = canceled.json()["orders"]
    assert done["reduced_by"] == "1.00" and "error" not in done
    assert (unknown["order_id"], unknown["reduced_by"], unknown["error"]["code"]) == (
        "nope",
        "0.00",
        "not_found",
    )
    malformed = alice.post(
        f"{V2_ORDERS}/batched", {"orders": [orders[0], {**orders[2], "price": 1}]}
    )
    assert malformed.status_code == 400
    assert "orders[1].price" in error_of(malformed)["message"]
    assert alice.post(f"{V2_ORDERS}/batched", {"orders": []}).status_code == 400
    too_many = [v2_body(ticker, "bid", "0.10", 1)] * 21
    assert alice.post(f"{V2_ORDERS}/batched", {"orders": too_many}).status_code == 400


def test_cancel_all(users: list[Api]) -> None:
    alice, bob, *_ = users
    mine = [create(alice, "bid", price, 1)["order_id"] for price in ("0.10", "0.11", "0.12")]
    theirs = create(bob, "bid", "0.10", 1)["order_id"]
    response = alice.delete(V2_ORDERS)
    assert (response.status_code, response.content) == (204, b"")
    assert {order_of(alice, o)["status"] for o in mine} == {"canceled"}
    assert order_of(bob, theirs)["status"] == "resting"


def test_one_shard_and_one_subaccount(users: list[Api]) -> None:
    alice, *_ = users
    ticker = alice.sim.current_ticker()
    for extra in ({"exchange_index": 1}, {"subaccount": 3}, {"exchange_index": "0"}):
        response = alice.create(v2_body(ticker, "bid", "0.10", 1, **extra))
        assert response.status_code == 400, extra
        assert error_of(response)["code"] == "invalid_parameters"
    routed = create(alice, "bid", "0.10", 1, exchange_index=-1, subaccount=0)
    path = f"{V2_ORDERS}/{routed['order_id']}"
    assert alice.delete(path, {"exchange_index": 2}).status_code == 400
    assert alice.delete(path, {"exchange_index": -1}).status_code == 400  # no market_ticker
    assert alice.delete(path, {"market_ticker": "KXSOL15M-26JAN010000-00"}).status_code == 404
    assert alice.delete(path, {"exchange_index": -1, "market_ticker": ticker}).status_code == 200


V1_WRITES = [
    ("POST", "/portfolio/orders"),
    ("POST", "/portfolio/orders/batched"),
    ("DELETE", "/portfolio/orders/batched"),
    ("DELETE", "/portfolio/orders/some-order"),
    ("POST", "/portfolio/orders/some-order/amend"),
    ("POST", "/portfolio/orders/some-order/decrease"),
]


@pytest.mark.parametrize(("method", "path"), V1_WRITES)
def test_v1_writes_answer_410(users: list[Api], method: str, path: str) -> None:
    alice, *_ = users
    v1_body = {"ticker": alice.sim.current_ticker(), "side": "yes", "action": "buy", "count": 1}
    response = alice.client.request(method, path, json=v1_body, headers=alice.headers(method, path))
    assert response.status_code == 410
    error = error_of(response)
    assert error["code"] == "deprecated_v1_order_endpoint"
    assert "/portfolio/events/orders" in error["message"]
    anonymous = httpx.request(method, f"{alice.sim.api_base}{path}", json=v1_body)
    assert anonymous.status_code == 410
    assert alice.get("/portfolio/orders").json()["orders"] == []  # nothing was made


def test_faults_retire_the_create_endpoint_or_drop_the_order_id(
    sim: SimHandle, users: list[Api]
) -> None:
    api = users[0]
    sim.faults.update(retired_create_next=1)
    refused = api.create(v2_body(sim.current_ticker(), "bid", "0.20", 1, client_order_id="r-1"))
    assert refused.status_code == 410
    assert error_of(refused)["code"] == "deprecated_order_endpoint"
    assert api.get("/portfolio/orders").json()["orders"] == []  # nothing was made
    sim.faults.update(malformed_create_next=1)
    made = api.create(v2_body(sim.current_ticker(), "bid", "0.20", 1, client_order_id="m-1"))
    assert made.status_code == 201 and "order_id" not in made.json()
    [order] = api.get("/portfolio/orders").json()["orders"]
    assert order["client_order_id"] == "m-1" and order["status"] == "resting"
