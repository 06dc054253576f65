"""REST client over httpx.MockTransport: shapes, retries, backoff, idempotent orders."""

from __future__ import annotations

import random
from decimal import Decimal as D

import httpx
import pytest

from kalshi.auth import Signer
from kalshi.backoff import Backoff
from kalshi.errors import (
    AuthError,
    BadRequest,
    LocalRateLimited,
    NotFound,
    ParseError,
    RateLimited,
    ServerError,
    TransportError,
)
from kalshi.rate_limit import RateLimiter, RateLimitTier
from kalshi.rest import KalshiRestClient
from tests.kalshi.kalshi_fakes import (
    BASE,
    KEY_ID,
    TICKER,
    FakeClock,
    FakeKalshi,
    error,
    fill_json,
    market_json,
    order_json,
    request,
)


def test_market_data_endpoints(fake: FakeKalshi, client: KalshiRestClient) -> None:
    fake.routes[("GET", "/exchange/status")] = {"exchange_active": True, "trading_active": True}
    fake.routes[("GET", "/series/KXSOL15M")] = {
        "series": {"ticker": "KXSOL15M", "fee_type": "quadratic", "fee_multiplier": 1}
    }
    fake.routes[("GET", f"/markets/{TICKER}")] = {"market": market_json()}
    fake.routes[("GET", f"/markets/{TICKER}/orderbook")] = {
        "orderbook_fp": {
            "yes_dollars": [["0.4400", "2.00"], ["0.4500", "12.00"]],
            "no_dollars": [["0.5300", "9.00"]],
        }
    }
    assert client.get_exchange_status().trading_active
    assert client.get_series("KXSOL15M").fee_type == "quadratic"
    assert client.get_market(TICKER).yes_ask == D("0.47")
    book = client.get_orderbook(TICKER, depth=5)
    assert book.yes[-1].price == D("0.45") and book.no[0].size == D(9)
    assert fake.requests[-1].url.params["depth"] == "5"
    with pytest.raises(ValueError, match="depth"):
        client.get_orderbook(TICKER, depth=101)


def test_get_markets_follows_cursor_with_all_filters(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    pages = {
        None: {"markets": [market_json(ticker="A")], "cursor": "c1"},
        "c1": {"markets": [market_json(ticker="B"), market_json(ticker="C")], "cursor": "c2"},
        "c2": {"markets": [market_json(ticker="D")], "cursor": ""},
    }
    fake.routes[("GET", "/markets")] = lambda r: pages[r.url.params.get("cursor")]
    markets = client.get_markets(
        series_ticker="KXSOL15M",
        status="open",
        tickers=["A", "B"],
        min_close_ts=1,
        max_close_ts=2,
        limit=2,
    )
    assert [m.ticker for m in markets] == ["A", "B", "C", "D"]
    assert fake.count("GET", "/markets") == 3
    params = fake.requests[0].url.params
    assert params["series_ticker"] == "KXSOL15M"
    assert params["status"] == "open"
    assert params["tickers"] == "A,B"
    assert (params["min_close_ts"], params["max_close_ts"], params["limit"]) == ("1", "2", "2")
    assert "cursor" not in params
    assert fake.requests[1].url.params["cursor"] == "c1"


def test_get_markets_stops_on_a_repeated_cursor_and_skips_malformed(
    fake: FakeKalshi, client: KalshiRestClient, logs: list[str]
) -> None:
    broken = market_json(ticker="BAD")
    del broken["yes_bid_dollars"]
    fake.routes[("GET", "/markets")] = {"markets": [market_json(), broken], "cursor": "same"}
    markets = client.get_markets()
    assert [m.ticker for m in markets] == [TICKER, TICKER]  # two pages, then the loop stops
    assert fake.count("GET", "/markets") == 2
    assert any("yes_bid_dollars" in line for line in logs)
    page = client.get_markets_page()
    assert page.skipped == 1 and page.cursor == "same"


def test_portfolio_endpoints(fake: FakeKalshi, client: KalshiRestClient) -> None:
    fake.routes[("GET", "/portfolio/balance")] = {
        "balance": 100050,
        "portfolio_value": 2500,
        "updated_ts": 1,
    }
    fake.routes[("GET", "/portfolio/fills")] = {"fills": [fill_json()], "cursor": "next"}
    fake.routes[("GET", "/portfolio/positions")] = {
        "market_positions": [
            {
                "ticker": TICKER,
                "total_traded_dollars": "1.0000",
                "position_fp": "-3.00",
                "market_exposure_dollars": "1.3800",
                "realized_pnl_dollars": "0.0000",
                "resting_orders_count": 0,
                "fees_paid_dollars": "0.0200",
                "last_updated_ts": "2026-05-30T04:02:00Z",
            }
        ],
        "event_positions": [],
        "cursor": "",
    }
    assert client.get_balance().balance == D("1000.50")
    fills = client.get_fills(ticker=TICKER, min_ts=1780114800, cursor="abc")
    assert fills.items[0].fee == D("0.02") and fills.cursor == "next"
    params = fake.requests[-1].url.params
    assert (params["ticker"], params["min_ts"], params["cursor"]) == (TICKER, "1780114800", "abc")
    positions = client.get_positions(count_filter="position")
    assert positions.items[0].position == D(-3) and positions.cursor is None
    fake.orders["ord-9"] = order_json(order_id="ord-9")
    assert client.get_order("ord-9").remaining_count == D(10)
    orders = client.get_orders(ticker=TICKER, status="resting")
    assert [o.order_id for o in orders.items] == ["ord-9"]


def test_get_is_retried_on_5xx_429_and_timeouts_with_backoff(
    fake: FakeKalshi, client: KalshiRestClient, sleeps: list[float]
) -> None:
    fake.routes[("GET", "/portfolio/balance")] = {
        "balance": 1,
        "portfolio_value": 0,
        "updated_ts": 1,
    }
    fake.fail("GET", "/portfolio/balance", status=503)
    fake.fail("GET", "/portfolio/balance", status=429, code="too_many_requests")
    fake.fail("GET", "/portfolio/balance", exc=httpx.ReadTimeout)
    assert client.get_balance().balance_cents == 1
    assert fake.count("GET", "/portfolio/balance") == 4
    expected = Backoff(base=0.1, maximum=1.0, rng=random.Random(3))
    assert sleeps == [expected.delay(0), expected.delay(1), expected.delay(2)]
    assert 0.05 <= sleeps[0] <= 0.1 and 0.1 <= sleeps[1] <= 0.2 and 0.2 <= sleeps[2] <= 0.4


def test_retries_are_bounded(fake: FakeKalshi, client: KalshiRestClient) -> None:
    for _ in range(10):
        fake.fail("GET", "/exchange/status", status=500)
    with pytest.raises(ServerError):
        client.get_exchange_status()
    assert fake.count("GET", "/exchange/status") == 4
    fake.faults.clear()
    for _ in range(10):
        fake.fail("GET", "/exchange/status", exc=httpx.ConnectError)
    with pytest.raises(TransportError, match="connection failed"):
        client.get_exchange_status()


@pytest.mark.parametrize(("status", "kind"), [(400, BadRequest), (401, AuthError), (404, NotFound)])
def test_client_errors_are_not_retried(
    fake: FakeKalshi, client: KalshiRestClient, status: int, kind: type[Exception]
) -> None:
    fake.fail("GET", "/markets/X", status=status, code="nope")
    with pytest.raises(kind) as info:
        client.get_market("X")
    assert fake.count("GET", "/markets/X") == 1
    assert KEY_ID not in str(info.value)


def test_auth_error_names_the_environment(fake: FakeKalshi, signer: Signer) -> None:
    fake.fail("GET", "/portfolio/balance", status=401, code="authentication_error")
    with (
        KalshiRestClient(
            "https://demo-api.kalshi.co/trade-api/v2",
            signer,
            transport=fake.transport(),
            rate_limit=False,
        ) as demo,
        pytest.raises(AuthError, match="demo environment") as info,
    ):
        demo.get_balance()
    assert "not interchangeable" in str(info.value)
    assert KEY_ID not in str(info.value)


def test_portfolio_calls_without_a_key_fail_before_sending(fake: FakeKalshi) -> None:
    with KalshiRestClient(BASE, None, transport=fake.transport(), rate_limit=False) as anon:
        with pytest.raises(AuthError, match="needs an API key"):
            anon.get_balance()
        fake.routes[("GET", "/exchange/status")] = {
            "exchange_active": True,
            "trading_active": False,
        }
        assert not anon.get_exchange_status().trading_active  # public data works unsigned
    assert fake.count("GET", "/portfolio/balance") == 0


def test_non_json_success_is_a_parse_error(fake: FakeKalshi, client: KalshiRestClient) -> None:
    fake.routes[("GET", "/exchange/status")] = httpx.Response(200, text="<html>")
    with pytest.raises(ParseError, match="non-JSON"):
        client.get_exchange_status()


def test_rate_limiter_paces_requests(fake: FakeKalshi, signer: Signer) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitTier("t", 5, 2), now=clock, sleep=clock.sleep)
    fake.routes[("GET", "/exchange/status")] = {"exchange_active": True, "trading_active": True}
    with KalshiRestClient(
        BASE, signer, transport=fake.transport(), rate_limiter=limiter, sleep=clock.sleep
    ) as rest:
        for _ in range(7):
            rest.get_exchange_status()
        assert clock.sleeps == [pytest.approx(0.2), pytest.approx(0.2)]
        rest.create_order(request("w-1"))
        rest.create_order(request("w-2"))
        assert len(clock.sleeps) == 2  # writes have their own bucket


def test_server_429_drains_the_local_bucket(fake: FakeKalshi, signer: Signer) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitTier("t", 5, 2), now=clock, sleep=clock.sleep)
    fake.routes[("GET", "/exchange/status")] = {"exchange_active": True, "trading_active": True}
    fake.fail("GET", "/exchange/status", status=429, code="too_many_requests")
    with KalshiRestClient(
        BASE,
        signer,
        transport=fake.transport(),
        rate_limiter=limiter,
        sleep=clock.sleep,
        backoff=Backoff(base=0.01, maximum=0.01, rng=random.Random(1)),
    ) as rest:
        rest.get_exchange_status()
    # One backoff sleep, then a wait for a fresh token because the bucket was emptied.
    assert len(clock.sleeps) == 2
    assert clock.sleeps[1] > 0.1


def test_local_rate_limit_timeout_is_raised_without_sending(
    fake: FakeKalshi, signer: Signer
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitTier("t", 1, 1), now=clock, sleep=clock.sleep)
    fake.routes[("GET", "/exchange/status")] = {"exchange_active": True, "trading_active": True}
    with KalshiRestClient(
        BASE,
        signer,
        transport=fake.transport(),
        rate_limiter=limiter,
        rate_limit_timeout=0.5,
    ) as rest:
        rest.get_exchange_status()
        with pytest.raises(LocalRateLimited) as info:
            rest.get_exchange_status()
    assert isinstance(info.value, RateLimited)
    assert fake.count("GET", "/exchange/status") == 1


def test_latency_samples_per_attempt(fake: FakeKalshi, client: KalshiRestClient) -> None:
    fake.routes[("GET", "/exchange/status")] = {"exchange_active": True, "trading_active": True}
    fake.fail("GET", "/exchange/status", exc=httpx.ConnectError)
    fake.fail("GET", "/exchange/status", status=502)
    client.get_exchange_status()
    samples = client.latency.samples("get_exchange_status")
    assert [(s.attempt, s.status, s.error) for s in samples] == [
        (0, None, "TransportError"),
        (1, 502, None),
        (2, 200, None),
    ]
    assert all(s.seconds >= 0 and s.method == "GET" for s in samples)


def test_http_error_bodies_that_are_not_json(fake: FakeKalshi, client: KalshiRestClient) -> None:
    fake.routes[("GET", "/markets/Y")] = httpx.Response(418, text="teapot")
    with pytest.raises(BadRequest, match="teapot"):
        client.get_market("Y")
    fake.routes[("GET", "/markets/Z")] = error(404, "not_found")
    with pytest.raises(NotFound, match="not found"):
        client.get_market("Z")
