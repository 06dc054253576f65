"""Kalshi WebSocket client (aiohttp) with book integrity and self-healing subscriptions.

- The handshake is signed over ``timestamp + "GET" + "/trade-api/ws/v2"``.
- Each subscription is one channel with its own ``sid``. Commands carry ids and their
  replies resolve futures; the reader registers a ``sid`` the moment ``subscribed``
  arrives, so the snapshot that follows it is never lost.
- ``seq`` is checked per sid. On an order-book gap every market of that sid is
  invalidated (:class:`BookInvalidated`), its deltas are dropped until a fresh
  snapshot arrives (asked for with ``update_subscription``/``get_snapshot``), and if
  none arrives in time the subscription is re-created. Terminal errors (10, 25) also
  re-create the subscription.
- A dropped socket reconnects with exponential backoff and jitter and re-sends every
  subscription (which brings fresh snapshots). Heartbeat pings are answered by aiohttp
  (``autoping``); our own heartbeat detects a dead peer.
- Malformed messages are logged and skipped; a failing callback is logged; nothing
  ends the loop except :meth:`KalshiWebSocket.stop` or an authentication refusal.

:class:`WebSocketThread` runs the client's loop in a daemon thread for pykka actors.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import orjson
from loguru import logger

from kalshi.auth import Signer
from kalshi.backoff import Backoff
from kalshi.environment import environment_name
from kalshi.errors import AuthError, KalshiError, ParseError, TransportError
from kalshi.ws_events import (
    BookInvalidated,
    Connected,
    Disconnected,
    FillEvent,
    IndexValueEvent,
    LifecycleEvent,
    OrderbookDeltaEvent,
    OrderbookSnapshotEvent,
    OrderGroupEvent,
    OrderUpdateEvent,
    PositionEvent,
    SequenceGap,
    Subscribed,
    SubscriptionFailed,
    TickerEvent,
    TradeEvent,
    WsEvent,
)

T = TypeVar("T")
ORDERBOOK = "orderbook_delta"
TERMINAL_ERROR_CODES = frozenset({10, 25})
EventCallback = Callable[[WsEvent], None]


class WsCommandError(KalshiError):
    """The server answered a command with ``{"type": "error"}``."""

    def __init__(self, code: int, message: str) -> None:
        self.ws_code = code
        super().__init__(message, code=str(code))


class NotConnected(TransportError):
    """A command was issued while the socket is down."""


@dataclass(eq=False)
class Subscription:
    """One channel subscription. The handle stays valid across reconnects (its sid changes).

    Mutated only on the client's event loop; other threads should treat it as read-only.
    """

    channel: str
    market_tickers: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    sid: int | None = None
    last_seq: int | None = None
    awaiting: set[str] = field(default_factory=set)  # books waiting for a snapshot
    recovering: bool = False
    synced: asyncio.Event | None = None  # set while no book awaits a snapshot
    settled: asyncio.Event | None = None  # set once confirmed (sid) or refused (error)
    error: WsCommandError | None = None
    inflight: asyncio.Task[None] | None = None

    def command_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"channels": [self.channel], **self.params}
        if self.channel == ORDERBOOK:
            # Our books keep NO bids in NO prices (as REST does). Kalshi plans to flip this
            # flag's default, so pin it rather than inherit whatever the default becomes.
            params.setdefault("use_yes_price", False)
        if self.market_tickers:
            params["market_tickers"] = list(self.market_tickers)
        return params

    def __repr__(self) -> str:
        return (
            f"Subscription({self.channel!r}, sid={self.sid}, "
            f"markets={len(self.market_tickers)}, awaiting={len(self.awaiting)})"
        )


class KalshiWebSocket:
    """One authenticated connection delivering typed events to ``on_event`` (sync)."""

    def __init__(
        self,
        ws_url: str,
        signer: Signer | None,
        on_event: EventCallback,
        *,
        backoff: Backoff | None = None,
        connect_timeout: float = 10.0,
        command_timeout: float = 10.0,
        snapshot_timeout: float = 5.0,
        heartbeat: float | None = 20.0,
        max_consecutive_failures: int | None = None,
        max_message_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.ws_url = ws_url
        self.environment = environment_name(ws_url)
        self._sign_path = urlsplit(ws_url).path or "/"
        self._signer = signer
        self._on_event = on_event
        self._backoff = backoff or Backoff(base=0.5, maximum=30.0)
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._snapshot_timeout = snapshot_timeout
        self._heartbeat = heartbeat
        self._max_failures = max_consecutive_failures
        self._max_message_bytes = max_message_bytes
        self._ids = itertools.count(1)
        self._subs: list[Subscription] = []
        self._by_sid: dict[int, Subscription] = {}
        self._pending: dict[int, tuple[asyncio.Future[dict[str, Any]], Subscription | None]] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self.connections = 0  # successful handshakes so far
        self.messages = 0
        self.skipped = 0  # malformed or unexpected messages dropped
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "subscribed": self._on_subscribed,
            "unsubscribed": self._on_unsubscribed,
            "ok": self._on_ok,
            "error": self._on_error,
            "orderbook_snapshot": self._on_snapshot,
            "orderbook_delta": self._on_delta,
            "ticker": self._on_ticker,
            "trade": self._on_trade,
            "fill": self._on_fill,
            "user_order": self._on_user_order,
            "market_position": self._on_position,
            "market_lifecycle_v2": self._on_lifecycle,
            "cfbenchmarks_value": self._on_index_value,
            "cfbenchmarks_value_5hz": self._on_index_value_5hz,
            "order_group_updates": self._on_order_group,
        }

    def __repr__(self) -> str:
        return f"KalshiWebSocket({self.ws_url!r}, environment={self.environment!r})"

    # -- public API (call on the client's loop) -------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(self._subs)

    async def run(self) -> None:
        """Connect, serve and reconnect until :meth:`stop`. Raises :class:`AuthError`."""
        self._stop = asyncio.Event()
        if self._stopping:
            return
        failures = 0
        async with aiohttp.ClientSession() as session:
            while not self._stop.is_set():
                reason = "closed by server"
                established = False
                try:
                    established = await self._serve(session)
                except AuthError:
                    raise
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                if self._stop.is_set():
                    break
                failures = 0 if established else failures + 1
                if self._max_failures is not None and failures >= self._max_failures:
                    raise TransportError(f"websocket: {failures} failed connection attempts")
                delay = self._backoff.delay(failures)
                logger.bind(throttle="kalshi ws reconnect").warning(
                    "kalshi ws: {}; reconnecting in {:.2f}s", reason, delay
                )
                self._emit(Disconnected(reason))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        self._emit(Disconnected("stopped"))

    async def stop(self) -> None:
        """Close the socket and end :meth:`run` (bounded by the close handshake timeout)."""
        self._stopping = True
        if self._stop is not None:
            self._stop.set()
        ws = self._ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(TimeoutError, aiohttp.ClientError, OSError):
                await asyncio.wait_for(ws.close(), 2.0)

    async def subscribe(
        self,
        channels: Sequence[str],
        *,
        market_tickers: Sequence[str] | None = None,
        index_ids: Sequence[str] | None = None,
        wait: bool = True,
        timeout: float | None = None,
        **params: Any,
    ) -> list[Subscription]:
        """Subscribe, one subscription per channel; kept and re-sent across reconnects.

        With ``wait`` (the default) returns once the server confirmed every channel,
        raising :class:`WsCommandError` if it refused one (that one is dropped) or
        ``TimeoutError`` after ``timeout`` (the subscriptions stay registered).
        """
        extra = dict(params)
        if index_ids is not None:
            extra["index_ids"] = list(index_ids)
        subs = [
            Subscription(channel, list(market_tickers or ()), dict(extra)) for channel in channels
        ]
        for sub in subs:
            sub.settled = asyncio.Event()
        self._subs.extend(subs)
        if self.connected:
            for sub in subs:
                self._start_subscribe(sub)
        if not wait:
            return subs
        limit = timeout if timeout is not None else self._connect_timeout + self._command_timeout
        await asyncio.wait_for(
            asyncio.gather(*(sub.settled.wait() for sub in subs if sub.settled is not None)),
            limit,
        )
        for sub in subs:
            if sub.error is not None:
                raise sub.error
        return subs

    async def unsubscribe(self, sub: Subscription) -> None:
        self._forget(sub)
        sid = sub.sid
        if sid is not None and self.connected:
            await self._command("unsubscribe", {"sids": [sid]})
        if sid is not None:
            self._by_sid.pop(sid, None)
        sub.sid = None

    async def update_subscription(
        self, sub: Subscription, action: str, market_tickers: Sequence[str]
    ) -> dict[str, Any]:
        """``add_markets``, ``delete_markets`` or ``get_snapshot`` on one subscription."""
        tickers = list(market_tickers)
        if action == "add_markets":
            sub.market_tickers.extend(t for t in tickers if t not in sub.market_tickers)
            if sub.channel == ORDERBOOK:
                self._await_snapshots(sub, tickers)
        elif action == "delete_markets":
            sub.market_tickers[:] = [t for t in sub.market_tickers if t not in tickers]
            sub.awaiting.difference_update(tickers)
            self._mark_synced(sub)
        elif action == "get_snapshot":
            self._await_snapshots(sub, tickers)
        else:
            raise ValueError(f"unknown update_subscription action {action!r}")
        if sub.sid is None or not self.connected:
            return {}  # applied on the next (re)subscribe
        return await self._command(
            "update_subscription",
            {"sids": [sub.sid], "action": action, "market_tickers": tickers},
        )

    async def request_snapshot(self, market_ticker: str) -> None:
        """Invalidate one book and fetch it afresh (e.g. after a local integrity error)."""
        for sub in self._subs:
            if sub.channel == ORDERBOOK and market_ticker in sub.market_tickers:
                self._invalidate(sub, [market_ticker], "snapshot requested")
                self._recover(sub)
                return
        raise ValueError(f"no order-book subscription covers {market_ticker}")

    # -- connection ----------------------------------------------------------------------

    async def _serve(self, session: aiohttp.ClientSession) -> bool:
        """One connection's life. True if it was established (resets the backoff)."""
        headers = {} if self._signer is None else self._signer.headers("GET", self._sign_path)
        try:
            ws = await asyncio.wait_for(
                session.ws_connect(
                    self.ws_url,
                    headers=headers,
                    heartbeat=self._heartbeat,
                    autoping=True,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2.0),
                    max_msg_size=self._max_message_bytes,
                ),
                self._connect_timeout,
            )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403):
                raise AuthError(
                    f"websocket handshake refused (HTTP {exc.status})",
                    environment=self.environment,
                    status=exc.status,
                ) from None
            raise
        if self._stopping:
            await ws.close()
            return True
        self._ws = ws
        self.connections += 1
        reconnect = self.connections > 1
        logger.info("kalshi ws: connected to {} environment", self.environment)
        self._emit(Connected(self.environment, reconnect))
        self._spawn(self._resubscribe_all())
        try:
            async for message in ws:
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    self._dispatch(message.data)
                elif message.type == aiohttp.WSMsgType.ERROR:
                    logger.warning("kalshi ws: socket error {}", ws.exception())
                    break
        finally:
            self._ws = None
            if not ws.closed:
                await ws.close()
            self._on_connection_lost()
        return True

    def _on_connection_lost(self) -> None:
        for future, _ in self._pending.values():
            if not future.done():
                future.set_exception(NotConnected("websocket: connection lost"))
        self._pending.clear()
        for task in list(self._tasks):
            task.cancel()
        self._by_sid.clear()
        for sub in self._subs:
            sub.sid = None
            sub.last_seq = None
            sub.recovering = False
            if sub.channel == ORDERBOOK:
                self._invalidate(sub, sub.market_tickers, "connection lost")

    async def _resubscribe_all(self) -> None:
        for sub in list(self._subs):
            self._start_subscribe(sub)

    async def _drop_connection(self) -> None:
        ws = self._ws
        if ws is not None and not ws.closed:
            await ws.close()

    # -- commands ------------------------------------------------------------------------

    async def _command(
        self,
        cmd: str,
        params: dict[str, Any],
        sub: Subscription | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        ws = self._ws
        if ws is None or ws.closed:
            raise NotConnected(f"websocket: cannot send {cmd} while disconnected")
        command_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = (future, sub)
        try:
            await ws.send_str(
                orjson.dumps({"id": command_id, "cmd": cmd, "params": params}).decode()
            )
            return await asyncio.wait_for(future, timeout or self._command_timeout)
        finally:
            self._pending.pop(command_id, None)

    def _start_subscribe(self, sub: Subscription) -> None:
        """Send ``subscribe`` for ``sub`` unless it is active or already on its way."""
        if sub.sid is not None or (sub.inflight is not None and not sub.inflight.done()):
            return
        task = asyncio.get_running_loop().create_task(self._send_subscribe(sub))
        sub.inflight = task
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    async def _send_subscribe(self, sub: Subscription) -> None:
        sub.sid = None
        sub.last_seq = None
        if sub.channel == ORDERBOOK:
            self._await_snapshots(sub, sub.market_tickers)
        try:
            await self._command("subscribe", sub.command_params(), sub)
        except WsCommandError as exc:
            logger.error("kalshi ws: {} refused ({}); dropping it", sub.channel, exc)
            sub.error = exc
            self._forget(sub)
            if sub.settled is not None:
                sub.settled.set()
        except NotConnected:
            pass  # re-sent on the next connection
        except TimeoutError:
            logger.warning("kalshi ws: no reply to subscribe {}; reconnecting", sub)
            await self._drop_connection()

    def _forget(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    async def _resubscribe(self, sub: Subscription, reason: str) -> None:
        """Re-create one subscription (new sid, fresh snapshots)."""
        logger.warning("kalshi ws: re-creating {} ({})", sub, reason)
        old = sub.sid
        if old is not None:
            self._by_sid.pop(old, None)
            sub.sid = None
            try:
                await self._command("unsubscribe", {"sids": [old]})
            except (WsCommandError, TimeoutError, NotConnected) as exc:
                logger.info("kalshi ws: unsubscribe of stale sid {} failed: {!r}", old, exc)
        if sub in self._subs:
            self._start_subscribe(sub)

    # -- book integrity ------------------------------------------------------------------

    def _await_snapshots(self, sub: Subscription, tickers: Iterable[str]) -> None:
        sub.awaiting.update(tickers)
        if sub.synced is None:
            sub.synced = asyncio.Event()
        if sub.awaiting:
            sub.synced.clear()

    def _mark_synced(self, sub: Subscription) -> None:
        if not sub.awaiting and sub.synced is not None:
            sub.synced.set()

    def _invalidate(self, sub: Subscription, tickers: Iterable[str], reason: str) -> None:
        tickers = list(tickers)
        self._await_snapshots(sub, tickers)
        for ticker in tickers:
            self._emit(BookInvalidated(ticker, reason))

    def _recover(self, sub: Subscription) -> None:
        if not sub.recovering:
            sub.recovering = True
            self._spawn(self._recover_books(sub))

    async def _recover_books(self, sub: Subscription) -> None:
        """Ask for fresh snapshots (twice at most), then fall back to re-subscribing."""
        try:
            for _ in range(2):
                missing = sorted(sub.awaiting)
                if not missing or sub.sid is None or sub.synced is None:
                    return
                try:
                    await self._command(
                        "update_subscription",
                        {"sids": [sub.sid], "action": "get_snapshot", "market_tickers": missing},
                        timeout=self._snapshot_timeout,
                    )
                except WsCommandError as exc:
                    logger.warning("kalshi ws: get_snapshot refused ({})", exc)
                    break
                except TimeoutError:
                    continue  # no snapshot (its reply) in time: ask again, then re-create
                try:
                    await asyncio.wait_for(sub.synced.wait(), self._snapshot_timeout)
                    return
                except TimeoutError:
                    continue
            if sub.awaiting and self.connected:
                await self._resubscribe(sub, "no fresh snapshot")
        except (NotConnected, TimeoutError) as exc:
            logger.info("kalshi ws: book recovery interrupted: {!r}", exc)
        finally:
            sub.recovering = False

    def _check_seq(self, sub: Subscription, seq: object, channel: str) -> bool:
        """Record ``seq``; False (and a :class:`SequenceGap`) when messages were skipped."""
        if not isinstance(seq, int) or isinstance(seq, bool):
            return True
        last = sub.last_seq
        sub.last_seq = seq
        if last is None or seq == last + 1:
            return True
        assert sub.sid is not None
        logger.warning("kalshi ws: {} sid {} seq gap: {} → {}", channel, sub.sid, last, seq)
        self._emit(SequenceGap(channel, sub.sid, last + 1, seq))
        return False

    # -- dispatch ------------------------------------------------------------------------

    def _dispatch(self, raw: str | bytes) -> None:
        self.messages += 1
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self.skipped += 1
            logger.warning("kalshi ws: skipping non-JSON message ({} bytes)", len(raw))
            return
        if not isinstance(data, dict):
            self.skipped += 1
            logger.warning("kalshi ws: skipping message that is not an object")
            return
        kind = data.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            # Still part of its subscription's sequence (e.g. ``event_lifecycle`` on the
            # lifecycle channel): count it, or the next message would look like a gap.
            sub = self._by_sid.get(data.get("sid"))  # type: ignore[arg-type]
            if sub is not None:
                self._check_seq(sub, data.get("seq"), str(kind))
            logger.debug("kalshi ws: ignoring message type {!r}", kind)
            return
        try:
            handler(data)
        except ParseError as exc:
            self.skipped += 1
            logger.warning("kalshi ws: skipping malformed {}: {}", kind, exc)
        except Exception:
            self.skipped += 1
            logger.exception("kalshi ws: error handling {} message; skipped", kind)

    def _emit(self, event: WsEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            logger.exception("kalshi ws: event callback failed for {}", type(event).__name__)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.opt(exception=exc).error("kalshi ws: background task failed")

    @staticmethod
    def _sid(data: dict[str, Any]) -> int:
        sid = data.get("sid")
        if not isinstance(sid, int) or isinstance(sid, bool):
            raise ParseError(f"{data.get('type')}: missing or invalid sid")
        return sid

    def _sub_for(self, data: dict[str, Any]) -> Subscription | None:
        sub = self._by_sid.get(self._sid(data))
        if sub is None:
            logger.debug("kalshi ws: {} for unknown sid {}", data.get("type"), data.get("sid"))
        return sub

    def _reply(self, data: dict[str, Any]) -> tuple[asyncio.Future[dict[str, Any]], Any] | None:
        command_id = data.get("id")
        if not isinstance(command_id, int) or command_id not in self._pending:
            return None
        return self._pending[command_id]

    def _on_subscribed(self, data: dict[str, Any]) -> None:
        msg = data.get("msg")
        if not isinstance(msg, dict) or not isinstance(msg.get("sid"), int):
            raise ParseError("subscribed: missing msg.sid")
        sid: int = msg["sid"]
        pending = self._reply(data)
        if pending is None:
            logger.warning("kalshi ws: unexpected subscribed reply {}", data.get("id"))
            return
        future, sub = pending
        if sub is not None and sub not in self._subs:
            # Unsubscribed while the subscribe was on its way: end it at the server too.
            self._spawn(self._unsubscribe_stale(sid))
        elif sub is not None:
            sub.sid = sid
            sub.last_seq = None
            sub.error = None
            self._by_sid[sid] = sub
            if sub.settled is not None:
                sub.settled.set()
            self._emit(Subscribed(sub.channel, sid, tuple(sub.market_tickers)))
        if not future.done():
            future.set_result(data)

    async def _unsubscribe_stale(self, sid: int) -> None:
        with contextlib.suppress(WsCommandError, TimeoutError, NotConnected):
            await self._command("unsubscribe", {"sids": [sid]})

    def _on_unsubscribed(self, data: dict[str, Any]) -> None:
        sid = data.get("sid")
        if isinstance(sid, int):
            self._by_sid.pop(sid, None)
        pending = self._reply(data)
        if pending is not None and not pending[0].done():
            pending[0].set_result(data)

    def _on_ok(self, data: dict[str, Any]) -> None:
        self._follow_seq(data)
        pending = self._reply(data)
        if pending is not None and not pending[0].done():
            pending[0].set_result(data)

    def _follow_seq(self, data: dict[str, Any]) -> None:
        """A command reply may carry its subscription's ``seq``: accept it when it is next.

        Replies are not data, so one that does not fit is ignored rather than treated as a
        gap (which would ask for a snapshot, whose reply could again not fit, and so on).
        """
        sid, seq = data.get("sid"), data.get("seq")
        sub = self._by_sid.get(sid) if isinstance(sid, int) else None
        if (
            sub is not None
            and isinstance(seq, int)
            and sub.last_seq is not None
            and seq == sub.last_seq + 1
        ):
            sub.last_seq = seq

    def _on_error(self, data: dict[str, Any]) -> None:
        self._follow_seq(data)
        msg = data.get("msg")
        if not isinstance(msg, dict) or not isinstance(msg.get("code"), int):
            raise ParseError("error: missing msg.code")
        code: int = msg["code"]
        text = str(msg.get("msg", ""))
        pending = self._reply(data)
        sid = data.get("sid")
        sub = self._by_sid.get(sid) if isinstance(sid, int) else None
        terminal = code in TERMINAL_ERROR_CODES and sub is not None
        channel = sub.channel if sub is not None else None
        if pending is not None:
            channel = channel or (pending[1].channel if pending[1] is not None else None)
            if not pending[0].done():
                pending[0].set_exception(WsCommandError(code, text))
        logger.warning("kalshi ws: error {} ({}) on {}", code, text, channel or "command")
        self._emit(SubscriptionFailed(channel, code, text, terminal))
        if terminal and sub is not None:
            if isinstance(sid, int):
                self._by_sid.pop(sid, None)
            sub.sid = None
            if sub.channel == ORDERBOOK:
                self._invalidate(sub, sub.market_tickers, f"subscription error {code}")
            self._spawn(self._resubscribe(sub, f"terminal error {code}"))

    def _on_snapshot(self, data: dict[str, Any]) -> None:
        sub = self._sub_for(data)
        if sub is None:
            return
        seq = data.get("seq")
        in_order = self._check_seq(sub, _int(seq), ORDERBOOK)
        try:
            event = OrderbookSnapshotEvent.from_wire(data.get("msg"), self._sid(data), _int(seq))
        except ParseError:
            self._lost_book_message(sub, "malformed snapshot")
            raise
        if not in_order:
            # Other books of this sid may have missed deltas; this one is fresh.
            others = [t for t in sub.market_tickers if t != event.market_ticker]
            self._invalidate(sub, [t for t in others if t not in sub.awaiting], "sequence gap")
            if sub.awaiting - {event.market_ticker}:
                self._recover(sub)
        sub.awaiting.discard(event.market_ticker)
        self._mark_synced(sub)
        self._emit(event)
        # A snapshot answering ``get_snapshot`` carries the command's id: it is the reply.
        pending = self._reply(data)
        if pending is not None and not pending[0].done():
            pending[0].set_result(data)

    def _on_delta(self, data: dict[str, Any]) -> None:
        sub = self._sub_for(data)
        if sub is None:
            return
        seq = _int(data.get("seq"))
        if not self._check_seq(sub, seq, ORDERBOOK):
            self._lost_book_message(sub, "sequence gap")
            return
        try:
            event = OrderbookDeltaEvent.from_wire(data.get("msg"), self._sid(data), seq)
        except ParseError:
            # The update was real but cannot be applied: the books it may touch are stale.
            self._lost_book_message(sub, "malformed delta")
            raise
        if event.market_ticker in sub.awaiting:
            # Stale until its snapshot arrives. Deltas while nobody is fetching one mean
            # the snapshot went missing (e.g. after a re-subscribe): fetch it.
            if not sub.recovering:
                self._recover(sub)
            return
        self._emit(event)

    def _lost_book_message(self, sub: Subscription, reason: str) -> None:
        """An order-book message of ``sub`` was lost: resnapshot every book it carries."""
        fresh = [t for t in sub.market_tickers if t not in sub.awaiting]
        self._invalidate(sub, fresh, reason)
        self._recover(sub)

    def _on_ticker(self, data: dict[str, Any]) -> None:
        if (sub := self._sub_for(data)) is not None:
            self._check_seq(sub, data.get("seq"), "ticker")
            self._emit(TickerEvent.from_wire(data.get("msg"), self._sid(data)))

    def _on_trade(self, data: dict[str, Any]) -> None:
        if (sub := self._sub_for(data)) is not None:
            seq = data.get("seq")
            self._check_seq(sub, seq, "trade")
            self._emit(TradeEvent.from_wire(data.get("msg"), self._sid(data), _opt_int(seq)))

    def _on_fill(self, data: dict[str, Any]) -> None:
        if (sub := self._sub_for(data)) is not None:
            self._check_seq(sub, data.get("seq"), "fill")
            self._emit(FillEvent.from_wire(data.get("msg"), self._sid(data)))

    def _on_user_order(self, data: dict[str, Any]) -> None:
        if (sub := self._sub_for(data)) is not None:
            self._check_seq(sub, data.get("seq"), "user_orders")
            self._emit(OrderUpdateEvent.from_wire(data.get("msg"), self._sid(data)))

    def _on_position(self, data: dict[str, Any]) -> None:
        if (sub := self._sub_for(data)) is not None:
            self._check_seq(sub, data.get("seq"), "market_positions")
            self._emit(PositionEvent.from_wire(data.get("msg"), self._sid(data)))

    def _on_lifecycle(self, data: dict[str, Any]) -> None:
        if (sub := self._sub_for(data)) is not None:
            seq = data.get("seq")
            self._check_seq(sub, seq, "market_lifecycle_v2")
            self._emit(LifecycleEvent.from_wire(data.get("msg"), self._sid(data), _opt_int(seq)))

    def _on_index_value(self, data: dict[str, Any]) -> None:
        if (sub := self._sub_for(data)) is not None:
            seq = data.get("seq")
            self._check_seq(sub, seq, "cfbenchmarks_value")
            self._emit(IndexValueEvent.from_wire(data.get("msg"), self._sid(data), _opt_int(seq)))

    def _on_index_value_5hz(self, data: dict[str, Any]) -> None:
        if (sub := self._sub_for(data)) is not None:
            seq = data.get("seq")
            self._check_seq(sub, seq, "cfbenchmarks_value_5hz")
            event = IndexValueEvent.from_wire_5hz(data.get("msg"), self._sid(data), _opt_int(seq))
            self._emit(event)

    def _on_order_group(self, data: dict[str, Any]) -> None:
        if (sub := self._sub_for(data)) is not None:
            seq = data.get("seq")
            self._check_seq(sub, seq, "order_group_updates")
            self._emit(OrderGroupEvent.from_wire(data.get("msg"), self._sid(data), _opt_int(seq)))


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ParseError("missing or invalid seq")
    return value


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _log_failure(future: concurrent.futures.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("kalshi ws command failed: {!r}", future.exception())


class WebSocketThread:
    """Runs a :class:`KalshiWebSocket` on its own event loop in a daemon thread.

    Actors call the blocking helpers; events reach the client's callback on this thread,
    so the callback should only hand them on (e.g. ``actor_ref.tell(event)``).
    """

    def __init__(self, client: KalshiWebSocket, *, name: str = "kalshi-ws") -> None:
        self.client = client
        self._name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._main_task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            raise RuntimeError("WebSocketThread already started")
        self._thread = threading.Thread(target=self._main, name=self._name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("websocket thread did not start")

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._main_task = loop.create_task(self.client.run())
        self._ready.set()
        try:
            loop.run_until_complete(self._main_task)
        except asyncio.CancelledError:
            logger.info("kalshi ws thread: cancelled by stop()")
        except BaseException as exc:  # reported to the owner through ``error``
            self.error = exc
            logger.opt(exception=exc).error("kalshi ws thread ended with an error")
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def stop(self, timeout: float = 5.0) -> bool:
        """Close the socket and join the thread; True if it ended within ``timeout``.

        Half the budget goes to a clean close; then the client's task is cancelled (for
        example while a handshake hangs) and the rest is spent joining the thread.
        """
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return True
        half = timeout / 2
        try:
            future = asyncio.run_coroutine_threadsafe(self.client.stop(), loop)
            future.result(half)
        except (TimeoutError, RuntimeError, OSError) as exc:
            logger.warning("kalshi ws thread: clean stop did not finish: {!r}", exc)
        thread.join(half / 2)
        task = self._main_task
        if thread.is_alive() and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop may have closed meanwhile
                loop.call_soon_threadsafe(task.cancel)
        thread.join(half / 2)
        return not thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end on its own (e.g. after an auth refusal)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive

    def call(self, make: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
        """Run ``make()`` on the client's loop and wait for its result."""
        return self.submit(make).result(timeout)

    def submit(self, make: Callable[[], Awaitable[T]]) -> concurrent.futures.Future[T]:
        """Run ``make()`` on the client's loop without waiting (an actor must not block on it).

        A failure is logged; the returned future also carries it.
        """
        loop = self._loop
        if loop is None or loop.is_closed() or not self.alive:
            raise NotConnected("websocket thread is not running")

        async def runner() -> T:
            return await make()

        future = asyncio.run_coroutine_threadsafe(runner(), loop)
        future.add_done_callback(_log_failure)
        return future

    def subscribe(
        self,
        channels: Sequence[str],
        *,
        market_tickers: Sequence[str] | None = None,
        index_ids: Sequence[str] | None = None,
        timeout: float = 10.0,
        **params: Any,
    ) -> list[Subscription]:
        return self.call(
            lambda: self.client.subscribe(
                channels,
                market_tickers=market_tickers,
                index_ids=index_ids,
                timeout=timeout,
                **params,
            ),
            timeout + 1.0,
        )

    def unsubscribe(self, sub: Subscription, timeout: float = 10.0) -> None:
        self.call(lambda: self.client.unsubscribe(sub), timeout)

    def update_subscription(
        self,
        sub: Subscription,
        action: str,
        market_tickers: Sequence[str],
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        return self.call(
            lambda: self.client.update_subscription(sub, action, market_tickers), timeout
        )

    def request_snapshot(self, market_ticker: str, timeout: float = 10.0) -> None:
        self.call(lambda: self.client.request_snapshot(market_ticker), timeout)
