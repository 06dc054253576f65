"""Every response the simulator serves validates against Kalshi's published specs.

REST bodies are checked against the response schema ``openapi.yaml`` declares
for that path, method and status (``$ref``s resolved, ``nullable`` honoured,
formats such as ``date-time`` checked). Error bodies are checked as
``{"error": ErrorResponse}``: the spec's ``ErrorResponse`` is the inner object
(see the note in ``simulator/errors.py``). WebSocket messages of every type the
simulator sends are checked against the payload schemas of ``asyncapi.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7

from simulator.testing import SimHandle, running_exchange
from tests.simulator.helpers import Api, barrier, run, ws_connect

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "kalshi"
OPENAPI = SHARED / "openapi.yaml"
ASYNCAPI = SHARED / "asyncapi.yaml"
OPENAPI_URI = "urn:kalshi:openapi"
ASYNCAPI_URI = "urn:kalshi:asyncapi"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        reason = f"Kalshi spec not found at {path}: conformance cannot be checked"
        print(reason)
        pytest.skip(reason)
    with path.open() as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=Loader)
    return document


class OpenApi:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.registry: Registry[Any] = Registry().with_resource(
            OPENAPI_URI, Resource.from_contents(spec, default_specification=DRAFT4)
        )
        self.checked: set[tuple[str, str, int]] = set()

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def response_schema(self, path: str, method: str, status: int) -> dict[str, Any] | None:
        operation = self.spec["paths"][path][method]
        declared = operation["responses"].get(str(status))
        assert declared is not None, f"{method.upper()} {path} does not declare status {status}"
        response = self._resolve(declared)
        content = response.get("content", {}).get("application/json")
        return None if content is None else content["schema"]

    def validate(self, schema: dict[str, Any], body: Any) -> None:
        if "$ref" in schema:
            schema = {"$ref": OPENAPI_URI + schema["$ref"]}
        validator = OAS30Validator(
            schema, registry=self.registry, format_checker=oas30_format_checker
        )
        problems = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not problems, "\n".join(f"{list(e.path)}: {e.message}" for e in problems[:10])

    def check(self, response: httpx.Response, path: str, method: str) -> Any:
        body = response.json()
        schema = self.response_schema(path, method, response.status_code)
        if response.status_code >= 400:
            assert set(body) == {"error"}, body
            self.validate({"$ref": "#/components/schemas/ErrorResponse"}, body["error"])
            assert {"code", "message"} <= set(body["error"])
        if schema is not None:
            self.validate(schema, body)
        self.checked.add((path, method, response.status_code))
        return body


@pytest.fixture(scope="module")
def openapi() -> OpenApi:
    return OpenApi(_load(OPENAPI))


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_exchange(seed=13, window_seconds=300) as handle:
        yield handle


def test_every_rest_endpoint_matches_openapi(sim: SimHandle, openapi: OpenApi) -> None:
    api = Api(sim)
    ticker = sim.current_ticker()
    event = ticker.rsplit("-", 1)[0]
    check = openapi.check

    top = sim.call(lambda ex: ex.top_of_book(ex.market(ticker)))
    take = {
        "ticker": ticker,
        "side": "yes",
        "action": "buy",
        "count": 3,
        "yes_price_dollars": str(top.yes_ask),
        "client_order_id": "c-take",
    }
    check(api.post("/portfolio/orders", take), "/portfolio/orders", "post")
    rest = {
        "ticker": ticker,
        "side": "no",
        "action": "sell",
        "count_fp": "2",
        "no_price": 3,
        "client_order_id": "c-rest",
        "expiration_ts": int(sim.now()) + 3600,
    }
    resting = check(api.post("/portfolio/orders", rest), "/portfolio/orders", "post")["order"]
    assert resting["expiration_time"] is not None
    check(api.post("/portfolio/orders", rest), "/portfolio/orders", "post")  # 409
    check(
        api.post("/portfolio/orders", {**take, "count": 0, "client_order_id": "x"}),
        "/portfolio/orders",
        "post",
    )
    check(
        api.post("/portfolio/orders", {**take, "ticker": "NOPE-1", "client_order_id": "y"}),
        "/portfolio/orders",
        "post",
    )
    unauth = httpx.post(f"{sim.api_base}/portfolio/orders", json=take)
    check(unauth, "/portfolio/orders", "post")
    order_path = "/portfolio/orders/{order_id}"
    check(api.get(f"/portfolio/orders/{resting['order_id']}"), order_path, "get")
    check(api.get("/portfolio/orders/unknown"), order_path, "get")
    check(api.delete(f"/portfolio/orders/{resting['order_id']}"), order_path, "delete")
    check(api.delete(f"/portfolio/orders/{resting['order_id']}"), order_path, "delete")
    api.post("/portfolio/orders", {**rest, "client_order_id": "c-rest-2"})

    sim.advance(330)  # the first market settles; positions, fills, settlements exist

    check(api.get("/exchange/status", signed=False), "/exchange/status", "get")
    check(api.get("/series/KXSOL15M"), "/series/{series_ticker}", "get")
    check(api.get("/series/NOPE"), "/series/{series_ticker}", "get")
    for params in (
        {},
        {"series_ticker": "KXSOL15M", "status": "open"},
        {"limit": 1},
        {"status": "settled"},
        {"event_ticker": event},
    ):
        check(api.get("/markets", params, signed=False), "/markets", "get")
    check(api.get(f"/markets/{ticker}", signed=False), "/markets/{ticker}", "get")
    check(api.get(f"/markets/{sim.current_ticker()}"), "/markets/{ticker}", "get")
    check(api.get("/markets/NOPE-1"), "/markets/{ticker}", "get")
    book_path = "/markets/{ticker}/orderbook"
    check(api.get(f"/markets/{sim.current_ticker()}/orderbook", {"depth": 5}), book_path, "get")
    check(api.get(f"/markets/{ticker}/orderbook"), book_path, "get")  # closed: empty book
    check(api.get("/markets/NOPE-1/orderbook"), book_path, "get")
    check(
        api.get(f"/events/{event}", {"with_nested_markets": "true"}),
        "/events/{event_ticker}",
        "get",
    )
    check(api.get(f"/events/{event}"), "/events/{event_ticker}", "get")
    for params in ({}, {"ticker": ticker, "status": "canceled"}, {"limit": 1}):
        check(api.get("/portfolio/orders", params), "/portfolio/orders", "get")
    check(api.get("/portfolio/orders", {"limit": 0}), "/portfolio/orders", "get")
    fills = check(api.get("/portfolio/fills"), "/portfolio/fills", "get")
    assert fills["fills"]
    check(
        api.get("/portfolio/fills", {"ticker": ticker, "min_ts": 0, "limit": 1}),
        "/portfolio/fills",
        "get",
    )
    positions = check(api.get("/portfolio/positions"), "/portfolio/positions", "get")
    assert positions["market_positions"] and positions["event_positions"]
    check(
        api.get("/portfolio/positions", {"count_filter": "position"}), "/portfolio/positions", "get"
    )
    check(api.get("/portfolio/positions", {"count_filter": "bogus"}), "/portfolio/positions", "get")
    check(api.get("/portfolio/balance"), "/portfolio/balance", "get")
    check(httpx.get(f"{sim.api_base}/portfolio/balance"), "/portfolio/balance", "get")
    settlements = check(api.get("/portfolio/settlements"), "/portfolio/settlements", "get")
    assert [s["ticker"] for s in settlements["settlements"]] == [ticker]
    api.close()

    served = {(path, method) for path, method, _ in openapi.checked}
    routes = {
        ("/exchange/status", "get"),
        ("/series/{series_ticker}", "get"),
        ("/markets", "get"),
        ("/markets/{ticker}", "get"),
        ("/markets/{ticker}/orderbook", "get"),
        ("/events/{event_ticker}", "get"),
        ("/portfolio/orders", "post"),
        ("/portfolio/orders", "get"),
        ("/portfolio/orders/{order_id}", "get"),
        ("/portfolio/orders/{order_id}", "delete"),
        ("/portfolio/fills", "get"),
        ("/portfolio/positions", "get"),
        ("/portfolio/balance", "get"),
        ("/portfolio/settlements", "get"),
    }
    assert served == routes
    assert served == _server_routes(sim)


def _server_routes(sim: SimHandle) -> set[tuple[str, str]]:
    """The REST routes the server registers, in the spec's path notation."""
    from simulator.rest import API_PREFIX, RestApi

    class _Probe:
        exchange = sim.exchange

    routes = set()
    for route in RestApi(_Probe()).routes():  # type: ignore[arg-type]
        path = route.path.removeprefix(API_PREFIX)  # type: ignore[attr-defined]
        routes.add((re.sub(r"\{(\w+)\}", r"{\1}", path), route.method.lower()))  # type: ignore[attr-defined]
    return routes


# --- WebSocket --------------------------------------------------------------------------

MESSAGE_SCHEMAS = {
    "subscribed": ["subscribedResponsePayload"],
    "unsubscribed": ["unsubscribedResponsePayload"],
    "ok": [
        "okResponsePayload",
        "subscribedIndicesResponsePayload",
        "listSubscriptionsResponsePayload",
    ],
    "error": ["errorResponsePayload"],
    "orderbook_snapshot": ["orderbookSnapshotPayload"],
    "orderbook_delta": ["orderbookDeltaPayload"],
    "ticker": ["tickerPayload"],
    "trade": ["tradePayload"],
    "fill": ["fillPayload"],
    "user_order": ["userOrderPayload"],
    "market_position": ["marketPositionPayload"],
    "market_lifecycle_v2": ["marketLifecycleV2Payload", "marketMetadataUpdatedPayload"],
    "event_lifecycle": ["eventLifecyclePayload"],
    "cfbenchmarks_value": ["cfbenchmarksValuePayload"],
    "cfbenchmarks_value_indexlist": ["cfbenchmarksIndexListPayload"],
}


def _ws_validator(spec: dict[str, Any], name: str) -> Draft7Validator:
    registry: Registry[Any] = Registry().with_resource(
        ASYNCAPI_URI, Resource.from_contents(spec, default_specification=DRAFT7)
    )
    return Draft7Validator(
        {"$ref": f"{ASYNCAPI_URI}#/components/schemas/{name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def test_every_websocket_message_matches_asyncapi(sim: SimHandle) -> None:
    spec = _load(ASYNCAPI)
    validators = {
        kind: [_ws_validator(spec, n) for n in names] for kind, names in MESSAGE_SCHEMAS.items()
    }
    received: list[dict[str, Any]] = []

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await ws_connect(session, sim)
            ticker = sim.current_ticker()
            channels = [
                "orderbook_delta",
                "ticker",
                "trade",
                "fill",
                "user_orders",
                "market_positions",
            ]
            await ws.send_json(
                {
                    "id": 1,
                    "cmd": "subscribe",
                    "params": {
                        "channels": channels,
                        "market_ticker": ticker,
                        "send_initial_snapshot": True,
                    },
                }
            )
            await ws.send_json(
                {"id": 2, "cmd": "subscribe", "params": {"channels": ["market_lifecycle_v2"]}}
            )
            await ws.send_json(
                {
                    "id": 3,
                    "cmd": "subscribe",
                    "params": {"channels": ["cfbenchmarks_value"], "index_ids": ["SOLUSD_RTI"]},
                }
            )
            received.extend(await barrier(ws))
            sids = {
                m["msg"]["channel"]: m["msg"]["sid"] for m in received if m["type"] == "subscribed"
            }
            cf = sids["cfbenchmarks_value"]
            book = sids["orderbook_delta"]
            for command in (
                {
                    "id": 4,
                    "cmd": "update_subscription",
                    "params": {"sid": cf, "action": "indexlist"},
                },
                {
                    "id": 5,
                    "cmd": "update_subscription",
                    "params": {"sid": cf, "action": "subscribe_indices", "index_ids": ["all"]},
                },
                {
                    "id": 6,
                    "cmd": "update_subscription",
                    "params": {"sid": book, "action": "get_snapshot", "market_ticker": ticker},
                },
                {
                    "id": 7,
                    "cmd": "update_subscription",
                    "params": {"sid": book, "action": "delete_markets", "market_ticker": ticker},
                },
                {
                    "id": 8,
                    "cmd": "update_subscription",
                    "params": {"sid": book, "action": "add_markets", "market_ticker": ticker},
                },
                {"id": 9, "cmd": "nope"},
            ):
                await ws.send_json(command)
            received.extend(await barrier(ws))
            top = sim.call(lambda ex: ex.top_of_book(ex.market(ticker)))
            body = {
                "ticker": ticker,
                "side": "yes",
                "action": "buy",
                "count": 5,
                "yes_price_dollars": str(top.yes_ask),
                "client_order_id": "ws-conf",
            }
            assert Api(sim).post("/portfolio/orders", body).status_code == 201
            window = sim.exchange.window
            now = sim.now()
            await sim.advance_async((int(now) // window + 1) * window - now + 6)
            received.extend(await barrier(ws))
            await ws.send_json({"id": 10, "cmd": "unsubscribe", "params": {"sids": [book]}})
            received.extend(await barrier(ws))
            await ws.close()

    run(scenario())
    seen = set()
    for message in received:
        kind = message["type"]
        assert kind in validators, f"unexpected message type {kind}"
        failures = []
        for validator in validators[kind]:
            problems = list(validator.iter_errors(message))
            if not problems:
                break
            failures.append("; ".join(f"{list(e.path)}: {e.message}" for e in problems[:5]))
        else:
            pytest.fail(f"{kind} message does not match the spec: {failures}\n{message}")
        seen.add(kind)
    assert seen == set(MESSAGE_SCHEMAS), f"not exercised: {set(MESSAGE_SCHEMAS) - seen}"
