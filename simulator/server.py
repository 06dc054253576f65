"""The aiohttp server around the core: REST, WebSocket, control endpoints and the clock.

Everything that touches the core runs on the server's own event loop, so the
core needs no locks. Before each request or WebSocket command the core is
advanced to the clock; the events it produces are fanned out to WebSocket
clients. A background task keeps advancing it with the wall clock; with a
manual clock time moves only through :meth:`SimServer.advance_by`.

Control endpoints (unauthenticated, for tests): ``GET/POST /sim/faults``,
``POST /sim/advance`` (manual clock only), ``GET /sim/status``. They answer
loopback clients only unless ``allow_remote_control``; every answer carries the
``X-Sol15-Simulator`` header (``simulator.identity``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import orjson
from aiohttp import web
from loguru import logger

from kalshi.auth import WS_PATH
from simulator import errors
from simulator.clock import ManualClock
from simulator.exchange import Exchange
from simulator.faults import FaultError, Faults, parse_fault_body
from simulator.identity import control_refused, stamp
from simulator.keys import KeyRegistry
from simulator.responses import API_PREFIX, error_response, json_response
from simulator.rest import RestApi
from simulator.ws import WebSocketHub

T = TypeVar("T")


class SimServer:
    """One exchange served over HTTP and WebSocket."""

    def __init__(
        self,
        exchange: Exchange,
        *,
        clock: Callable[[], float],
        keys: KeyRegistry,
        faults: Faults,
        host: str = "127.0.0.1",
        port: int = 0,
        manual_clock: ManualClock | None = None,
        heartbeat_seconds: float | None = 10.0,
        tick_seconds: float = 0.1,
        log_index: bool = False,
        allow_remote_control: bool = False,
    ) -> None:
        self.exchange = exchange
        self.clock = clock
        self.keys = keys
        self.faults = faults
        self.host = host
        self.port = port
        self.manual_clock = manual_clock
        self.tick_seconds = tick_seconds
        self.log_index = log_index
        self.allow_remote_control = allow_remote_control
        self.hub = WebSocketHub(exchange, faults, self.sync, heartbeat_seconds)
        self.rest = RestApi(self)
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._last_logged = -1
        self.app = web.Application(middlewares=[self._middleware])
        self.app.on_response_prepare.append(stamp)
        self.app.add_routes(self.rest.routes())
        self.app.add_routes(
            [
                web.get(WS_PATH, self._websocket),
                web.get("/sim/faults", self._get_faults),
                web.post("/sim/faults", self._post_faults),
                web.post("/sim/advance", self._post_advance),
                web.get("/sim/status", self._get_status),
            ]
        )

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self.sync()
        if self.manual_clock is None:
            self._ticker = asyncio.create_task(self._tick_loop())
        logger.info("exchange simulator listening on {}", self.api_base)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}{WS_PATH}"

    # --- time -------------------------------------------------------------------------

    def sync(self) -> None:
        """Advance the core to the clock and send what happened."""
        before = self.exchange.index.last_ts
        self.exchange.advance(self.clock())
        self.flush()
        elapsed = self.exchange.index.last_ts - before
        if elapsed > 0:
            self.hub.random_drops(elapsed)
            if self.log_index:
                prints = [(x.index_id, x.index.latest()) for x in self.exchange.listings.values()]
                values = ", ".join(f"{index_id} {latest.value}" for index_id, latest in prints)
                logger.info("{} at {}", values, prints[0][1].ts)

    def flush(self) -> None:
        self.hub.dispatch(self.exchange.drain_events())

    async def advance_by(self, seconds: float) -> float:
        """Manual clock: move time on, run the core, wait until WS messages are written."""
        if self.manual_clock is None:
            raise RuntimeError("advance_by needs a manual clock")
        now = self.manual_clock.advance(seconds)
        self.sync()
        await self.hub.drain()
        return now

    async def _tick_loop(self) -> None:
        while True:
            try:
                self.sync()
            except Exception:  # the clock must keep running whatever one step did
                logger.exception("exchange step failed")
            await asyncio.sleep(self.tick_seconds)

    # --- auth -------------------------------------------------------------------------

    def authenticate(self, request: web.Request) -> str:
        """The user a signed request comes from (401 otherwise)."""
        key = self.keys.authenticate(request.headers, request.method, request.rel_url.raw_path)
        return key.user_id

    # --- middleware -------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if control_refused(request, self.allow_remote_control):
            return error_response(
                errors.ExchangeError(
                    403,
                    errors.FORBIDDEN,
                    "forbidden",
                    "the /sim control endpoints answer loopback clients only "
                    "(start exchange-sim with --allow-remote-control to expose them)",
                )
            )
        api = request.path.startswith(API_PREFIX)
        if api:
            latency = self.faults.latency_ms
            if latency > 0:
                await asyncio.sleep(latency / 1000)
            if self.faults.take_429():
                return error_response(
                    errors.ExchangeError(
                        429, errors.TOO_MANY_REQUESTS, "too many requests", "simulated rate limit"
                    )
                )
            if self.faults.take_5xx():
                return error_response(
                    errors.ExchangeError(
                        500,
                        errors.INTERNAL_SERVER_ERROR,
                        "internal server error",
                        "simulated fault",
                    )
                )
        try:
            self.sync()
            response: web.StreamResponse = await handler(request)
            return response
        except errors.ExchangeError as exc:
            return error_response(exc)
        except web.HTTPException as exc:
            if not api or exc.status < 400:
                raise
            code = errors.METHOD_NOT_ALLOWED if exc.status == 405 else errors.NOT_FOUND
            return error_response(
                errors.ExchangeError(
                    exc.status, code, exc.reason, f"{request.method} {request.path}"
                )
            )
        except Exception:
            logger.exception("request failed: {} {}", request.method, request.path)
            return error_response(
                errors.ExchangeError(500, errors.INTERNAL_SERVER_ERROR, "internal server error")
            )
        finally:
            self.flush()

    async def lose_response(self, request: web.Request) -> web.StreamResponse:
        """The order exists, but the client never learns it (fault injection)."""
        if self.faults.lost_response_mode == "500":
            return error_response(
                errors.ExchangeError(
                    500, errors.INTERNAL_SERVER_ERROR, "internal server error", "response lost"
                )
            )
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError

    # --- WebSocket --------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        user_id = self.authenticate(request)
        return await self.hub.serve(request, user_id)

    # --- control endpoints ------------------------------------------------------------

    async def _get_faults(self, request: web.Request) -> web.Response:
        return json_response(self.faults.as_dict())

    async def _post_faults(self, request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError:
            raise errors.bad_request("request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise errors.bad_request("request body must be a JSON object")
        try:
            changes, reset, drop = parse_fault_body(body)
            if reset:
                self.faults.reset()
            self.faults.update(**changes)
        except FaultError as exc:
            raise errors.invalid(str(exc)) from None
        result = self.faults.as_dict()
        if drop:
            result["dropped_connections"] = self.hub.drop_all()
        return json_response(result)

    async def _post_advance(self, request: web.Request) -> web.Response:
        if self.manual_clock is None:
            raise errors.ExchangeError(409, errors.CONFLICT, "the clock is not manual")
        try:
            body = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError:
            raise errors.bad_request("request body is not valid JSON") from None
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise errors.invalid("seconds must be a non-negative number")
        now = await self.advance_by(float(seconds))
        return json_response({"now": now})

    async def _get_status(self, request: web.Request) -> web.Response:
        current = self.exchange.current_market()
        latest = self.exchange.index.latest()
        return json_response(
            {
                "now": self.exchange.now,
                "manual_clock": self.manual_clock is not None,
                "current_market": current.ticker if current else None,
                "index": {"ts": latest.ts, "value": str(latest.value)},
                "websocket_connections": len(self.hub.connections),
                "series": [self._series_status(ticker) for ticker in self.exchange.listings],
            }
        )

    def _series_status(self, ticker: str) -> dict[str, object]:
        """One listed series in ``/sim/status``: its open market and its index's last print."""
        listing = self.exchange.listings[ticker]
        current = self.exchange.current_market(ticker)
        latest = listing.index.latest()
        return {
            "series_ticker": ticker,
            "current_market": current.ticker if current else None,
            "index_id": listing.index_id,
            "index": {"ts": latest.ts, "value": str(latest.value)},
        }


class BackgroundServer:
    """Runs a :class:`SimServer` on its own event loop in a daemon thread."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="exchange-sim", daemon=True)
        self._started: Future[None] = Future()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._started.set_exception(exc)
            return
        self._started.set_result(None)
        self.loop.run_forever()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        self._started.result(timeout)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        """Run a coroutine on the server loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T], timeout: float | None = 30.0) -> T:
        """Run ``fn()`` on the server loop (where the core lives) and return its result."""

        async def invoke() -> T:
            result = fn()
            self.server.flush()
            return result

        return self.run(invoke(), timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self.run(self.server.stop(), timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
