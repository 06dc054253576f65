"""The operator's newer controls and the P&L read: ``/api/performance``, flatten a position,
and risk limits and strategy parameters changed at runtime.

Each control is an ask to the RiskActor, which decides as it decides everything else
(a flatten is a sell signal through the same checks; a limit change is validated by the
start-up rules and kept in the ledger). Who asked is recorded with the change: the token
holder, or a loopback client when no token is configured.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import orjson
from aiohttp import web
from pydantic import ConfigDict

from hub.errors import ApiError, json_response
from hub.inputs import Body, EmptyBody, ident, no_query, read_body
from hub.routes_api import RISK, deps_of, known_strategy, read_history, reply_json
from messages.control import (
    FlattenPosition,
    GetRiskLimits,
    ResetRiskLimits,
    ResetStrategyParams,
    SetRiskLimits,
    SetStrategyParams,
)
from runtime.net import is_loopback_host


class FlattenBody(Body):
    min_price: str | float | None = None  # refuse below this bid (dollars)
    max_slippage: str | float | None = None  # refuse a bid further than this under the mid


class LimitsBody(Body):
    """Any of the changeable limits (or a strategy's parameters); the actor names what is not
    one."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


def requester(request: web.Request) -> str:
    """Who made a change, for the journal: the token holder, or the client's address."""
    deps = deps_of(request)
    if deps.config.auth_required:
        return "token holder"  # the guard let only a token holder through
    remote = request.remote or ""
    return "loopback" if remote and is_loopback_host(remote) else f"client {remote or '?'}"


def _price(value: str | float | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(422, "invalid_field", f"{name}: not a number") from None
    if not price.is_finite() or not Decimal(0) <= price <= Decimal(1):
        raise ApiError(422, "invalid_field", f"{name}: must be between 0 and 1 dollars")
    return price


async def performance(request: web.Request) -> web.Response:
    """Realized P&L per trade and market, balance, equity curve and record, from the ledger."""
    deps = deps_of(request)
    no_query(request.query)
    source = deps.store.performance
    if source is None:
        raise ApiError(
            503,
            "performance_unavailable",
            "P&L is read from the ledger, and this bot runs without one",
        )
    return json_response(await read_history(deps, source.report))


async def flatten(request: web.Request) -> web.Response:
    """Sell a whole position at the best bid within the price guard (404: none; 409: halted)."""
    deps = deps_of(request)
    ticker = ident(request.match_info["ticker"], "ticker")
    body = await read_body(request, FlattenBody)
    guard = _price(body.max_slippage, "max_slippage")
    ask = FlattenPosition(
        ticker,
        requester(request),
        min_price=_price(body.min_price, "min_price"),
        **({} if guard is None else {"max_slippage": guard}),
    )
    reply = await deps.control.ask(RISK, ask)
    return json_response({"ok": True, "action": "flatten", "result": reply_json(reply)}, 202)


async def risk_limits(request: web.Request) -> web.Response:
    no_query(request.query)
    reply = await deps_of(request).control.ask(RISK, GetRiskLimits())
    return json_response(reply_json(reply))


async def change_limits(request: web.Request) -> web.Response:
    """Validated by the start-up rules (400 names the rule; nothing changes), then kept."""
    body = await read_body(request, LimitsBody)
    changes = body.model_extra or {}
    ask = SetRiskLimits(orjson.dumps(changes).decode(), requester(request))
    reply = await deps_of(request).control.ask(RISK, ask)
    return json_response({"ok": True, "action": "change_limits", "result": reply_json(reply)})


async def reset_limits(request: web.Request) -> web.Response:
    await read_body(request, EmptyBody)
    reply = await deps_of(request).control.ask(RISK, ResetRiskLimits(requester(request)))
    return json_response({"ok": True, "action": "reset_limits", "result": reply_json(reply)})


async def change_params(request: web.Request) -> web.Response:
    """Validated by the strategy's parameter model (400 names the problem; nothing changes)."""
    name, target = known_strategy(request)
    body = await read_body(request, LimitsBody)
    changes = orjson.dumps(body.model_extra or {}).decode()
    reply = await deps_of(request).control.ask(
        target, SetStrategyParams(name, changes, requester(request))
    )
    return json_response({"ok": True, "action": "change_params", "result": reply_json(reply)})


async def reset_params(request: web.Request) -> web.Response:
    name, target = known_strategy(request)
    await read_body(request, EmptyBody)
    reply = await deps_of(request).control.ask(
        target, ResetStrategyParams(name, requester(request))
    )
    return json_response({"ok": True, "action": "reset_params", "result": reply_json(reply)})
