"""The hub's HTTP server on its own asyncio loop in its own thread.

The actor thread calls ``start`` (blocks until the socket is bound, or raises)
and ``stop`` (closes every WebSocket with GOING_AWAY, releases the port, ends
the thread). Nothing here runs on the actor thread except those two calls and
``post`` (through the broadcaster), so a slow client or handler never delays
the actor's mailbox — and the actor never blocks the loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from loguru import logger

from hub import routes_ws
from hub.app import build_app
from hub.config import HubConfig
from hub.deps import HubDeps
from hub.fanout import Broadcaster


class _AccessLog(AbstractAccessLogger):
    """Path only: the query string may hold the WebSocket ``token``."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        logger.debug(
            "hub: {} {} {} {:.1f} ms", request.method, request.path, response.status, time * 1e3
        )


class HubServer:
    def __init__(
        self, config: HubConfig, make_deps: Callable[[Broadcaster], HubDeps], name: str = "hub"
    ) -> None:
        self._config = config
        self._make_deps = make_deps
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.deps: HubDeps | None = None
        self.port: int | None = None

    @property
    def broadcaster(self) -> Broadcaster:
        assert self.deps is not None, "the server is not started"
        return self.deps.broadcaster

    def start(self, host: str, port: int, timeout: float) -> int:
        """Bind and serve; returns the bound port. Raises (and cleans up) when it cannot."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run, args=(loop,), name=f"{self._name}-loop", daemon=True
        )
        self._thread.start()
        try:
            self.port = self._call(self._start(host, port), timeout)
        except BaseException:
            self.stop(timeout)
            raise
        return self.port

    def stop(self, timeout: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        if not loop.is_closed():
            try:
                self._call(self._stop(), timeout, loop)
            except Exception as exc:  # stopping must go on: the port matters more than grace
                logger.error("hub: graceful stop failed: {}: {}", type(exc).__name__, exc)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            logger.error("hub: event loop thread did not end within {} s", timeout)

    # -- on the loop --------------------------------------------------------------------------

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _start(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        self.deps = self._make_deps(
            Broadcaster(
                loop,
                max_pending=self._config.max_pending,
                send_timeout=self._config.send_timeout,
            )
        )
        runner = web.AppRunner(
            build_app(self.deps),
            handle_signals=False,
            access_log_class=_AccessLog,
            access_log=logging.getLogger("sol15.hub.access"),
            shutdown_timeout=2.0,
        )
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
        bound = runner.addresses[0]
        return int(bound[1])

    async def _stop(self) -> None:
        deps = self.deps
        if deps is not None:
            deps.broadcaster.stop()
            await routes_ws.close_all(deps)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if deps is not None:
            deps.control.close()

    def _call(
        self, coro: object, timeout: float, loop: asyncio.AbstractEventLoop | None = None
    ) -> int:
        target = loop or self._loop
        assert target is not None
        future: Future[int] = asyncio.run_coroutine_threadsafe(coro, target)  # type: ignore[arg-type]
        return future.result(timeout)
