"""The hub crashes and its supervisor restarts it: port released and rebound, clients reconnect."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from hub.config import HubConfig
from hub.store import HubStore
from messages.queries import GetEndpoint
from runtime.bus import ORDERS
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import quiesce, settle
from runtime.system import ActorSystem
from tests.hub import fakes
from tests.hub.conftest import StartHub, hub_tree
from tests.hub.fakes import Controls
from tests.hub.wsclient import next_message

pytestmark = pytest.mark.anyio


async def test_hub_crash_and_restart_with_clients_reconnecting(start_hub: StartHub) -> None:
    store = HubStore()
    hub = start_hub(store=store)
    port = hub.endpoint.port
    hub.publish(ORDERS, fakes.order_update(hub.clock.now(), "c-1", "resting"))
    hub.settle()
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(hub.ws_url)
        await next_message(ws, "status_update")

        crash(hub.system, "hub", "test crash")
        closing = await ws.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == aiohttp.WSCloseCode.GOING_AWAY
        await ws.close()
        hub.settle()
        with pytest.raises(aiohttp.ClientConnectionError):  # nobody listens while it restarts
            await session.get(f"{hub.url}/api/health")

        settle(hub.system, hub.clock)  # advance to the restart and let it happen
        assert hub.system.ask("hub", GetEndpoint()).port == port  # same port, rebound

        async with session.ws_connect(hub.ws_url) as again:
            status = await next_message(again, "status_update")
            assert status["orders"]["active"] == 1  # the store outlived the crash
            hub.publish(ORDERS, fakes.order_update(hub.clock.now(), "c-2", "resting"))
            update = await next_message(again, "trade_execution")
            assert update["trade_id"] == "c-2"
        async with session.get(f"{hub.url}/api/actors") as response:
            tree = await response.json()
        async with session.get(f"{hub.url}/api/dashboard") as response:
            events = (await response.json())["actor_events"]
    node = next(n for n in tree["tree"]["children"] if n["name"] == "hub")
    assert (node["state"], node["restarts"]) == ("running", 1)
    assert node["last_failure"]["error_type"] == "InjectedCrash"
    assert [(e["event"], e["name"]) for e in events] == [("crashed", "hub"), ("restarted", "hub")]


async def test_the_port_is_released_on_shutdown(start_hub: StartHub) -> None:
    hub = start_hub()
    port = hub.endpoint.port
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(hub.ws_url)
        await next_message(ws, "status_update")
        hub.system.shutdown()
        closing = await ws.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == aiohttp.WSCloseCode.GOING_AWAY
        await ws.close()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))  # free again


async def test_a_taken_port_fails_the_start_and_a_restart_binds_it_later(
    system: ActorSystem, clock: SimClock
) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    config = HubConfig(port=port)
    system.start(hub_tree(config, Controls(), HubStore(), trading=False))
    quiesce(system)
    node = system.tree().find("hub")
    assert node is not None and node.state == "restarting"
    assert node.last_failure is not None and "in use" in node.last_failure.error
    blocker.close()
    settle(system, clock)
    assert system.ask("hub", GetEndpoint()).port == port
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/api/health") as r,
    ):
        assert r.status == 200
