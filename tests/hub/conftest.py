"""Hub fixtures: a supervision tree with the hub and fake trading actors, on an ephemeral port."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from actors.ws_hub import HubEndpoint, WebSocketHub
from hub.config import HubConfig
from hub.store import HubStore
from messages.queries import GetEndpoint
from runtime.clock import SimClock
from runtime.quiescence import quiesce
from runtime.restart_policy import Backoff, Strategy
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.hub.fakes import Controls, FakeOrder, FakeRisk, FakeStrategy

TOKEN = "test-token-0123456789"
STRATEGY = "kelly_volatility"
NO_JITTER = Backoff(initial=0.5, factor=2.0, maximum=4.0, jitter=0.0)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Harness:
    system: ActorSystem
    clock: SimClock
    controls: Controls
    endpoint: HubEndpoint
    store: HubStore
    config: HubConfig
    token: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def ws_url(self) -> str:
        return self.endpoint.ws_url

    def publish(self, topic: str, message: object) -> None:
        self.system.bus.publish(topic, message)

    def settle(self) -> None:
        """Barrier: every actor (the hub included) has handled everything sent so far."""
        quiesce(self.system)

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def hub_tree(
    config: HubConfig, controls: Controls, store: HubStore, *, trading: bool = True
) -> SupervisorSpec:
    children: list[ChildSpec | SupervisorSpec] = [
        ChildSpec.of("hub", WebSocketHub, config, store, shutdown_timeout=15.0)
    ]
    if trading:
        children.append(
            SupervisorSpec(
                "trading",
                (
                    ChildSpec.of("risk", FakeRisk, controls),
                    ChildSpec.of("order", FakeOrder, controls),
                ),
                strategy=Strategy.REST_FOR_ONE,
                backoff=NO_JITTER,
            )
        )
        children.append(
            SupervisorSpec(
                "strategies",
                (ChildSpec.of(f"strategy:{STRATEGY}", FakeStrategy, controls, STRATEGY),),
                backoff=NO_JITTER,
            )
        )
    return SupervisorSpec("root", tuple(children), backoff=NO_JITTER, max_restarts=20)


StartHub = Callable[..., Harness]


@pytest.fixture
def start_hub(system: ActorSystem, clock: SimClock) -> StartHub:
    """Start the tree; the ``system`` fixture shuts it (and the hub's server) down."""

    def start(*, trading: bool = True, store: HubStore | None = None, **options: Any) -> Harness:
        options.setdefault("port", 0)
        options.setdefault("send_timeout", 5.0)
        config = HubConfig(**options)
        store = store if store is not None else HubStore()
        controls = Controls()
        system.start(hub_tree(config, controls, store, trading=trading))
        quiesce(system)
        endpoint = system.ask("hub", GetEndpoint())
        return Harness(system, clock, controls, endpoint, store, config, config.api_token)

    return start


@pytest.fixture
def hub(start_hub: StartHub) -> Harness:
    return start_hub()


@pytest.fixture
def secured(start_hub: StartHub) -> Harness:
    return start_hub(api_token=TOKEN)
