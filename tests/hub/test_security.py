"""Auth (token on and off, loopback vs beyond), CORS and Origin/Host checks, secrets never shown."""

from __future__ import annotations

import aiohttp
import pytest

from config.settings import load_settings
from hub.config import HubConfig, HubConfigError
from hub.security import tokens_match
from messages.control import StartTrading, StopTrading
from runtime.net import is_loopback_host as is_loopback
from tests.hub.conftest import TOKEN, Harness, StartHub
from tests.hub.wsclient import next_message, send

pytestmark = pytest.mark.anyio

GOOD = "https://ops.example.com"
EVIL = "https://evil.example.net"


def test_loopback_detection() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.com"))


def test_refuses_to_listen_beyond_loopback_without_a_token() -> None:
    with pytest.raises(HubConfigError, match=r"refusing to listen on 0\.0\.0\.0.*API_TOKEN"):
        HubConfig(host="0.0.0.0")
    with pytest.raises(HubConfigError, match="API_TOKEN"):
        HubConfig.from_settings(load_settings(None), host="192.168.1.5", port=8000, mode="sim")
    assert HubConfig(host="0.0.0.0", api_token=TOKEN).auth_required


def test_config_from_settings_and_the_token_is_never_printed() -> None:
    settings = load_settings(None, api_token=TOKEN, cors_origins=f"{GOOD}/, http://x.test:3000")
    config = HubConfig.from_settings(settings, host="127.0.0.1", port=0, mode="paper")
    assert (config.api_token, config.mode, config.port) == (TOKEN, "paper", 0)
    assert config.cors_origins == (GOOD, "http://x.test:3000")
    assert config.auth_required
    assert TOKEN not in repr(config)
    assert not HubConfig().auth_required


def test_tokens_compare_exactly() -> None:
    assert tokens_match(TOKEN, TOKEN)
    assert not tokens_match(TOKEN + "x", TOKEN)
    assert not tokens_match(TOKEN[:-1], TOKEN)
    assert not tokens_match(None, TOKEN)
    assert not tokens_match(TOKEN, None)


async def test_controls_need_the_token_when_one_is_set(secured: Harness) -> None:
    async with aiohttp.ClientSession(secured.url) as session:
        for headers in ({}, {"Authorization": "Bearer wrong-token-123"}, {"Authorization": TOKEN}):
            async with session.post("/api/stop", headers=headers) as response:
                assert response.status == 401
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                assert (await response.json())["error"]["code"] == "unauthorized"
        async with session.post("/api/stop", headers=secured.auth()) as response:
            assert response.status == 200
        async with session.get("/api/status") as response:  # reads stay open
            assert response.status == 200
    assert len(secured.controls.of(StopTrading)) == 1


async def test_websocket_controls_need_the_token(secured: Harness) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(secured.ws_url) as ws:  # read-only without a token
            await next_message(ws, "status_update")
            await send(ws, {"type": "start_bot"})
            error = await next_message(ws, "error")
            assert error["code"] == "unauthorized"
            await send(ws, {"type": "get_status"})
            await next_message(ws, "status_update")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(secured.ws_url + "?token=wrong-token-123")
        assert refused.value.status == 401
        async with session.ws_connect(f"{secured.ws_url}?token={TOKEN}") as ws:
            await send(ws, {"type": "stop_bot"})
            await next_message(ws, "status_update", lambda d: d["trading_state"] == "stopped")
        async with session.ws_connect(secured.ws_url, headers=secured.auth()) as ws:
            await send(ws, {"type": "start_bot"})
            await next_message(ws, "status_update", lambda d: d["trading_state"] == "running")
    assert len(secured.controls.of(StopTrading)) == 1
    assert len(secured.controls.of(StartTrading)) == 1


async def test_beyond_loopback_with_a_token(start_hub: StartHub) -> None:
    hub = start_hub(host="0.0.0.0", api_token=TOKEN)
    url = f"http://127.0.0.1:{hub.endpoint.port}"
    async with aiohttp.ClientSession(url) as session:
        async with session.get("/api/health") as response:
            assert response.status == 200
            assert (await response.json())["auth_required"] is True
        async with session.post("/api/start") as response:
            assert response.status == 401
        async with session.post("/api/start", headers=hub.auth()) as response:
            assert response.status == 200


READS = (
    "/api/status",
    "/api/trades",
    "/api/trades/active",
    "/api/positions",
    "/api/strategies",
    "/api/signals",
    "/api/actors",
    "/api/dashboard",
    "/metrics",
)


async def test_beyond_loopback_every_read_needs_the_token_but_health(start_hub: StartHub) -> None:
    """D7: positions, trades, P&L, the feed and /metrics used to be open to anyone."""
    hub = start_hub(host="0.0.0.0", api_token=TOKEN)
    url = f"http://127.0.0.1:{hub.endpoint.port}"
    async with aiohttp.ClientSession(url) as session:
        for path in READS:
            async with session.get(path) as response:
                assert response.status == 401, path
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                assert "only /api/health is open" in (await response.json())["error"]["message"]
            async with session.get(path, headers={"Authorization": "Bearer wrong-token-1"}) as r:
                assert r.status == 401, path
            async with session.get(path, params={"token": TOKEN}) as r:  # only on /ws
                assert r.status == 401, path
            async with session.get(path, headers=hub.auth()) as response:
                assert response.status == 200, path
        async with session.get("/api/health") as response:
            assert response.status == 200
            body = await response.json()
            assert body["read_auth_required"] is True and body["auth_required"] is True
        async with session.get("/") as response:  # the page holds no data; it asks for the token
            assert response.status == 200
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect("/ws")
        assert refused.value.status == 401
        async with session.ws_connect(f"/ws?token={TOKEN}") as ws:
            await next_message(ws, "status_update")
        async with session.ws_connect("/ws", headers=hub.auth()) as ws:
            await next_message(ws, "status_update")


async def test_on_loopback_reads_stay_open_even_with_a_token(secured: Harness) -> None:
    async with aiohttp.ClientSession(secured.url) as session:
        for path in (*READS, "/api/health"):
            async with session.get(path) as response:
                assert response.status == 200, path
        async with session.get("/api/health") as response:
            assert (await response.json())["read_auth_required"] is False
        async with session.ws_connect("/ws") as ws:
            await next_message(ws, "status_update")


async def test_the_token_never_appears_in_responses(secured: Harness) -> None:
    async with aiohttp.ClientSession(secured.url) as session:
        for path in ("/api/health", "/api/status", "/api/actors", "/metrics", "/api/dashboard"):
            async with session.get(path) as response:
                assert TOKEN not in await response.text()
        async with session.ws_connect(f"/ws?token={TOKEN}") as ws:
            first = await ws.receive_str(timeout=5)
        assert TOKEN not in first


async def test_cors_allowlist_and_preflight(start_hub: StartHub) -> None:
    hub = start_hub(cors_origins=[GOOD])
    async with aiohttp.ClientSession(hub.url) as session:
        async with session.get("/api/status", headers={"Origin": GOOD}) as response:
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == GOOD
            assert "Origin" in response.headers.getall("Vary")
        async with session.post("/api/stop", headers={"Origin": GOOD}) as response:
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == GOOD
        async with session.get("/api/status", headers={"Origin": EVIL}) as response:
            assert response.status == 403
            assert "Access-Control-Allow-Origin" not in response.headers
            assert (await response.json())["error"]["code"] == "origin_not_allowed"
        # A cross-site form post has no preflight: it must still be refused.
        async with session.post("/api/stop", headers={"Origin": EVIL}, data="x") as response:
            assert response.status == 403
        preflight = {
            "Origin": GOOD,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        }
        async with session.options("/api/stop", headers=preflight) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Origin"] == GOOD
            assert "POST" in response.headers["Access-Control-Allow-Methods"]
            assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
        async with session.options("/api/stop", headers={**preflight, "Origin": EVIL}) as response:
            assert response.status == 403
            assert "Access-Control-Allow-Origin" not in response.headers
        odd = {**preflight, "Access-Control-Request-Headers": "x-custom"}
        async with session.options("/api/stop", headers=odd) as response:
            assert response.status == 403
        same = {"Origin": hub.url}  # same-origin is always allowed (the dashboard itself)
        async with session.post("/api/start", headers=same) as response:
            assert response.status == 200
    assert len(hub.controls.of(StopTrading)) == 1


async def test_websocket_checks_the_origin(start_hub: StartHub) -> None:
    hub = start_hub(cors_origins=[GOOD])
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(hub.ws_url, origin=EVIL)
        assert refused.value.status == 403
        for origin in (GOOD, hub.url):
            async with session.ws_connect(hub.ws_url, origin=origin) as ws:
                await next_message(ws, "status_update")


async def test_foreign_host_names_are_refused_on_loopback(hub: Harness) -> None:
    # A DNS-rebinding page reaches 127.0.0.1 under its own name: refuse that Host.
    async with aiohttp.ClientSession(hub.url) as session:
        async with session.post("/api/stop", headers={"Host": "rebind.evil.test"}) as response:
            assert response.status == 403
            assert (await response.json())["error"]["code"] == "host_not_allowed"
        async with session.get(
            "/api/health", headers={"Host": f"localhost:{hub.endpoint.port}"}
        ) as r:
            assert r.status == 200
    assert hub.controls.of(StopTrading) == []
