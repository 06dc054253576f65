"""The WebSocket feed: subscriptions, snapshots and deltas, private channels, faults."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from kalshi.auth import WS_PATH, Signer, generate_private_key
from simulator.testing import SimHandle, running_exchange
from tests.simulator.helpers import (
    Api,
    barrier,
    receive,
    receive_until,
    run,
    v2_body,
    ws_connect,
)

D = Decimal
Book = dict[str, dict[Decimal, Decimal]]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_exchange(seed=8) as handle:
        yield handle


@pytest.fixture(autouse=True)
def clean_faults(sim: SimHandle) -> Iterator[None]:
    sim.faults.reset()
    yield
    sim.faults.reset()


def apply_snapshot(msg: dict[str, Any]) -> Book:
    return {
        side: {D(p): D(s) for p, s in msg.get(f"{side}_dollars_fp", [])} for side in ("yes", "no")
    }


def apply_delta(book: Book, msg: dict[str, Any]) -> None:
    side = book[msg["side"]]
    price = D(msg["price_dollars"])
    side[price] = side.get(price, D(0)) + D(msg["delta_fp"])
    assert side[price] >= 0
    if side[price] == 0:
        del side[price]


def rest_book(sim: SimHandle, ticker: str) -> Book:
    yes, no = sim.call(lambda ex: ex.orderbook(ticker))
    return {"yes": dict(yes), "no": dict(no)}


def test_snapshot_then_deltas_rebuild_the_book(sim: SimHandle) -> None:
    ticker = sim.current_ticker()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)
            await ws.send_json(
                {
                    "id": 1,
                    "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_ticker": ticker},
                }
            )
            assert await receive(ws) == {
                "id": 1,
                "type": "subscribed",
                "msg": {"channel": "orderbook_delta", "sid": 1},
            }
            snapshot = await receive(ws)
            assert (snapshot["type"], snapshot["sid"], snapshot["seq"]) == (
                "orderbook_snapshot",
                1,
                1,
            )
            book = apply_snapshot(snapshot["msg"])
            assert book == rest_book(sim, ticker)
            await sim.advance_async(20)
            messages = await barrier(ws)
            deltas = [m for m in messages if m["type"] == "orderbook_delta"]
            assert len(deltas) > 10
            assert [m["seq"] for m in deltas] == list(range(2, 2 + len(deltas)))
            for delta in deltas:
                assert delta["msg"]["market_ticker"] == ticker
                apply_delta(book, delta["msg"])
            assert book == rest_book(sim, ticker)
            await ws.close()

    run(scenario())


def test_private_channels_and_own_client_order_id(sim: SimHandle) -> None:
    credentials = sim.add_user()
    api = Api(sim, credentials.signer())
    ticker = sim.current_ticker()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim, credentials.signer())
            channels = ["fill", "user_orders", "market_positions", "orderbook_delta"]
            await ws.send_json(
                {
                    "id": 7,
                    "cmd": "subscribe",
                    "params": {"channels": channels, "market_tickers": [ticker]},
                }
            )
            await barrier(ws)
            top = sim.call(lambda ex: ex.top_of_book(ex.market(ticker)))
            # Buy NO at 1 - best YES bid: an ask at the best YES bid.
            body = v2_body(ticker, "ask", top.yes_bid, 2, client_order_id="ws-take")
            placed = api.create(body).json()
            status = api.get(f"/portfolio/orders/{placed['order_id']}").json()["order"]["status"]
            messages = await barrier(ws)
            fills = [m for m in messages if m["type"] == "fill"]
            orders = [m for m in messages if m["type"] == "user_order"]
            positions = [m for m in messages if m["type"] == "market_position"]
            assert fills and all(m["msg"]["order_id"] == placed["order_id"] for m in fills)
            assert sum(D(m["msg"]["count_fp"]) for m in fills) == D(placed["fill_count"])
            assert {(m["msg"]["outcome_side"], m["msg"]["book_side"]) for m in fills} == {
                ("no", "ask")
            }
            assert {m["msg"]["exchange_index"] for m in fills + orders} == {0}
            assert fills[0]["msg"]["client_order_id"] == "ws-take"
            assert orders[-1]["msg"]["status"] == status
            assert (orders[-1]["msg"]["outcome_side"], orders[-1]["msg"]["book_side"]) == (
                "no",
                "ask",
            )
            assert positions[-1]["msg"]["position_fp"] == f"-{D(placed['fill_count']):.2f}"
            own = [m for m in messages if m["type"] == "orderbook_delta"]
            assert own and all(m["msg"].get("client_order_id") == "ws-take" for m in own)
            await ws.close()

    run(scenario())
    api.close()


def test_other_users_do_not_see_my_fills(sim: SimHandle) -> None:
    me = sim.add_user()
    ticker = sim.current_ticker()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)  # user-1 listens
            await ws.send_json(
                {"id": 1, "cmd": "subscribe", "params": {"channels": ["fill", "user_orders"]}}
            )
            await barrier(ws)
            top = sim.call(lambda ex: ex.top_of_book(ex.market(ticker)))
            body = v2_body(ticker, "bid", top.yes_ask, 1)
            assert Api(sim, me.signer()).create(body).status_code == 201
            assert await barrier(ws) == []
            await ws.close()

    run(scenario())


def test_lifecycle_messages(sim: SimHandle) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)
            await ws.send_json(
                {"id": 3, "cmd": "subscribe", "params": {"channels": ["market_lifecycle_v2"]}}
            )
            await barrier(ws)
            closing = sim.current_ticker()
            await sim.advance_async(0)
            window = sim.exchange.window
            now = sim.now()
            await sim.advance_async((int(now) // window + 1) * window - now + 6)
            messages = await barrier(ws)
            assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
            kinds = [
                (m["type"], m["msg"].get("event_type"), m["msg"].get("market_ticker"))
                for m in messages
            ]
            opened = sim.current_ticker()
            assert ("market_lifecycle_v2", "activated", opened) in kinds
            assert ("market_lifecycle_v2", "determined", closing) in kinds
            assert ("market_lifecycle_v2", "settled", closing) in kinds
            assert any(kind == "event_lifecycle" for kind, _, _ in kinds)
            created = [m for m in messages if m["msg"].get("event_type") == "created"]
            assert created and created[0]["msg"]["price_ranges"][1]["step"] == "0.0100"
            updated = [m for m in messages if m["msg"].get("event_type") == "metadata_updated"]
            market = Api(sim).get(f"/markets/{opened}", signed=False).json()["market"]
            assert updated[0]["msg"]["floor_strike"] == market["floor_strike"]
            determined = next(m for m in messages if m["msg"].get("event_type") == "determined")
            settled_market = Api(sim).get(f"/markets/{closing}", signed=False).json()["market"]
            assert determined["msg"]["result"] == settled_market["result"]
            await ws.close()

    run(scenario())


def test_index_feed(sim: SimHandle) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)
            await ws.send_json(
                {
                    "id": 1,
                    "cmd": "subscribe",
                    "params": {"channels": ["cfbenchmarks_value"], "index_ids": ["SOLUSD_RTI"]},
                }
            )
            await ws.send_json(
                {"id": 2, "cmd": "subscribe", "params": {"channels": ["cfbenchmarks_value"]}}
            )
            await barrier(ws)
            await sim.advance_async(3)
            messages = await barrier(ws)
            ticks = [m for m in messages if m["type"] == "cfbenchmarks_value"]
            assert [(m["sid"], m["seq"]) for m in ticks] == [(1, 1), (1, 2), (1, 3)]  # sid 2: none
            last = ticks[-1]["msg"]
            latest = sim.call(lambda ex: ex.index.latest())
            assert last["index_id"] == "SOLUSD_RTI"
            assert f'"value":"{latest.value}"' in last["data"]
            assert last["received_at"] == latest.ts * 1000
            average = sim.call(lambda ex: ex.index.trailing_average(latest.ts))
            assert last["avg_60s_data"]["value"] == f"{average.value:.8f}"
            assert last["avg_60s_data"]["window_size"] == 60
            await ws.send_json(
                {"id": 3, "cmd": "update_subscription", "params": {"sid": 2, "action": "indexlist"}}
            )
            listing, _ = await receive_until(ws, "cfbenchmarks_value_indexlist")
            assert (listing["id"], listing["msg"]["index_ids"]) == (3, ["SOLUSD_RTI"])
            await ws.send_json(
                {
                    "id": 4,
                    "cmd": "update_subscription",
                    "params": {"sids": [2], "action": "subscribe_indices", "index_ids": ["all"]},
                }
            )
            ok, _ = await receive_until(ws, "ok")
            assert ok["msg"] == {"index_ids": ["all"]}
            await sim.advance_async(1)
            messages = await barrier(ws)
            assert sorted(m["sid"] for m in messages if m["type"] == "cfbenchmarks_value") == [1, 2]
            await ws.close()

    run(scenario())


def test_index_feed_5hz(sim: SimHandle) -> None:
    """Five ticks a second, each sent when its time comes, agreeing with the 1/s prints."""

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)
            for command_id, channel in ((1, "cfbenchmarks_value_5hz"), (2, "cfbenchmarks_value")):
                await ws.send_json(
                    {
                        "id": command_id,
                        "cmd": "subscribe",
                        "params": {"channels": [channel], "index_ids": ["SOLUSD_RTI"]},
                    }
                )
            sids = {m["msg"]["channel"]: m["msg"]["sid"] for m in await barrier(ws)}
            start_ms = round(sim.now() * 1000)
            await sim.advance_async(0.5)
            early = await barrier(ws)
            fast = [m for m in early if m["type"] == "cfbenchmarks_value_5hz"]
            due = [t for t in range(start_ms + 1, start_ms + 501) if t % 200 == 0]
            assert [m["msg"]["source_ts_ms"] for m in fast] == due  # sent as they come due
            await sim.advance_async(2.5)
            later = await barrier(ws)
            fast += [m for m in later if m["type"] == "cfbenchmarks_value_5hz"]
            slow = [m for m in early + later if m["type"] == "cfbenchmarks_value"]
            stamps = [m["msg"]["source_ts_ms"] for m in fast]
            assert stamps == list(range(stamps[0], stamps[0] + 200 * len(fast), 200))
            assert len(fast) == 15 and len(slow) == 3
            assert [m["seq"] for m in fast] == list(range(1, 16))
            assert {m["sid"] for m in fast} == {sids["cfbenchmarks_value_5hz"]}
            for message in fast:
                msg = message["msg"]
                assert re.fullmatch(r"\d+\.\d{8}", msg["value_usd"]), msg["value_usd"]
                frame = json.loads(msg["data"])
                assert (frame["id"], frame["time"]) == ("SOLUSD_RTI", msg["source_ts_ms"])
                assert D(frame["value"]) == D(msg["value_usd"])
                assert msg["received_at"] >= msg["source_ts_ms"]
            whole = {
                m["msg"]["source_ts_ms"] // 1000: D(m["msg"]["value_usd"])
                for m in fast
                if m["msg"]["source_ts_ms"] % 1000 == 0
            }
            prints = sim.call(lambda ex: {t: ex.index.value_at(t) for t in whole})
            assert whole == prints and len(whole) == 3
            assert {json.loads(m["msg"]["data"])["time"] // 1000 for m in slow} == set(whole)
            await ws.send_json(
                {
                    "id": 3,
                    "cmd": "update_subscription",
                    "params": {"sid": sids["cfbenchmarks_value_5hz"], "action": "indexlist"},
                }
            )
            listing, _ = await receive_until(ws, "cfbenchmarks_value_5hz_indexlist")
            assert listing["msg"]["index_ids"] == ["SOLUSD_RTI"]
            await ws.close()

    run(scenario())


def test_update_subscription_and_unsubscribe(sim: SimHandle) -> None:
    current = sim.current_ticker()
    upcoming = sim.call(
        lambda ex: [m.ticker for m in ex.all_markets() if m.status == "initialized"]
    )[0]

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)
            await ws.send_json(
                {
                    "id": 1,
                    "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_ticker": current},
                }
            )
            await barrier(ws)
            await ws.send_json(
                {
                    "id": 2,
                    "cmd": "update_subscription",
                    "params": {"sids": [1], "market_tickers": [upcoming], "action": "add_markets"},
                }
            )
            snapshot, _ = await receive_until(ws, "orderbook_snapshot")
            assert (snapshot["msg"]["market_ticker"], snapshot["seq"]) == (upcoming, 2)
            ok, _ = await receive_until(ws, "ok")
            assert ok["id"] == 2 and ok["msg"]["market_tickers"] == sorted([current, upcoming])
            await ws.send_json(
                {
                    "id": 3,
                    "cmd": "update_subscription",
                    "params": {"sid": 1, "market_ticker": current, "action": "get_snapshot"},
                }
            )
            again, _ = await receive_until(ws, "orderbook_snapshot")
            assert again["id"] == 3 and again["msg"]["market_ticker"] == current
            await ws.send_json(
                {
                    "id": 4,
                    "cmd": "update_subscription",
                    "params": {"sid": 1, "market_tickers": [current], "action": "delete_markets"},
                }
            )
            ok, _ = await receive_until(ws, "ok")
            assert ok["msg"]["market_tickers"] == [upcoming]
            await sim.advance_async(2)
            assert all(m["msg"]["market_ticker"] != current for m in await barrier(ws))
            await ws.send_json({"id": 5, "cmd": "unsubscribe", "params": {"sids": [1]}})
            gone = await receive(ws)
            assert gone["type"] == "unsubscribed" and gone["sid"] == 1 and gone["id"] == 5
            await sim.advance_async(2)
            assert await barrier(ws) == []
            await ws.close()

    run(scenario())


@pytest.mark.parametrize(
    ("command", "code"),
    [
        ({"id": 1, "cmd": "dance", "params": {}}, 5),
        ({"id": 1, "cmd": "subscribe"}, 2),
        ({"id": 1, "cmd": "subscribe", "params": {}}, 3),
        ({"id": 1, "cmd": "subscribe", "params": {"channels": ["nope"]}}, 8),
        ({"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"]}}, 14),
        (
            {
                "id": 1,
                "cmd": "subscribe",
                "params": {"channels": ["ticker"], "market_ticker": "NOPE-1"},
            },
            11,
        ),
        ({"id": 1, "cmd": "unsubscribe", "params": {}}, 4),
        ({"id": 1, "cmd": "unsubscribe", "params": {"sids": [99]}}, 7),
        ({"id": 1, "cmd": "update_subscription", "params": {"sid": 99}}, 15),
        (
            {
                "id": 1,
                "cmd": "update_subscription",
                "params": {"sids": [1, 2], "action": "add_markets"},
            },
            12,
        ),
        (
            {"id": 1, "cmd": "update_subscription", "params": {"sid": 99, "action": "add_markets"}},
            7,
        ),
    ],
)
def test_command_errors_keep_the_connection(
    sim: SimHandle, command: dict[str, Any], code: int
) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)
            await ws.send_json(command)
            reply = await receive(ws)
            assert reply["type"] == "error" and reply["msg"]["code"] == code, reply
            await ws.send_str("{not json")
            garbled = await receive(ws)
            assert garbled["msg"]["code"] == 1
            await ws.send_json({"id": 9, "cmd": "list_subscriptions"})
            assert (await receive(ws))["id"] == 9  # still alive
            await ws.close()

    run(scenario())


def test_handshake_requires_valid_auth(sim: SimHandle) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as missing:
                await session.ws_connect(sim.ws_url)
            assert missing.value.status == 401
            impostor = Signer(sim.key_id, generate_private_key())
            with pytest.raises(aiohttp.WSServerHandshakeError) as forged:
                await session.ws_connect(sim.ws_url, headers=impostor.headers("GET", WS_PATH))
            assert forged.value.status == 401
            wrong_path = sim.signer().headers("GET", "/trade-api/v2/portfolio/balance")
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await session.ws_connect(sim.ws_url, headers=wrong_path)

    run(scenario())


def test_seq_skip_fault(sim: SimHandle) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)
            await ws.send_json(
                {
                    "id": 1,
                    "cmd": "subscribe",
                    "params": {"channels": ["cfbenchmarks_value"], "index_ids": ["SOLUSD_RTI"]},
                }
            )
            await barrier(ws)
            sim.faults.update(seq_skip_next=1)
            await sim.advance_async(3)
            seqs = [m["seq"] for m in await barrier(ws) if m["type"] == "cfbenchmarks_value"]
            assert seqs == [2, 3, 4]  # 1 was skipped: a client must notice the gap
            await ws.close()

    run(scenario())


def test_drop_websockets_now_and_at_a_rate(sim: SimHandle) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)
            await ws.send_json({"id": 1, "cmd": "list_subscriptions"})
            await receive(ws)
            assert sim.drop_websockets() >= 1
            message = await ws.receive(timeout=5)
            assert message.type in (
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
                aiohttp.WSMsgType.CLOSE,
            )
            ws = await ws_connect(session, sim)
            await ws.send_json({"id": 1, "cmd": "list_subscriptions"})
            await receive(ws)
            sim.faults.update(ws_drop_rate=1.0)
            await sim.advance_async(1)
            message = await ws.receive(timeout=5)
            assert message.type in (
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
                aiohttp.WSMsgType.CLOSE,
            )

    run(scenario())


def test_heartbeat_pings() -> None:
    with running_exchange(heartbeat_seconds=0.05) as sim:

        async def scenario() -> None:
            async with aiohttp.ClientSession() as session:
                ws = await session.ws_connect(
                    sim.ws_url, headers=sim.signer().headers("GET", WS_PATH), autoping=False
                )
                message = await ws.receive(timeout=5)
                assert message.type == aiohttp.WSMsgType.PING
                assert message.data == b"heartbeat"
                await ws.pong(message.data)
                await ws.close()

        run(scenario())
