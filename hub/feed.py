"""One WebSocket client's outbox: a bounded queue, coalesced slots and its own writer task.

A client that reads slowly must never slow the bot or the other clients. The
fan-out only ever appends to this outbox (no awaiting); the writer task does the
sending. When the queue overflows the backlog is thrown away and the client gets
a fresh ``status_update`` (and the latest market frames) instead: a resync. If
it stays stuck — another queue's worth of events skipped before the writer could
even send that resync, or one send blocked longer than ``send_timeout`` (checked
by the broadcaster's watchdog) — it is dropped.

Replies to the client's own commands are counted until they are written: a client
that sends commands faster than it reads the answers owes more and more of them,
and once it owes ``max_owed`` :meth:`ClientFeed.reply` stops reading its commands
until it reads some answers; if it does not, the handler closes it with a reason
instead of letting its outbox overflow.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from hub.events import Outgoing


class ClientGone(Exception):
    """The connection closed (or was dropped) while sending."""


class _Reply(bytes):
    """A frame answering this client's own command (counted until it is written)."""


class ClientFeed:
    def __init__(
        self,
        send: Callable[[bytes], Awaitable[None]],
        status: Callable[[], bytes],
        latest: Callable[[], dict[str, bytes]],
        *,
        limit: int,
        interval: float,
        on_drop: Callable[[str], None],
        on_resync: Callable[[], None] = lambda: None,
        on_sent: Callable[[int], None] = lambda n: None,
        name: str = "client",
        max_owed: int = 64,
    ) -> None:
        self._send_fn = send
        self._status = status
        self._latest = latest
        self.limit = limit
        self.interval = interval
        self._on_drop = on_drop
        self._on_resync = on_resync
        self._on_sent = on_sent
        self.name = name
        self.max_owed = max_owed
        self.owed = 0  # replies queued (or skipped for a resync) and not yet written
        self._paid = asyncio.Event()  # set when a reply is written
        self.queue: deque[bytes] = deque()
        self.coalesced: dict[str, bytes | None] = {}
        self._wake = asyncio.Event()
        self._resync = False
        self._priming = False
        self._skipped = 0
        self._timer: asyncio.TimerHandle | None = None
        self._next_flush = 0.0
        self.send_started: float | None = None  # loop time of the send in progress, if any
        self.sent = 0
        self.resyncs = 0
        self.closed = False
        self.drop_reason: str | None = None

    # -- called by the fan-out (never awaits) ------------------------------------------------

    def offer(self, item: Outgoing) -> None:
        if self.closed:
            return
        if item.key is not None:
            self.coalesced.pop(item.key, None)  # re-insert: newest keys flush last
            self.coalesced[item.key] = item.frame
            self._wake.set()
            return
        assert item.frame is not None
        self.push(item.frame)

    def push(self, frame: bytes) -> None:
        """An ordered frame (event, or a reply to this client)."""
        if self.closed:
            return
        if self._resync:
            self._skipped += 1
            if self._skipped >= self.limit:
                self.drop("stuck")
            return
        if len(self.queue) >= self.limit:
            self.queue.clear()
            self.coalesced.clear()
            self._resync = True
            self._skipped = 1
            self._wake.set()
            return
        self.queue.append(frame)
        self._wake.set()

    async def reply(self, frame: bytes, wait: float) -> bool:
        """Queue an answer to the client's own command.

        A client that owes ``max_owed`` answers is given up to ``wait`` seconds to read
        some (meanwhile its next command is not read: the pressure goes back to it);
        False when it did not: it sends faster than it reads.
        """
        if self.owed >= self.max_owed:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait
            while self.owed >= self.max_owed:
                left = deadline - loop.time()
                if left <= 0 or self.closed:
                    return False
                self._paid.clear()
                try:
                    await asyncio.wait_for(self._paid.wait(), left)
                except TimeoutError:
                    return False
        self.owed += 1
        self.push(_Reply(frame))
        return True

    def prime(self) -> None:
        """A new client starts from the current status and the latest market frames."""
        self._priming = True
        self._wake.set()

    def resync_now(self) -> None:
        """The hub itself fell behind: start this client over from a fresh status."""
        if not self.closed:
            self.queue.clear()
            self.coalesced.clear()
            self._resync = True
            self._wake.set()

    def drop(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.drop_reason = reason
        self.queue.clear()
        self.coalesced.clear()
        self._wake.set()
        self._on_drop(reason)

    def stalled_for(self, now: float) -> float:
        started = self.send_started
        return 0.0 if started is None else now - started

    # -- the writer task ------------------------------------------------------------------------

    async def run(self) -> None:
        """Send until the client goes away or is dropped."""
        loop = asyncio.get_running_loop()
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                if self._priming or self._resync:
                    await self._send_snapshot()
                while self.queue and not self._resync and not self.closed:
                    await self._send(self.queue.popleft())
                if self._resync or self.closed or not self.coalesced:
                    continue
                now = loop.time()
                if now >= self._next_flush:
                    pending, self.coalesced = self.coalesced, {}
                    for frame in pending.values():
                        await self._send(frame if frame is not None else self._status())
                    self._next_flush = loop.time() + self.interval
                elif self._timer is None:
                    self._timer = loop.call_at(self._next_flush, self._due)
        except ClientGone:
            self.closed = True
        finally:
            if self._timer is not None:
                self._timer.cancel()

    def _due(self) -> None:
        self._timer = None
        self._wake.set()

    async def _send_snapshot(self) -> None:
        """The current status and latest market frames: a new client's start, or a resync."""
        if self._resync:
            self.resyncs += 1
            self._on_resync()
            self.owed = 0  # the replies it skipped: the fresh status answers them all
            self._paid.set()
        self._resync = self._priming = False
        self._skipped = 0
        await self._send(self._status())
        for frame in self._latest().values():
            await self._send(frame)

    async def _send(self, frame: bytes) -> None:
        self.send_started = asyncio.get_running_loop().time()
        try:
            await self._send_fn(frame)
        except (ConnectionError, RuntimeError) as exc:  # closing transport, reset by peer
            raise ClientGone(str(exc)) from None
        finally:
            self.send_started = None
        if type(frame) is _Reply:
            self.owed -= 1
            self._paid.set()
        self.sent += 1
        self._on_sent(1)
