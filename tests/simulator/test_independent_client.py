"""An independent Kalshi client — plain httpx and cryptography, none of sol15's client code —
lists, trades and cancels on ``python run.py exchange-sim`` using only the key it prints."""

from __future__ import annotations

import base64
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ROOT = Path(__file__).resolve().parents[2]


class PlainKalshiClient:
    """What any user's script does: sign ``timestamp + METHOD + path`` with RSA-PSS (SHA-256, salt 32)."""

    def __init__(self, base: str, key_id: str, key_path: Path) -> None:
        self.base = base
        self.key_id = key_id
        self.key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        self.http = httpx.Client(timeout=10)

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        ts = str(int(time.time() * 1000))
        full_path = httpx.URL(self.base + path).path
        signature = self.key.sign(  # type: ignore[union-attr,call-arg]
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


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "exchange-sim",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(x) for x in process.stdout or ()], daemon=True
    ).start()
    printed: dict[str, str] = {}
    while not {"KALSHI_API_BASE", "KALSHI_API_KEY", "KALSHI_PRIVATE_KEY_PATH"} <= printed.keys():
        try:
            name, _, value = lines.get(timeout=30).strip().partition("=")
        except queue.Empty:
            process.kill()
            pytest.fail("exchange-sim printed no connection details")
        printed[name] = value
    return process, printed


@pytest.mark.slow
def test_independent_client_lists_trades_and_cancels(tmp_path: Path) -> None:
    process, printed = _start(tmp_path)
    try:
        client = PlainKalshiClient(
            printed["KALSHI_API_BASE"],
            printed["KALSHI_API_KEY"],
            Path(printed["KALSHI_PRIVATE_KEY_PATH"]),
        )
        listed = client.request(
            "GET", "/markets", params={"series_ticker": "KXSOL15M", "status": "open"}
        )
        assert listed.status_code == 200
        market = listed.json()["markets"][0]
        ticker = market["ticker"]
        assert ticker.startswith("KXSOL15M-")

        start_balance = client.request("GET", "/portfolio/balance").json()["balance"]
        # A resting YES bid far below the market: it cannot fill, so it can be cancelled.
        body = {
            "ticker": ticker,
            "client_order_id": str(uuid.uuid4()),
            "side": "yes",
            "action": "buy",
            "count": 2,
            "yes_price_dollars": "0.0100",
            "time_in_force": "good_till_canceled",
        }
        created = client.request("POST", "/portfolio/orders", json=body)
        assert created.status_code == 201, created.text
        order = created.json()["order"]
        assert order["status"] == "resting"
        assert order["client_order_id"] == body["client_order_id"]

        again = client.request("POST", "/portfolio/orders", json=body)
        assert again.status_code == 409  # the same client_order_id can never make a second order

        resting = client.request(
            "GET", "/portfolio/orders", params={"ticker": ticker, "status": "resting"}
        )
        assert [o["order_id"] for o in resting.json()["orders"]] == [order["order_id"]]

        cancelled = client.request("DELETE", f"/portfolio/orders/{order['order_id']}")
        assert cancelled.status_code == 200
        assert cancelled.json()["order"]["status"] == "canceled"
        assert client.request("GET", "/portfolio/balance").json()["balance"] == start_balance

        # A taker buy at the best YES ask fills against the simulated market makers.
        book = client.request("GET", f"/markets/{ticker}/orderbook").json()["orderbook_fp"]
        best_no_bid = book["no_dollars"][-1][0]
        yes_ask = f"{1 - float(best_no_bid):.4f}"
        taker = dict(body, client_order_id=str(uuid.uuid4()), count=1, yes_price_dollars=yes_ask)
        taker["time_in_force"] = "immediate_or_cancel"
        filled = client.request("POST", "/portfolio/orders", json=taker)
        assert filled.status_code == 201, filled.text
        assert filled.json()["order"]["fill_count_fp"] == "1.00"
        fills = client.request("GET", "/portfolio/fills", params={"ticker": ticker}).json()["fills"]
        assert len(fills) == 1
        assert client.request("GET", "/portfolio/balance").json()["balance"] < start_balance

        bad = client.request(
            "POST", "/portfolio/orders", json=dict(body, client_order_id=str(uuid.uuid4()), count=0)
        )
        assert bad.status_code == 400
        assert set(bad.json()["error"]) >= {"code", "message"}
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0
