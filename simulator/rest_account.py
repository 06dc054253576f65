"""Order groups (``/portfolio/order_groups``) and the account's API limits (``/account``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from simulator import wire_orders
from simulator.group_desk import OrderGroupDesk
from simulator.order_entry import check_routing, check_routing_query, parse_contracts_limit
from simulator.requests import Fields, json_object
from simulator.responses import API_PREFIX, json_response

if TYPE_CHECKING:
    from simulator.server import SimServer

GROUPS = "/portfolio/order_groups"


class AccountApi:
    """Order groups, and what ``/account/limits`` and ``/account/endpoint_costs`` report."""

    def __init__(self, server: SimServer) -> None:
        self._server = server

    def routes(self) -> list[web.RouteDef]:
        groups = API_PREFIX + GROUPS
        one = f"{groups}/{{order_group_id}}"
        return [
            web.get(groups, self.list_groups),
            web.post(f"{groups}/create", self.create_group),
            web.get(one, self.get_group),
            web.delete(one, self.delete_group),
            web.put(f"{one}/reset", self.reset_group),
            web.put(f"{one}/trigger", self.trigger_group),
            web.put(f"{one}/limit", self.set_limit),
            web.get(f"{API_PREFIX}/account/limits", self.limits),
            web.get(f"{API_PREFIX}/account/endpoint_costs", self.endpoint_costs),
        ]

    @property
    def _desk(self) -> OrderGroupDesk:
        return self._server.exchange.order_groups

    def _user(self, request: web.Request) -> str:
        user = self._server.authenticate(request)
        check_routing_query(request.query)
        return user

    async def list_groups(self, request: web.Request) -> web.Response:
        groups = self._desk.of_user(self._user(request))
        return json_response({"order_groups": [wire_orders.order_group_json(g) for g in groups]})

    async def create_group(self, request: web.Request) -> web.Response:
        user = self._user(request)
        body = json_object(await request.read())
        check_routing(Fields(body), ticker_given=False)
        limit = parse_contracts_limit(body)
        group_id = self._desk.create(user, limit)
        return json_response(wire_orders.order_group_created_json(group_id), status=201)

    async def get_group(self, request: web.Request) -> web.Response:
        group = self._desk.get(self._user(request), request.match_info["order_group_id"])
        return json_response(wire_orders.order_group_detail_json(group))

    async def delete_group(self, request: web.Request) -> web.Response:
        self._desk.delete(self._user(request), request.match_info["order_group_id"])
        return json_response({})

    async def reset_group(self, request: web.Request) -> web.Response:
        user = self._user(request)
        json_object(await request.read(), empty_ok=True)
        self._desk.reset(user, request.match_info["order_group_id"])
        return json_response({})

    async def trigger_group(self, request: web.Request) -> web.Response:
        user = self._user(request)
        json_object(await request.read(), empty_ok=True)
        self._desk.trigger(user, request.match_info["order_group_id"])
        return json_response({})

    async def set_limit(self, request: web.Request) -> web.Response:
        user = self._user(request)
        limit = parse_contracts_limit(json_object(await request.read()))
        self._desk.set_limit(user, request.match_info["order_group_id"], limit)
        return json_response({})

    async def limits(self, request: web.Request) -> web.Response:
        self._server.authenticate(request)
        return json_response(
            wire_orders.account_limits_json(self._server.exchange.config.api_limits)
        )

    async def endpoint_costs(self, request: web.Request) -> web.Response:
        if self._server.keys.has_credentials(request.headers):
            self._server.authenticate(request)
        return json_response(
            wire_orders.endpoint_costs_json(self._server.exchange.config.api_limits)
        )
