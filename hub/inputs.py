"""Strict parsing of request bodies and query strings: anything unexpected is a 4xx, never a crash."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TypeVar

import orjson
from aiohttp import web
from multidict import MultiMapping
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.errors import ApiError
from messages.formats import parse_since
from storage.history_api import (
    MODE_CHOICES,
    SIGNAL_STATUSES,
    STATUS_ALIASES,
    HistoryQuery,
    SignalQuery,
    TradeQuery,
)

MAX_LIMIT = 1_000
# Deeper pages are a job for ``since`` or ``run.py export``; an unbounded offset also
# overflows the database's integer (a 500 instead of an answer).
MAX_OFFSET = 1_000_000
# Order ids, tickers and strategy names: what Kalshi and sol15 use, nothing that needs escaping.
IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EmptyBody(Body):
    """Controls that take no arguments still refuse unknown fields."""


class StopBody(Body):
    reason: str = Field("requested via the API", min_length=1, max_length=200)


B = TypeVar("B", bound=Body)


async def read_body(request: web.Request, model: type[B]) -> B:
    """An optional JSON object body validated against ``model`` (no body = all defaults)."""
    raw = await request.read()  # aiohttp enforces client_max_size here (413)
    if not raw.strip():
        return model()
    if request.content_type not in ("application/json", "application/octet-stream", ""):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"body is not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "body"
        if error["type"] == "extra_forbidden":
            raise ApiError(422, "unknown_field", f"unknown field {field!r}") from None
        raise ApiError(422, "invalid_field", f"{field}: {error['msg']}") from None


def ident(value: str, what: str) -> str:
    if not IDENT.match(value):
        raise ApiError(400, "invalid_parameter", f"{what} has characters or a length not allowed")
    return value


def _single(query: MultiMapping[str], allowed: frozenset[str]) -> dict[str, str]:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise ApiError(400, "unknown_parameter", f"unknown query parameter {unknown[0]!r}")
    values: dict[str, str] = {}
    for key in query:
        found = query.getall(key)
        if len(found) > 1:
            raise ApiError(400, "invalid_parameter", f"{key} given more than once")
        values[key] = found[0]
    return values


def _whole_number(text: str, name: str, low: int, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number") from None
    if value < low or (high is not None and value > high):
        allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(400, "invalid_parameter", f"{name} must be {allowed}")
    return value


def _limit(text: str | None) -> int:
    return 100 if text is None else _whole_number(text, "limit", 1, MAX_LIMIT)


def _offset(text: str | None) -> int:
    return 0 if text is None else _whole_number(text, "offset", 0, MAX_OFFSET)


def _since(text: str | None) -> float | None:
    """Unix seconds, a date or a date-time with a zone (``messages.formats.parse_since``)."""
    if text is None:
        return None
    try:
        return parse_since(text)
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", f"since {exc}") from None


def _mode(text: str | None) -> str | None:
    """``?mode=``: whose history (None: the mode the bot runs in)."""
    if text is not None and text not in MODE_CHOICES:
        choices = ", ".join(sorted(MODE_CHOICES))
        raise ApiError(400, "invalid_parameter", f"mode must be one of {choices}")
    return text


_QUERY_KEYS = frozenset(
    {"ticker", "strategy", "status", "since", "limit", "offset", "mode", "series"}
)


Q = TypeVar("Q", bound=HistoryQuery)


def _history_query(query: MultiMapping[str], kind: type[Q], statuses: Collection[str]) -> Q:
    """A history list's parameters; ``statuses``: the words its ``status`` may be."""
    values = _single(query, _QUERY_KEYS)
    status = values.get("status")
    if status is not None and status not in statuses:
        choices = ", ".join(sorted(statuses))
        raise ApiError(400, "invalid_parameter", f"status must be one of {choices}")
    return kind(
        series=_optional_ident(values, "series"),
        ticker=_optional_ident(values, "ticker"),
        strategy=_optional_ident(values, "strategy"),
        status=status,
        since=_since(values.get("since")),
        limit=_limit(values.get("limit")),
        offset=_offset(values.get("offset")),
        mode=_mode(values.get("mode")),
    )


def trade_query(query: MultiMapping[str]) -> TradeQuery:
    return _history_query(query, TradeQuery, STATUS_ALIASES)


def signal_query(query: MultiMapping[str]) -> SignalQuery:
    return _history_query(query, SignalQuery, SIGNAL_STATUSES)


def no_query(query: MultiMapping[str]) -> None:
    """A read that takes no parameters still refuses unknown ones."""
    _single(query, frozenset())


def series_query(query: MultiMapping[str]) -> str | None:
    """``?series=`` alone (the status and positions take no other parameter)."""
    return _optional_ident(_single(query, frozenset({"series"})), "series")


def _optional_ident(values: dict[str, str], key: str) -> str | None:
    value = values.get(key)
    return None if value is None else ident(value, key)
