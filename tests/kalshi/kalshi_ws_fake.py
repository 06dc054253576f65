"""A tiny scripted Kalshi WebSocket server (aiohttp) and an event collector for tests.

The server answers ``subscribe`` like Kalshi (``subscribed`` then, for order books,
one ``orderbook_snapshot`` per market) and lets the test push any message, skip
sequence numbers, ping, refuse handshakes or drop the socket abruptly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from aiohttp import WSMsgType, web

from kalshi.ws_events import WsEvent

E = TypeVar("E")

JSON = dict[str, Any]


class FakeWsServer:
    def __init__(self) -> None:
        self.handshakes: list[dict[str, str]] = []
        self.requests: list[web.Request] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.commands: list[JSON] = []
        self.pongs: list[bytes] = []
        self.reject: list[int] = []  # statuses for the next handshakes
        self.auto_snapshot = True  # answer get_snapshot
        self.initial_snapshots = True  # send snapshots right after ``subscribed``
        self.books: dict[str, JSON] = {}
        self.next_sid = 1
        self.seq: dict[int, int] = {}
        self.sub_markets: dict[int, list[str]] = {}
        self.sub_channel: dict[int, str] = {}
        self.changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/trade-api/ws/v2", self._serve)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}/trade-api/ws/v2"
        return self.url

    async def stop(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _poke(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async def waiter() -> None:
            while not predicate():
                await self.changed.wait()

        await asyncio.wait_for(waiter(), timeout)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        self.handshakes.append(dict(request.headers))
        self.requests.append(request)
        self._poke()
        if self.reject:
            raise _status(self.reject.pop(0))
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        self.sockets.append(ws)
        self._poke()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                command = orjson.loads(message.data)
                self.commands.append(command)
                await self._answer(ws, command)
                self._poke()
            elif message.type == WSMsgType.PONG:
                self.pongs.append(message.data)
                self._poke()
            elif message.type == WSMsgType.PING:
                await ws.pong(message.data)
        self._poke()
        return ws

    @property
    def ws(self) -> web.WebSocketResponse:
        return self.sockets[-1]

    def next_seq(self, sid: int, skip: int = 0) -> int:
        self.seq[sid] = self.seq.get(sid, 0) + 1 + skip
        return self.seq[sid]

    def snapshot(self, sid: int, ticker: str, command_id: int | None = None) -> JSON:
        book = self.books.get(ticker, {"yes_dollars_fp": [["0.4000", "10.00"]]})
        message: JSON = {
            "type": "orderbook_snapshot",
            "sid": sid,
            "seq": self.next_seq(sid),
            "msg": {"market_ticker": ticker, "market_id": "m-" + ticker, **book},
        }
        if command_id is not None:
            message["id"] = command_id
        return message

    async def _answer(self, ws: web.WebSocketResponse, command: JSON) -> None:
        cid, cmd, params = command.get("id"), command.get("cmd"), command.get("params", {})
        if cmd == "subscribe":
            await self._subscribe(ws, cid, params)
        elif cmd == "unsubscribe":
            await self._unsubscribe(ws, cid, params)
        elif cmd == "update_subscription":
            await self._update_subscription(ws, cid, params)

    async def _subscribe(self, ws: web.WebSocketResponse, cid: Any, params: JSON) -> None:
        for channel in params["channels"]:
            if channel == "bogus":
                await self.send(
                    {
                        "id": cid,
                        "type": "error",
                        "msg": {"code": 8, "msg": "Unknown channel name"},
                    },
                    ws,
                )
                continue
            sid = self.next_sid
            self.next_sid += 1
            self.sub_markets[sid] = list(params.get("market_tickers", []))
            self.sub_channel[sid] = channel
            await self.send(
                {"id": cid, "type": "subscribed", "msg": {"channel": channel, "sid": sid}}, ws
            )
            if channel == "orderbook_delta" and self.initial_snapshots:
                for ticker in self.sub_markets[sid]:
                    await self.send(self.snapshot(sid, ticker), ws)

    async def _unsubscribe(self, ws: web.WebSocketResponse, cid: Any, params: JSON) -> None:
        for sid in params["sids"]:
            await self.send(
                {
                    "id": cid,
                    "type": "unsubscribed",
                    "sid": sid,
                    "seq": self.seq.get(sid, 0) + 1,
                },
                ws,
            )

    async def _update_subscription(self, ws: web.WebSocketResponse, cid: Any, params: JSON) -> None:
        sid = params["sids"][0]
        if params["action"] == "get_snapshot":
            if self.auto_snapshot:
                for ticker in params["market_tickers"]:
                    await self.send(self.snapshot(sid, ticker, cid), ws)
            return
        if params["action"] == "add_markets":
            self.sub_markets[sid].extend(params["market_tickers"])
            for ticker in params["market_tickers"]:
                await self.send(self.snapshot(sid, ticker), ws)
        await self.send(
            {
                "id": cid,
                "type": "ok",
                "sid": sid,
                "seq": self.seq.get(sid, 0),
                "msg": {"market_tickers": self.sub_markets[sid]},
            },
            ws,
        )

    async def send(
        self, message: JSON | str | bytes, ws: web.WebSocketResponse | None = None
    ) -> None:
        target = ws or self.ws
        if isinstance(message, dict):
            await target.send_str(orjson.dumps(message).decode())
        elif isinstance(message, bytes):
            await target.send_bytes(message)
        else:
            await target.send_str(message)

    async def delta(
        self,
        sid: int,
        ticker: str,
        price: str,
        delta: str,
        *,
        side: str = "yes",
        skip: int = 0,
    ) -> None:
        await self.send(
            {
                "type": "orderbook_delta",
                "sid": sid,
                "seq": self.next_seq(sid, skip),
                "msg": {
                    "market_ticker": ticker,
                    "market_id": "m-" + ticker,
                    "price_dollars": price,
                    "delta_fp": delta,
                    "side": side,
                    "ts_ms": 1,
                },
            }
        )

    def drop(self) -> None:
        """Abort the newest connection's transport, as a network failure would."""
        transport = self.requests[-1].transport
        if transport is not None:
            transport.abort()

    def sids(self, channel: str) -> list[int]:
        return [sid for sid, name in self.sub_channel.items() if name == channel]


def _status(status: int) -> web.HTTPException:
    if status == 401:
        return web.HTTPUnauthorized(text='{"error":{"code":"authentication_error"}}')
    if status == 403:
        return web.HTTPForbidden()
    return web.HTTPServiceUnavailable()


class Events:
    """Collects events from the client's callback and lets a test await them."""

    def __init__(self) -> None:
        self.items: list[WsEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: WsEvent) -> None:
        self.items.append(event)
        self._changed.set()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.items if isinstance(e, kind)]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async def waiter() -> None:
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(waiter(), timeout)

    async def wait_count(self, kind: type[Any], count: int, timeout: float = 5.0) -> list[Any]:
        await self.wait_for(lambda: len(self.of(kind)) >= count, timeout)
        return self.of(kind)


# -- message builders (asyncapi 2.0.0 shapes) ---------------------------------------------


def index_5hz(sid: int, seq: int, value: str, ts_ms: int, index_id: str = "SOLUSD_RTI") -> JSON:
    """A ``cfbenchmarks_value_5hz`` tick (``value`` as Kalshi sends it: 8 decimals)."""
    frame = orjson.dumps({"type": "value", "id": index_id, "time": ts_ms, "value": value})
    return {
        "type": "cfbenchmarks_value_5hz",
        "sid": sid,
        "seq": seq,
        "msg": {
            "index_id": index_id,
            "value_usd": value,
            "source_ts_ms": ts_ms,
            "received_at": ts_ms + 18,
            "data": frame.decode(),
        },
    }


def order_group_update(
    sid: int, seq: int, event_type: str, group_id: str = "og-1", limit: str | None = None
) -> JSON:
    msg: JSON = {"event_type": event_type, "order_group_id": group_id, "ts_ms": 1733047200000}
    if limit is not None:
        msg["contracts_limit_fp"] = limit
    return {"type": "order_group_updates", "sid": sid, "seq": seq, "msg": msg}


def fill_message(sid: int, **overrides: Any) -> JSON:
    """A ``fill`` with every field asyncapi 2.0.0 requires (a NO sale: bid, outcome yes)."""
    msg: JSON = {
        "trade_id": "d91bc706-ee49-470d-82d8-11418bda6fed",
        "order_id": "ee587a1c-8b87-4dcf-b721-9f6f790619fa",
        "client_order_id": "c-1",
        "market_ticker": "KXSOL15M-26MAY300015-15",
        "exchange_index": 2,
        "is_taker": True,
        "side": "no",
        "action": "sell",
        "outcome_side": "yes",
        "book_side": "bid",
        "yes_price_dollars": "0.7500",
        "count_fp": "4.00",
        "fee_cost": "0.052500",
        "ts": 1671899397,
        "ts_ms": 1671899397000,
        "post_position_fp": "-6.00",
        "purchased_side": "yes",
    }
    msg.update(overrides)
    return {"type": "fill", "sid": sid, "msg": msg}


def user_order_message(sid: int, **overrides: Any) -> JSON:
    """A ``user_order`` with every field asyncapi 2.0.0 requires (a NO buy: ask)."""
    msg: JSON = {
        "order_id": "ee587a1c-8b87-4dcf-b721-9f6f790619fa",
        "user_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "ticker": "KXSOL15M-26MAY300015-15",
        "exchange_index": 1,
        "status": "resting",
        "side": "no",
        "is_yes": False,
        "outcome_side": "no",
        "book_side": "ask",
        "yes_price_dollars": "0.7000",
        "fill_count_fp": "0.00",
        "remaining_count_fp": "10.00",
        "initial_count_fp": "10.00",
        "taker_fill_cost_dollars": "0.000000",
        "maker_fill_cost_dollars": "0.000000",
        "taker_fees_dollars": "0.000000",
        "maker_fees_dollars": "0.000000",
        "client_order_id": "c-2",
        "order_group_id": "og-1",
        "created_time": "2024-12-01T10:00:00Z",
        "created_ts_ms": 1733047200000,
    }
    msg.update(overrides)
    return {"type": "user_order", "sid": sid, "msg": msg}
