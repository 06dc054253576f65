"""Test helpers for the Kalshi wire layer (imported by the tests in this folder)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal as D

import httpx

from kalshi.orders import OrderRequestV2

KEY_ID = "key-id-0f3c9a-secret-looking"
BASE = "http://exchange.test/trade-api/v2"
TICKER = "KXSOL15M-26MAY300015-15"


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
    """An ``Order`` as 3.31.0 reports it: ``outcome_side``/``book_side`` plus the legacy pair."""
    order: dict[str, object] = {
        "order_id": "ord-1",
        "user_id": "user-1",
        "client_order_id": "coid-1",
        "ticker": "KXSOL15M-26MAY300015-15",
        "side": "yes",
        "action": "buy",
        "outcome_side": "yes",
        "book_side": "bid",
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
        "exchange_index": 0,
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
        "outcome_side": "yes",
        "book_side": "bid",
        "exchange_index": 0,
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


V1_WRITES = ("/portfolio/orders", "/portfolio/orders/")
V2 = "/portfolio/events/orders"
GROUPS = "/portfolio/order_groups"


class FakeKalshi:
    """An in-process stand-in for the REST API (3.31.0 shapes) behind ``httpx.MockTransport``.

    It keeps real order state (so idempotency can be checked: exactly one order per
    ``client_order_id``), serves the V2 order writes and order groups, answers every V1
    write with 410 as the exchange does, and plays scripted faults: a fault may first let
    the exchange process the request and then lose or garble the answer.
    """

    BASE = "/trade-api/v2"

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, object]] = {}
        self.groups: dict[str, dict[str, object]] = {}
        self.requests: list[httpx.Request] = []
        self.faults: list[Fault] = []
        self.routes: dict[tuple[str, str], object] = {}
        self.ts_ms = 1_780_114_862_000

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fail(self, method: str, path: str, **kwargs: object) -> None:
        self.faults.append(Fault(method, self.BASE + path, **kwargs))  # type: ignore[arg-type]

    def count(self, method: str, path: str) -> int:
        target = self.BASE + path
        return sum(1 for r in self.requests if r.method == method and r.url.path == target)

    def bodies(self, method: str, path: str) -> list[dict[str, object]]:
        target = self.BASE + path
        return [
            json.loads(r.content)
            for r in self.requests
            if r.method == method and r.url.path == target
        ]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for fault in self.faults:
            path = request.url.path
            hit = path == fault.path if fault.exact else path.startswith(fault.path)
            if fault.method == request.method and hit:
                self.faults.remove(fault)
                if fault.process_first:
                    self.process(request)
                if fault.exc is not None:
                    raise fault.exc("simulated", request=request)
                if fault.body is not None:
                    return httpx.Response(fault.status, json=fault.body)
                return error(fault.status, fault.code, "simulated fault")
        return self.process(request)

    def process(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(self.BASE)
        method = request.method
        route = self.routes.get((method, path))
        if route is not None:
            result = route(request) if callable(route) else route
            if isinstance(result, httpx.Response):
                return result
            return httpx.Response(200, json=result)
        if method != "GET" and path.startswith(V1_WRITES):
            return error(410, "deprecated_v1_order_endpoint", "use /portfolio/events/orders")
        if path.startswith(V2):
            return self.v2(method, path.removeprefix(V2), request)
        if path.startswith(GROUPS):
            return self.group(method, path.removeprefix(GROUPS), request)
        if (method, path) == ("GET", "/portfolio/orders"):
            return self.list_orders(request)
        if method == "GET" and path.startswith("/portfolio/orders/"):
            order = self.orders.get(path.rsplit("/", 1)[1])
            if order is None:
                return error(404, "not_found")
            return httpx.Response(200, json={"order": order})
        return error(404, "not_found")

    def _ts(self) -> int:
        self.ts_ms += 1
        return self.ts_ms

    def v2(self, method: str, rest: str, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        if (method, rest) == ("POST", ""):
            answer = self.create(body)
            status = 201 if "order_id" in answer else answer.pop("status")
            return httpx.Response(int(status), json=answer)  # type: ignore[call-overload]
        if (method, rest) == ("DELETE", ""):
            for order in self.orders.values():
                if order["status"] == "resting":
                    order.update(status="canceled", remaining_count_fp="0.00")
            return httpx.Response(204)
        if (method, rest) == ("POST", "/batched"):
            return httpx.Response(
                201, json={"orders": [self.batch_item(o) for o in body["orders"]]}
            )
        if (method, rest) == ("DELETE", "/batched"):
            items = [self.cancel(o["order_id"]) for o in body["orders"]]
            return httpx.Response(200, json={"orders": items})
        order_id, _, verb = rest.removeprefix("/").partition("/")
        found = self.orders.get(order_id)
        if found is None or found["status"] != "resting":
            return error(404, "not_found")
        if method == "DELETE" and not verb:
            return httpx.Response(200, json=self.cancel(order_id))
        if (method, verb) == ("POST", "amend"):
            return httpx.Response(200, json=self.amend(found, body))
        if (method, verb) == ("POST", "decrease"):
            return httpx.Response(200, json=self.decrease(found, body))
        return error(404, "not_found")

    def create(self, body: dict[str, object]) -> dict[str, object]:
        """A V2 create; the flat answer, or ``{"status": …, "error": …}``."""
        coid = body.get("client_order_id")
        if any(o["client_order_id"] == coid for o in self.orders.values()):
            return {"status": 409, "error": {"code": "order_already_exists", "message": "dup"}}
        order_id = f"ord-{len(self.orders) + 1}"
        price = D(str(body["price"]))
        bid = body["side"] == "bid"
        order = order_json(
            order_id=order_id,
            client_order_id=coid,
            ticker=body["ticker"],
            side="yes",
            action="buy" if bid else "sell",
            outcome_side="yes" if bid else "no",
            book_side=body["side"],
            yes_price_dollars=f"{price:.4f}",
            no_price_dollars=f"{1 - price:.4f}",
            remaining_count_fp=f"{D(str(body['count'])):.2f}",
            initial_count_fp=f"{D(str(body['count'])):.2f}",
        )
        if body.get("order_group_id"):
            order["order_group_id"] = body["order_group_id"]
        self.orders[order_id] = order
        return {
            "order_id": order_id,
            "client_order_id": coid,
            "fill_count": "0.00",
            "remaining_count": order["remaining_count_fp"],
            "ts_ms": self._ts(),
        }

    def process_batch(self, orders: list[dict[str, object]]) -> list[dict[str, object]]:
        return [self.batch_item(o) for o in orders]

    def batch_item(self, body: dict[str, object]) -> dict[str, object]:
        answer = self.create(body)
        if "order_id" in answer:
            return answer
        return {"client_order_id": body.get("client_order_id"), "error": answer["error"]}

    def cancel(self, order_id: str) -> dict[str, object]:
        order = self.orders.get(order_id)
        if order is None or order["status"] != "resting":
            return {
                "order_id": order_id,
                "reduced_by": "0.00",
                "error": {"code": "not_found", "message": "not found"},
            }
        reduced = order["remaining_count_fp"]
        order.update(status="canceled", remaining_count_fp="0.00")
        return {
            "order_id": order_id,
            "client_order_id": order["client_order_id"],
            "reduced_by": reduced,
            "ts_ms": self._ts(),
        }

    def amend(self, order: dict[str, object], body: dict[str, object]) -> dict[str, object]:
        price = D(str(body["price"]))
        total = D(str(body["count"]))
        remaining = total - D(str(order["fill_count_fp"]))
        order.update(
            yes_price_dollars=f"{price:.4f}",
            no_price_dollars=f"{1 - price:.4f}",
            remaining_count_fp=f"{remaining:.2f}",
        )
        if body.get("updated_client_order_id"):
            order["client_order_id"] = body["updated_client_order_id"]
        return {
            "order_id": order["order_id"],
            "client_order_id": order["client_order_id"],
            "remaining_count": order["remaining_count_fp"],
            "fill_count": "0.00",
            "ts_ms": self._ts(),
        }

    def decrease(self, order: dict[str, object], body: dict[str, object]) -> dict[str, object]:
        remaining = D(str(order["remaining_count_fp"]))
        if body.get("reduce_by") is not None:
            remaining -= D(str(body["reduce_by"]))
        else:
            remaining = D(str(body["reduce_to"]))
        order["remaining_count_fp"] = f"{max(remaining, D(0)):.2f}"
        if remaining <= 0:
            order["status"] = "canceled"
        return {
            "order_id": order["order_id"],
            "client_order_id": order["client_order_id"],
            "remaining_count": order["remaining_count_fp"],
            "ts_ms": self._ts(),
        }

    def group(self, method: str, rest: str, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        if (method, rest) == ("POST", "/create"):
            group_id = f"og-{len(self.groups) + 1}"
            self.groups[group_id] = {
                "id": group_id,
                "contracts_limit_fp": f"{body['contracts_limit']}.00",
                "is_auto_cancel_enabled": True,
                "exchange_index": 0,
            }
            return httpx.Response(
                201, json={"order_group_id": group_id, "subaccount": 0, "exchange_index": 0}
            )
        if (method, rest) == ("GET", ""):
            return httpx.Response(200, json={"order_groups": list(self.groups.values())})
        group_id, _, verb = rest.removeprefix("/").partition("/")
        group = self.groups.get(group_id)
        if group is None:
            return error(404, "not_found")
        if method == "GET":
            orders = [o for o, v in self.orders.items() if v.get("order_group_id") == group_id]
            detail = {k: v for k, v in group.items() if k != "id"}
            return httpx.Response(200, json={**detail, "orders": orders})
        if method == "DELETE":
            del self.groups[group_id]
        elif verb == "trigger":
            group["is_auto_cancel_enabled"] = False
            for order in self.orders.values():
                if order.get("order_group_id") == group_id and order["status"] == "resting":
                    order.update(status="canceled", remaining_count_fp="0.00")
        elif verb == "reset":
            group["is_auto_cancel_enabled"] = True
        elif verb == "limit":
            group["contracts_limit_fp"] = f"{body['contracts_limit']}.00"
        return httpx.Response(200, json={})

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
    body: object = None  # a JSON answer to give instead of an error body
    exact: bool = False  # match the path exactly, not as a prefix


def error(status: int, code: str, message: str | None = None) -> httpx.Response:
    text = message or code.replace("_", " ")
    return httpx.Response(status, json={"error": {"code": code, "message": text}})


def request(coid: str = "c-1", **overrides: object) -> OrderRequestV2:
    """A resting V2 buy of YES at 0.45 (change anything by keyword)."""
    fields: dict[str, object] = {
        "ticker": TICKER,
        "client_order_id": coid,
        "side": "bid",
        "count": D(5),
        "price": D("0.45"),
        "time_in_force": "good_till_canceled",
    }
    fields.update(overrides)
    return OrderRequestV2(**fields)  # type: ignore[arg-type]
