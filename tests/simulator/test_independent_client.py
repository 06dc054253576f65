"""Independent Kalshi clients — none of sol15's client code — list, trade and cancel on
``python run.py exchange-sim`` through the V2 order endpoints, using only the key it prints.

Two clients: a plain one (httpx and cryptography, as any user's script) and pykalshi 2.0.0,
a third-party client that speaks V2.
"""

from __future__ import annotations

import base64
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = Path(__file__).resolve().parents[2]
V2_ORDERS = "/portfolio/events/orders"


class PlainKalshiClient:
    """What any user's script does: sign ``timestamp + METHOD + path`` with RSA-PSS (SHA-256, salt 32)."""

    def __init__(self, base: str, key_id: str, key_path: Path) -> None:
        self.base = base
        self.key_id = key_id
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        self.key = key
        self.http = httpx.Client(timeout=10)

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        ts = str(int(time.time() * 1000))
        full_path = httpx.URL(self.base + path).path
        signature = self.key.sign(
            (ts + method + full_path).encode(),
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )
        headers = {
            "KALSHI-ACCESS-KEY": self.key_id,
            "KALSHI-ACCESS-TIMESTAMP": ts,
            "KALSHI-ACCESS-SIGNATURE": base64.b64encode(signature).decode(),
        }
        return self.http.request(method, self.base + path, headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``exchange-sim`` in its own process; what it prints. It must stop cleanly (exit 0)."""
    data_dir = tmp_path_factory.mktemp("exchange-sim")
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "exchange-sim",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
        cwd=data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for x in process.stdout or ():
            lines.put(x)

    threading.Thread(target=pump, daemon=True).start()
    details: dict[str, str] = {}
    try:
        while not {"KALSHI_API_BASE", "KALSHI_API_KEY", "KALSHI_PRIVATE_KEY_PATH"} <= set(details):
            try:
                name, _, value = lines.get(timeout=30).strip().partition("=")
            except queue.Empty:
                pytest.fail("exchange-sim printed no connection details")
            details[name] = value
        yield details
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0


@pytest.mark.slow
def test_plain_client_lists_trades_and_cancels(printed: dict[str, str]) -> None:
    client = PlainKalshiClient(
        printed["KALSHI_API_BASE"],
        printed["KALSHI_API_KEY"],
        Path(printed["KALSHI_PRIVATE_KEY_PATH"]),
    )
    listed = client.request(
        "GET", "/markets", params={"series_ticker": "KXSOL15M", "status": "open"}
    )
    assert listed.status_code == 200
    ticker = listed.json()["markets"][0]["ticker"]
    assert ticker.startswith("KXSOL15M-")

    start_balance = client.request("GET", "/portfolio/balance").json()["balance"]
    # A resting YES bid far below the market: it cannot fill, so it can be cancelled.
    body = {
        "ticker": ticker,
        "client_order_id": str(uuid.uuid4()),
        "side": "bid",
        "count": "2.00",
        "price": "0.0100",
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
    }
    created = client.request("POST", V2_ORDERS, json=body)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert (answer["client_order_id"], answer["remaining_count"]) == (
        body["client_order_id"],
        "2.00",
    )
    assert client.request("POST", V2_ORDERS, json=body).status_code == 409  # never twice

    resting = client.request(
        "GET", "/portfolio/orders", params={"ticker": ticker, "status": "resting"}
    ).json()["orders"]
    mine = [o for o in resting if o["client_order_id"] == body["client_order_id"]]
    assert [(o["order_id"], o["book_side"]) for o in mine] == [(answer["order_id"], "bid")]

    cancelled = client.request(
        "DELETE", f"{V2_ORDERS}/{answer['order_id']}", params={"market_ticker": ticker}
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["reduced_by"] == "2.00"
    assert client.request("GET", "/portfolio/balance").json()["balance"] == start_balance

    # A taker buy at the best YES ask fills against the simulated market makers.
    book = client.request("GET", f"/markets/{ticker}/orderbook").json()["orderbook_fp"]
    yes_ask = Decimal(1) - Decimal(book["no_dollars"][-1][0])
    taker = dict(body, client_order_id=str(uuid.uuid4()), count="1.00", price=f"{yes_ask:.4f}")
    taker["time_in_force"] = "immediate_or_cancel"
    filled = client.request("POST", V2_ORDERS, json=taker)
    assert filled.status_code == 201, filled.text
    assert filled.json()["fill_count"] == "1.00"
    assert Decimal(filled.json()["average_fill_price"]) <= yes_ask
    fills = client.request("GET", "/portfolio/fills", params={"ticker": ticker}).json()["fills"]
    assert [f["order_id"] for f in fills] == [filled.json()["order_id"]]
    assert client.request("GET", "/portfolio/balance").json()["balance"] < start_balance

    bad = client.request(
        "POST", V2_ORDERS, json=dict(body, client_order_id=str(uuid.uuid4()), count="0")
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]) >= {"code", "message"}
    retired = client.request("POST", "/portfolio/orders", json=body)
    assert retired.status_code == 410
    assert retired.json()["error"]["code"] == "deprecated_v1_order_endpoint"


@pytest.mark.slow
def test_pykalshi_lists_places_and_cancels(printed: dict[str, str]) -> None:
    from pykalshi import BookSide, KalshiClient, MarketStatus, OrderStatus, TimeInForce

    with KalshiClient(
        api_key_id=printed["KALSHI_API_KEY"],
        private_key_path=printed["KALSHI_PRIVATE_KEY_PATH"],
        api_base=printed["KALSHI_API_BASE"],
        max_retries=0,
    ) as client:
        markets = client.get_markets(series_ticker="KXSOL15M", status=MarketStatus.OPEN)
        assert len(markets) == 1
        market = markets[0]
        assert market.ticker.startswith("KXSOL15M-")

        coid = str(uuid.uuid4())
        placed = client.portfolio.place_order(
            market.ticker,
            book_side=BookSide.BID,
            price_dollars="0.0200",
            count_fp="3.00",
            client_order_id=coid,
            time_in_force=TimeInForce.GTC,
        )
        assert placed.status == OrderStatus.RESTING
        fetched = client.portfolio.get_order(placed.order_id)
        assert (fetched.status, fetched.book_side, fetched.yes_price_dollars) == (
            OrderStatus.RESTING,
            BookSide.BID,
            "0.0200",
        )
        assert fetched.data.client_order_id == coid

        cancelled = client.portfolio.cancel_order(placed.order_id)
        assert cancelled.status == OrderStatus.CANCELED
        assert client.portfolio.get_order(placed.order_id).status == OrderStatus.CANCELED
        resting = client.portfolio.get_orders(status=OrderStatus.RESTING, ticker=market.ticker)
        assert placed.order_id not in [o.order_id for o in resting]
