"""The WebSocket feed (``/trade-api/ws/v2``): subscriptions and channel messages.

Commands and replies follow ``asyncapi.yaml``: ``subscribe`` / ``unsubscribe``
/ ``update_subscription`` / ``list_subscriptions`` with ``subscribed``, ``ok``,
``unsubscribed`` and ``error`` (numeric codes) replies. Sequenced channels
(``orderbook_delta``, ``trade``, ``market_lifecycle_v2``,
``order_group_updates``, ``cfbenchmarks_value``, ``cfbenchmarks_value_5hz``)
number their messages per subscription from 1.

Each connection has a bounded outbound queue drained by its own writer task, so
a slow client never blocks the exchange; when the queue overflows the
connection is closed (Kalshi's error 25 is terminal too).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web
from loguru import logger

from simulator import wire
from simulator.events import (
    BookDelta,
    Event,
    EventCreated,
    FastIndexTick,
    FillEvent,
    IndexTick,
    LifecycleEvent,
    OrderEvent,
    OrderGroupEvent,
    PositionEvent,
    TickerEvent,
    TradeEvent,
)
from simulator.exchange import Exchange
from simulator.faults import Faults

JSON = dict[str, Any]
KNOWN_CHANNELS = frozenset(
    {
        "orderbook_delta",
        "ticker",
        "trade",
        "fill",
        "market_positions",
        "market_lifecycle_v2",
        "multivariate_market_lifecycle",
        "communications",
        "order_group_updates",
        "user_orders",
        "cfbenchmarks_value",
        "cfbenchmarks_value_5hz",
        "pyth_value",
    }
)
SUPPORTED_CHANNELS = frozenset(
    {
        "orderbook_delta",
        "ticker",
        "trade",
        "fill",
        "market_positions",
        "market_lifecycle_v2",
        "user_orders",
        "order_group_updates",
        "cfbenchmarks_value",
        "cfbenchmarks_value_5hz",
    }
)
INDEX_CHANNELS = frozenset({"cfbenchmarks_value", "cfbenchmarks_value_5hz"})
SEQUENCED = frozenset(
    {"orderbook_delta", "trade", "market_lifecycle_v2", "order_group_updates"} | INDEX_CHANNELS
)
MARKET_SCOPED = frozenset(
    {"orderbook_delta", "ticker", "trade", "fill", "market_positions", "user_orders"}
)
QUEUE_LIMIT = 50_000

# asyncapi error codes
ERR_PROCESSING = 1
ERR_PARAMS = 2
ERR_CHANNELS = 3
ERR_SIDS = 4
ERR_COMMAND = 5
ERR_UNKNOWN_SID = 7
ERR_CHANNEL_NAME = 8
ERR_INVALID_PARAM = 11
ERR_ONE_SID = 12
ERR_ACTION_UNSUPPORTED = 13
ERR_MARKET_REQUIRED = 14
ERR_ACTION_REQUIRED = 15
ERR_INDEX_IDS = 24


class CommandError(Exception):
    def __init__(self, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


@dataclass(slots=True)
class Subscription:
    sid: int
    channel: str
    markets: set[str] | None  # None: every market
    index_ids: set[str] = field(default_factory=set)
    use_yes_price: bool = False
    seq: int = 0

    def wants_market(self, ticker: str) -> bool:
        return self.markets is None or ticker in self.markets


class Connection:
    """One authenticated WebSocket client."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        user_id: str,
        faults: Faults,
        heartbeat_seconds: float | None,
    ) -> None:
        self.ws = ws
        self.request = request
        self.user_id = user_id
        self.faults = faults
        self.subs: dict[int, Subscription] = {}
        self.next_sid = 1
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.closed = False
        self._writer = asyncio.create_task(self._write_loop())
        self._heartbeat: asyncio.Task[None] | None = None
        if heartbeat_seconds:
            self._heartbeat = asyncio.create_task(self._ping_loop(heartbeat_seconds))

    def send(self, message: JSON) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            logger.warning("websocket client too slow: closing (subscription buffer overflow)")
            self.abort()
            return
        self.queue.put_nowait(orjson.dumps(message).decode())

    def next_seq(self, sub: Subscription) -> int:
        sub.seq += 2 if self.faults.take_seq_skip() else 1
        return sub.seq

    async def _write_loop(self) -> None:
        while True:
            text = await self.queue.get()
            try:
                if not self.closed:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                self.closed = True
            finally:
                self.queue.task_done()

    async def _ping_loop(self, every: float) -> None:
        while not self.closed:
            await asyncio.sleep(every)
            try:
                await self.ws.ping(b"heartbeat")
            except (ConnectionError, RuntimeError):
                return

    def abort(self) -> None:
        """Drop the connection abruptly, as a network failure would."""
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        self.closed = True
        for task in (self._writer, self._heartbeat):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        while not self.queue.empty():  # let drain() return
            self.queue.get_nowait()
            self.queue.task_done()

    async def drain(self) -> None:
        await self.queue.join()


def _channel_refusal(channel: object, markets: set[str] | None) -> tuple[int, str] | None:
    """Kalshi's error for a channel it would refuse (code, message); None: subscribe to it."""
    if channel not in KNOWN_CHANNELS:
        return ERR_CHANNEL_NAME, "Unknown channel name"
    if channel not in SUPPORTED_CHANNELS:
        return ERR_CHANNEL_NAME, f"Channel {channel} is not simulated"
    if channel == "orderbook_delta" and not markets:
        return ERR_MARKET_REQUIRED, "Market Ticker required"
    return None


def _one_sid(params: JSON) -> int:
    """The one subscription an update names, by ``sid`` or a one-item ``sids``."""
    sid = params.get("sid")
    sids = params.get("sids")
    if sid is not None and sids is not None:
        raise CommandError(ERR_ONE_SID, "Exactly one subscription ID is required")
    if sids is not None:
        if not isinstance(sids, list) or len(sids) != 1:
            raise CommandError(ERR_ONE_SID, "Exactly one subscription ID is required")
        sid = sids[0]
    if not isinstance(sid, int) or isinstance(sid, bool):
        raise CommandError(ERR_ONE_SID, "Exactly one subscription ID is required")
    return sid


class WebSocketHub:
    """All connections, the command protocol and the event fan-out."""

    def __init__(
        self,
        exchange: Exchange,
        faults: Faults,
        sync: Callable[[], None],
        heartbeat_seconds: float | None,
    ) -> None:
        self.exchange = exchange
        self.faults = faults
        self._sync = sync
        self.heartbeat_seconds = heartbeat_seconds
        self.connections: set[Connection] = set()

    # --- connection lifecycle ---------------------------------------------------------

    async def serve(self, request: web.Request, user_id: str) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20, timeout=2.0)
        await ws.prepare(request)
        conn = Connection(ws, request, user_id, self.faults, self.heartbeat_seconds)
        self.connections.add(conn)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._sync()
                    self.handle_command(conn, message.data)
                elif message.type == WSMsgType.BINARY:
                    conn.send(_error(None, ERR_PROCESSING, "Unable to process message"))
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            self.connections.discard(conn)
            await conn.close()
        return ws

    def drop_all(self) -> int:
        """Drop every connection now; returns how many there were."""
        dropped = list(self.connections)
        for conn in dropped:
            conn.abort()
        return len(dropped)

    def random_drops(self, seconds: int) -> None:
        for _ in range(seconds):
            for conn in list(self.connections):
                if not conn.closed and self.faults.take_ws_drop():
                    conn.abort()

    async def drain(self) -> None:
        """Wait until everything queued so far has been written to the sockets."""
        for conn in list(self.connections):
            if not conn.closed:
                await conn.drain()

    async def close_all(self) -> None:
        """Close every connection (server shutdown): a close frame, then the socket."""
        for conn in list(self.connections):
            with contextlib.suppress(ConnectionError, RuntimeError, asyncio.TimeoutError):
                await asyncio.wait_for(conn.ws.close(code=1001, message=b"server shutdown"), 2.0)
            conn.abort()
            await conn.close()

    # --- commands ---------------------------------------------------------------------

    def handle_command(self, conn: Connection, text: str) -> None:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            conn.send(_error(None, ERR_PROCESSING, "Unable to process message"))
            return
        if not isinstance(data, dict):
            conn.send(_error(None, ERR_PROCESSING, "Unable to process message"))
            return
        raw_id = data.get("id")
        command_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        if command_id == 0:
            command_id = None
        try:
            self._dispatch_command(conn, command_id, data)
        except CommandError as exc:
            conn.send(_error(command_id, exc.code, exc.message, **exc.extra))

    def _dispatch_command(self, conn: Connection, command_id: int | None, data: JSON) -> None:
        cmd = data.get("cmd")
        if cmd == "list_subscriptions":
            listing = [{"channel": s.channel, "sid": s.sid} for s in conn.subs.values()]
            conn.send(_with_id({"type": "ok", "msg": listing}, command_id))
            return
        if cmd not in ("subscribe", "unsubscribe", "update_subscription"):
            raise CommandError(ERR_COMMAND, "Unknown command")
        params = data.get("params")
        if not isinstance(params, dict):
            raise CommandError(ERR_PARAMS, "Params required")
        if cmd == "subscribe":
            self._subscribe(conn, command_id, params)
        elif cmd == "unsubscribe":
            self._unsubscribe(conn, command_id, params)
        else:
            self._update(conn, command_id, params)

    def _markets_param(self, params: JSON) -> set[str] | None:
        single = params.get("market_ticker")
        many = params.get("market_tickers")
        if single is not None and many is not None:
            raise CommandError(ERR_INVALID_PARAM, "market_ticker and market_tickers are exclusive")
        if single is not None:
            if not isinstance(single, str) or not single:
                raise CommandError(ERR_INVALID_PARAM, "market_ticker must be a string")
            tickers = [single]
        elif many is not None:
            if not isinstance(many, list) or not all(isinstance(t, str) for t in many):
                raise CommandError(ERR_INVALID_PARAM, "market_tickers must be a list of strings")
            tickers = list(many)
        else:
            return None
        unknown = [t for t in tickers if t not in self.exchange.markets]
        if unknown:
            raise CommandError(
                ERR_INVALID_PARAM, "Unknown market ticker", market_tickers=sorted(unknown)
            )
        return set(tickers)

    def _subscribe(self, conn: Connection, command_id: int | None, params: JSON) -> None:
        channels = params.get("channels")
        if not isinstance(channels, list) or not channels:
            raise CommandError(ERR_CHANNELS, "Channels required")
        markets = self._markets_param(params)
        use_yes = params.get("use_yes_price") is True
        initial_ticker = params.get("send_initial_snapshot") is True
        for channel in channels:
            refusal = _channel_refusal(channel, markets)
            if refusal is not None:
                conn.send(_error(command_id, *refusal))
                continue
            sub = Subscription(conn.next_sid, channel, None if markets is None else set(markets))
            sub.use_yes_price = use_yes
            if channel in INDEX_CHANNELS:
                sub.markets = None
                sub.index_ids = _index_ids(params.get("index_ids"), required=False)
            elif channel not in MARKET_SCOPED:
                sub.markets = None  # market filters are not supported on lifecycle
            conn.next_sid += 1
            conn.subs[sub.sid] = sub
            conn.send(
                _with_id(
                    {"type": "subscribed", "msg": {"channel": channel, "sid": sub.sid}}, command_id
                )
            )
            self._send_initial(conn, sub, initial_ticker)

    def _send_initial(self, conn: Connection, sub: Subscription, initial_ticker: bool) -> None:
        """What Kalshi sends right after ``subscribed``: each book's snapshot (deltas mean
        nothing without one) and, when asked for, each market's ticker now."""
        if sub.channel == "orderbook_delta":
            for ticker in sorted(sub.markets or ()):
                self._send_snapshot(conn, sub, ticker, None)
        elif sub.channel == "ticker" and initial_ticker:
            for ticker in sorted(sub.markets or ()):
                self._send_ticker_now(conn, sub, ticker)

    def _unsubscribe(self, conn: Connection, command_id: int | None, params: JSON) -> None:
        sids = params.get("sids")
        if not isinstance(sids, list) or not sids:
            raise CommandError(ERR_SIDS, "Subscription IDs required")
        for sid in sids:
            sub = conn.subs.pop(sid, None) if isinstance(sid, int) else None
            if sub is None:
                conn.send(_error(command_id, ERR_UNKNOWN_SID, "Unknown subscription ID"))
                continue
            reply = {"type": "unsubscribed", "sid": sub.sid, "seq": sub.seq + 1}
            conn.send(_with_id(reply, command_id))

    def _update(self, conn: Connection, command_id: int | None, params: JSON) -> None:
        action = params.get("action")
        if not action:
            raise CommandError(ERR_ACTION_REQUIRED, "Action required")
        sub = conn.subs.get(_one_sid(params))
        if sub is None:
            raise CommandError(ERR_UNKNOWN_SID, "Unknown subscription ID")
        if sub.channel in INDEX_CHANNELS:
            self._update_indices(conn, command_id, sub, action, params)
            return
        if (
            action not in ("add_markets", "delete_markets", "get_snapshot")
            or sub.channel not in MARKET_SCOPED
            or (action == "get_snapshot" and sub.channel != "orderbook_delta")
        ):
            raise CommandError(ERR_ACTION_UNSUPPORTED, "Unsupported action")
        markets = self._markets_param(params)
        if not markets:
            raise CommandError(ERR_MARKET_REQUIRED, "Market Ticker required")
        if action == "get_snapshot":
            for ticker in sorted(markets):
                self._send_snapshot(conn, sub, ticker, command_id)
            return
        self._change_markets(conn, sub, action, markets)
        reply: JSON = {"type": "ok", "sid": sub.sid}
        if sub.seq:
            reply["seq"] = sub.seq
        reply["msg"] = {"market_tickers": sorted(sub.markets or ())}
        conn.send(_with_id(reply, command_id))

    def _change_markets(
        self, conn: Connection, sub: Subscription, action: str, markets: set[str]
    ) -> None:
        """Add or delete markets of a subscription (one to every market stays so); a book
        added gets its snapshot first, as on subscribe."""
        if action == "add_markets":
            added = markets - (sub.markets or set())
            if sub.markets is not None:
                sub.markets |= markets
            if sub.channel == "orderbook_delta":
                for ticker in sorted(added):
                    self._send_snapshot(conn, sub, ticker, None)
        elif sub.markets is not None:
            sub.markets -= markets

    def _update_indices(
        self, conn: Connection, command_id: int | None, sub: Subscription, action: str, params: JSON
    ) -> None:
        if action == "indexlist":
            message = {
                "type": f"{sub.channel}_indexlist",
                "sid": sub.sid,
                "seq": conn.next_seq(sub),
                "msg": {"index_ids": [x.index_id for x in self.exchange.listings.values()]},
            }
            conn.send(_with_id(message, command_id))
            return
        if action not in ("subscribe_indices", "unsubscribe_indices"):
            raise CommandError(ERR_ACTION_UNSUPPORTED, "Unsupported action")
        ids = _index_ids(params.get("index_ids"), required=True)
        if action == "subscribe_indices":
            sub.index_ids |= ids
        else:
            sub.index_ids -= ids
        reply = {
            "type": "ok",
            "sid": sub.sid,
            "seq": conn.next_seq(sub),
            "msg": {"index_ids": sorted(sub.index_ids)},
        }
        conn.send(_with_id(reply, command_id))

    def _send_snapshot(
        self, conn: Connection, sub: Subscription, ticker: str, command_id: int | None
    ) -> None:
        market = self.exchange.markets[ticker]
        yes, no = self.exchange.orderbook(ticker)
        message = {
            "type": "orderbook_snapshot",
            "sid": sub.sid,
            "seq": conn.next_seq(sub),
            "msg": wire.ws_snapshot_msg(market, yes, no, sub.use_yes_price),
        }
        conn.send(_with_id(message, command_id))

    def _send_ticker_now(self, conn: Connection, sub: Subscription, ticker: str) -> None:
        event = self.exchange.ticker_event(self.exchange.markets[ticker], self.exchange.now)
        conn.send({"type": "ticker", "sid": sub.sid, "msg": wire.ws_ticker_msg(event)})

    # --- fan-out ----------------------------------------------------------------------

    def dispatch(self, events: Iterable[Event]) -> None:
        """Send each event to every subscription that wants it, in order."""
        if not self.connections:
            return
        conns = [c for c in self.connections if not c.closed and c.subs]
        if not conns:
            return
        for event in events:
            self._fan_out(conns, event)

    def _route(self, event: Event) -> tuple[str, str, str | None, str | None, str | None]:
        """``(channel, message type, user, market ticker, index id)`` of an event."""
        if isinstance(event, TradeEvent):
            return "trade", "trade", None, event.ticker, None
        if isinstance(event, TickerEvent):
            return "ticker", "ticker", None, event.ticker, None
        if isinstance(event, FillEvent):
            return "fill", "fill", event.fill.user_id, event.fill.ticker, None
        if isinstance(event, OrderEvent):
            return "user_orders", "user_order", event.order.user_id, event.order.ticker, None
        if isinstance(event, PositionEvent):
            return "market_positions", "market_position", event.user_id, event.ticker, None
        if isinstance(event, LifecycleEvent):
            return "market_lifecycle_v2", "market_lifecycle_v2", None, None, None
        if isinstance(event, EventCreated):
            return "market_lifecycle_v2", "event_lifecycle", None, None, None
        if isinstance(event, OrderGroupEvent):
            return "order_group_updates", "order_group_updates", event.user_id, None, None
        if isinstance(event, FastIndexTick):
            channel = "cfbenchmarks_value_5hz"
            return channel, channel, None, None, event.index_id
        assert isinstance(event, IndexTick)
        return "cfbenchmarks_value", "cfbenchmarks_value", None, None, event.index_id

    def _build(self, event: Event) -> JSON:
        if isinstance(event, TradeEvent):
            return wire.ws_trade_msg(event)
        if isinstance(event, TickerEvent):
            return wire.ws_ticker_msg(event)
        if isinstance(event, FillEvent):
            return wire.ws_fill_msg(event.fill)
        if isinstance(event, OrderEvent):
            return wire.ws_user_order_msg(event.order)
        if isinstance(event, PositionEvent):
            return wire.ws_position_msg(event)
        if isinstance(event, LifecycleEvent):
            return wire.ws_lifecycle_msg(self.exchange, event)
        if isinstance(event, EventCreated):
            return wire.ws_event_created_msg(self.exchange, event)
        if isinstance(event, OrderGroupEvent):
            return wire.ws_order_group_msg(event)
        if isinstance(event, FastIndexTick):
            return wire.ws_fast_index_msg(event)
        assert isinstance(event, IndexTick)
        return wire.ws_index_msg(event)

    def _fan_out(self, conns: list[Connection], event: Event) -> None:
        if isinstance(event, BookDelta):
            self._fan_out_delta(conns, event)
            return
        channel, kind, user, ticker, index_id = self._route(event)
        msg: JSON | None = None
        for conn in conns:
            if user is not None and conn.user_id != user:
                continue
            for sub in conn.subs.values():
                if sub.channel != channel:
                    continue
                if ticker is not None and not sub.wants_market(ticker):
                    continue
                if index_id is not None and not (
                    index_id in sub.index_ids or "all" in sub.index_ids
                ):
                    continue
                if msg is None:
                    msg = self._build(event)
                message: JSON = {"type": kind, "sid": sub.sid}
                if channel in SEQUENCED:
                    message["seq"] = conn.next_seq(sub)
                message["msg"] = msg
                conn.send(message)

    def _fan_out_delta(self, conns: list[Connection], delta: BookDelta) -> None:
        market_id = self.exchange.markets[delta.ticker].market_id
        for conn in conns:
            for sub in conn.subs.values():
                if sub.channel != "orderbook_delta" or not sub.wants_market(delta.ticker):
                    continue
                msg = wire.ws_delta_msg(delta, market_id, sub.use_yes_price)
                if conn.user_id == delta.cause_user_id and delta.cause_client_order_id:
                    msg["client_order_id"] = delta.cause_client_order_id
                conn.send(
                    {
                        "type": "orderbook_delta",
                        "sid": sub.sid,
                        "seq": conn.next_seq(sub),
                        "msg": msg,
                    }
                )


def _index_ids(value: object, required: bool) -> set[str]:
    if value is None:
        if required:
            raise CommandError(ERR_INDEX_IDS, "Index IDs required")
        return set()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        if required:
            raise CommandError(ERR_INDEX_IDS, "Index IDs required")
        raise CommandError(ERR_INVALID_PARAM, "index_ids must be a non-empty list of strings")
    return set(value)


def _with_id(message: JSON, command_id: int | None) -> JSON:
    if command_id is not None:
        return {"id": command_id, **message}
    return message


def _error(command_id: int | None, code: int, text: str, **extra: Any) -> JSON:
    msg: JSON = {"code": code, "msg": text}
    msg.update(extra)
    return _with_id({"type": "error", "msg": msg}, command_id)
