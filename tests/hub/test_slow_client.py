"""A client that never reads is resynced or dropped; everyone else keeps getting events on time."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time

import aiohttp
import pytest

from messages.status import Alert
from runtime.bus import ALERTS
from tests.hub.conftest import StartHub
from tests.hub.wsclient import next_message

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PAYLOAD = "x" * 32_768  # big frames fill the socket buffers of the stuck client quickly
BATCH = 16


def stuck_client(port: int) -> socket.socket:
    """A WebSocket handshake over a raw socket with a tiny receive buffer, then silence."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
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
    return sock  # from here on it never reads


async def metric(session: aiohttp.ClientSession, name: str) -> float:
    async with session.get("/metrics") as response:
        text = await response.text()
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)]
    return sum(values)


async def clients(session: aiohttp.ClientSession) -> int:
    async with session.get("/api/health") as response:
        count: int = (await response.json())["websocket_clients"]
    return count


async def test_a_stuck_client_never_slows_the_others(start_hub: StartHub) -> None:
    hub = start_hub(client_queue=32, send_timeout=30.0)
    now = hub.clock.now()
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(hub.url) as session, session.ws_connect("/ws") as fast:
        await next_message(fast, "status_update")
        slow = await loop.run_in_executor(None, stuck_client, hub.endpoint.port)
        try:
            for _ in range(100):  # bounded: until the hub has registered both clients
                if await clients(session) == 2:
                    break
            assert await clients(session) == 2

            handled = 0.0
            sent = 0
            worst = 0.0
            for _batch in range(200):  # bounded: until the stuck client is resynced or dropped
                started = time.monotonic()
                for _ in range(BATCH):
                    hub.publish(ALERTS, Alert("load", f"{sent} {PAYLOAD}", "info", now))
                    sent += 1
                for expected in range(sent - BATCH, sent):
                    alert = await next_message(fast, "alert", timeout=5)
                    assert alert["message"].split(" ", 1)[0] == str(expected)
                worst = max(worst, time.monotonic() - started)
                handled = await metric(session, "sol15_ws_clients_dropped_total") + await metric(
                    session, "sol15_ws_resyncs_total"
                )
                if handled:
                    break
            assert handled, f"the stuck client was neither resynced nor dropped after {sent} events"
            assert worst < 5.0

            # The fast client never needed a resync and still gets new events at once.
            hub.publish(ALERTS, Alert("marker", "after", "info", now))
            started = time.monotonic()
            await next_message(fast, "alert", lambda d: d["alert_type"] == "marker", timeout=5)
            assert time.monotonic() - started < 2.0
            dropped = await metric(session, 'sol15_ws_clients_dropped_total{reason="stuck"}')
            if dropped:
                for _ in range(100):  # the drop aborts the transport; the handler then ends
                    if await clients(session) == 1:
                        break
                assert await clients(session) == 1
        finally:
            slow.close()
