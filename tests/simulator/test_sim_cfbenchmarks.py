"""The simulator's CF Benchmarks passthrough on the wire: envelope, signing, errors."""

from __future__ import annotations

import re

import httpx

from simulator.config import ExchangeConfig
from simulator.testing import SimHandle, running_exchange

PATH = "/trade-api/v2/cfbenchmarks/values"


def _get(sim: SimHandle, path: str, params: dict[str, str], signed: bool = True) -> httpx.Response:
    headers = sim.signer().headers("GET", path) if signed else {}
    base = sim.api_base.removesuffix("/trade-api/v2")
    return httpx.get(base + path, params=params, headers=headers, timeout=10)


def test_values_are_in_kalshis_data_envelope_as_cf_benchmarks_writes_them() -> None:
    with running_exchange(seed=2) as sim:
        sim.advance(30)
        now = int(sim.now())
        reply = _get(sim, PATH, {"id": "SOLUSD_RTI"})
        assert reply.status_code == 200
        body = reply.json()
        assert set(body) == {"data"} and set(body["data"]) == {"serverTime", "payload"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["data"]["serverTime"])
        payload = body["data"]["payload"]
        # the last ten minutes (the simulated index starts well before the exchange does)
        assert [p["time"] for p in payload] == [t * 1000 for t in range(now - 599, now + 1)]
        assert all(isinstance(p["value"], str) and float(p["value"]) > 0 for p in payload)


def test_unsigned_unentitled_unknown_and_incomplete_requests_are_refused() -> None:
    with running_exchange() as sim:
        assert _get(sim, PATH, {"id": "SOLUSD_RTI"}, signed=False).status_code == 401
        missing = _get(sim, PATH, {})
        assert missing.status_code == 400 and missing.json()["error"]["code"] == "bad_request"
        assert _get(sim, PATH, {"id": "BRTI"}).status_code == 400
        other = "/trade-api/v2/cfbenchmarks/history/values"
        assert _get(sim, other, {"id": "SOLUSD_RTI"}).status_code == 404
    with running_exchange(config=ExchangeConfig(cfbenchmarks_entitled=False)) as sim:
        refused = _get(sim, PATH, {"id": "SOLUSD_RTI"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
