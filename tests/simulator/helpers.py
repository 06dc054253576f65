"""Shared helpers for the simulator tests (a plain module, imported explicitly)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp
import httpx

from kalshi.auth import WS_PATH, Signer
from simulator.config import ExchangeConfig
from simulator.exchange import Exchange
from simulator.orders import OrderRequest, OrderSnapshot
from simulator.testing import DEFAULT_MANUAL_START, SimHandle

START = DEFAULT_MANUAL_START  # a window boundary: the first market opens here
T = TypeVar("T")
V2_ORDERS = "/portfolio/events/orders"


def v2_body(
    ticker: str,
    side: str,
    price: str | Decimal,
    count: int | str = 1,
    time_in_force: str = "good_till_canceled",
    **extra: Any,
) -> dict[str, Any]:
    """A V2 create body: ``side`` bid/ask on the YES book, ``price`` the YES price."""
    body: dict[str, Any] = {
        "ticker": ticker,
        "side": side,
        "price": f"{Decimal(price):.4f}",
        "count": f"{Decimal(count):.2f}",
        "time_in_force": time_in_force,
        "self_trade_prevention_type": "taker_at_cross",
    }
    body.update(extra)
    return body


def quiet_exchange(**overrides: Any) -> Exchange:
    """A core with no simulated traders: only the test's own orders are in the book."""
    config = ExchangeConfig(market_makers=False, noise_traders=False, **overrides)
    return Exchange(config, start=START)


def order(
    ex: Exchange,
    user: str,
    side: str,
    action: str,
    price: str,
    count: int,
    **extra: Any,
) -> OrderSnapshot:
    """Place an order in the current market at a YES or NO price (dollars, per ``side``)."""
    market = ex.current_market()
    assert market is not None
    own = Decimal(price)
    yes_price = own if side == "yes" else 1 - own
    request = OrderRequest(
        ticker=extra.pop("ticker", market.ticker),
        side=side,  # type: ignore[arg-type]
        action=action,  # type: ignore[arg-type]
        count=Decimal(count),
        yes_price=yes_price,
        **extra,
    )
    return ex.place_order(user, request)


class Api:
    """A tiny signed REST client for the tests (the bot has its own real one)."""

    def __init__(self, sim: SimHandle, signer: Signer | None = None) -> None:
        self.sim = sim
        self.signer = signer or sim.signer()
        self.client = httpx.Client(base_url=sim.api_base, timeout=10.0)

    def headers(self, method: str, path: str) -> dict[str, str]:
        return self.signer.headers(method, "/trade-api/v2" + path.split("?", maxsplit=1)[0])

    def get(
        self, path: str, params: dict[str, Any] | None = None, signed: bool = True
    ) -> httpx.Response:
        headers = self.headers("GET", path) if signed else {}
        return self.client.get(path, params=params, headers=headers)

    def post(self, path: str, body: Any = None, content: bytes | None = None) -> httpx.Response:
        headers = self.headers("POST", path)
        if content is not None:
            return self.client.post(
                path, content=content, headers={**headers, "content-type": "application/json"}
            )
        return self.client.post(path, json=body, headers=headers)

    def delete(
        self, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> httpx.Response:
        headers = self.headers("DELETE", path)
        if body is None:
            return self.client.delete(path, params=params, headers=headers)
        return self.client.request("DELETE", path, params=params, json=body, headers=headers)

    def put(self, path: str, body: Any = None) -> httpx.Response:
        return self.client.put(path, json=body, headers=self.headers("PUT", path))

    def create(self, body: dict[str, Any]) -> httpx.Response:
        """``POST /portfolio/events/orders`` (V2)."""
        return self.post(V2_ORDERS, body)

    def close(self) -> None:
        self.client.close()


async def ws_connect(
    session: aiohttp.ClientSession, sim: SimHandle, signer: Signer | None = None
) -> aiohttp.ClientWebSocketResponse:
    signer = signer or sim.signer()
    return await session.ws_connect(sim.ws_url, headers=signer.headers("GET", WS_PATH))


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict[str, Any]:
    message: dict[str, Any] = await asyncio.wait_for(ws.receive_json(), timeout)
    return message


async def receive_until(
    ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = 5.0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read until a message of type ``kind``; returns it and everything read before."""
    seen: list[dict[str, Any]] = []
    while True:
        message = await receive(ws, timeout)
        if message.get("type") == kind:
            return message, seen
        seen.append(message)


_barrier_ids = iter(range(1_000_000, 2_000_000))


async def barrier(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0
) -> list[dict[str, Any]]:
    """Everything the server sent before now.

    Sends ``list_subscriptions`` and reads until its reply: the server answers
    commands in order on the same queue as channel messages, so whatever it had
    queued (e.g. during ``advance``) arrives first. No timing assumptions.
    """
    command_id = next(_barrier_ids)
    await ws.send_json({"id": command_id, "cmd": "list_subscriptions"})
    messages: list[dict[str, Any]] = []
    while True:
        message = await receive(ws, timeout)
        if message.get("id") == command_id and message.get("type") == "ok":
            return messages
        messages.append(message)


def run(coro: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await coro

    return asyncio.run(wrapper())
