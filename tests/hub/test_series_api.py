"""Several series in the API: ``/api/status``, ``/api/positions`` and ``/api/trades`` carry
each row's series and take ``?series=``; the status has a row per live market, each with
its own index; WS frames carry the series."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import aiohttp
import pytest

from hub.wire import book_data, fill_execution, order_execution, signal_data, spot_data
from messages.market_data import SpotTick
from runtime.bus import MARKETS, ORDERS, SPOT
from tests.hub import fakes
from tests.hub.conftest import Harness

pytestmark = pytest.mark.anyio

BTC = "KXBTC15M-26JAN010015-15"


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url) as response:
        return response.status, await response.json()


def _two_series(hub: Harness) -> None:
    now = hub.clock.now()
    sol = replace(fakes.market(now), series="KXSOL15M", index="SOLUSD_RTI")
    btc = replace(
        fakes.market(now),
        ticker=BTC,
        event_ticker="KXBTC15M-26JAN010015",
        floor_strike=D("68000"),
        series="KXBTC15M",
        index="BRTI",
    )
    hub.publish(MARKETS, sol)
    hub.publish(MARKETS, btc)
    hub.publish(SPOT, fakes.spot(now))
    hub.publish(SPOT, SpotTick(index="BRTI", price=D("68100.5"), ts=now, stale=True))
    hub.publish(ORDERS, fakes.order_update(now - 10, "c-1", "resting"))
    hub.publish(ORDERS, replace(fakes.order_update(now - 5, "c-2", "resting"), ticker=BTC))
    hub.settle()


async def test_trades_carry_and_filter_by_series(hub: Harness) -> None:
    _two_series(hub)
    async with aiohttp.ClientSession(hub.url) as session:
        _, body = await get(session, "/api/trades")
        assert [(t["trade_id"], t["series"]) for t in body["trades"]] == [
            ("c-2", "KXBTC15M"),
            ("c-1", "KXSOL15M"),
        ]
        _, body = await get(session, "/api/trades?series=KXBTC15M")
        assert [t["trade_id"] for t in body["trades"]] == ["c-2"]
        _, body = await get(session, "/api/trades?series=KXETH15M")
        assert body["trades"] == []
        status, body = await get(session, "/api/trades?series=KX%20BTC")
        assert status == 400 and body["error"]["code"] == "invalid_parameter"


async def test_status_and_positions_carry_and_filter_by_series(hub: Harness) -> None:
    _two_series(hub)
    async with aiohttp.ClientSession(hub.url) as session:
        _, status = await get(session, "/api/status")
        rows = {row["series"]: row for row in status["markets"]}
        assert set(rows) == {"KXSOL15M", "KXBTC15M"}
        assert (rows["KXSOL15M"]["index"], rows["KXSOL15M"]["index_value"]) == (
            "SOLUSD_RTI",
            "187.9000",
        )
        assert (rows["KXBTC15M"]["index"], rows["KXBTC15M"]["index_stale"]) == ("BRTI", True)
        assert rows["KXBTC15M"]["floor_strike"] == "68000.0000"
        # one index stale is not every index stale: trading goes on for the others
        assert status["market_data"]["spot_stale"] is False
        assert status["market_data"]["indices"]["BRTI"]["stale"] is True
        assert [p["series"] for p in status["positions"]] == ["KXSOL15M"]
        _, only_btc = await get(session, "/api/status?series=KXBTC15M")
        assert [r["ticker"] for r in only_btc["markets"]] == [BTC]
        assert only_btc["positions"] == []
        _, positions = await get(session, "/api/positions?series=KXSOL15M")
        assert [p["ticker"] for p in positions["positions"]] == [fakes.TICKER]
        status_code, body = await get(session, "/api/positions?ticker=x")
        assert status_code == 400 and body["error"]["code"] == "unknown_parameter"


def test_ws_frames_carry_the_series() -> None:
    now = 1_000.0
    assert signal_data(fakes.signal(now))["series"] == "KXSOL15M"
    assert book_data(replace(fakes.book(now), ticker=BTC))["series"] == "KXBTC15M"
    update = replace(fakes.order_update(now), ticker=BTC)
    assert order_execution(update)["series"] == "KXBTC15M"
    assert fill_execution(fakes.fill(now, "c-1", "t-1"), "s", "filled")["series"] == "KXSOL15M"


async def test_the_dashboard_shows_the_market_picked_with_its_own_index(hub: Harness) -> None:
    _two_series(hub)
    async with aiohttp.ClientSession(hub.url) as session:
        _, picked = await get(session, f"/api/dashboard?ticker={BTC}")
        assert (picked["window"]["ticker"], picked["window"]["index"]) == (BTC, "BRTI")
        assert picked["spot"]["index"] == "BRTI"
        assert [p[1] for p in picked["charts"]["spot"]] == [68100.5]  # BTC's line, not SOL's
        _, default = await get(session, "/api/dashboard")
        assert default["window"]["ticker"] in (BTC, fakes.TICKER)
        status, body = await get(session, "/api/dashboard?ticker=%3Cscript%3E")
        assert status == 400 and body["error"]["code"] == "invalid_parameter"


async def test_a_series_whose_markets_stop_appearing_is_reported(hub: Harness) -> None:
    _two_series(hub)
    now = hub.clock.now()
    ended = replace(
        fakes.market(now),
        ticker="KXETH15M-26JAN010000-00",
        event_ticker="KXETH15M-26JAN010000",
        open_time=now - 1000,
        close_time=now - 100,
        series="KXETH15M",
        index="ETHUSD_RTI",
    )
    hub.publish(MARKETS, ended)
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        _, status = await get(session, "/api/status")
        _, report = await get(session, "/api/health")
    # closed 100 s ago, past the grace: named in health; the others trade on
    assert report["status"] == "degraded"
    assert [r.split(":")[0] for r in report["reasons"]] == ["series KXETH15M"]
    assert "stopped appearing" in report["reasons"][0]
    assert status["trading_state"] == "running"
    health = status["series"]
    assert {k: v["missing"] for k, v in health.items()} == {
        "KXBTC15M": False,
        "KXETH15M": True,
        "KXSOL15M": False,
    }
    assert health["KXETH15M"]["live_markets"] == 0
    assert {r["series"] for r in status["markets"]} == {"KXSOL15M", "KXBTC15M"}


def test_spot_frames_name_the_series_on_their_index(hub: Harness) -> None:
    _two_series(hub)
    series = hub.store.state.series_on("BRTI")
    assert series == ["KXBTC15M"]
    tick = SpotTick(index="BRTI", price=D("68000"), ts=1.0)
    assert spot_data(tick, series)["series"] == ["KXBTC15M"]
    assert hub.store.state.series_on("XRPUSD_RTI") is None
