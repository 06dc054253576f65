"""Who may use the simulator: ``/sim`` control from loopback only (unless allowed), and every
answer says it comes from a simulator."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from loguru import logger

from simulator.cli import _say_who_controls
from simulator.config import ExchangeConfig
from simulator.exchange import Exchange
from simulator.faults import Faults
from simulator.identity import SIMULATOR_HEADER
from simulator.keys import KeyRegistry
from simulator.server import SimServer
from simulator.testing import DEFAULT_MANUAL_START, running_exchange


class PeerTransport:
    """The part of a transport aiohttp asks for a request's peer."""

    def __init__(self, address: str) -> None:
        self.address = address

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (self.address, 40_000) if name == "peername" else default


def _server(allow_remote_control: bool = False) -> SimServer:
    return SimServer(
        Exchange(ExchangeConfig(), start=DEFAULT_MANUAL_START),
        clock=lambda: DEFAULT_MANUAL_START,
        keys=KeyRegistry(),
        faults=Faults(0),
        allow_remote_control=allow_remote_control,
    )


def _through_middleware(server: SimServer, path: str, peer: str) -> int:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text="handled")

    request = make_mocked_request("GET", path, transport=PeerTransport(peer), app=server.app)
    response = asyncio.run(server._middleware(request, handler))
    return response.status


def test_control_endpoints_refuse_clients_beyond_this_machine() -> None:
    server = _server()
    for path in ("/sim/faults", "/sim/status", "/sim/advance"):
        assert _through_middleware(server, path, "203.0.113.7") == 403
        assert _through_middleware(server, path, "127.0.0.1") == 200
        assert _through_middleware(server, path, "::1") == 200
        assert _through_middleware(server, path, "::ffff:127.0.0.1") == 200
    # the exchange itself stays open to everyone (it checks signatures instead)
    assert _through_middleware(server, "/trade-api/v2/exchange/status", "203.0.113.7") == 200


def test_remote_control_only_when_allowed() -> None:
    assert (
        _through_middleware(_server(allow_remote_control=True), "/sim/faults", "203.0.113.7") == 200
    )


def test_the_refusal_says_how_to_allow_it() -> None:
    server = _server()

    async def handler(request: web.Request) -> web.StreamResponse:
        raise AssertionError("not reached")

    request = make_mocked_request(
        "POST", "/sim/faults", transport=PeerTransport("198.51.100.1"), app=server.app
    )
    response = asyncio.run(server._middleware(request, handler))
    assert isinstance(response, web.Response) and response.text is not None
    assert "--allow-remote-control" in response.text


def test_exposing_the_controls_is_never_silent() -> None:
    said: list[str] = []
    sink = logger.add(lambda message: said.append(str(message)), level="INFO", format="{message}")
    try:
        _say_who_controls("127.0.0.1", allow_remote=False)
        assert said == []
        _say_who_controls("0.0.0.0", allow_remote=False)
        assert "answer loopback clients only" in said[-1]
        _say_who_controls("0.0.0.0", allow_remote=True)
        assert "--allow-remote-control" in said[-1] and "no authentication" in said[-1]
    finally:
        logger.remove(sink)


def test_every_answer_carries_the_simulator_header() -> None:
    with running_exchange() as sim:
        for url in (
            f"{sim.api_base}/exchange/status",
            f"{sim.api_base}/portfolio/balance",  # 401: unsigned
            f"{sim.control_base}/status",
            sim.ws_url.replace("ws://", "http://"),
        ):
            assert httpx.get(url, timeout=10).headers.get(SIMULATOR_HEADER), url
