"""Several series on the wire: one REST and one WebSocket endpoint serve every series.

``GET /series`` and ``/series/{ticker}`` (the settlement source names the series' index),
``GET /markets?series_ticker=``, the history endpoints, the CF Benchmarks passthrough per
index id, and ``cfbenchmarks_value``/``_5hz`` subscribed by index id — with pykalshi as
an independent client where it has the call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import aiohttp
import pytest

from simulator.catalog import CATALOG, with_series
from simulator.config import ExchangeConfig
from simulator.testing import SimHandle, running_exchange
from tests.simulator.helpers import Api, barrier, receive_until, run, ws_connect

SERIES = ["KXBTC15M", "KXETH15M", "KXSOL15M"]
INDICES = {"KXBTC15M": "BRTI", "KXETH15M": "ETHUSD_RTI", "KXSOL15M": "SOLUSD_RTI"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    config = with_series(ExchangeConfig(seed=6, window_seconds=60), SERIES)
    config = replace(config, historical_after_seconds=120)
    with running_exchange(config=config) as handle:
        handle.advance(260)  # four windows settle; the first is archived
        yield handle


def test_series_are_listed_each_with_its_own_index(sim: SimHandle) -> None:
    api = Api(sim)
    listed = api.get("/series", signed=False).json()["series"]
    assert [s["ticker"] for s in listed] == ["KXSOL15M", "KXBTC15M", "KXETH15M"]
    crypto = api.get("/series", {"category": "Crypto", "tags": "BTC"}, signed=False).json()
    assert [s["ticker"] for s in crypto["series"]] == ["KXBTC15M"]
    for ticker, index_id in INDICES.items():
        series = api.get(f"/series/{ticker}", signed=False).json()["series"]
        assert series["ticker"] == ticker and series["fee_type"] == "quadratic"
        (source,) = series["settlement_sources"]
        assert source["url"].endswith(f"/{index_id}")
    assert api.get("/series/KXDOGE15M", signed=False).status_code == 400  # not listed here
    api.close()


def test_markets_filter_by_series_and_name_their_index(sim: SimHandle) -> None:
    api = Api(sim)
    for ticker, index_id in INDICES.items():
        markets = api.get("/markets", {"series_ticker": ticker}, signed=False).json()["markets"]
        assert markets and all(m["ticker"].startswith(f"{ticker}-") for m in markets)
        assert {m["status"] for m in markets} >= {"active", "finalized"}
        settled = next(m for m in markets if m["status"] == "finalized")
        coin = CATALOG[ticker].series.coin
        assert f"({index_id})" in settled["rules_primary"] and settled["title"].startswith(coin)
        event = api.get(f"/events/{settled['event_ticker']}", signed=False).json()["event"]
        assert event["series_ticker"] == ticker and event["title"].startswith(coin)
        archived = api.get("/historical/markets", {"series_ticker": ticker}, signed=False)
        old = archived.json()["markets"]
        assert old and all(m["ticker"].startswith(f"{ticker}-") for m in old)
        candles = api.get(
            f"/series/{ticker}/markets/{settled['ticker']}/candlesticks",
            {"start_ts": 0, "end_ts": 2_000_000_000, "period_interval": 1},
            signed=False,
        )
        assert candles.status_code == 200 and candles.json()["candlesticks"]
    api.close()


def test_the_passthrough_serves_each_index_by_id(sim: SimHandle) -> None:
    api = Api(sim)
    base = sim.api_base.removesuffix("/trade-api/v2")
    for ticker, index_id in INDICES.items():
        path = "/trade-api/v2/cfbenchmarks/values"
        reply = api.client.get(
            base + path, params={"id": index_id}, headers=api.signer.headers("GET", path)
        )
        payload = reply.json()["data"]["payload"]
        latest = sim.call(lambda ex, t=ticker: ex.listings[t].index.latest())  # type: ignore[misc]
        assert payload[-1] == {"value": str(latest.value), "time": latest.ts * 1000}
    api.close()


def test_index_feeds_are_subscribed_by_index_id(sim: SimHandle) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)
            wanted = ["BRTI", "ETHUSD_RTI"]
            for n, channel in enumerate(("cfbenchmarks_value", "cfbenchmarks_value_5hz"), 1):
                params = {"channels": [channel], "index_ids": wanted}
                await ws.send_json({"id": n, "cmd": "subscribe", "params": params})
            await barrier(ws)
            await sim.advance_async(2)
            messages = await barrier(ws)
            slow = [m["msg"]["index_id"] for m in messages if m["type"] == "cfbenchmarks_value"]
            fast = [m["msg"]["index_id"] for m in messages if m["type"] == "cfbenchmarks_value_5hz"]
            assert slow == ["BRTI", "ETHUSD_RTI"] * 2
            assert sorted(set(fast)) == wanted and len(fast) == 2 * 2 * 5
            command = {"sid": 1, "action": "indexlist"}
            await ws.send_json({"id": 9, "cmd": "update_subscription", "params": command})
            listing, _ = await receive_until(ws, "cfbenchmarks_value_indexlist")
            assert listing["msg"]["index_ids"] == ["SOLUSD_RTI", "BRTI", "ETHUSD_RTI"]
            await ws.close()

    run(scenario())


def test_pykalshi_reads_every_series_markets(sim: SimHandle) -> None:
    from pykalshi import KalshiClient, MarketStatus  # an independent client

    with KalshiClient(
        api_key_id=sim.key_id,
        private_key_path=str(sim.private_key_path),
        api_base=sim.api_base,
        max_retries=0,
    ) as client:
        for ticker in SERIES:
            markets = client.get_markets(series_ticker=ticker, status=MarketStatus.OPEN)
            assert [m.ticker.split("-")[0] for m in markets] == [ticker]
