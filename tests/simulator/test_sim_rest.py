"""The REST API over HTTP: auth, orders, portfolio, pagination, bad input and faults."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kalshi.auth import Signer, generate_private_key
from kalshi.fees import taker_fee
from simulator.config import ApiLimitsConfig, ConfigError, ExchangeConfig
from simulator.testing import SimHandle, running_exchange
from tests.simulator.helpers import V2_ORDERS, Api, v2_body

D = Decimal


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_exchange(seed=3) as handle:
        yield handle


@pytest.fixture(autouse=True)
def clean_faults(sim: SimHandle) -> Iterator[None]:
    sim.faults.reset()
    yield
    sim.faults.reset()


@pytest.fixture
def api(sim: SimHandle) -> Iterator[Api]:
    """A client for a fresh user, so tests do not see each other's orders."""
    credentials = sim.add_user()
    client = Api(sim, credentials.signer())
    yield client
    client.close()


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) >= {"code", "message", "details"}
    error: dict[str, str] = body["error"]
    return error


def take_body(sim: SimHandle, count: int = 2, **extra: Any) -> dict[str, object]:
    """A V2 bid at the best YES ask: it buys YES from the simulated market makers."""
    ticker = sim.current_ticker()
    top = sim.call(lambda ex: ex.top_of_book(ex.market(ticker)))
    return v2_body(ticker, "bid", top.yes_ask, count, **extra)


# --- auth -------------------------------------------------------------------------------


def test_portfolio_requires_auth(sim: SimHandle) -> None:
    response = httpx.get(f"{sim.api_base}/portfolio/balance")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_error"


def test_bad_signature_is_401(sim: SimHandle) -> None:
    impostor = Signer(sim.key_id, generate_private_key())
    response = Api(sim, impostor).get("/portfolio/balance")
    assert response.status_code == 401
    assert "signature" in error_of(response)["message"]


def test_unknown_key_is_401(sim: SimHandle) -> None:
    stranger = Signer("not-a-registered-key", generate_private_key())
    response = Api(sim, stranger).get("/portfolio/balance")
    assert response.status_code == 401
    assert "unknown API key" in error_of(response)["message"]


@pytest.mark.parametrize("skew_ms", [-31_000, 31_000])
def test_stale_or_future_timestamp_is_401(sim: SimHandle, skew_ms: int) -> None:
    signer = sim.signer()
    stamp = int(time.time() * 1000) + skew_ms
    headers = signer.headers("GET", "/trade-api/v2/portfolio/balance", timestamp_ms=stamp)
    response = httpx.get(f"{sim.api_base}/portfolio/balance", headers=headers)
    assert response.status_code == 401
    assert "timestamp" in error_of(response)["message"]


def test_signature_covers_the_path_without_query(sim: SimHandle, api: Api) -> None:
    good = api.get("/portfolio/orders", params={"limit": 5})
    assert good.status_code == 200
    signer = api.signer
    wrong = signer.headers("GET", "/trade-api/v2/portfolio/fills")
    response = httpx.get(f"{sim.api_base}/portfolio/orders", headers=wrong)
    assert response.status_code == 401


def test_market_data_is_public_but_bad_credentials_are_not(sim: SimHandle) -> None:
    ticker = sim.current_ticker()
    assert httpx.get(f"{sim.api_base}/markets/{ticker}").status_code == 200
    impostor = Signer(sim.key_id, generate_private_key())
    assert Api(sim, impostor).get(f"/markets/{ticker}").status_code == 401


# --- market data ------------------------------------------------------------------------


def test_market_and_orderbook(sim: SimHandle, api: Api) -> None:
    ticker = sim.current_ticker()
    market = api.get(f"/markets/{ticker}", signed=False).json()["market"]
    assert market["status"] == "active"
    assert market["strike_type"] == "greater_or_equal"
    assert isinstance(market["floor_strike"], float)
    assert market["price_ranges"][0] == {"start": "0.0000", "end": "0.1000", "step": "0.0010"}
    book = api.get(f"/markets/{ticker}/orderbook", {"depth": 3}).json()["orderbook_fp"]
    assert len(book["yes_dollars"]) == 3 and len(book["no_dollars"]) == 3
    yes_prices = [D(p) for p, _ in book["yes_dollars"]]
    assert yes_prices == sorted(yes_prices)  # ascending, best bid last
    assert D(market["yes_bid_dollars"]) == yes_prices[-1]
    assert D(market["yes_ask_dollars"]) == 1 - D(book["no_dollars"][-1][0])
    assert market["yes_bid_size_fp"] == book["yes_dollars"][-1][1]


def test_series_and_event(sim: SimHandle, api: Api) -> None:
    series = api.get("/series/KXSOL15M").json()["series"]
    assert (series["fee_type"], series["fee_multiplier"]) == ("quadratic", 1.0)
    unknown = api.get("/series/KXBTC15M")
    assert unknown.status_code == 400  # the spec declares no 404 for GetSeries
    assert error_of(unknown)["code"] == "series_not_found"
    ticker = sim.current_ticker()
    event_ticker = ticker.rsplit("-", 1)[0]
    event = api.get(f"/events/{event_ticker}", {"with_nested_markets": "true"}).json()
    assert [m["ticker"] for m in event["markets"]] == [ticker]
    assert [m["ticker"] for m in event["event"]["markets"]] == [ticker]
    assert api.get("/events/KXSOL15M-26JAN010000").status_code == 404


def test_markets_filters_and_pagination(sim: SimHandle, api: Api) -> None:
    sim.advance(900 * 3)  # three more windows: finalized ones stay listed
    everything = api.get("/markets", {"series_ticker": "KXSOL15M"}).json()
    tickers = [m["ticker"] for m in everything["markets"]]
    assert len(tickers) >= 5 and everything["cursor"] == ""
    pages: list[str] = []
    cursor = ""
    for _ in range(10):
        params: dict[str, object] = {"series_ticker": "KXSOL15M", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/markets", params).json()
        pages += [m["ticker"] for m in page["markets"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert pages == tickers
    opened = api.get("/markets", {"series_ticker": "KXSOL15M", "status": "open"}).json()
    assert [m["ticker"] for m in opened["markets"]] == [sim.current_ticker()]
    upcoming = api.get("/markets", {"status": "unopened"}).json()["markets"]
    assert [m["status"] for m in upcoming] == ["initialized"]
    settled = api.get("/markets", {"status": "settled"}).json()["markets"]
    assert settled and all(
        m["status"] == "finalized" and m["result"] in ("yes", "no") for m in settled
    )
    some = api.get("/markets", {"tickers": ",".join(tickers[:2])}).json()["markets"]
    assert [m["ticker"] for m in some] == tickers[:2]
    assert api.get("/markets", {"status": "bogus"}).status_code == 400
    assert api.get("/markets", {"limit": 5000}).status_code == 400
    assert api.get("/markets", {"cursor": "%%%"}).status_code == 400


# --- orders -----------------------------------------------------------------------------


def test_create_get_cancel_order(sim: SimHandle, api: Api) -> None:
    ticker = sim.current_ticker()
    # An ask at YES 0.95 buys NO at 0.05: far from the market, so it rests.
    body = v2_body(ticker, "ask", "0.95", 4, client_order_id="rest-1")
    created = api.create(body)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert set(answer) == {"order_id", "client_order_id", "fill_count", "remaining_count", "ts_ms"}
    assert (answer["fill_count"], answer["remaining_count"]) == ("0.00", "4.00")
    assert answer["ts_ms"] == round(sim.now() * 1000)
    placed = api.get(f"/portfolio/orders/{answer['order_id']}").json()["order"]
    assert (placed["status"], placed["no_price_dollars"], placed["yes_price_dollars"]) == (
        "resting",
        "0.0500",
        "0.9500",
    )
    assert (placed["outcome_side"], placed["book_side"], placed["exchange_index"]) == (
        "no",
        "ask",
        0,
    )
    assert (placed["side"], placed["action"]) == ("no", "buy")  # the deprecated pair
    assert placed["remaining_count_fp"] == "4.00"
    listed = api.get("/portfolio/orders", {"ticker": ticker, "status": "resting"}).json()
    assert [o["order_id"] for o in listed["orders"]] == [answer["order_id"]]
    assert api.get("/portfolio/orders", {"exchange_index": 1}).json()["orders"] == []
    assert api.create(body).status_code == 409
    canceled = api.delete(f"{V2_ORDERS}/{answer['order_id']}", {"market_ticker": ticker})
    assert canceled.status_code == 200
    assert canceled.json() == {
        "order_id": answer["order_id"],
        "client_order_id": "rest-1",
        "reduced_by": "4.00",
        "ts_ms": round(sim.now() * 1000),
    }
    fetched = api.get(f"/portfolio/orders/{answer['order_id']}").json()["order"]
    assert fetched["status"] == "canceled"
    again = api.delete(f"{V2_ORDERS}/{answer['order_id']}")
    assert again.status_code == 404
    assert error_of(again)["code"] == "not_found"
    assert api.get("/portfolio/orders/nope").status_code == 404


def test_fill_books_balance_position_and_fills(sim: SimHandle, api: Api) -> None:
    start = D(api.get("/portfolio/balance").json()["balance"]) / 100
    body = take_body(sim, count=3, client_order_id="take-1", time_in_force="immediate_or_cancel")
    price = D(str(body["price"]))
    answer = api.create(body).json()
    filled = D(answer["fill_count"])
    assert filled > 0 and answer["remaining_count"] == "0.00"
    placed = api.get(f"/portfolio/orders/{answer['order_id']}").json()["order"]
    cost = D(placed["taker_fill_cost_dollars"])
    fees = D(placed["taker_fees_dollars"])
    assert cost <= filled * price
    assert D(answer["average_fill_price"]) == (cost / filled).quantize(D("0.000001"))
    assert D(answer["average_fee_paid"]) == (fees / filled).quantize(D("0.000001"))
    balance = api.get("/portfolio/balance").json()
    assert D(balance["balance"]) == ((start - cost - fees) * 100).to_integral_value(
        rounding="ROUND_FLOOR"
    )
    fills = api.get("/portfolio/fills", {"order_id": answer["order_id"]}).json()["fills"]
    assert sum(D(f["count_fp"]) for f in fills) == filled
    assert sum(D(f["fee_cost"]) for f in fills) == fees
    for fill in fills:
        assert D(fill["fee_cost"]) == taker_fee(D(fill["yes_price_dollars"]), D(fill["count_fp"]))
        assert fill["is_taker"] is True and fill["trade_id"] == fill["fill_id"]
        assert (fill["outcome_side"], fill["book_side"], fill["exchange_index"]) == (
            "yes",
            "bid",
            0,
        )
    positions = api.get("/portfolio/positions").json()
    mine = [p for p in positions["market_positions"] if p["ticker"] == body["ticker"]]
    assert mine[0]["position_fp"] == f"{filled:.2f}"
    assert mine[0]["exchange_index"] == 0
    assert D(mine[0]["fees_paid_dollars"]) == fees
    assert D(mine[0]["market_exposure_dollars"]) == cost
    assert positions["event_positions"][0]["event_ticker"] == str(body["ticker"]).rsplit("-", 1)[0]


def test_orders_and_fills_pagination(sim: SimHandle, api: Api) -> None:
    ticker = sim.current_ticker()
    ids = []
    for n in range(5):
        body = v2_body(ticker, "bid", D("0.02") + D(n) / 100)
        ids.append(api.create(body).json()["order_id"])
    seen: list[str] = []
    cursor = ""
    while True:
        params: dict[str, object] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/portfolio/orders", params).json()
        assert len(page["orders"]) <= 2
        seen += [o["order_id"] for o in page["orders"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert seen == ids[::-1]  # newest first, each once
    assert api.get("/portfolio/orders", {"status": "open"}).status_code == 400


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_malformed_body(api: Api, raw: bytes) -> None:
    response = api.post(V2_ORDERS, content=raw)
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_unknown_route_has_kalshi_error_body(api: Api) -> None:
    response = api.get("/portfolio/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- faults -----------------------------------------------------------------------------


def test_latency_fault(sim: SimHandle, api: Api) -> None:
    sim.faults.update(latency_ms=150)
    started = time.perf_counter()
    assert api.get("/exchange/status").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_5xx_and_429_faults(sim: SimHandle, api: Api) -> None:
    sim.faults.update(error_5xx_next=2, error_429_next=1)
    first = api.get("/portfolio/balance")
    assert first.status_code == 429
    assert error_of(first)["code"] == "too_many_requests"
    assert "retry-after" not in first.headers
    assert [api.get("/portfolio/balance").status_code for _ in range(3)] == [500, 500, 200]
    sim.faults.update(error_5xx_rate=1.0)
    assert api.create(take_body(sim)).status_code == 500
    sim.faults.update(error_5xx_rate=0.0)
    assert api.get("/portfolio/orders").json()["orders"] == []  # a 5xx created nothing


def test_fault_rates_are_seeded(sim: SimHandle, api: Api) -> None:
    def pattern() -> list[int]:
        sim.faults.reseed(99)
        sim.faults.update(error_429_rate=0.5)
        codes = [api.get("/exchange/status").status_code for _ in range(20)]
        sim.faults.update(error_429_rate=0.0)
        return codes

    first, second = pattern(), pattern()
    assert first == second
    assert 429 in first and 200 in first


@pytest.mark.parametrize("mode", ["close", "500"])
def test_lost_response_creates_the_order(sim: SimHandle, api: Api, mode: str) -> None:
    sim.faults.update(lost_response_next=1, lost_response_mode=mode)
    body = v2_body(sim.current_ticker(), "bid", "0.02", 2, client_order_id=f"lost-{mode}")
    if mode == "close":
        with pytest.raises(httpx.TransportError):
            api.create(body)
    else:
        response = api.create(body)
        assert response.status_code == 500
    orders = api.get("/portfolio/orders").json()["orders"]
    assert [o["client_order_id"] for o in orders] == [f"lost-{mode}"]  # made once
    retry = api.create(body)
    assert retry.status_code == 409  # the retry with the same client_order_id is refused
    assert len(api.get("/portfolio/orders").json()["orders"]) == 1


def test_control_endpoint(sim: SimHandle) -> None:
    base = sim.control_base
    changed = httpx.post(f"{base}/faults", json={"latency_ms": 5, "seq_skip_next": 2}).json()
    assert (changed["latency_ms"], changed["seq_skip_next"]) == (5, 2)
    assert sim.faults.snapshot().seq_skip_next == 2
    assert httpx.get(f"{base}/faults").json()["latency_ms"] == 5
    bad = httpx.post(f"{base}/faults", json={"latency_ms": -1})
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_parameters"
    assert httpx.post(f"{base}/faults", json={"nonsense": 1}).status_code == 400
    assert httpx.post(f"{base}/faults", content=b"{").status_code == 400
    reset = httpx.post(f"{base}/faults", json={"reset": True}).json()
    assert reset["latency_ms"] == 0 and reset["seq_skip_next"] == 0
    before = sim.now()
    moved = httpx.post(f"{base}/advance", json={"seconds": 3}).json()
    assert moved["now"] == before + 3
    status = httpx.get(f"{base}/status").json()
    assert status["manual_clock"] is True and status["current_market"] == sim.current_ticker()


def test_wall_clock_mode_advances_by_itself() -> None:
    clock = [1_780_000_200.0]
    with running_exchange(manual_clock=False, now=lambda: clock[0], heartbeat_seconds=None) as sim:
        with pytest.raises(RuntimeError):
            sim.advance(1)
        first = sim.call(lambda ex: ex.index.last_ts)
        clock[0] += 5
        client = Api(sim)
        assert client.get("/exchange/status").status_code == 200  # a request syncs the core
        assert sim.call(lambda ex: ex.index.last_ts) == first + 5
        client.close()


# --- account ----------------------------------------------------------------------------


def test_account_limits_and_endpoint_costs(sim: SimHandle, api: Api) -> None:
    limits = api.get("/account/limits").json()
    assert limits == {
        "usage_tier": "basic",
        "read": {"refill_rate": 200, "bucket_capacity": 200},
        "write": {"refill_rate": 100, "bucket_capacity": 100},
        "grants": [],
    }
    assert httpx.get(f"{sim.api_base}/account/limits").status_code == 401
    costs = httpx.get(f"{sim.api_base}/account/endpoint_costs").json()  # no key needed
    assert costs["default_cost"] == 10
    listed = {(c["method"], c["path"]): c["cost"] for c in costs["endpoint_costs"]}
    assert listed[("DELETE", "/portfolio/events/orders/{order_id}")] == 2
    assert all(cost != 10 for cost in listed.values())  # only the non-default ones


def test_account_limits_are_configurable() -> None:
    tier = ApiLimitsConfig(
        usage_tier="expert",
        read_refill_rate=400,
        read_capacity=400,
        write_refill_rate=200,
        write_capacity=400,
        endpoint_costs=(("DELETE", "/portfolio/events/orders/{order_id}", 3),),
    )
    with running_exchange(config=ExchangeConfig(api_limits=tier), heartbeat_seconds=None) as sim:
        client = Api(sim)
        limits = client.get("/account/limits").json()
        assert (limits["usage_tier"], limits["write"]) == (
            "expert",
            {"refill_rate": 200, "bucket_capacity": 400},
        )
        assert limits["grants"][0]["level"] == "expert"
        costs = client.get("/account/endpoint_costs").json()["endpoint_costs"]
        assert costs == [
            {"method": "DELETE", "path": "/portfolio/events/orders/{order_id}", "cost": 3}
        ]
        client.close()
    with pytest.raises(ConfigError):
        ExchangeConfig(api_limits=ApiLimitsConfig(default_cost=0)).validate()


def test_ed25519_keys_sign_requests(sim: SimHandle) -> None:
    """Kalshi accepts Ed25519 API keys as well as RSA: the same message, signed with Ed25519."""
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    sim.register_key("ed-key", public, "ed25519-user")

    def signed(path: str, key: ed25519.Ed25519PrivateKey) -> httpx.Response:
        stamp = str(int(time.time() * 1000))
        message = f"{stamp}GET/trade-api/v2{path}".encode()
        headers = {
            "KALSHI-ACCESS-KEY": "ed-key",
            "KALSHI-ACCESS-TIMESTAMP": stamp,
            "KALSHI-ACCESS-SIGNATURE": base64.b64encode(key.sign(message)).decode(),
        }
        return httpx.get(f"{sim.api_base}{path}", headers=headers)

    assert signed("/portfolio/balance", private).status_code == 200
    impostor = signed("/portfolio/balance", ed25519.Ed25519PrivateKey.generate())
    assert impostor.status_code == 401 and "signature" in error_of(impostor)["message"]
