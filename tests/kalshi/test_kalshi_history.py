"""The history reads: Kalshi's JSON kept exactly, the requests they make, the cutoff."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from kalshi.errors import NotFound, ParseError
from kalshi.history import HistoricalCutoff, encode_raw
from kalshi.rest import KalshiRestClient

CUTOFF = {
    "market_settled_ts": "2026-03-01T00:00:00Z",
    "trades_created_ts": "2026-03-01T00:05:00Z",
    "orders_updated_ts": "2026-03-01T00:00:00Z",
}


def test_encode_raw_writes_every_number_as_it_was_sent() -> None:
    sent = b'{"floor_strike":74.41230167,"n":12,"tiny":1e-7,"p":"0.5600","f":0.10,"big":123456789012345678901}'
    decoded = json.loads(sent, parse_float=Decimal)
    assert encode_raw(decoded) == sent.replace(b"1e-7", b"1E-7")  # the same number
    assert json.loads(encode_raw(decoded), parse_float=Decimal) == decoded


def test_the_cutoff_is_read_from_its_iso_times() -> None:
    cutoff = HistoricalCutoff.from_wire(CUTOFF)
    assert (cutoff.market_settled_ts, cutoff.trades_created_ts) == (1_772_323_200, 1_772_323_500)
    with pytest.raises(ParseError, match="market_settled_ts"):
        HistoricalCutoff.from_wire({"trades_created_ts": CUTOFF["trades_created_ts"]})


class Recorder:
    """A fake Kalshi: answers each path from a table and remembers what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/trade-api/v2")
        self.asked.append((path, dict(request.url.params)))
        if path == "/historical/cutoff":
            return httpx.Response(200, json=CUTOFF)
        if path.endswith("/candlesticks"):
            if "NOPE" in path:
                return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})
            return httpx.Response(200, text='{"ticker": "T-1",  "candlesticks": []}')
        key = "trades" if path.endswith("trades") else "markets"
        items = [{"ticker": "T-1", "floor_strike": Decimal("74.1")}]
        body = {key: items, "cursor": "" if request.url.params.get("cursor") else "next"}
        return httpx.Response(200, content=encode_raw(body))


@pytest.fixture
def fake() -> Recorder:
    return Recorder()


def _client(fake: Recorder) -> KalshiRestClient:
    return KalshiRestClient(
        "https://kalshi.test/trade-api/v2", transport=httpx.MockTransport(fake), rate_limit=False
    )


def test_each_read_asks_its_path_with_its_filters(fake: Recorder) -> None:
    with _client(fake) as client:
        assert client.get_historical_cutoff().market_settled_ts == 1_772_323_200
        page = client.get_markets_raw(
            series_ticker="KXSOL15M",
            status="settled",
            min_settled_ts=5,
            max_settled_ts=9,
            limit=1000,
        )
        assert page.items == ({"ticker": "T-1", "floor_strike": Decimal("74.1")},)
        assert page.cursor == "next"
        last = client.get_historical_markets_raw(series_ticker="KXSOL15M", cursor="next")
        assert last.cursor is None  # an empty cursor is the last page
        answer = client.get_candlesticks_raw("KXSOL15M", "T-1", 100, 1000)
        assert answer.text == '{"ticker": "T-1",  "candlesticks": []}'  # as sent
        client.get_historical_candlesticks_raw("T-1", 100, 1000, 60)
        client.get_trades_raw(ticker="T-1", limit=1000)
        client.get_trades_raw(ticker="T-1", historical=True, cursor="c")
        with pytest.raises(NotFound):
            client.get_historical_candlesticks_raw("NOPE", 1, 2)
        with pytest.raises(ValueError, match="period_interval"):
            client.get_candlesticks_raw("KXSOL15M", "T-1", 1, 2, period_interval=5)
    assert fake.asked == [
        ("/historical/cutoff", {}),
        (
            "/markets",
            {
                "series_ticker": "KXSOL15M",
                "status": "settled",
                "min_settled_ts": "5",
                "max_settled_ts": "9",
                "limit": "1000",
            },
        ),
        ("/historical/markets", {"series_ticker": "KXSOL15M", "cursor": "next"}),
        (
            "/series/KXSOL15M/markets/T-1/candlesticks",
            {"start_ts": "100", "end_ts": "1000", "period_interval": "1"},
        ),
        (
            "/historical/markets/T-1/candlesticks",
            {"start_ts": "100", "end_ts": "1000", "period_interval": "60"},
        ),
        ("/markets/trades", {"ticker": "T-1", "limit": "1000"}),
        ("/historical/trades", {"ticker": "T-1", "cursor": "c"}),
        (
            "/historical/markets/NOPE/candlesticks",
            {"start_ts": "1", "end_ts": "2", "period_interval": "1"},
        ),
    ]
