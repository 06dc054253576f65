"""One client's outbox on its own: ordering, coalescing, resync on overflow, drop when stuck."""

from __future__ import annotations

import asyncio

import pytest

from hub.events import STATUS, Outgoing
from hub.feed import ClientFeed

pytestmark = pytest.mark.anyio


class Peer:
    """A fake socket: records frames; ``gate`` cleared = the peer stopped reading."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.arrived = asyncio.Event()
        self.blocked = asyncio.Event()
        self.drops: list[str] = []

    async def send(self, frame: bytes) -> None:
        if not self.gate.is_set():
            self.blocked.set()
            await self.gate.wait()
        self.frames.append(frame)
        self.arrived.set()

    async def until(self, count: int) -> None:
        async def wait() -> None:
            while len(self.frames) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(wait(), 5)


def feed_for(peer: Peer, limit: int = 4, interval: float = 0.0) -> ClientFeed:
    return ClientFeed(
        peer.send,
        lambda: b"STATUS",
        lambda: {"book:A": b"BOOK-A"},
        limit=limit,
        interval=interval,
        on_drop=peer.drops.append,
    )


async def test_primes_with_status_then_sends_in_order() -> None:
    peer = Peer()
    feed = feed_for(peer)
    task = asyncio.create_task(feed.run())
    feed.prime()
    for n in range(3):
        feed.offer(Outgoing(f"e{n}".encode()))
    await peer.until(5)
    assert peer.frames == [b"STATUS", b"BOOK-A", b"e0", b"e1", b"e2"]
    assert feed.resyncs == 0
    task.cancel()


async def test_coalesced_keys_keep_only_the_latest_and_respect_the_interval() -> None:
    peer = Peer()
    feed = feed_for(peer, interval=0.05)
    task = asyncio.create_task(feed.run())
    feed.offer(Outgoing(b"A1", "book:A"))
    await peer.until(1)
    loop = asyncio.get_running_loop()
    sent_first = loop.time()
    for n in range(2, 50):
        feed.offer(Outgoing(f"A{n}".encode(), "book:A"))
        feed.offer(Outgoing(f"B{n}".encode(), "book:B"))
    feed.offer(STATUS)
    await peer.until(4)
    assert peer.frames == [b"A1", b"A49", b"B49", b"STATUS"]
    assert loop.time() - sent_first >= 0.05 * 0.9  # the second flush waited for the interval
    task.cancel()


async def test_overflow_resyncs_instead_of_sending_the_backlog() -> None:
    peer = Peer()
    feed = feed_for(peer, limit=4)
    task = asyncio.create_task(feed.run())
    peer.gate.clear()
    feed.offer(Outgoing(b"first"))
    await asyncio.wait_for(peer.blocked.wait(), 5)  # the writer is stuck sending "first"
    for n in range(5):  # the fifth overflows the queue of four
        feed.offer(Outgoing(f"late{n}".encode()))
    assert feed.queue == type(feed.queue)()
    peer.gate.set()
    await peer.until(3)
    feed.offer(Outgoing(b"after"))
    await peer.until(4)
    assert peer.frames == [b"first", b"STATUS", b"BOOK-A", b"after"]
    assert feed.resyncs == 1
    assert peer.drops == []
    task.cancel()


async def test_a_client_that_stays_stuck_is_dropped() -> None:
    peer = Peer()
    feed = feed_for(peer, limit=4)
    task = asyncio.create_task(feed.run())
    peer.gate.clear()
    feed.offer(Outgoing(b"first"))
    await asyncio.wait_for(peer.blocked.wait(), 5)
    for n in range(9):  # a queue's worth to overflow, then another queue's worth skipped
        feed.offer(Outgoing(f"e{n}".encode()))
    assert peer.drops == ["stuck"]
    assert feed.closed
    feed.offer(Outgoing(b"ignored"))
    assert not feed.queue
    task.cancel()


async def test_stalled_send_is_visible_to_the_watchdog() -> None:
    peer = Peer()
    feed = feed_for(peer)
    task = asyncio.create_task(feed.run())
    peer.gate.clear()
    feed.offer(Outgoing(b"x"))
    await asyncio.wait_for(peer.blocked.wait(), 5)
    now = asyncio.get_running_loop().time()
    assert feed.stalled_for(now + 30) >= 30
    peer.gate.set()
    await peer.until(1)
    assert feed.stalled_for(now + 30) == 0.0
    task.cancel()
