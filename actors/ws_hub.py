"""WebSocketHub: the dashboard page, the control API and the live feed, on aiohttp.

The actor listens to every event topic and keeps the current picture (a
``HubStore``); its HTTP server runs on its own asyncio loop in its own thread
(``hub.server``). Bus events go actor thread → ``EventRouter`` (state + frames)
→ broadcaster → each client's bounded outbox, so neither a slow browser nor a
burst of book updates can back up into the bot. Controls from the API go to the
trading actors as messages (asks run off the loop), never by direct calls.

Wiring: first child of the root (it must subscribe before the others publish)::

    store = HubStore()  # made once, outside the child spec: survives hub restarts
    ChildSpec.of("hub", WebSocketHub, HubConfig.from_settings(settings, host, port, mode), store)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loguru import logger

from hub.config import HubConfig
from hub.control import ControlGateway
from hub.deps import HubDeps
from hub.events import EventRouter
from hub.fanout import Broadcaster
from hub.metrics import HubMetrics
from hub.security import SecurityPolicy
from hub.server import HubServer
from hub.store import HubStore
from messages.queries import GetEndpoint, Query
from messages.timers import CountsTick
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import (
    ALERTS,
    BOOK,
    FILLS,
    MARKETS,
    ORDERS,
    SCOREBOARD,
    SIGNALS,
    SPOT,
    STATUS,
    SYSTEM,
)

TOPICS = (SPOT, BOOK, SIGNALS, ORDERS, FILLS, SYSTEM, MARKETS, STATUS, ALERTS, SCOREBOARD)

__all__ = ["GetEndpoint", "HubConfig", "HubEndpoint", "HubStore", "WebSocketHub"]


@dataclass(frozen=True, slots=True)
class HubEndpoint:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/ws"


class WebSocketHub(SupervisedActor):
    def __init__(
        self, context: ActorContext, config: HubConfig, store: HubStore | None = None
    ) -> None:
        super().__init__(context)
        self.config = config
        self.store = store if store is not None else HubStore(config.history_limit)
        self.metrics = HubMetrics(self.system, self.store)
        self.router = EventRouter(self.store, self.metrics)
        self.server: HubServer | None = None
        self.port: int | None = None

    def setup(self) -> None:
        self.subscribe(*TOPICS, last=True)  # it shows what happened: no one waits for it
        server = HubServer(self.config, self._deps, name=self.name)
        # Port 0 means "any free port" the first time; a restart comes back on the same one.
        port = self.config.port or self.store.port or 0
        try:
            self.port = server.start(self.config.host, port, self.config.start_timeout)
        except OSError:
            if self.config.port or not port:
                raise
            logger.warning("hub: port {} is taken; picking another", port)
            self.port = server.start(self.config.host, 0, self.config.start_timeout)
        self.server = server
        self.store.port = self.port
        self.store.refresh_counts()
        self.every(self.config.counts_interval, CountsTick)
        logger.info(
            "hub: dashboard and API at {} (controls {})",
            self.endpoint().url,
            _access(self.config),
        )

    def handle(self, message: Any) -> Any:
        if type(message) is GetEndpoint:
            return self.endpoint()
        if type(message) is CountsTick:
            self.store.refresh_counts()
            return None
        if isinstance(message, Query):
            return super().handle(message)  # not ours to answer: a dead letter
        if not self.router.handles(message):
            return None  # other system chatter (health reports): nothing to show
        items = self.router.apply(message)
        server = self.server
        if items and server is not None:
            server.broadcaster.post(items)
        return None

    def teardown(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.stop(timeout=self.config.start_timeout)

    def endpoint(self) -> HubEndpoint:
        assert self.port is not None
        return HubEndpoint(self.config.host, self.port)

    def _deps(self, broadcaster: Broadcaster) -> HubDeps:
        """Built on the server's loop once it exists (the broadcaster belongs to that loop)."""
        self.metrics.track_feed(
            lambda: broadcaster.count,
            lambda: broadcaster.frames_sent,
            lambda: broadcaster.overflows,
        )
        return HubDeps(
            config=self.config,
            system=self.system,
            store=self.store,
            metrics=self.metrics,
            broadcaster=broadcaster,
            control=ControlGateway(self.system, self.config.ask_timeout),
            policy=SecurityPolicy(self.config),
        )


def _access(config: HubConfig) -> str:
    if config.reads_need_token:
        return "and reads need the API token; /api/health is open"
    return "need the API token" if config.auth_required else "open on loopback"
