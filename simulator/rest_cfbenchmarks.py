"""Kalshi's CF Benchmarks REST passthrough (``GET /cfbenchmarks/<path>``), from the simulated index.

Only ``values?id=<index>`` is served (one id per listed series: ``SOLUSD_RTI``, ``BRTI``, …),
as CF Benchmarks answers it: the index's prints of the last ten minutes, oldest first, one a second, in Kalshi's ``data`` envelope. The
request must be signed; with ``cfbenchmarks_entitled=False`` every account is refused
with 403, as Kalshi refuses one without the entitlement. Errors map as Kalshi maps
upstream ones: an unknown path is 404, an unknown or missing index id 400.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator import errors
from simulator.index import IndexProcess
from simulator.responses import API_PREFIX, json_response

if TYPE_CHECKING:
    from simulator.server import SimServer

PASSTHROUGH = f"{API_PREFIX}/cfbenchmarks"
VALUES_SECONDS = 600  # what CF Benchmarks answers for a real-time index
FORBIDDEN = "forbidden"


def not_entitled() -> errors.ExchangeError:
    return errors.ExchangeError(
        403, FORBIDDEN, "this account is not entitled to the CF Benchmarks passthrough"
    )


def server_time(now: float) -> str:
    """CF Benchmarks' ``serverTime``: ISO 8601 in UTC with milliseconds."""
    moment = datetime.fromtimestamp(now, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class CfBenchmarksApi:
    """The passthrough's routes."""

    def __init__(self, server: SimServer) -> None:
        self._server = server

    def routes(self) -> list[web.RouteDef]:
        return [web.get(f"{PASSTHROUGH}/{{path:.*}}", self.passthrough)]

    async def passthrough(self, request: web.Request) -> web.Response:
        self._server.authenticate(request)
        exchange = self._server.exchange
        if not exchange.config.cfbenchmarks_entitled:
            raise not_entitled()
        path = request.match_info["path"]
        if path != "values":
            raise errors.not_found("no such CF Benchmarks endpoint", f"path={path}")
        index_id = request.query.get("id")
        if not index_id:
            raise errors.bad_request("CF Benchmarks: id is required", "id")
        listing = exchange.listing_by_index(index_id)
        if listing is None:
            raise errors.bad_request("CF Benchmarks: Unknown id", f"id={index_id}")
        return json_response(
            {"data": {"serverTime": server_time(exchange.now), "payload": _values(listing.index)}}
        )


def _values(index: IndexProcess) -> list[dict[str, Any]]:
    """The index's prints of the last ``VALUES_SECONDS``, oldest first."""
    last = index.last_ts
    first = max(index.first_ts, last - VALUES_SECONDS + 1)
    values = index.prints_between(first - 1, last)
    return [{"value": str(value), "time": (first + i) * 1000} for i, value in enumerate(values)]
