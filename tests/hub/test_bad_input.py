"""Malformed input of every kind gets a 4xx (or a WS error frame) and never crashes the hub."""

from __future__ import annotations

import aiohttp
import pytest

from messages.control import StopTrading
from tests.hub.conftest import Harness, StartHub
from tests.hub.wsclient import next_message

pytestmark = pytest.mark.anyio


async def expect_error(response: aiohttp.ClientResponse, status: int, code: str) -> None:
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "invalid_json"),
        (b"[1, 2]", "application/json", 400, "invalid_body"),
        (b'"stop"', "application/json", 400, "invalid_body"),
        (b'{"reason": "x", "force": true}', "application/json", 422, "unknown_field"),
        (b'{"reason": 5}', "application/json", 422, "invalid_field"),
        (b'{"reason": ""}', "application/json", 422, "invalid_field"),
        (b"reason=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
async def test_bad_bodies(
    hub: Harness, body: bytes, content_type: str, status: int, code: str
) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        headers = {"Content-Type": content_type}
        async with session.post("/api/stop", data=body, headers=headers) as response:
            await expect_error(response, status, code)
    assert hub.controls.of(StopTrading) == []


async def test_controls_without_arguments_refuse_unknown_fields(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        for path in ("/api/start", "/api/circuit-breaker/reset"):
            async with session.post(path, json={"now": True}) as response:
                await expect_error(response, 422, "unknown_field")


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "since=yesterday",
        "since=2026-01-01T00:00:00",  # no zone
        "since=-5",
        "status=lost",
        "ticker=%3Cscript%3E",
        "limit=1&limit=2",
        "offset=-1",
        "offset=two",
    ],
)
async def test_bad_query_parameters(hub: Harness, query: str) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        async with session.get(f"/api/trades?{query}") as response:
            await expect_error(response, 400, "invalid_parameter")
        async with session.get("/api/trades?since=2026-01-01T00:00:00Z&limit=5") as response:
            assert response.status == 200


async def test_unknown_query_parameters(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        for path in ("/api/trades?colour=red", "/api/signals?order=asc", "/api/trades/active?x=1"):
            async with session.get(path) as response:
                await expect_error(response, 400, "unknown_parameter")
        async with session.get("/api/signals?status=filled") as response:
            await expect_error(response, 400, "invalid_parameter")


async def test_unknown_paths_and_methods(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        async with session.get("/api/nothing-here") as response:
            await expect_error(response, 404, "not_found")
        async with session.get("/api/start") as response:
            await expect_error(response, 405, "method_not_allowed")
            assert "POST" in response.headers["Allow"]
        async with session.delete("/api/status") as response:
            await expect_error(response, 405, "method_not_allowed")


async def test_oversized_bodies_get_413(start_hub: StartHub) -> None:
    hub = start_hub(max_body=1024)
    big = b'{"reason": "' + b"x" * 2048 + b'"}'

    async def chunks() -> object:
        for _ in range(4):
            yield b"x" * 1024

    async with aiohttp.ClientSession(hub.url) as session:
        async with session.post("/api/stop", data=big) as response:  # Content-Length known
            await expect_error(response, 413, "payload_too_large")
        async with session.post("/api/stop", data=chunks()) as response:  # chunked, no length
            await expect_error(response, 413, "payload_too_large")
        async with session.get("/api/health") as response:
            assert response.status == 200
    assert hub.controls.of(StopTrading) == []


async def test_bad_websocket_messages_get_errors_and_the_connection_stays(hub: Harness) -> None:
    incarnation = hub.system.address("hub").incarnation
    async with aiohttp.ClientSession() as session, session.ws_connect(hub.ws_url) as ws:
        await next_message(ws, "status_update")
        cases = [
            ("{oops", "invalid_json"),
            ("[1,2,3]", "invalid_message"),
            ('{"data": {}}', "invalid_message"),
            ('{"type": 42}', "invalid_message"),
            ('{"type": "launch_rockets"}', "unknown_type"),
            ('"ping"', "invalid_message"),
        ]
        for text, code in cases:
            await ws.send_str(text)
            error = await next_message(ws, "error")
            assert error["code"] == code, text
        await ws.send_bytes(b"\x00\x01")
        assert (await next_message(ws, "error"))["code"] == "invalid_message"
        await ws.send_str('{"type": "ping"}')
        await next_message(ws, "pong")
    hub.settle()
    assert hub.system.address("hub").incarnation == incarnation  # never crashed


async def test_an_oversized_websocket_message_closes_only_that_connection(
    start_hub: StartHub,
) -> None:
    hub = start_hub(ws_max_message=1024)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(hub.ws_url) as other,
        session.ws_connect(hub.ws_url) as ws,
    ):
        await next_message(ws, "status_update")
        await ws.send_str('{"type": "ping", "pad": "' + "x" * 4096 + '"}')
        closing = await ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        await other.send_str('{"type": "ping"}')
        await next_message(other, "pong")
