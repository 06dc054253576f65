"""Honest health: with the market-data feed down or the index stale, ``/api/health`` says
``degraded`` (with the reason) and trading that is switched on is ``waiting_for_data``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from messages.market_data import FeedState, SpotTick
from runtime.bus import MARKETS, SPOT
from tests.hub.conftest import Harness
from tests.hub.wsclient import next_message

pytestmark = pytest.mark.anyio

DOWN = "ClientConnectorError: Cannot connect to host 127.0.0.1:9"


async def _get(session: aiohttp.ClientSession, path: str) -> Any:
    async with session.get(path) as response:
        assert response.status == 200
        return await response.json()


async def _metric_state(session: aiohttp.ClientSession) -> str:
    async with session.get("/metrics") as response:
        text = await response.text()
    [current] = [
        line.split('"')[1]
        for line in text.splitlines()
        if line.startswith("sol15_trading_state{") and line.endswith(" 1.0")
    ]
    return current


async def test_a_feed_down_is_degraded_and_waiting_for_data(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session, session.ws_connect("/ws") as ws:
        health = await _get(session, "/api/health")
        assert (health["status"], health["reasons"]) == ("ok", [])
        await next_message(ws, "status_update", lambda d: d["trading_state"] == "running")

        hub.publish(MARKETS, FeedState(False, DOWN, hub.clock.now()))
        hub.settle()
        health = await _get(session, "/api/health")
        assert health["status"] == "degraded"
        assert health["reasons"] == [f"market data feed down: {DOWN}"]
        status = await _get(session, "/api/status")
        assert (status["trading_state"], status["running"]) == ("waiting_for_data", True)
        assert status["market_data"]["feed_connected"] is False
        await next_message(ws, "status_update", lambda d: d["trading_state"] == "waiting_for_data")
        assert await _metric_state(session) == "waiting_for_data"

        hub.publish(MARKETS, FeedState(True, "reconnected", hub.clock.now()))
        hub.settle()
        assert (await _get(session, "/api/health"))["status"] == "ok"
        await next_message(ws, "status_update", lambda d: d["trading_state"] == "running")


async def test_a_stale_index_is_degraded_too(hub: Harness) -> None:
    now = hub.clock.now()
    async with aiohttp.ClientSession(hub.url) as session:
        hub.publish(SPOT, SpotTick("SOLUSD_RTI", Decimal("150"), now, stale=True))
        hub.settle()
        health = await _get(session, "/api/health")
        assert (health["status"], health["reasons"]) == (
            "degraded",
            ["the index stopped printing (stale)"],
        )
        assert (await _get(session, "/api/status"))["trading_state"] == "waiting_for_data"
        hub.publish(SPOT, SpotTick("SOLUSD_RTI", Decimal("150.1"), now + 1))
        hub.settle()
        assert (await _get(session, "/api/health"))["status"] == "ok"
        assert (await _get(session, "/api/status"))["trading_state"] == "running"


async def test_stopped_and_halted_win_over_waiting(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        hub.publish(MARKETS, FeedState(False, DOWN, hub.clock.now()))
        hub.settle()
        async with session.post("/api/stop") as response:
            assert response.status == 200
        hub.settle()
        status = await _get(session, "/api/status")
        assert (status["trading_state"], status["running"]) == ("stopped", False)
        assert (await _get(session, "/api/health"))["status"] == "degraded"
