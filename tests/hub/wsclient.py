"""Awaiting WebSocket frames in tests: by type and condition, with a deadline — never a sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson


async def next_message(
    ws: aiohttp.ClientWebSocketResponse,
    kind: str,
    where: Callable[[dict[str, Any]], bool] = lambda data: True,
    timeout: float = 5.0,
    seen: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``data`` of the next ``kind`` frame that satisfies ``where`` (others are skipped)."""

    async def find() -> dict[str, Any]:
        while True:
            message = await ws.receive()
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"socket ended while waiting for {kind}: {message.type!r}")
            frame = orjson.loads(message.data)
            if seen is not None:
                seen.append(frame)
            if frame["type"] == kind and where(frame["data"]):
                data: dict[str, Any] = frame["data"]
                return data

    return await asyncio.wait_for(find(), timeout)


async def send(ws: aiohttp.ClientWebSocketResponse, message: object) -> None:
    await ws.send_str(orjson.dumps(message).decode())
