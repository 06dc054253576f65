"""What the HTTP and WebSocket handlers share, stored on the aiohttp application."""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field

from aiohttp import web

from hub.config import HubConfig
from hub.control import ControlGateway
from hub.fanout import Broadcaster
from hub.metrics import HubMetrics
from hub.security import SecurityPolicy
from hub.store import HubStore
from runtime.system import ActorSystem


@dataclass
class HubDeps:
    config: HubConfig
    system: ActorSystem
    store: HubStore
    metrics: HubMetrics
    broadcaster: Broadcaster
    control: ControlGateway
    policy: SecurityPolicy
    started: float = field(default_factory=time.monotonic)
    sockets: weakref.WeakSet[web.WebSocketResponse] = field(default_factory=weakref.WeakSet)

    def now(self) -> float:
        return self.system.clock.now()

    def status_frame(self) -> bytes:
        return self.store.status_frame(self.config.mode, self.now())


DEPS = web.AppKey("hub_deps", HubDeps)
