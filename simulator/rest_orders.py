"""Order writes: the V2 endpoints under ``/portfolio/events/orders``, and the retired V1 ones.

Since June 2026 Kalshi answers every V1 order write (``POST /portfolio/orders``,
the V1 cancel, batch, amend and decrease) with HTTP 410
``deprecated_v1_order_endpoint``, whoever asks; so does the simulator. The V1
reads (``GET /portfolio/orders[/{order_id}]``) remain, in :mod:`simulator.rest`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator import errors, wire_orders
from simulator.order_entry import (
    CancelTarget,
    check_routing_query,
    parse_amend,
    parse_cancel_item,
    parse_cancel_query,
    parse_create,
    parse_decrease,
    parse_orders_list,
)
from simulator.orders import OrderSnapshot
from simulator.requests import json_object
from simulator.responses import API_PREFIX, json_response

if TYPE_CHECKING:
    from simulator.server import SimServer

V2_ORDERS = "/portfolio/events/orders"
V1_ORDERS = "/portfolio/orders"


class OrderWrites:
    """Create, cancel, amend and decrease orders; batches; cancel-all."""

    def __init__(self, server: SimServer) -> None:
        self._server = server

    def routes(self) -> list[web.RouteDef]:
        v2 = API_PREFIX + V2_ORDERS
        v1 = API_PREFIX + V1_ORDERS
        return [
            web.post(v2, self.create),
            web.delete(v2, self.cancel_all),
            web.post(f"{v2}/batched", self.batch_create),
            web.delete(f"{v2}/batched", self.batch_cancel),
            web.delete(f"{v2}/{{order_id}}", self.cancel),
            web.post(f"{v2}/{{order_id}}/amend", self.amend),
            web.post(f"{v2}/{{order_id}}/decrease", self.decrease),
            web.post(v1, self.retired),
            web.post(f"{v1}/batched", self.retired),
            web.delete(f"{v1}/batched", self.retired),
            web.delete(f"{v1}/{{order_id}}", self.retired),
            web.post(f"{v1}/{{order_id}}/amend", self.retired),
            web.post(f"{v1}/{{order_id}}/decrease", self.retired),
        ]

    async def retired(self, request: web.Request) -> web.Response:
        raise errors.deprecated_v1(request.method, request.path.removeprefix(API_PREFIX))

    async def create(self, request: web.Request) -> web.StreamResponse:
        user = self._server.authenticate(request)
        order_request = parse_create(json_object(await request.read()))
        faults = self._server.faults
        if faults.take_retired_create():
            raise errors.retired(request.method, request.path.removeprefix(API_PREFIX))
        order = self._server.exchange.place_order(user, order_request, self._server.clock())
        if faults.take_lost_response():
            return await self._server.lose_response(request)
        answer = wire_orders.created_json(order)
        if faults.take_malformed_create():
            answer.pop("order_id")
        return json_response(answer, status=201)

    async def cancel(self, request: web.Request) -> web.Response:
        user = self._server.authenticate(request)
        target = parse_cancel_query(request.match_info["order_id"], request.query)
        return json_response(self._cancel(user, target, wire_orders.canceled_json))

    def _cancel(
        self,
        user: str,
        target: CancelTarget,
        shape: Callable[[OrderSnapshot, Decimal], dict[str, Any]],
    ) -> dict[str, Any]:
        order, reduced = self._server.exchange.cancel_order(
            user, target.order_id, self._server.clock(), ticker=target.market_ticker
        )
        return shape(order, reduced)

    async def cancel_all(self, request: web.Request) -> web.Response:
        user = self._server.authenticate(request)
        check_routing_query(request.query)
        self._server.exchange.cancel_all(user, self._server.clock())
        return web.Response(status=204)

    async def amend(self, request: web.Request) -> web.Response:
        user = self._server.authenticate(request)
        check_routing_query(request.query)
        change = parse_amend(json_object(await request.read()))
        before, after = self._server.exchange.amend_order(
            user, request.match_info["order_id"], change, self._server.clock()
        )
        return json_response(wire_orders.amended_json(before, after))

    async def decrease(self, request: web.Request) -> web.Response:
        user = self._server.authenticate(request)
        check_routing_query(request.query)
        change = parse_decrease(json_object(await request.read()))
        order = self._server.exchange.decrease_order(
            user,
            request.match_info["order_id"],
            reduce_by=change.reduce_by,
            reduce_to=change.reduce_to,
            ticker=change.market_ticker,
            now=self._server.clock(),
        )
        return json_response(wire_orders.decreased_json(order))

    def _batch_items(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return parse_orders_list(body, self._server.exchange.config.api_limits.max_batch_orders)

    async def batch_create(self, request: web.Request) -> web.Response:
        """Each order placed on its own; a malformed item refuses the whole batch."""
        user = self._server.authenticate(request)
        items = self._batch_items(json_object(await request.read()))
        requests = [parse_create(item, f"orders[{n}].") for n, item in enumerate(items)]
        results = []
        for order_request in requests:
            try:
                order = self._server.exchange.place_order(user, order_request, self._server.clock())
            except errors.ExchangeError as exc:
                coid = order_request.client_order_id
                results.append(wire_orders.batch_failed_json(coid, exc))
            else:
                results.append(wire_orders.created_json(order))
        return json_response({"orders": results}, status=201)

    async def batch_cancel(self, request: web.Request) -> web.Response:
        user = self._server.authenticate(request)
        items = self._batch_items(json_object(await request.read()))
        targets = [parse_cancel_item(item, f"orders[{n}].") for n, item in enumerate(items)]
        results = []
        for target in targets:
            try:
                results.append(self._cancel(user, target, wire_orders.canceled_json))
            except errors.ExchangeError as exc:
                results.append(wire_orders.batch_cancel_failed_json(target.order_id, exc))
        return json_response({"orders": results})
