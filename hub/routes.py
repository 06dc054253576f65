"""Every path of the HTTP API in one table, beside the handlers' modules that serve them."""

from __future__ import annotations

from aiohttp import web

from hub import controls, routes_api


def add_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get("/api/health", routes_api.health),
            web.get("/api/status", routes_api.status),
            web.post("/api/start", routes_api.start),
            web.post("/api/stop", routes_api.stop),
            web.get("/api/trades", routes_api.trades),
            web.get("/api/trades/active", routes_api.active_trades),
            web.post("/api/trades/{id}/cancel", routes_api.cancel),
            web.get("/api/positions", routes_api.positions),
            web.get("/api/strategies", routes_api.strategies),
            web.post("/api/strategies/{name}/{action:enable|disable}", routes_api.toggle_strategy),
            web.post("/api/circuit-breaker/reset", routes_api.reset_breaker),
            web.get("/api/signals", routes_api.signals),
            web.get("/api/actors", routes_api.actors),
            web.get("/api/scoreboard", routes_api.scoreboard),
            web.get("/api/dashboard", routes_api.dashboard),
            web.get("/metrics", routes_api.metrics),
            web.get("/api/performance", controls.performance),
            web.post("/api/positions/{ticker}/flatten", controls.flatten),
            web.get("/api/risk/limits", controls.risk_limits),
            web.patch("/api/risk/limits", controls.change_limits),
            web.post("/api/risk/limits/reset", controls.reset_limits),
            web.patch("/api/strategies/{name}/params", controls.change_params),
            web.post("/api/strategies/{name}/params/reset", controls.reset_params),
        ]
    )
