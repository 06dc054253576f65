"""The ▶ WebSocket ``/ws``: commands in, the live feed out.

Each connection gets a ``ClientFeed`` (bounded outbox + writer task) registered
with the broadcaster; this handler only reads commands. Replies go through the
same outbox, so one task ever writes to the socket. Bad input gets an
``{"type": "error"}`` frame and the connection stays open.

A client that sends commands faster than it reads the answers (it owes
``HubConfig.ws_max_unread_replies`` of them and reads none for ``ws_reply_wait``
seconds) gets an ``error`` frame with code ``too_many_commands`` and is closed with
code 4029 (``CLOSE_TOO_FAST``); without that, its outbox would overflow and it would
be dropped without a word.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

import orjson
from aiohttp import WSCloseCode, WSMsgType, web
from loguru import logger

from hub.deps import DEPS, HubDeps
from hub.errors import ApiError
from hub.events import STATUS
from hub.feed import ClientFeed
from hub.wire import envelope, error_frame
from messages.control import StartTrading, StopTrading

_ids = itertools.count(1)
CLOSE_TIMEOUT = 2.0
CLOSE_TOO_FAST = 4029  # private range (4000-4999): "commands faster than you read", like 429
TOO_FAST = "too_many_commands"


class _TooFast(Exception):
    """The client owes too many replies: it sends faster than it reads."""


async def websocket(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    token = deps.policy.token_of(request, allow_query=True)
    if token is not None and not deps.policy.authorized(request, allow_query=True):
        raise ApiError(401, "unauthorized", "invalid API token")
    authorized = deps.policy.authorized(request, allow_query=True)
    ws = web.WebSocketResponse(
        heartbeat=deps.config.ws_heartbeat,
        max_msg_size=deps.config.ws_max_message,
        compress=False,  # per-client compression would cost more than the bytes it saves
        timeout=CLOSE_TIMEOUT,
    )
    await ws.prepare(request)
    name = f"ws-{next(_ids)}"
    feed = _feed(deps, ws, request, name)
    deps.sockets.add(ws)
    deps.broadcaster.add(feed)
    writer = asyncio.get_running_loop().create_task(feed.run(), name=f"hub-{name}-writer")
    logger.debug("hub: {} connected ({})", name, "control" if authorized else "read-only")
    try:
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                await _command(deps, feed, message.data, authorized)
            elif message.type is WSMsgType.BINARY:
                await _reply(deps, feed, error_frame("invalid_message", "send JSON as text frames"))
    except _TooFast:
        await _close_too_fast(deps, ws, feed, writer, request)
    finally:
        deps.broadcaster.remove(feed)
        feed.closed = True
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        if not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        logger.debug("hub: {} disconnected ({})", name, feed.drop_reason or "closed")
    return ws


def _feed(deps: HubDeps, ws: web.WebSocketResponse, request: web.Request, name: str) -> ClientFeed:
    metrics = deps.metrics

    async def send(frame: bytes) -> None:
        await ws.send_frame(frame, WSMsgType.TEXT)

    def dropped(reason: str) -> None:
        metrics.drops.labels(reason).inc()
        logger.warning("hub: dropping WebSocket client {} ({})", name, reason)
        transport = request.transport
        if transport is not None:
            transport.abort()  # a stuck peer would never complete a closing handshake

    def sent(count: int) -> None:
        deps.broadcaster.frames_sent += count

    return ClientFeed(
        send,
        deps.status_frame,
        deps.broadcaster.latest_frames,
        limit=deps.config.client_queue,
        interval=deps.config.coalesce_interval,
        on_drop=dropped,
        on_resync=metrics.resyncs.inc,
        on_sent=sent,
        name=name,
        max_owed=deps.config.ws_max_unread_replies,
    )


async def _reply(deps: HubDeps, feed: ClientFeed, frame: bytes) -> None:
    if not await feed.reply(frame, deps.config.ws_reply_wait):
        raise _TooFast


async def _close_too_fast(
    deps: HubDeps,
    ws: web.WebSocketResponse,
    feed: ClientFeed,
    writer: asyncio.Task[None],
    request: web.Request,
) -> None:
    """Tell the client why, then close it: the backlog is dropped, the reason is not."""
    deps.metrics.drops.labels(TOO_FAST).inc()
    logger.warning("hub: closing WebSocket client {}: it sends faster than it reads", feed.name)
    feed.closed = True
    writer.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await writer
    reason = (
        f"more than {feed.max_owed} replies unread: read the answers before sending more commands"
    )
    try:
        await asyncio.wait_for(_say_and_close(ws, reason), deps.config.send_timeout)
    except (TimeoutError, ConnectionError, RuntimeError):
        transport = request.transport  # it reads nothing at all: nothing more can reach it
        if transport is not None:
            transport.abort()


async def _say_and_close(ws: web.WebSocketResponse, reason: str) -> None:
    await ws.send_frame(error_frame(TOO_FAST, reason), WSMsgType.TEXT)
    await ws.close(code=CLOSE_TOO_FAST, message=TOO_FAST.encode())


async def _command(deps: HubDeps, feed: ClientFeed, text: str, authorized: bool) -> None:
    try:
        data: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        await _reply(deps, feed, error_frame("invalid_json", "message is not valid JSON"))
        return
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        await _reply(deps, feed, error_frame("invalid_message", 'expected {"type": "..."}'))
        return
    kind = data["type"]
    if kind == "ping":
        await _reply(deps, feed, envelope("pong", {"timestamp": deps.now()}))
    elif kind == "get_status":
        await _reply(deps, feed, deps.status_frame())
    elif kind in ("start_bot", "stop_bot"):
        if not authorized:
            await _reply(
                deps, feed, error_frame("unauthorized", f"{kind} needs the API token (?token=)")
            )
            return
        message = (
            StartTrading(requested_by="websocket")
            if kind == "start_bot"
            else StopTrading(reason="requested via the dashboard", requested_by="websocket")
        )
        try:
            await deps.control.ask("risk", message)
        except ApiError as exc:
            await _reply(deps, feed, error_frame(exc.code, exc.message))
            return
        feed.offer(STATUS)  # the new state follows as soon as the risk actor publishes it
    else:
        await _reply(deps, feed, error_frame("unknown_type", f"unknown message type {kind[:40]!r}"))


async def close_all(deps: HubDeps) -> None:
    """Shutdown: tell every client the server is going away (bounded wait), then let go."""
    sockets = [ws for ws in list(deps.sockets) if not ws.closed]

    async def going_away(ws: web.WebSocketResponse) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down"),
                CLOSE_TIMEOUT,
            )

    await asyncio.gather(*(going_away(ws) for ws in sockets))
