"""Test helpers for the Kalshi wire layer (imported by the tests in this folder)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal as D

import httpx

KEY_ID = "key-id-0f3c9a-secret-looking"


def market_json(**overrides: object) -> dict[str, object]:
    """A ``Market`` object shaped like openapi.yaml's, for a KXSOL15M window."""
    market: dict[str, object] = {
        "ticker": "KXSOL15M-26MAY300015-15",
        "event_ticker": "KXSOL15M-26MAY300015",
        "market_type": "binary",
        "yes_sub_title": "Price to beat: $75.1234",
        "no_sub_title": "Price to beat: $75.1234",
        "created_time": "2026-05-30T03:55:00Z",
        "updated_time": "2026-05-30T04:00:00Z",
        "open_time": "2026-05-30T04:00:00Z",
        "close_time": "2026-05-30T04:15:00Z",
        "latest_expiration_time": "2026-05-30T04:20:00Z",
        "settlement_timer_seconds": 60,
        "status": "active",
        "notional_value_dollars": "1.0000",
        "yes_bid_dollars": "0.4500",
        "yes_ask_dollars": "0.4700",
        "no_bid_dollars": "0.5300",
        "no_ask_dollars": "0.5500",
        "yes_bid_size_fp": "12.00",
        "yes_ask_size_fp": "9.00",
        "last_price_dollars": "0.4600",
        "previous_yes_bid_dollars": "0.0000",
        "previous_yes_ask_dollars": "0.0000",
        "previous_price_dollars": "0.0000",
        "volume_fp": "1530.00",
        "volume_24h_fp": "1530.00",
        "liquidity_dollars": "0.0000",
        "open_interest_fp": "800.00",
        "result": "",
        "can_close_early": False,
        "fractional_trading_enabled": False,
        "expiration_value": "",
        "rules_primary": "…",
        "rules_secondary": "",
        "price_level_structure": "tapered_deci_cent",
        "price_ranges": [
            {"start": "0.0000", "end": "0.1000", "step": "0.0010"},
            {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
            {"start": "0.9000", "end": "1.0000", "step": "0.0010"},
        ],
        "strike_type": "greater_or_equal",
        "floor_strike": 75.1234,
    }
    market.update(overrides)
    return market


def order_json(**overrides: object) -> dict[str, object]:
    order: dict[str, object] = {
        "order_id": "ord-1",
        "user_id": "user-1",
        "client_order_id": "coid-1",
        "ticker": "KXSOL15M-26MAY300015-15",
        "side": "yes",
        "action": "buy",
        "type": "limit",
        "status": "resting",
        "yes_price_dollars": "0.4500",
        "no_price_dollars": "0.5500",
        "fill_count_fp": "0.00",
        "remaining_count_fp": "10.00",
        "initial_count_fp": "10.00",
        "taker_fees_dollars": "0.0000",
        "maker_fees_dollars": "0.0000",
        "taker_fill_cost_dollars": "0.0000",
        "maker_fill_cost_dollars": "0.0000",
        "created_time": "2026-05-30T04:01:02.123456789Z",
    }
    order.update(overrides)
    return order


def fill_json(**overrides: object) -> dict[str, object]:
    fill: dict[str, object] = {
        "fill_id": "fill-1",
        "trade_id": "fill-1",
        "order_id": "ord-1",
        "ticker": "KXSOL15M-26MAY300015-15",
        "market_ticker": "KXSOL15M-26MAY300015-15",
        "side": "yes",
        "action": "buy",
        "count_fp": "3.00",
        "yes_price_dollars": "0.4600",
        "no_price_dollars": "0.5400",
        "is_taker": True,
        "fee_cost": "0.0200",
        "created_time": "2026-05-30T04:01:03Z",
        "ts": 1780114863,
    }
    fill.update(overrides)
    return fill


class FakeClock:
    """A manual clock whose ``sleep`` advances time and records how long it slept."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeKalshi:
    """An in-process stand-in for the REST API behind ``httpx.MockTransport``.

    It keeps real order state (so idempotency can be checked: exactly one order per
    ``client_order_id``) and plays scripted faults: a fault may first let the exchange
    process the request and then lose the answer, as a timeout after the fact does.
    """

    BASE = "/trade-api/v2"

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, object]] = {}
        self.requests: list[httpx.Request] = []
        self.faults: list[Fault] = []
        self.routes: dict[tuple[str, str], object] = {}

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fail(self, method: str, path: str, **kwargs: object) -> None:
        self.faults.append(Fault(method, self.BASE + path, **kwargs))  # type: ignore[arg-type]

    def count(self, method: str, path: str) -> int:
        target = self.BASE + path
        return sum(1 for r in self.requests if r.method == method and r.url.path == target)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for fault in self.faults:
            if fault.method == request.method and request.url.path.startswith(fault.path):
                self.faults.remove(fault)
                if fault.process_first:
                    self.process(request)
                if fault.exc is not None:
                    raise fault.exc("simulated", request=request)
                return httpx.Response(
                    fault.status,
                    json={"error": {"code": fault.code, "message": "simulated fault"}},
                )
        return self.process(request)

    def process(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(self.BASE)
        route = self.routes.get((request.method, path))
        if route is not None:
            result = route(request) if callable(route) else route
            if isinstance(result, httpx.Response):
                return result
            return httpx.Response(200, json=result)
        if path == "/portfolio/orders" and request.method == "POST":
            return self.create(json.loads(request.content))
        if path == "/portfolio/orders" and request.method == "GET":
            return self.list_orders(request)
        if path.startswith("/portfolio/orders/"):
            order = self.orders.get(path.rsplit("/", 1)[1])
            if order is None:
                return error(404, "not_found")
            if request.method == "GET":
                return httpx.Response(200, json={"order": order})
            if request.method == "DELETE":
                if order["status"] != "resting":
                    return error(404, "not_found")
                reduced = order["remaining_count_fp"]
                order.update(status="canceled", remaining_count_fp="0.00")
                return httpx.Response(200, json={"order": order, "reduced_by_fp": reduced})
        return error(404, "not_found")

    def create(self, body: dict[str, object]) -> httpx.Response:
        coid = body.get("client_order_id")
        if any(o["client_order_id"] == coid for o in self.orders.values()):
            return error(409, "order_already_exists")
        order_id = f"ord-{len(self.orders) + 1}"
        yes = body.get("yes_price_dollars")
        no = body.get("no_price_dollars")
        yes_d = D(str(yes)) if yes is not None else 1 - D(str(no))
        order = order_json(
            order_id=order_id,
            client_order_id=coid,
            ticker=body["ticker"],
            side=body["side"],
            action=body["action"],
            yes_price_dollars=f"{yes_d:.4f}",
            no_price_dollars=f"{1 - yes_d:.4f}",
            remaining_count_fp=body["count_fp"],
            initial_count_fp=body["count_fp"],
        )
        self.orders[order_id] = order
        return httpx.Response(201, json={"order": order})

    def list_orders(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        orders = [
            o
            for o in self.orders.values()
            if "ticker" not in params or o["ticker"] == params["ticker"]
        ]
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = orders[start : start + limit]
        more = start + limit < len(orders)
        return httpx.Response(
            200, json={"orders": page, "cursor": str(start + limit) if more else ""}
        )


@dataclass
class Fault:
    method: str
    path: str
    status: int = 503
    code: str = "internal_server_error"
    exc: type[httpx.TransportError] | None = None
    process_first: bool = False


def error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": code.replace("_", " ")}})
