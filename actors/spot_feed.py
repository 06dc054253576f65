"""SpotFeed: the settlement index (``SOLUSD_RTI``) as ``SpotTick``s, with its recent prints.

The contract settles on the average of the index's prints in the minute before
close, so the feed keeps the last few minutes of prints (by time: the index arrives
about once a second, or five times on Kalshi's 5 Hz channel) for anyone who needs
them, and says so loudly (a stale tick) when prints stop arriving.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

from loguru import logger

from kalshi.ws_events import IndexValueEvent
from messages.market_data import FeedState, SpotTick
from messages.system import Tick
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import SPOT


class SpotFeed(SupervisedActor):
    def __init__(
        self,
        context: ActorContext,
        index_id: str = "SOLUSD_RTI",
        stale_after: float = 5.0,
        keep_seconds: float = 300.0,
    ) -> None:
        super().__init__(context)
        self.index_id = index_id
        self.stale_after = stale_after
        self.keep_seconds = keep_seconds
        self.prints: deque[tuple[float, Decimal]] = deque()
        self.last: SpotTick | None = None
        self.last_arrival = 0.0
        self.stale = True

    def setup(self) -> None:
        self.every(1.0, "staleness")

    def handle(self, message: Any) -> Any:
        kind = type(message)
        if kind is IndexValueEvent:
            self._on_print(message)
        elif kind is Tick:
            if self.clock.now() - self.last_arrival > self.stale_after:
                self._go_stale(f"no index print for {self.stale_after:g} s")
        elif kind is FeedState:
            if not message.connected:
                self._go_stale(message.reason)
        elif message == "prints":
            return tuple(self.prints)
        elif message == "last":
            return self.last
        else:
            return super().handle(message)
        return None

    def _on_print(self, event: IndexValueEvent) -> None:
        ts = (event.source_ts_ms if event.source_ts_ms is not None else event.received_at_ms) / 1000
        prints = self.prints
        if prints and ts <= prints[-1][0]:
            return  # duplicate or out-of-order upstream print: the exchange ignores it too
        prints.append((ts, event.value))
        while prints[0][0] < ts - self.keep_seconds:
            prints.popleft()
        self.last_arrival = self.clock.now()
        average = event.final_minute_avg.value if event.final_minute_avg is not None else None
        if self.stale:
            logger.info("index {} flowing: {}", self.index_id, event.value)
        self.stale = False
        self.last = SpotTick(self.index_id, event.value, ts, average)
        self.publish(SPOT, self.last)

    def _go_stale(self, reason: str) -> None:
        if self.stale or self.last is None:
            return
        self.stale = True
        logger.warning("index {} stale: {}", self.index_id, reason)
        last = self.last
        self.publish(SPOT, SpotTick(last.index, last.price, last.ts, last.avg_60s, stale=True))
