"""The bridge from the hub actor's thread to the event loop, and the fan-out to every client.

The actor thread calls ``post`` (thread-safe, never blocks on the loop); one
scheduled ``_drain`` on the loop then hands the whole batch to every client's
outbox. If the loop falls so far behind that ``max_pending`` events wait, the
batch is thrown away and every client is resynced from the current status.
A watchdog drops clients whose socket has accepted nothing for ``send_timeout``.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterable

from loguru import logger

from hub.events import STATUS_KEY, Outgoing
from hub.feed import ClientFeed


class Broadcaster:
    def __init__(
        self, loop: asyncio.AbstractEventLoop, *, max_pending: int, send_timeout: float
    ) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: deque[Outgoing] = deque()
        self._scheduled = False
        self._overflowed = False
        self.max_pending = max_pending
        self.send_timeout = send_timeout
        self.clients: set[ClientFeed] = set()
        self.latest: dict[str, bytes] = {}  # the newest coalesced frame per key (for resyncs)
        self.max_latest = 64  # tickers come and go every 15 minutes: keep only the recent ones
        self._watchdog: asyncio.Task[None] | None = None
        self.posted = 0
        self.overflows = 0
        self.frames_sent = 0  # written by the client writers (loop thread only)

    # -- any thread ---------------------------------------------------------------------------

    def post(self, items: Iterable[Outgoing]) -> None:
        with self._lock:
            before = len(self._pending)
            self._pending.extend(items)
            self.posted += len(self._pending) - before
            if len(self._pending) > self.max_pending:
                self._pending.clear()
                self._overflowed = True
                self.overflows += 1
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop is closed: the hub is stopping
            with self._lock:
                self._scheduled = False

    @property
    def count(self) -> int:
        return len(self.clients)

    # -- the event loop -----------------------------------------------------------------------

    def add(self, client: ClientFeed) -> None:
        self.clients.add(client)
        client.prime()
        if self._watchdog is None:
            self._watchdog = self._loop.create_task(self._watch())

    def remove(self, client: ClientFeed) -> None:
        self.clients.discard(client)

    def latest_frames(self) -> dict[str, bytes]:
        return dict(self.latest)

    def _drain(self) -> None:
        with self._lock:
            items = list(self._pending)
            self._pending.clear()
            self._scheduled = False
            overflowed, self._overflowed = self._overflowed, False
        clients = list(self.clients)
        if overflowed:
            logger.warning(
                "hub fell behind by more than {} events: resyncing clients", self.max_pending
            )
            for client in clients:
                client.resync_now()
        latest = self.latest
        for item in items:
            if item.key is not None and item.frame is not None:
                latest.pop(item.key, None)  # re-insert: the oldest keys are forgotten first
                latest[item.key] = item.frame
                if len(latest) > self.max_latest:
                    del latest[next(iter(latest))]
            for client in clients:
                client.offer(item)

    async def _watch(self) -> None:
        """Drop clients stuck in one send for longer than ``send_timeout``."""
        period = min(1.0, self.send_timeout / 2)
        while True:
            await asyncio.sleep(period)
            now = self._loop.time()
            for client in list(self.clients):
                if client.stalled_for(now) > self.send_timeout:
                    client.drop("send_timeout")

    def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None


__all__ = ["STATUS_KEY", "Broadcaster"]
