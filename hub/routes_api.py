"""The ▶ REST API (``/api/...``) and ``/metrics``.

Reads come from the store (the live status) and from its ``HistoryReader``
(run off the loop: a ledger-backed reader will do I/O). Controls are asks to the
trading actors through the ``ControlGateway``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from hub.deps import DEPS, HubDeps
from hub.errors import ApiError, json_response
from hub.inputs import (
    EmptyBody,
    StopBody,
    ident,
    no_query,
    read_body,
    series_query,
    signal_query,
    trade_query,
)
from hub.store import with_series
from hub.wire import dumps, plain
from marketdata.series_watch import series_problems
from messages.base import Message
from messages.control import (
    CancelOrder,
    ResetCircuitBreaker,
    SetStrategyEnabled,
    StartTrading,
    StopTrading,
)
from runtime.address import AddressState
from storage.history_api import ACTIVE, HistoryUnavailable

RISK = "risk"
ORDER = "order"


def strategy_address(name: str) -> str:
    return f"strategy:{name}"


def deps_of(request: web.Request) -> HubDeps:
    return request.app[DEPS]


def reply_json(reply: Any) -> Any:
    """What an actor answered, as JSON (messages by their wire form, other values if plain)."""
    if isinstance(reply, Message):
        return {"type": reply.type, **plain(reply)}
    if reply is None or isinstance(reply, str | int | float | bool):
        return reply
    if isinstance(reply, dict | list | tuple):  # e.g. a strategy's description
        try:
            return orjson.loads(dumps(reply))
        except TypeError:
            return None
    return None


# -- reads ----------------------------------------------------------------------------------


async def read_history(deps: HubDeps, reader: Callable[..., Any], *args: Any) -> Any:
    """A history read, off the loop; a history that cannot be read is a 503, not a 500."""
    try:
        return await deps.control.off_loop(reader, *args)
    except HistoryUnavailable as exc:
        raise ApiError(503, "history_unavailable", f"the history cannot be read: {exc}") from None


async def health(request: web.Request) -> web.Response:
    """Open to monitors everywhere: ``degraded`` (with the reasons) while market data is down
    or a traded series' markets stopped appearing."""
    deps = deps_of(request)
    state = deps.store.state
    now = deps.now()
    problems = [*state.data_problems(), *series_problems(state.series_health(now), now)]
    return json_response(
        {
            "status": "degraded" if problems else "ok",
            "reasons": problems,
            "mode": deps.config.mode,
            "uptime_seconds": round(time.monotonic() - deps.started, 3),
            "websocket_clients": deps.broadcaster.count,
            "auth_required": deps.config.auth_required,
            "read_auth_required": deps.config.reads_need_token,
            "time": deps.now(),
        }
    )


async def status(request: web.Request) -> web.Response:
    deps = deps_of(request)
    series = series_query(request.query)
    return json_response(deps.store.status(deps.config.mode, deps.now(), series))


async def trades(request: web.Request) -> web.Response:
    deps = deps_of(request)
    query = trade_query(request.query)
    found = with_series(await read_history(deps, deps.store.reader.trades, query))
    return json_response({"trades": found, "count": len(found)})


async def active_trades(request: web.Request) -> web.Response:
    deps = deps_of(request)
    trade_query(request.query)  # no parameters here, but unknown ones are still refused
    found = await read_history(deps, deps.store.reader.active_orders)
    return json_response({"trades": found, "count": len(found)})


async def positions(request: web.Request) -> web.Response:
    deps = deps_of(request)
    series = series_query(request.query)
    found = with_series(await read_history(deps, deps.store.reader.positions), series)
    return json_response({"positions": found, "count": len(found)})


async def signals(request: web.Request) -> web.Response:
    deps = deps_of(request)
    query = signal_query(request.query)
    found = await read_history(deps, deps.store.reader.signals, query)
    return json_response({"signals": found, "count": len(found)})


async def strategies(request: web.Request) -> web.Response:
    deps = deps_of(request)
    listed = deps.store.state.strategy_list()
    states = {a.name: a.state for a in deps.system.addresses()}
    for entry in listed:
        state = states.get(strategy_address(entry["name"]), AddressState.UNBOUND)
        entry["actor_state"] = state.value
    return json_response({"strategies": listed, "count": len(listed)})


async def actors(request: web.Request) -> web.Response:
    deps = deps_of(request)
    try:
        tree = await deps.control.off_loop(deps.system.tree)
    except RuntimeError as exc:
        raise ApiError(503, "unavailable", str(exc)) from None
    letters = deps.system.dead_letters
    _, events = deps.store.state.recent()
    return json_response(
        {
            "tree": tree.to_dict(),
            "dead_letters": {
                "total": letters.total,
                "by_name": dict(letters.by_name),
                "kinds": letters.kinds(),  # what they were: to whom, which message, why
            },
            "events": events,
        }
    )


async def scoreboard(request: web.Request) -> web.Response:
    """Does the model beat the market? The live scoreboard's latest report."""
    deps = deps_of(request)
    no_query(request.query)
    body = deps.store.state.scoreboard_report()
    if body is None:
        raise ApiError(
            503,
            "scoreboard_unavailable",
            "the scoreboard has not reported yet (it starts with the bot and reads the "
            "ledger first)",
        )
    return web.Response(body=body, content_type="application/json")


async def dashboard(request: web.Request) -> web.Response:
    """Not in the contract: the page's first paint (window, chart series, recent alerts)."""
    deps = deps_of(request)
    ticker = request.query.get("ticker")
    selected = ident(ticker, "ticker") if ticker else None
    return json_response(deps.store.dashboard(deps.now(), selected))


async def metrics(request: web.Request) -> web.Response:
    deps = deps_of(request)
    body = await deps.control.off_loop(deps.metrics.render)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


# -- controls -------------------------------------------------------------------------------


async def start(request: web.Request) -> web.Response:
    await read_body(request, EmptyBody)
    reply = await deps_of(request).control.ask(RISK, StartTrading(requested_by="api"))
    return json_response({"ok": True, "action": "start", "result": reply_json(reply)})


async def stop(request: web.Request) -> web.Response:
    body = await read_body(request, StopBody)
    reply = await deps_of(request).control.ask(
        RISK, StopTrading(reason=body.reason, requested_by="api")
    )
    return json_response({"ok": True, "action": "stop", "result": reply_json(reply)})


async def reset_breaker(request: web.Request) -> web.Response:
    await read_body(request, EmptyBody)
    reply = await deps_of(request).control.ask(RISK, ResetCircuitBreaker(requested_by="api"))
    return json_response(
        {"ok": True, "action": "reset_circuit_breaker", "result": reply_json(reply)}
    )


async def cancel(request: web.Request) -> web.Response:
    deps = deps_of(request)
    order_id = ident(request.match_info["id"], "order id")
    await read_body(request, EmptyBody)
    order = await read_history(deps, deps.store.reader.find_order, order_id)
    if order is None:
        raise ApiError(404, "unknown_order", f"no order {order_id!r}")
    if order["status"] not in ACTIVE:
        raise ApiError(409, "order_not_active", f"order {order_id!r} is {order['status']}")
    # Resolved to our client_order_id: the order actor always knows it (made before sending).
    target = order["client_order_id"] or order_id
    reply = await deps.control.ask(ORDER, CancelOrder(order_id=target))
    return json_response(
        {
            "ok": True,
            "action": "cancel",
            "trade_id": order["trade_id"],
            "status": "cancel_requested",
            "result": reply_json(reply),
        },
        status=202,
    )


def known_strategy(request: web.Request) -> tuple[str, str]:
    """The strategy named in the path and its address (404 for one that does not exist)."""
    deps = deps_of(request)
    name = ident(request.match_info["name"], "strategy name")
    target = strategy_address(name)
    if name not in deps.store.state.strategy_names() and not deps.control.known(target):
        raise ApiError(404, "unknown_strategy", f"no strategy {name!r}")
    return name, target


async def toggle_strategy(request: web.Request) -> web.Response:
    deps = deps_of(request)
    name, target = known_strategy(request)
    enabled = request.match_info["action"] == "enable"
    await read_body(request, EmptyBody)
    reply = await deps.control.ask(target, SetStrategyEnabled(name=name, enabled=enabled))
    return json_response(
        {
            "ok": True,
            "action": "enable" if enabled else "disable",
            "name": name,
            "enabled": enabled,
            "result": reply_json(reply),
        }
    )
