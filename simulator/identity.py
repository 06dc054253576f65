"""How the simulator says what it is, and who may use its control endpoints.

Every answer it gives — REST, errors, the WebSocket handshake, ``/sim`` — carries
``X-Sol15-Simulator``. Kalshi never sends that header, so the bot in ``sim`` mode can
refuse an exchange beyond this machine that does not carry it: a typo in
``KALSHI_API_BASE`` must not turn a simulation into real orders.

The ``/sim`` control endpoints (faults, clock) are unauthenticated, so they answer
loopback clients only, unless the operator allows remote control explicitly.
"""

from __future__ import annotations

from aiohttp import web

from runtime.net import is_loopback_address

SIMULATOR_HEADER = "X-Sol15-Simulator"
SIMULATOR_NAME = "sol15 exchange-sim"
CONTROL_PREFIX = "/sim/"


async def stamp(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: mark every answer, whatever produced it."""
    del request
    response.headers[SIMULATOR_HEADER] = SIMULATOR_NAME


def control_refused(request: web.Request, allow_remote: bool) -> bool:
    """Should this request to a ``/sim`` endpoint be refused?"""
    if allow_remote or not request.path.startswith(CONTROL_PREFIX):
        return False
    return not is_loopback_address(request.remote)
