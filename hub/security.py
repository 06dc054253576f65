"""Who may do what: bearer tokens, the CORS allowlist, Origin and Host checks, body size.

- Controls (POST under ``/api``, ``start_bot``/``stop_bot`` on the WebSocket) need
  ``Authorization: Bearer <API_TOKEN>`` (or ``?token=`` on the WebSocket) whenever
  ``HubConfig.auth_required``. Tokens are compared in constant time.
- Beyond loopback (``HubConfig.reads_need_token``) every read needs the token too: the
  ``/api`` reads, ``/metrics`` and the ``/ws`` feed. ``/api/health`` stays open (monitors),
  and so does the page itself (it holds no data; it asks for the token).
- A request carrying an ``Origin`` that is neither this server nor in
  ``CORS_ORIGINS`` is refused (403) — browsers send simple cross-site POSTs
  without a preflight, so CORS headers alone would not stop a forged ``/api/stop``.
- Bound to loopback, only loopback host names (and the allowlisted origins' hosts)
  are served: this defeats DNS-rebinding pages that point a name at 127.0.0.1.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import CIMultiDict

from hub.config import HubConfig
from hub.errors import ApiError, Handler
from runtime.net import is_loopback_host

ALLOWED_METHODS = "GET, POST, PATCH, OPTIONS"
CONTROL_METHODS = frozenset({"POST", "PATCH"})  # under /api: a control, needs the token
OPEN_READS = frozenset({"/api/health"})
ALLOWED_HEADERS = frozenset({"authorization", "content-type"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def tokens_match(given: str | None, expected: str | None) -> bool:
    if given is None or expected is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"


class SecurityPolicy:
    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.allowed_origins = frozenset(_origin_of(o) for o in config.cors_origins)
        self._loopback = is_loopback_host(config.host)
        hosts = {urlsplit(o).hostname for o in config.cors_origins}
        self._hosts = LOOPBACK_NAMES | {config.host.lower().strip("[]")} | {h for h in hosts if h}

    # -- checks -------------------------------------------------------------------------------

    def same_origin(self, origin: str, request: web.Request) -> bool:
        return _origin_of(origin) == f"{request.scheme}://{request.host.lower()}"

    def origin_allowed(self, origin: str, request: web.Request) -> bool:
        return self.same_origin(origin, request) or _origin_of(origin) in self.allowed_origins

    def host_allowed(self, request: web.Request) -> bool:
        if not self._loopback:
            return True
        name = urlsplit("//" + request.host).hostname or ""
        return name in self._hosts

    def token_of(self, request: web.Request, allow_query: bool = False) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        if allow_query:
            return request.query.get("token")
        return None

    def authorized(self, request: web.Request, allow_query: bool = False) -> bool:
        """May this request control trading?"""
        if not self.config.auth_required:
            return True
        return tokens_match(self.token_of(request, allow_query), self.config.api_token)

    def require_auth(self, request: web.Request) -> None:
        if not self.authorized(request):
            raise ApiError(
                401,
                "unauthorized",
                "this control needs Authorization: Bearer <API_TOKEN>",
                {"WWW-Authenticate": 'Bearer realm="sol15"'},
            )

    def is_guarded_read(self, request: web.Request) -> bool:
        """A read that shows trading data: the ``/api`` reads, ``/metrics`` and ``/ws``."""
        path = request.path
        if path in OPEN_READS:
            return False
        return path.startswith("/api/") or path in ("/metrics", "/ws")

    def require_read_auth(self, request: web.Request) -> None:
        """Beyond loopback, reading needs the token (``?token=`` too on the WebSocket)."""
        if not self.config.reads_need_token or not self.is_guarded_read(request):
            return
        if not tokens_match(
            self.token_of(request, allow_query=request.path == "/ws"), self.config.api_token
        ):
            raise ApiError(
                401,
                "unauthorized",
                "beyond loopback, reads need Authorization: Bearer <API_TOKEN> "
                "(?token= on the WebSocket); only /api/health is open",
                {"WWW-Authenticate": 'Bearer realm="sol15"'},
            )

    # -- middlewares ----------------------------------------------------------------------------

    def cors_middleware(self) -> Middleware:
        """Outermost: answers preflights, adds CORS and security headers to every response."""

        @web.middleware
        async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
            origin = request.headers.get("Origin")
            cross = origin is not None and not self.same_origin(origin, request)
            allowed = cross and origin is not None and _origin_of(origin) in self.allowed_origins
            if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                return self._preflight(request, origin, allowed)
            response = await handler(request)
            if response.prepared:  # a WebSocket: its headers are already on the wire
                return response
            for key, value in SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
            if allowed and origin is not None:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers.add("Vary", "Origin")
            return response

        return cors

    def _preflight(self, request: web.Request, origin: str | None, allowed: bool) -> web.Response:
        from hub.errors import error_response

        method = request.headers.get("Access-Control-Request-Method", "").upper()
        wanted = {
            h.strip().lower()
            for h in request.headers.get("Access-Control-Request-Headers", "").split(",")
            if h.strip()
        }
        if origin is None or not (allowed or self.same_origin(origin, request)):
            return error_response(403, "origin_not_allowed", "origin not in CORS_ORIGINS")
        if method not in ("GET", *CONTROL_METHODS) or not wanted <= ALLOWED_HEADERS:
            return error_response(403, "preflight_refused", "method or headers not allowed")
        headers = CIMultiDict(
            {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            }
        )
        return web.Response(status=204, headers=headers)

    def guard_middleware(self) -> Middleware:
        """Inside the error middleware: host, origin, auth and size checks before any handler."""

        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not self.host_allowed(request):
                raise ApiError(403, "host_not_allowed", "unexpected Host header")
            origin = request.headers.get("Origin")
            if origin is not None and not self.origin_allowed(origin, request):
                raise ApiError(403, "origin_not_allowed", "origin not in CORS_ORIGINS")
            length = request.content_length
            if length is not None and length > self.config.max_body:
                raise ApiError(413, "payload_too_large", "request body too large")
            if request.method in CONTROL_METHODS and request.path.startswith("/api/"):
                self.require_auth(request)
            else:
                self.require_read_auth(request)
            return await handler(request)

        return guard
