"""Which indices the exchange's WebSocket feed offers, asked once at start-up.

A series settles on an index the bot must read live; if the feed does not carry it, the
series cannot be traded, and the start stops naming it. The feed says what it carries:
``cfbenchmarks_value``'s ``indexlist`` action (asyncapi: "returns the available index IDs")
answers with ``cfbenchmarks_value_indexlist``. A feed that cannot be asked (no network)
does not hold the start up: the indices of the fallback table are taken as offered, and
any other one stops the start, saying the feed could not be asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from loguru import logger

from app.series import SeriesError
from kalshi.auth import Signer
from kalshi.indices import SERIES_INDEX

CHANNEL = "cfbenchmarks_value"  # the per-second channel lists every index (the 5 Hz one, fewer)
ASK_TIMEOUT = 5.0


def offered_indices(
    ws_url: str, signer: Signer | None, timeout: float = ASK_TIMEOUT
) -> frozenset[str] | None:
    """The index ids the feed offers; None when it cannot be asked now (logged)."""
    try:
        return asyncio.run(asyncio.wait_for(_ask(ws_url, signer), timeout))
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError, KeyError) as exc:
        logger.warning("the index feed could not be asked which indices it offers ({!r})", exc)
        return None


async def _ask(ws_url: str, signer: Signer | None) -> frozenset[str]:
    """Subscribe to the channel without indices (nothing flows), then ask its list."""
    path = urlsplit(ws_url).path or "/"
    headers = {} if signer is None else signer.headers("GET", path)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(ws_url, headers=headers) as ws,
    ):
        await ws.send_str(_command(1, "subscribe", {"channels": [CHANNEL]}))
        subscribed = await _reply(ws, "subscribed")
        sid = subscribed["msg"]["sid"]
        await ws.send_str(_command(2, "update_subscription", {"sid": sid, "action": "indexlist"}))
        listing = await _reply(ws, f"{CHANNEL}_indexlist")
        return frozenset(str(i) for i in listing["msg"]["index_ids"])


def _command(command_id: int, cmd: str, params: dict[str, object]) -> str:
    return orjson.dumps({"id": command_id, "cmd": cmd, "params": params}).decode()


async def _reply(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (an ``error`` reply is a ValueError)."""
    while True:
        message = await ws.receive()
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise ValueError(f"the feed closed before its {kind} reply ({message.type.name})")
        body = orjson.loads(message.data)
        if body.get("type") == "error":
            raise ValueError(f"the feed answered with an error: {body.get('msg')}")
        if body.get("type") == kind:
            return dict(body)


def check_offered(markets: Mapping[str, str], offered: frozenset[str] | None) -> None:
    """Raise :class:`SeriesError` naming each series whose index the feed does not offer
    (``offered`` None: the feed could not be asked; the fallback table's indices pass)."""
    known = offered if offered is not None else frozenset(SERIES_INDEX.values())
    absent = {s: i for s, i in markets.items() if i not in known}
    if not absent:
        return
    names = ", ".join(f"{s} (index {i})" for s, i in absent.items())
    if offered is None:
        raise SeriesError(
            f"SERIES: the index feed could not be asked, and no index known to be offered is "
            f"named for {names}: start again once the exchange can be reached, or drop it"
        )
    raise SeriesError(
        f"SERIES: the exchange's index feed ({CHANNEL}) does not offer the index of {names}; "
        f"it offers {', '.join(sorted(offered)) or 'none'}"
    )
