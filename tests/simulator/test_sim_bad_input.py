"""Bad V2 order bodies get 400 with Kalshi's error shape naming the field; nothing is made
and the server keeps serving."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator.testing import SimHandle, running_exchange
from tests.simulator.helpers import V2_ORDERS, Api, v2_body


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_exchange(seed=21) as handle:
        yield handle


@pytest.fixture
def api(sim: SimHandle) -> Iterator[Api]:
    client = Api(sim, sim.add_user().signer())
    yield client
    client.close()


REQUIRED = ["ticker", "side", "count", "price", "time_in_force", "self_trade_prevention_type"]
DROP = object()


@pytest.mark.parametrize(
    ("patch", "code", "field"),
    [
        *[({name: DROP}, "missing_parameters", name) for name in REQUIRED],
        ({"price": None}, "missing_parameters", "price"),
        ({"price": "0.5050"}, "invalid_price", "price"),  # between ticks ($0.01 mid-range)
        ({"price": "0.0955"}, "invalid_price", "price"),  # between ticks ($0.001 in the tail)
        ({"price": "0.0000"}, "invalid_price", "price"),
        ({"price": "1.0000"}, "invalid_price", "price"),
        ({"price": 0.5}, "invalid_price", "price"),  # a number, not a fixed-point string
        ({"price": "fifty"}, "invalid_price", "price"),
        ({"count": 2}, "invalid_parameters", "count"),
        ({"count": "1.234"}, "invalid_parameters", "count"),
        ({"count": "0"}, "invalid_parameters", "count"),
        ({"count": "2.50"}, "invalid_parameters", "count"),  # fractional trading is off
        ({"side": "yes"}, "invalid_parameters", "side"),
        ({"side": "buy"}, "invalid_parameters", "side"),
        ({"time_in_force": "day"}, "invalid_parameters", "time_in_force"),
        ({"self_trade_prevention_type": "cancel"}, "invalid_parameters", "self_trade"),
        (
            {"expiration_time": 1_900_000_000, "time_in_force": "immediate_or_cancel"},
            "invalid_parameters",
            "expiration_time",
        ),
        ({"reduce_only": True}, "invalid_parameters", "reduce_only"),  # GTC
        (
            {"reduce_only": True, "time_in_force": "fill_or_kill"},
            "invalid_parameters",
            "reduce_only",
        ),
        ({"post_only": "yes"}, "invalid_parameters", "post_only"),
        ({"expiration_time": "soon"}, "invalid_parameters", "expiration_time"),
        ({"client_order_id": 7}, "invalid_parameters", "client_order_id"),
        ({"exchange_index": 2}, "invalid_parameters", "exchange_index"),
        ({"subaccount": 1}, "invalid_parameters", "subaccount"),
        ({"ticker": "KXSOL15M-26JAN010000-00"}, "market_not_found", ""),
        ({"count": "10000000"}, "insufficient_balance", ""),
    ],
)
def test_bad_create_is_refused(
    sim: SimHandle, api: Api, patch: dict[str, Any], code: str, field: str
) -> None:
    body: dict[str, Any] = v2_body(sim.current_ticker(), "bid", "0.05", 2)
    for key, value in patch.items():
        if value is DROP:
            body.pop(key)
        else:
            body[key] = value
    response = api.create(body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(response.json()) == {"error"} and set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert field in error["message"]
    assert api.get("/portfolio/orders").json()["orders"] == []  # nothing was created
    assert api.get("/exchange/status").status_code == 200  # and the server is fine


def test_the_rules_pass_when_kept(sim: SimHandle, api: Api) -> None:
    """The same fields, used as the rules allow, are accepted."""
    ticker = sim.current_ticker()
    expiring = v2_body(ticker, "bid", "0.05", 1, expiration_time=int(sim.now()) + 60)
    assert api.create(expiring).status_code == 201
    ioc = v2_body(ticker, "ask", "0.95", 1, "immediate_or_cancel", reduce_only=True)
    assert api.create(ioc).status_code == 201
    nulls = v2_body(ticker, "bid", "0.05", 1, post_only=None, order_group_id=None)
    assert api.create(nulls).status_code == 201


@pytest.mark.parametrize(
    "body",
    [{"orders": "nope"}, {"orders": [1, 2]}, {}, {"orders": [{"ticker": "x"}]}],
)
def test_bad_batches_are_refused_whole(api: Api, body: dict[str, Any]) -> None:
    response = api.post(f"{V2_ORDERS}/batched", body)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert api.get("/portfolio/orders").json()["orders"] == []
