"""The ▶ error shape ``{"error": {"code", "message"}}`` for every failure, whatever raised it.

Nothing a client sends may crash the hub: handler bugs become a logged 500 with
the same shape, and aiohttp's own HTTP errors (404, 405, 413) are rewritten too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from loguru import logger

from hub.wire import dumps

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_field",
    503: "unavailable",
    504: "timeout",
}


class ApiError(Exception):
    """A request that cannot be served, with the status and code the client sees."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def json_response(body: object, status: int = 200) -> web.Response:
    return web.Response(body=dumps(body), status=status, content_type="application/json")


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    response = json_response({"error": {"code": code, "message": message}}, status)
    response.headers.update(headers or {})
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        message = exc.reason if exc.status != 413 else "request body too large"
        return error_response(exc.status, _CODES.get(exc.status, "http_error"), message, headers)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        logger.exception("hub: {} {} failed", request.method, request.path)
        return error_response(500, "internal_error", "internal error (logged)")
