"""SpotFeed: one settlement index (``SOLUSD_RTI``, ``BRTI``, …) as ``SpotTick``s, with its
recent prints. The bot runs one per index its series settle on, all fed by the one
shared WebSocket (:mod:`actors.market_stream`); a feed going stale marks only its own
index's ticks stale, so only the series settling on it stop trading.

The contract settles on the average of the index's prints in the minute before
close, so the feed keeps the last few minutes of prints (by time: the index arrives
about once a second, or five times on Kalshi's 5 Hz channel) for anyone who needs
them, and says so loudly (a stale tick) when prints stop arriving.

A (re)started feed first fills those minutes from its ``history`` sources
(:mod:`marketdata.backfill`: Kalshi's CF Benchmarks passthrough, then the ledger), so
strategies that start after it warm up at once instead of waiting minutes for live
prints; and it keeps one print a second in the ledger for the next start.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from loguru import logger

from actors.market_stream import SPOT_INDEX
from kalshi.connection import ExchangeConnection
from kalshi.rest import KalshiRestClient
from kalshi.ws_events import IndexValueEvent
from marketdata.backfill import PrintSource, backfill, first_each_second
from marketdata.passthrough import PassthroughPrints
from messages.market_data import FeedState, IndexPrints, SpotTick
from messages.queries import GetLastTick, GetPrints
from messages.timers import StalenessTick
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import SPOT
from storage.database import Database
from storage.index_prints import LedgerPrints

# A start waits for the backfill: bound it (two tries of two seconds, no longer wait for
# read tokens) so the strategies' catch-up, which waits five, still gets whatever there is.
PASSTHROUGH_TIMEOUT = 2.0
PASSTHROUGH_ATTEMPTS = 2


class SpotFeed(SupervisedActor):
    def __init__(
        self,
        context: ActorContext,
        index_id: str = SPOT_INDEX,
        stale_after: float = 5.0,
        keep_seconds: float = 300.0,
        history: Sequence[PrintSource] = (),
        ledger: str | None = None,
        record_every: float = 5.0,
    ) -> None:
        super().__init__(context)
        self.index_id = index_id
        self.stale_after = stale_after
        self.keep_seconds = keep_seconds
        self.history = tuple(history)  # where a (re)start finds the last minutes of prints
        self.ledger = ledger  # the address that keeps prints for the next start (None: none)
        self.record_every = record_every
        self.prints: deque[tuple[float, Decimal]] = deque()
        self.last: SpotTick | None = None
        self.last_arrival = 0.0
        self.stale = True
        self._recorded_to = 0.0  # the newest print in the ledger (or that came from history)
        self._recorded_at = 0.0

    def setup(self) -> None:
        self.every(1.0, StalenessTick)
        if self.history:
            self._warm_up()

    def teardown(self) -> None:
        self._record()  # what arrived since the last batch

    def handle(self, message: Any) -> Any:
        kind = type(message)
        if kind is IndexValueEvent:
            self._on_print(message)
        elif kind is StalenessTick:
            now = self.clock.now()
            if now - self.last_arrival > self.stale_after:
                self._go_stale(f"no index print for {self.stale_after:g} s")
            if now - self._recorded_at >= self.record_every:
                self._recorded_at = now
                self._record()
        elif kind is FeedState:
            if not message.connected:
                self._go_stale(message.reason)
        elif kind is GetPrints:
            return tuple(self.prints)
        elif kind is GetLastTick:
            return self.last
        else:
            return super().handle(message)
        return None

    def _warm_up(self) -> None:
        """The last ``keep_seconds`` of prints from the first history source that has any."""
        found = backfill(self.history, self.index_id, self.clock.now(), self.keep_seconds)
        logger.info("{}", found.describe(self.index_id))
        self.prints.extend(found.prints)
        if found.prints:
            self._recorded_to = found.prints[-1][0]  # kept already, or to be had again

    def _record(self) -> None:
        """Send the ledger one print a second of what arrived since the last batch."""
        if self.ledger is None:
            return
        after = self._recorded_to
        batch = first_each_second((p for p in self.prints if p[0] > after), after)
        if batch:
            self._recorded_to = batch[-1][0]
            self.system.tell(self.ledger, IndexPrints(self.index_id, tuple(batch), batch[-1][0]))

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
        self.publish(SPOT, self.last, self.index_id)

    def _go_stale(self, reason: str) -> None:
        if self.stale or self.last is None:
            return
        self.stale = True
        logger.warning("index {} stale: {}", self.index_id, reason)
        last = self.last
        self.publish(
            SPOT, SpotTick(last.index, last.price, last.ts, last.avg_60s, stale=True), self.index_id
        )


def history_sources(
    connection: ExchangeConnection | None, database: Database | None
) -> tuple[PrintSource, ...]:
    """Where a starting feed looks for recent prints: the exchange's CF Benchmarks
    passthrough (signed, so only with a key), then the prints kept in the ledger."""
    sources: list[PrintSource] = []
    if connection is not None and connection.signer is not None:
        signer = connection.signer

        def client() -> KalshiRestClient:
            return KalshiRestClient(
                connection.api_base,
                signer,
                rate_limiter=connection.limiter,
                rate_limit=connection.rate_limited,
                timeout=PASSTHROUGH_TIMEOUT,
                rate_limit_timeout=PASSTHROUGH_TIMEOUT,
                max_attempts=PASSTHROUGH_ATTEMPTS,
            )

        sources.append(PassthroughPrints(client))
    if database is not None:
        sources.append(LedgerPrints(database))
    return tuple(sources)
