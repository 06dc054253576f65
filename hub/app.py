"""The aiohttp application: middlewares, the API and WebSocket routes, and the static page."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from hub import routes, routes_ws
from hub.deps import DEPS, HubDeps
from hub.errors import Handler, error_middleware

# The page is all 'self': no CDN, no inline script, nothing framed.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def build_app(deps: HubDeps) -> web.Application:
    app = web.Application(
        client_max_size=deps.config.max_body,
        middlewares=[
            deps.policy.cors_middleware(),
            _count(deps),
            error_middleware,
            deps.policy.guard_middleware(),
        ],
    )
    app[DEPS] = deps
    routes.add_routes(app)
    app.router.add_get("/ws", routes_ws.websocket)
    _add_page(app, deps.config.web_dir)
    return app


def _count(deps: HubDeps) -> Middleware:
    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        deps.metrics.http_requests.labels(str(response.status)).inc()
        return response

    return count


def _add_page(app: web.Application, web_dir: Path) -> None:
    index = web_dir / "index.html"

    async def page(request: web.Request) -> web.StreamResponse:
        del request
        response = web.FileResponse(index)
        response.headers["Content-Security-Policy"] = PAGE_CSP
        response.headers["Cache-Control"] = "no-cache"
        return response

    app.router.add_get("/", page)
    app.router.add_static("/static/", web_dir, show_index=False, follow_symlinks=False)
