"""The ▶ WebSocket ``/ws``: commands in, every event type out, coalescing and ordering."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from messages.control import StartTrading, StopTrading
from messages.status import Alert
from runtime.bus import ALERTS, BOOK, FILLS, MARKETS, ORDERS, SIGNALS, SPOT
from runtime.faults import crash
from runtime.quiescence import settle
from tests.hub import fakes
from tests.hub.conftest import Harness
from tests.hub.wsclient import next_message, send

pytestmark = pytest.mark.anyio

SIGNAL_FIELDS = {
    "strategy_name", "ticker", "direction", "edge", "model_prob", "market_price", "quantity",
    "timestamp", "spot", "strike", "sigma", "seconds_left", "effective_seconds", "fee",
    "kelly_fraction",
}  # fmt: skip
TRADE_FIELDS = {
    "trade_id", "client_order_id", "ticker", "side", "action", "quantity", "price", "fee",
    "status", "strategy_name", "timestamp",
}  # fmt: skip


async def test_a_new_client_gets_the_status_first(hub: Harness) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(hub.ws_url) as ws:
        first = await ws.receive_json(timeout=5)
    assert first["type"] == "status_update"
    data = first["data"]
    assert {
        "running",
        "mode",
        "trading_state",
        "risk_metrics",
        "positions",
        "orders",
        "strategies",
    } <= set(data)
    assert data["trading_state"] == "running"


async def test_ping_and_get_status(hub: Harness) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(hub.ws_url) as ws:
        await next_message(ws, "status_update")
        await send(ws, {"type": "ping"})
        pong = await next_message(ws, "pong")
        assert pong["timestamp"] == hub.clock.now()
        await send(ws, {"type": "get_status"})
        status = await next_message(ws, "status_update")
    assert status["risk_metrics"]["daily_pnl"] == "12.5000"


async def test_stop_bot_and_start_bot(hub: Harness) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(hub.ws_url) as ws:
        await next_message(ws, "status_update")
        await send(ws, {"type": "stop_bot"})
        await next_message(ws, "status_update", lambda d: d["trading_state"] == "stopped")
        await send(ws, {"type": "start_bot"})
        status = await next_message(ws, "status_update", lambda d: d["trading_state"] == "running")
    assert status["running"] is True
    assert [m.requested_by for m in hub.controls.of(StopTrading)] == ["websocket"]
    assert len(hub.controls.of(StartTrading)) == 1


async def test_start_bot_reports_an_error_when_risk_is_not_running(start_hub: Any) -> None:
    hub: Harness = start_hub(trading=False)
    async with aiohttp.ClientSession() as session, session.ws_connect(hub.ws_url) as ws:
        await send(ws, {"type": "start_bot"})
        error = await next_message(ws, "error")
        assert error["code"] == "unavailable"
        await send(ws, {"type": "ping"})
        await next_message(ws, "pong")  # the connection stayed open


async def test_every_event_type_reaches_the_client(hub: Harness) -> None:
    now = hub.clock.now()
    async with aiohttp.ClientSession() as session, session.ws_connect(hub.ws_url) as ws:
        await next_message(ws, "status_update")

        hub.publish(SIGNALS, fakes.signal(now))
        signal = await next_message(ws, "trading_signal")
        assert set(signal) >= SIGNAL_FIELDS
        assert (signal["direction"], signal["model_prob"], signal["sigma"]) == (
            "yes",
            0.652,  # a probability: a number
            0.82,
        )

        hub.publish(SIGNALS, fakes.decision(now))
        decision = await next_message(ws, "risk_decision")
        assert (decision["signal_id"], decision["approved"]) == ("sig-1", True)

        hub.publish(ORDERS, fakes.order_update(now, "c-1", "resting"))
        order = await next_message(ws, "trade_execution")
        assert set(order) >= TRADE_FIELDS
        assert (order["trade_id"], order["status"], order["quantity"]) == ("c-1", "resting", 10)

        hub.publish(FILLS, fakes.fill(now, "c-1", "t-7", count=4))
        execution = await next_message(ws, "trade_execution")
        assert set(execution) >= TRADE_FIELDS
        assert (execution["trade_id"], execution["client_order_id"]) == ("t-7", "c-1")
        assert (execution["quantity"], execution["price"], execution["fee"]) == (
            4,
            "0.6000",
            "0.1700",
        )
        assert execution["strategy_name"] == "kelly_volatility"
        status = await next_message(ws, "status_update", lambda d: d["orders"]["active"] == 1)
        assert status["orders"]["total"] == 1

        hub.publish(ALERTS, Alert("circuit_breaker", "daily loss limit reached", "critical", now))
        alert = await next_message(ws, "alert")
        assert (alert["alert_type"], alert["message"], alert["level"]) == (
            "circuit_breaker",
            "daily loss limit reached",
            "critical",
        )

        hub.publish(MARKETS, fakes.market(now))
        market = await next_message(ws, "market_update", lambda d: d["kind"] == "market")
        assert (market["ticker"], market["floor_strike"]) == (fakes.TICKER, "187.4200")
        hub.publish(SPOT, fakes.spot(now))
        spot = await next_message(ws, "market_update", lambda d: d["kind"] == "spot")
        assert spot["price"] == "187.9000"
        hub.publish(BOOK, fakes.book(now))
        book = await next_message(ws, "market_update", lambda d: d["kind"] == "book")
        assert (book["yes_bid"], book["yes_ask"], book["yes_mid"]) == ("0.5800", "0.6100", "0.5950")

        crash(hub.system, "risk", "test crash")
        crashed = await next_message(ws, "actor_event", lambda d: d["event"] == "crashed")
        assert (crashed["name"], crashed["error_type"]) == ("risk", "InjectedCrash")
        settle(hub.system, hub.clock)
        restarted = await next_message(ws, "actor_event", lambda d: d["event"] == "restarted")
        assert (restarted["name"], restarted["restarts"]) == ("risk", 1)


async def test_book_updates_are_coalesced_to_the_latest(hub: Harness) -> None:
    now = hub.clock.now()
    seen: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(hub.ws_url) as ws:
        await next_message(ws, "status_update")
        for seq in range(1, 301):
            hub.publish(BOOK, fakes.book(now + seq / 1000, seq=seq))
        await next_message(ws, "market_update", lambda d: d["seq"] == 300, seen=seen)
    books = [f["data"]["seq"] for f in seen if f["type"] == "market_update"]
    assert books == sorted(books)
    assert len(books) < 100, f"{len(books)} book frames for 300 updates: not coalesced"


async def test_ordered_events_arrive_complete_and_in_order_to_every_client(hub: Harness) -> None:
    now = hub.clock.now()
    async with aiohttp.ClientSession() as session:
        sockets = [await session.ws_connect(hub.ws_url) for _ in range(3)]
        try:
            for ws in sockets:
                await next_message(ws, "status_update")
            for n in range(150):
                hub.publish(ALERTS, Alert("test", f"alert {n}", "info", now))
            for ws in sockets:
                got = [(await next_message(ws, "alert"))["message"] for _ in range(150)]
                assert got == [f"alert {n}" for n in range(150)]
        finally:
            for ws in sockets:
                await ws.close()


async def test_market_data_connectivity_reaches_status_and_feed(hub: Harness) -> None:
    from messages import market_data

    feed_state = getattr(market_data, "FeedState", None)
    if feed_state is None:
        pytest.skip("messages.market_data has no FeedState")
    async with aiohttp.ClientSession() as session, session.ws_connect(hub.ws_url) as ws:
        await next_message(ws, "status_update")
        hub.publish(MARKETS, feed_state(False, "socket closed", hub.clock.now()))
        event = await next_message(ws, "market_update", lambda d: d["kind"] == "feed")
        assert (event["connected"], event["reason"]) == (False, "socket closed")
        status = await next_message(
            ws, "status_update", lambda d: d["market_data"]["feed_connected"] is False
        )
    assert status["market_data"]["feed_reason"] == "socket closed"
