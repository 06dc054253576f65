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
from collections.abc import Callable, Iterator
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

from simulator.config import ExchangeConfig
from simulator.testing import SimHandle, running_exchange
from tests.simulator.helpers import Api, barrier, run, v2_body, ws_connect

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "kalshi"
OPENAPI = SHARED / "openapi.yaml"
ASYNCAPI = SHARED / "asyncapi.yaml"
OPENAPI_URI = "urn:kalshi:openapi"
ASYNCAPI_URI = "urn:kalshi:asyncapi"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Checker = Callable[[httpx.Response, str, str], Any]


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        reason = f"Kalshi spec not found at {path}: conformance cannot be checked"
        print(reason)
        pytest.skip(reason)
    with path.open() as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=Loader)
    return document


def _nullable_all_of(node: Any) -> Any:
    """``allOf: [...]`` beside ``nullable: true`` accepts null, as the spec means it.

    Strict OpenAPI 3.0 (3.0.3's clarification) lets ``nullable`` widen only the ``type`` of
    its own schema object, so the ``allOf`` branch still refuses null and such a field could
    never be null — yet the spec says it is ("Null if no trades occurred", the required
    trade prices of ``PriceDistributionHistorical``). Rewritten as "the ``allOf``, or null".
    """
    if isinstance(node, list):
        return [_nullable_all_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_all_of(value) for key, value in node.items()}
    if node.get("nullable") is True and "allOf" in node:
        rest = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
        return {**rest, "anyOf": [{"allOf": node["allOf"]}, {"enum": [None]}]}
    return node


class OpenApi:
    def __init__(self, spec: dict[str, Any]) -> None:
        spec = _nullable_all_of(spec)
        self.spec = spec
        self.registry: Registry[Any] = Registry().with_resource(
            OPENAPI_URI, Resource.from_contents(spec, default_specification=DRAFT4)
        )
        self.checked: set[tuple[str, str, int]] = set()
        self.retired: set[tuple[str, str]] = set()

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
        schema = self.response_schema(path, method, response.status_code)
        if response.status_code == 204:
            assert schema is None and response.content == b""
            self.checked.add((path, method, 204))
            return None
        body = response.json()
        if response.status_code >= 400:
            self.check_error(response)
        if schema is not None:
            self.validate(schema, body)
        self.checked.add((path, method, response.status_code))
        return body

    def check_error(self, response: httpx.Response) -> dict[str, Any]:
        """Kalshi's error body: ``{"error": ErrorResponse}`` with a code and a message."""
        body: dict[str, Any] = response.json()
        assert set(body) == {"error"}, body
        self.validate({"$ref": "#/components/schemas/ErrorResponse"}, body["error"])
        assert {"code", "message"} <= set(body["error"])
        return body

    def check_retired(self, response: httpx.Response, path: str, method: str) -> None:
        """A V1 order write: gone from the spec, answered 410 in Kalshi's error shape."""
        assert method not in self.spec["paths"].get(path, {}), f"{method} {path} is in the spec"
        assert response.status_code == 410, response.text
        body = self.check_error(response)
        assert body["error"]["code"] == "deprecated_v1_order_endpoint"
        self.retired.add((path, method))


@pytest.fixture(scope="module")
def openapi() -> OpenApi:
    return OpenApi(_load(OPENAPI))


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_exchange(seed=13, window_seconds=300) as handle:
        yield handle


def _order_writes(sim: SimHandle, api: Api, check: Checker) -> str:
    """Every V2 write, answered and refused; returns the ticker traded."""
    ticker = sim.current_ticker()
    v2, one = "/portfolio/events/orders", "/portfolio/events/orders/{order_id}"
    top = sim.call(lambda ex: ex.top_of_book(ex.market(ticker)))
    take = v2_body(ticker, "bid", top.yes_ask, 3, "immediate_or_cancel", client_order_id="c-take")
    assert "average_fill_price" in check(api.create(take), v2, "post")
    expiry = int(sim.now()) + 3600
    rest = v2_body(ticker, "ask", "0.97", 4, client_order_id="c-rest", expiration_time=expiry)
    resting = check(api.create(rest), v2, "post")
    check(api.create(rest), v2, "post")  # 409
    check(api.create({**take, "count": "0", "client_order_id": "x"}), v2, "post")
    check(api.create({**take, "ticker": "NOPE-1", "client_order_id": "y"}), v2, "post")
    check(httpx.post(f"{sim.api_base}{v2}", json=take), v2, "post")  # 401
    order_id = resting["order_id"]
    path = f"{v2}/{order_id}"
    order = check(api.get(f"/portfolio/orders/{order_id}"), "/portfolio/orders/{order_id}", "get")
    assert order["order"]["expiration_time"] is not None
    check(api.get("/portfolio/orders/unknown"), "/portfolio/orders/{order_id}", "get")
    amend = {"ticker": ticker, "side": "ask", "price": "0.97", "count": "3"}
    check(api.post(f"{path}/amend", amend), f"{one}/amend", "post")
    check(api.post(f"{path}/amend", {**amend, "price": "2"}), f"{one}/amend", "post")
    check(api.post(f"{v2}/nope/amend", amend), f"{one}/amend", "post")
    check(api.post(f"{path}/decrease", {"reduce_by": "1"}), f"{one}/decrease", "post")
    check(api.post(f"{path}/decrease", {}), f"{one}/decrease", "post")
    check(api.post(f"{v2}/nope/decrease", {"reduce_to": "0"}), f"{one}/decrease", "post")
    check(api.delete(path, {"market_ticker": ticker}), one, "delete")
    check(api.delete(path), one, "delete")  # 404
    batch = [v2_body(ticker, "bid", "0.02", 1), v2_body("NOPE-1", "bid", "0.02", 1)]
    made = check(api.post(f"{v2}/batched", {"orders": batch}), f"{v2}/batched", "post")
    check(api.post(f"{v2}/batched", {"orders": []}), f"{v2}/batched", "post")
    cancels = {"orders": [{"order_id": made["orders"][0]["order_id"]}, {"order_id": "nope"}]}
    check(api.delete(f"{v2}/batched", body=cancels), f"{v2}/batched", "delete")
    check(api.delete(f"{v2}/batched", body={"orders": [{}]}), f"{v2}/batched", "delete")
    api.create(v2_body(ticker, "bid", "0.02", 1))
    check(api.delete(v2), v2, "delete")  # 204
    check(httpx.delete(f"{sim.api_base}{v2}"), v2, "delete")  # 401
    api.create({**rest, "client_order_id": "c-rest-2"})
    return ticker


def _order_groups(sim: SimHandle, api: Api, check: Checker) -> None:
    groups, one = "/portfolio/order_groups", "/portfolio/order_groups/{order_group_id}"
    created = check(
        api.post(f"{groups}/create", {"contracts_limit": 5}), f"{groups}/create", "post"
    )
    check(api.post(f"{groups}/create", {"contracts_limit": 0}), f"{groups}/create", "post")
    group = created["order_group_id"]
    api.create(v2_body(sim.current_ticker(), "bid", "0.02", 1, order_group_id=group))
    check(api.get(groups), groups, "get")
    check(api.get(f"{groups}/{group}"), one, "get")
    check(api.get(f"{groups}/nope"), one, "get")
    check(api.put(f"{groups}/{group}/limit", {"contracts_limit_fp": "6"}), f"{one}/limit", "put")
    check(api.put(f"{groups}/{group}/limit", {}), f"{one}/limit", "put")
    check(api.put(f"{groups}/nope/limit", {"contracts_limit": 2}), f"{one}/limit", "put")
    for action in ("trigger", "reset"):
        check(api.put(f"{groups}/{group}/{action}"), f"{one}/{action}", "put")
        check(api.put(f"{groups}/nope/{action}", {}), f"{one}/{action}", "put")
    check(api.delete(f"{groups}/{group}"), one, "delete")
    check(api.delete(f"{groups}/{group}"), one, "delete")  # 404


def _account(sim: SimHandle, api: Api, check: Checker) -> None:
    check(api.get("/account/limits"), "/account/limits", "get")
    check(httpx.get(f"{sim.api_base}/account/limits"), "/account/limits", "get")  # 401
    check(httpx.get(f"{sim.api_base}/account/endpoint_costs"), "/account/endpoint_costs", "get")


V1_WRITES = [
    ("/portfolio/orders", "post"),
    ("/portfolio/orders/batched", "post"),
    ("/portfolio/orders/batched", "delete"),
    ("/portfolio/orders/{order_id}", "delete"),
    ("/portfolio/orders/{order_id}/amend", "post"),
    ("/portfolio/orders/{order_id}/decrease", "post"),
]


def _retired(api: Api, openapi: OpenApi) -> None:
    for path, method in V1_WRITES:
        concrete = path.replace("{order_id}", "some-order")
        response = api.client.request(
            method.upper(), concrete, json={}, headers=api.headers(method.upper(), concrete)
        )
        openapi.check_retired(response, path, method)


def test_every_rest_endpoint_matches_openapi(sim: SimHandle, openapi: OpenApi) -> None:
    api = Api(sim)
    check = openapi.check
    ticker = _order_writes(sim, api, check)
    event = ticker.rsplit("-", 1)[0]
    _order_groups(sim, api, check)
    _account(sim, api, check)
    _retired(api, openapi)

    sim.advance(330)  # the first market settles; positions, fills, settlements exist

    check(api.get("/exchange/status", signed=False), "/exchange/status", "get")
    check(api.get("/series/KXSOL15M"), "/series/{series_ticker}", "get")
    check(api.get("/series/NOPE"), "/series/{series_ticker}", "get")
    check(api.get("/series", {"category": "Crypto"}), "/series", "get")
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

    checked = {(path, method) for path, method, _ in openapi.checked}
    # every route the server has (the CF Benchmarks passthrough is documented apart from the
    # spec: tests/simulator/test_sim_cfbenchmarks.py; the history routes need an archive:
    # test_history_endpoints_match_openapi)
    assert checked | openapi.retired | PASSTHROUGH | HISTORY == _server_routes(sim)
    statuses = {(path, method, status) for path, method, status in openapi.checked}
    for write in ("post", "delete"):
        assert ("/portfolio/events/orders", write, 401) in statuses
    assert ("/portfolio/events/orders", "post", 409) in statuses
    assert ("/portfolio/events/orders", "delete", 204) in statuses


PASSTHROUGH = {("/cfbenchmarks/{path:.*}", "get")}
HISTORY = {
    ("/series/{series_ticker}/markets/{ticker}/candlesticks", "get"),
    ("/markets/trades", "get"),
    ("/historical/cutoff", "get"),
    ("/historical/markets", "get"),
    ("/historical/markets/{ticker}", "get"),
    ("/historical/markets/{ticker}/candlesticks", "get"),
    ("/historical/trades", "get"),
}
LIVE_CANDLES = "/series/{series_ticker}/markets/{ticker}/candlesticks"
OLD_CANDLES = "/historical/markets/{ticker}/candlesticks"


def _history_archive(api: Api, check: Checker) -> tuple[str, str]:
    """The cutoff and the archive; returns an archived and a live settled ticker."""
    check(api.get("/historical/cutoff", signed=False), "/historical/cutoff", "get")
    old_markets = check(
        api.get("/historical/markets", {"series_ticker": "KXSOL15M", "limit": 0}),
        "/historical/markets",
        "get",
    )["markets"]
    both = {"series_ticker": "KXSOL15M", "event_ticker": "X"}
    check(api.get("/historical/markets", both), "/historical/markets", "get")  # 400
    old = old_markets[-1]["ticker"]
    found = check(api.get(f"/historical/markets/{old}"), "/historical/markets/{ticker}", "get")
    assert found["market"]["result"] in ("yes", "no")
    check(api.get("/historical/markets/NOPE-1"), "/historical/markets/{ticker}", "get")  # 404
    settled = {"series_ticker": "KXSOL15M", "status": "settled", "min_settled_ts": 0}
    live = check(api.get("/markets", settled, signed=False), "/markets", "get")["markets"]
    assert live, "no settled market after the cutoff"
    assert not {m["ticker"] for m in live} & {m["ticker"] for m in old_markets}
    check(api.get("/markets", {**settled, "status": "open"}), "/markets", "get")  # 400
    return old, live[0]["ticker"]


def _history_candles(api: Api, check: Checker, old: str, recent: str) -> None:
    span = {"start_ts": 0, "end_ts": 2**40, "period_interval": 1}
    live = f"/series/KXSOL15M/markets/{recent}/candlesticks"
    candles = check(api.get(live, span, signed=False), LIVE_CANDLES, "get")["candlesticks"]
    assert candles and any(c["price"]["close_dollars"] for c in candles)
    hourly = {**span, "period_interval": 60, "start_ts": candles[1]["end_period_ts"]}
    check(api.get(live, {**hourly, "include_latest_before_start": "true"}), LIVE_CANDLES, "get")
    check(api.get(live, {"start_ts": 0, "period_interval": 1}), LIVE_CANDLES, "get")  # 400
    archived = f"/series/KXSOL15M/markets/{old}/candlesticks"
    check(api.get(archived, span), LIVE_CANDLES, "get")  # 404: only in the archive
    archive = check(api.get(f"/historical/markets/{old}/candlesticks", span), OLD_CANDLES, "get")
    assert archive["candlesticks"] and "close" in archive["candlesticks"][0]["yes_bid"]
    check(api.get(f"/historical/markets/{recent}/candlesticks", span), OLD_CANDLES, "get")  # 404
    five = {**span, "period_interval": 5}
    check(api.get(f"/historical/markets/{old}/candlesticks", five), OLD_CANDLES, "get")  # 400


def _history_trades(api: Api, check: Checker, old: str, recent: str) -> None:
    page = check(
        api.get("/markets/trades", {"ticker": recent, "limit": 5}), "/markets/trades", "get"
    )
    assert len(page["trades"]) == 5 and page["cursor"]
    after = {"ticker": recent, "limit": 5, "cursor": page["cursor"]}
    more = check(api.get("/markets/trades", after), "/markets/trades", "get")["trades"]
    assert not {t["trade_id"] for t in more} & {t["trade_id"] for t in page["trades"]}
    check(api.get("/markets/trades", {"limit": 5000}), "/markets/trades", "get")  # 400
    old_trades = check(
        api.get("/historical/trades", {"ticker": old, "min_ts": 0}), "/historical/trades", "get"
    )
    assert old_trades["trades"]
    check(api.get("/historical/trades", {"min_ts": "soon"}), "/historical/trades", "get")  # 400


def test_history_endpoints_match_openapi(openapi: OpenApi) -> None:
    """Candlesticks, trades and the archive, with markets on both sides of the cutoff."""
    config = ExchangeConfig(seed=17, window_seconds=300, historical_after_seconds=900)
    with running_exchange(config=config) as handle:
        handle.advance(1800)
        api = Api(handle)
        old, recent = _history_archive(api, openapi.check)
        _history_candles(api, openapi.check, old, recent)
        _history_trades(api, openapi.check, old, recent)
        api.close()
    statuses = {(p, m, s) for p, m, s in openapi.checked if (p, m) in HISTORY}
    assert {(p, m) for p, m, _ in statuses} == HISTORY
    assert all((p, m, 200) in statuses for p, m in HISTORY)


def _server_routes(sim: SimHandle) -> set[tuple[str, str]]:
    """The REST routes the server registers, in the spec's path notation."""
    from simulator.responses import API_PREFIX
    from simulator.rest import RestApi

    class _Probe:
        exchange = sim.exchange

    routes = set()
    for route in RestApi(_Probe()).routes():  # type: ignore[arg-type]
        path = route.path.removeprefix(API_PREFIX)
        routes.add((re.sub(r"\{(\w+)\}", r"{\1}", path), route.method.lower()))
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
    "cfbenchmarks_value_5hz": ["cfbenchmarksValue5HzPayload"],
    "cfbenchmarks_value_5hz_indexlist": ["cfbenchmarks5HzIndexListPayload"],
    "order_group_updates": ["orderGroupUpdatesPayload"],
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
                    "params": {
                        "channels": ["cfbenchmarks_value", "cfbenchmarks_value_5hz"],
                        "index_ids": ["SOLUSD_RTI"],
                    },
                }
            )
            await ws.send_json(
                {"id": 11, "cmd": "subscribe", "params": {"channels": ["order_group_updates"]}}
            )
            received.extend(await barrier(ws))
            sids = {
                m["msg"]["channel"]: m["msg"]["sid"] for m in received if m["type"] == "subscribed"
            }
            cf = sids["cfbenchmarks_value"]
            fast = sids["cfbenchmarks_value_5hz"]
            book = sids["orderbook_delta"]
            for command in (
                {
                    "id": 4,
                    "cmd": "update_subscription",
                    "params": {"sid": cf, "action": "indexlist"},
                },
                {
                    "id": 12,
                    "cmd": "update_subscription",
                    "params": {"sid": fast, "action": "indexlist"},
                },
                {
                    "id": 13,
                    "cmd": "update_subscription",
                    "params": {"sid": fast, "action": "subscribe_indices", "index_ids": ["all"]},
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
            api = Api(sim)
            groups = "/portfolio/order_groups"
            group = api.post(f"{groups}/create", {"contracts_limit": 50}).json()["order_group_id"]
            api.put(f"{groups}/{group}/limit", {"contracts_limit": 40})
            body = v2_body(ticker, "bid", top.yes_ask, 5, client_order_id="ws-conf")
            assert api.create({**body, "order_group_id": group}).status_code == 201
            api.put(f"{groups}/{group}/trigger")
            api.put(f"{groups}/{group}/reset")
            api.delete(f"{groups}/{group}")
            api.close()
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
