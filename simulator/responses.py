"""HTTP responses in Kalshi's form: JSON bodies, and errors as ``{"error": {...}}``."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from simulator import errors

API_PREFIX = "/trade-api/v2"


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def error_response(error: errors.ExchangeError) -> web.Response:
    return json_response(error.body(), status=error.status)
