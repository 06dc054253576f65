"""A WebSocket client that sends commands faster than it reads the answers is told so and
closed with code 4029 — it used to overflow its outbox and vanish without a word."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct

import aiohttp
import orjson
import pytest

from hub.routes_ws import CLOSE_TOO_FAST
from messages.status import StrategyStatus
from runtime.bus import STATUS
from tests.hub.conftest import Harness, StartHub
from tests.hub.wsclient import next_message, send

pytestmark = pytest.mark.anyio

BIG = "x" * 32_768  # a big status frame: a few fill the socket of a client that does not read


def _masked_text(payload: bytes) -> bytes:
    """A client's text frame (clients must mask)."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + body


def _open(port: int) -> socket.socket:
    """The handshake over a raw socket with a tiny receive buffer (it will not read for a while)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "server closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("the server closed the connection")
        data += chunk
    return data


def _frames(sock: socket.socket) -> list[tuple[int, bytes]]:
    """Every frame until the close frame (included): (opcode, payload)."""
    found = []
    while True:
        first, second = _exactly(sock, 2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", _exactly(sock, 2))
        elif size == 127:
            (size,) = struct.unpack("!Q", _exactly(sock, 8))
        opcode = first & 0x0F
        found.append((opcode, _exactly(sock, size)))
        if opcode == 0x8:
            return found


async def _dropped(session: aiohttp.ClientSession) -> float:
    async with session.get("/metrics") as response:
        text = await response.text()
    name = 'sol15_ws_clients_dropped_total{reason="too_many_commands"}'
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


async def test_a_client_commanding_faster_than_it_reads_is_told_and_closed_4029(
    start_hub: StartHub,
) -> None:
    hub: Harness = start_hub(ws_max_unread_replies=4, ws_reply_wait=0.5, send_timeout=30.0)
    hub.publish(STATUS, StrategyStatus("bloat", True, (), (("note", BIG),), hub.clock.now()))
    hub.settle()
    loop = asyncio.get_running_loop()
    sock = await loop.run_in_executor(None, _open, hub.endpoint.port)
    try:
        command = _masked_text(orjson.dumps({"type": "get_status"}))
        await loop.run_in_executor(None, sock.sendall, command * 200)
        async with aiohttp.ClientSession(hub.url) as session:
            for _ in range(1000):  # bounded: until the hub has given up on the client
                if await _dropped(session):
                    break
            assert await _dropped(session) == 1
        frames = await loop.run_in_executor(None, _frames, sock)  # now it reads everything
    finally:
        sock.close()
    (close_op, close_body), (text_op, last_text) = frames[-1], frames[-2]
    assert close_op == 0x8 and struct.unpack("!H", close_body[:2])[0] == CLOSE_TOO_FAST == 4029
    assert text_op == 0x1
    error = orjson.loads(last_text)
    assert error["type"] == "error"
    assert error["data"]["code"] == "too_many_commands"
    assert "read the answers" in error["data"]["message"]


async def test_a_client_that_reads_may_send_bursts(start_hub: StartHub) -> None:
    hub = start_hub(ws_max_unread_replies=4, ws_reply_wait=5.0)
    async with aiohttp.ClientSession() as session, session.ws_connect(hub.ws_url) as ws:
        await next_message(ws, "status_update")
        for _ in range(100):  # far more than it may owe, but it keeps reading
            await send(ws, {"type": "ping"})
        for _ in range(100):
            await next_message(ws, "pong")
        await send(ws, {"type": "get_status"})
        await next_message(ws, "status_update")
