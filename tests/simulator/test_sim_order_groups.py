"""Order groups: the exchange-side kill switch (a contracts cap over a rolling 15 seconds).

On a quiet exchange, so the only trades are the tests' own. The cap is a
maximum: a fill that would pass it is cut at the limit, the group triggers,
its resting orders are canceled and new orders naming it are refused until a
reset — whether the client is still there or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from simulator.testing import SimHandle, running_exchange
from tests.simulator.helpers import Api, barrier, run, v2_body, ws_connect

GROUPS = "/portfolio/order_groups"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_exchange(seed=8, market_makers=False, noise_traders=False) as handle:
        yield handle


@pytest.fixture
def pair(sim: SimHandle) -> Iterator[tuple[Api, Api]]:
    """A trader with a group, and a counterparty; the book emptied first."""
    sim.call(
        lambda ex: [ex.cancel_all(u) for u in list(ex.accounts) if not ex.accounts[u].internal]
    )
    clients = (Api(sim, sim.add_user().signer()), Api(sim, sim.add_user().signer()))
    yield clients
    for client in clients:
        client.close()


def new_group(api: Api, limit: int) -> str:
    response = api.post(f"{GROUPS}/create", {"contracts_limit": limit})
    assert response.status_code == 201, response.text
    assert (response.json()["subaccount"], response.json()["exchange_index"]) == (0, 0)
    group_id: str = response.json()["order_group_id"]
    return group_id


def place(api: Api, side: str, price: str, count: int, **extra: Any) -> dict[str, Any]:
    response = api.create(v2_body(api.sim.current_ticker(), side, price, count, **extra))
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def status(api: Api, order_id: str) -> str:
    result: str = api.get(f"/portfolio/orders/{order_id}").json()["order"]["status"]
    return result


def test_create_get_list_and_limit(pair: tuple[Api, Api]) -> None:
    trader, other = pair
    group = new_group(trader, 10)
    resting = place(trader, "bid", "0.20", 2, order_group_id=group)
    detail = trader.get(f"{GROUPS}/{group}").json()
    assert detail == {
        "is_auto_cancel_enabled": True,
        "contracts_limit_fp": "10.00",
        "orders": [resting["order_id"]],
        "exchange_index": 0,
    }
    order = trader.get(f"/portfolio/orders/{resting['order_id']}").json()["order"]
    assert order["order_group_id"] == group
    listed = trader.get(GROUPS).json()["order_groups"]
    assert [(g["id"], g["contracts_limit_fp"]) for g in listed] == [(group, "10.00")]
    assert other.get(GROUPS).json()["order_groups"] == []
    assert other.get(f"{GROUPS}/{group}").status_code == 404  # someone else's group
    assert trader.put(f"{GROUPS}/{group}/limit", {"contracts_limit_fp": "25"}).json() == {}
    assert trader.get(f"{GROUPS}/{group}").json()["contracts_limit_fp"] == "25.00"
    both = {"contracts_limit": 3, "contracts_limit_fp": "4.00"}
    assert trader.put(f"{GROUPS}/{group}/limit", both).status_code == 400
    assert trader.post(f"{GROUPS}/create", {}).status_code == 400
    assert trader.post(f"{GROUPS}/create", {"contracts_limit": 0}).status_code == 400


def test_the_cap_stops_orders_at_the_exchange(pair: tuple[Api, Api]) -> None:
    trader, other = pair
    group = new_group(trader, 10)
    resting = place(trader, "bid", "0.20", 5, order_group_id=group)
    place(other, "ask", "0.50", 30)  # plenty to buy from
    # A taker for 15 matches only the 10 the group allows, then the group triggers.
    taker = place(
        trader, "bid", "0.50", 15, order_group_id=group, time_in_force="immediate_or_cancel"
    )
    assert (taker["fill_count"], taker["remaining_count"]) == ("10.00", "0.00")
    assert status(trader, resting["order_id"]) == "canceled"  # the group's resting orders go
    refused = trader.create(
        v2_body(trader.sim.current_ticker(), "bid", "0.10", 1, order_group_id=group)
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "order_group_triggered"
    assert place(trader, "bid", "0.10", 1)["remaining_count"] == "1.00"  # outside the group: fine
    assert trader.put(f"{GROUPS}/{group}/reset").json() == {}
    assert place(trader, "bid", "0.10", 1, order_group_id=group)["remaining_count"] == "1.00"


def test_a_resting_maker_is_cut_at_the_limit(pair: tuple[Api, Api]) -> None:
    trader, other = pair
    group = new_group(trader, 4)
    maker = place(trader, "ask", "0.60", 10, order_group_id=group)  # sells YES at 0.60
    taker = place(other, "bid", "0.60", 10, time_in_force="immediate_or_cancel")
    assert taker["fill_count"] == "4.00"
    order = trader.get(f"/portfolio/orders/{maker['order_id']}").json()["order"]
    assert (order["status"], order["fill_count_fp"]) == ("canceled", "4.00")


def test_the_window_rolls_over_fifteen_seconds(sim: SimHandle, pair: tuple[Api, Api]) -> None:
    trader, other = pair
    group = new_group(trader, 10)
    place(other, "ask", "0.50", 40)
    first = place(
        trader, "bid", "0.50", 6, order_group_id=group, time_in_force="immediate_or_cancel"
    )
    assert first["fill_count"] == "6.00"
    sim.advance(15)  # the 6 fall out of the window
    second = place(
        trader, "bid", "0.50", 6, order_group_id=group, time_in_force="immediate_or_cancel"
    )
    assert second["fill_count"] == "6.00"
    sim.advance(5)  # 6 still in the window: only 4 more may match
    third = place(
        trader, "bid", "0.50", 6, order_group_id=group, time_in_force="immediate_or_cancel"
    )
    assert third["fill_count"] == "4.00"
    refused = trader.create(v2_body(sim.current_ticker(), "bid", "0.50", 1, order_group_id=group))
    assert refused.json()["error"]["code"] == "order_group_triggered"


def test_fill_or_kill_beyond_the_room_is_killed(pair: tuple[Api, Api]) -> None:
    trader, other = pair
    group = new_group(trader, 5)
    place(other, "ask", "0.50", 20)
    killed = place(trader, "bid", "0.50", 6, order_group_id=group, time_in_force="fill_or_kill")
    assert (killed["fill_count"], killed["remaining_count"]) == ("0.00", "0.00")
    whole = place(trader, "bid", "0.50", 5, order_group_id=group, time_in_force="fill_or_kill")
    assert whole["fill_count"] == "5.00"


def test_trigger_delete_and_a_lower_limit(pair: tuple[Api, Api]) -> None:
    trader, other = pair
    group = new_group(trader, 100)
    resting = place(trader, "bid", "0.20", 3, order_group_id=group)
    assert trader.put(f"{GROUPS}/{group}/trigger").json() == {}
    assert status(trader, resting["order_id"]) == "canceled"
    again = trader.create(
        v2_body(trader.sim.current_ticker(), "bid", "0.2", 1, order_group_id=group)
    )
    assert again.status_code == 400
    trader.put(f"{GROUPS}/{group}/reset")
    place(other, "ask", "0.50", 10)
    place(trader, "bid", "0.50", 6, order_group_id=group, time_in_force="immediate_or_cancel")
    kept = place(trader, "bid", "0.20", 2, order_group_id=group)
    trader.put(f"{GROUPS}/{group}/limit", {"contracts_limit": 6})  # already matched 6: trigger
    assert status(trader, kept["order_id"]) == "canceled"
    other_group = new_group(trader, 50)
    doomed = place(trader, "bid", "0.20", 2, order_group_id=other_group)
    assert trader.delete(f"{GROUPS}/{other_group}").json() == {}
    assert status(trader, doomed["order_id"]) == "canceled"
    assert trader.get(f"{GROUPS}/{other_group}").status_code == 404
    gone = trader.create(
        v2_body(trader.sim.current_ticker(), "bid", "0.2", 1, order_group_id=other_group)
    )
    assert gone.json()["error"]["code"] == "order_group_not_found"
    assert trader.put(f"{GROUPS}/nope/trigger").status_code == 404


def test_order_group_updates_channel(sim: SimHandle, pair: tuple[Api, Api]) -> None:
    trader, other = pair
    credentials_signer = trader.signer

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim, credentials_signer)
            await ws.send_json(
                {"id": 1, "cmd": "subscribe", "params": {"channels": ["order_group_updates"]}}
            )
            await barrier(ws)
            group = new_group(trader, 3)
            trader.put(f"{GROUPS}/{group}/limit", {"contracts_limit_fp": "2.00"})
            place(other, "ask", "0.50", 5)
            place(
                trader, "bid", "0.50", 5, order_group_id=group, time_in_force="immediate_or_cancel"
            )
            trader.put(f"{GROUPS}/{group}/reset")
            trader.delete(f"{GROUPS}/{group}")
            new_group(other, 1)  # another user's group: not on this connection
            messages = [m for m in await barrier(ws) if m["type"] == "order_group_updates"]
            assert [m["msg"]["event_type"] for m in messages] == [
                "created",
                "limit_updated",
                "triggered",
                "reset",
                "deleted",
            ]
            assert [m["seq"] for m in messages] == [1, 2, 3, 4, 5]
            assert {m["msg"]["order_group_id"] for m in messages} == {group}
            assert [m["msg"].get("contracts_limit_fp") for m in messages] == [
                "3.00",
                "2.00",
                None,
                None,
                None,
            ]
            assert all(m["msg"]["ts_ms"] == round(sim.now() * 1000) for m in messages)
            await ws.close()

    run(scenario())


def test_orders_placed_after_the_cap_in_the_same_window_are_refused_until_reset(
    sim: SimHandle, pair: tuple[Api, Api]
) -> None:
    """Triggered stays triggered when the window rolls on: only a reset reopens the group."""
    trader, other = pair
    group = new_group(trader, 2)
    place(other, "ask", "0.50", 5)
    place(trader, "bid", "0.50", 2, order_group_id=group, time_in_force="immediate_or_cancel")
    sim.advance(30)
    late = trader.create(v2_body(sim.current_ticker(), "bid", "0.50", 1, order_group_id=group))
    assert late.json()["error"]["code"] == "order_group_triggered"
    assert len(trader.get("/portfolio/orders").json()["orders"]) == 1  # the refused one: never made
