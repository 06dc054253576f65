"""``GET /api/scoreboard`` and the ``scoreboard_update`` frame: the real ScoreboardActor fed
on the bus, served by the real hub over HTTP on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from actors.scoreboard import SCOREBOARD_ADDRESS, ScoreboardActor
from runtime.supervisor import ChildSpec, StartChild
from tests.actors.scoreboard_feed import Feed, quick
from tests.hub.conftest import TOKEN, Harness, StartHub
from tests.hub.wsclient import next_message

pytestmark = pytest.mark.anyio

HORIZON_KEYS = {
    "minutes",
    "windows",
    "model_brier",
    "market_brier",
    "difference",
    "verdict",
    "missing",
    "not_in_window",
    "real_kalshi_mid_brier",
}
INTERVAL_KEYS = {"estimate", "low", "high", "windows"}
TRADE_KEYS = {
    "fills",
    "contracts",
    "windows",
    "realized_edge_cents",
    "cost_floor_cents",
    "edge_before_costs_cents",
    "verdict",
}


def start_scoreboard(hub: Harness, market: str = "simulated", mode: str = "sim") -> None:
    spec = ChildSpec.of(
        SCOREBOARD_ADDRESS, ScoreboardActor, market=market, mode=mode, summarizer=quick
    )
    hub.system.ask("root", StartChild(spec), timeout=10)
    hub.settle()


async def scoreboard(session: aiohttp.ClientSession, **kw: Any) -> tuple[int, Any]:
    async with session.get("/api/scoreboard", **kw) as response:
        return response.status, await response.json()


async def test_unavailable_until_the_scoreboard_reports(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        status, body = await scoreboard(session)
        assert status == 503 and body["error"]["code"] == "scoreboard_unavailable"
        start_scoreboard(hub)
        status, body = await scoreboard(session)
        assert status == 200 and body["status"] == "ready" and body["settled_windows"] == 0
        assert [h["minutes"] for h in body["horizons"]] == [14, 10, 5, 2, 1]
        status, body = await scoreboard(session, params={"limit": "5"})
        assert status == 400 and body["error"]["code"] == "unknown_parameter"


async def test_a_settled_window_over_http_and_on_the_feed(hub: Harness) -> None:
    start_scoreboard(hub)
    feed = Feed(hub.system, hub.clock)
    async with aiohttp.ClientSession(hub.url) as session, session.ws_connect("/ws") as ws:
        close = feed.window("KXSOL15M-T1", outcome="yes")
        data = await next_message(
            ws, "scoreboard_update", lambda d: d["settled_windows"] == 1 and d["status"] == "ready"
        )
        status, body = await scoreboard(session)
    assert status == 200 and body == data  # the API answers what the feed sent
    assert body["mode"] == "sim" and body["market"] == "simulated" and body["simulated"] is True
    assert body["real_market"] is False
    assert "simulator's market makers, not Kalshi" in body["scored_against"]
    assert body["model"] == "kelly_volatility" and body["kept_in"] == "memory only"
    assert body["summarized_windows"] == 1 and body["summary_error"] is None
    for horizon in body["horizons"]:
        assert set(horizon) == HORIZON_KEYS
        for key in ("model_brier", "market_brier", "difference"):
            assert set(horizon[key]) == INTERVAL_KEYS
        assert horizon["windows"] == 1
        # the model said 0.7, the market's mid 0.62; it settled YES
        assert horizon["model_brier"]["estimate"] == pytest.approx(0.09)
        assert horizon["market_brier"]["estimate"] == pytest.approx(0.1444)
        assert horizon["difference"]["estimate"] == pytest.approx(0.09 - 0.1444)
    trades = body["trades"]
    assert set(trades) >= TRADE_KEYS and set(trades["by_strategy"]) == {"k"}
    # 5 YES at 64¢ + 1.6¢ fee each, won: +34.4¢; the floor at 60/64: 2¢ + 0.07 × 0.64 × 0.36
    assert trades["realized_edge_cents"]["estimate"] == pytest.approx(34.4)
    assert trades["cost_floor_cents"] == pytest.approx(2 + 7 * 0.64 * 0.36)
    [window] = body["recent"]
    assert window["ticker"] == "KXSOL15M-T1" and window["outcome"] == "yes"
    assert window["close_time"] == close and window["fills"] == 1
    assert [f["minutes"] for f in window["forecasts"]] == [14, 10, 5, 2, 1]
    assert window["forecasts"][0] == {
        "minutes": 14,
        "model_prob": 0.7,
        "market_mid": "0.6200",  # a price: fixed-point
        "missing": [],
    }
    assert body["open"] == []


async def test_beyond_loopback_the_scoreboard_needs_the_token(start_hub: StartHub) -> None:
    hub = start_hub(host="0.0.0.0", api_token=TOKEN)
    start_scoreboard(hub, market="kalshi", mode="paper")
    url = f"http://127.0.0.1:{hub.endpoint.port}"
    async with aiohttp.ClientSession(url) as session:
        status, body = await scoreboard(session)
        assert status == 401 and body["error"]["code"] == "unauthorized"
        status, body = await scoreboard(session, headers=hub.auth())
    assert status == 200 and body["market"] == "kalshi" and body["real_market"] is True
    assert body["scored_against"] == "Kalshi's live KXSOL15M book"
