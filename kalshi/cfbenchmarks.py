"""Kalshi's CF Benchmarks REST passthrough: the recent prints of a settlement index over REST.

``GET /cfbenchmarks/<path>`` forwards ``<path>`` and its query to CF Benchmarks' API v1
and wraps the answer in a Kalshi ``data`` envelope. It is signed like any call (the
signed path has no query), costs 50 read tokens (``kalshi.rate_limit``), and only entitled accounts may use it:
others are refused as unauthorized (403). ``values?id=<index>`` answers the index's most
recent prints (the last ten minutes for a real-time index), oldest first, each
``{"value": "<decimal>", "time": <Unix ms>}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from loguru import logger

from kalshi.errors import ParseError
from kalshi.rest_core import Answer, RestCore, params_of

VALUES_PATH = "/cfbenchmarks/values"


@dataclass(frozen=True, slots=True)
class IndexValue:
    """One published print of an index."""

    ts: float  # Unix seconds
    value: Decimal


def parse_values(data: object, endpoint: str = "cfbenchmarks_values") -> list[IndexValue]:
    """The prints of a ``values`` answer (the Kalshi envelope included), oldest first.

    An entry that is not a positive finite value with a time is skipped with a warning;
    an answer without the envelope or the payload list is a :class:`ParseError`.
    """
    body = data.get("data") if isinstance(data, Mapping) else None
    payload = body.get("payload") if isinstance(body, Mapping) else None
    if not isinstance(payload, list):
        raise ParseError(f"{endpoint}: the answer has no data.payload list")
    values: list[IndexValue] = []
    for entry in payload:
        parsed = _value_of(entry)
        if parsed is None:
            logger.warning("kalshi {}: skipping malformed entry {!r}", endpoint, entry)
        else:
            values.append(parsed)
    values.sort(key=lambda v: v.ts)
    return values


def _value_of(entry: object) -> IndexValue | None:
    if not isinstance(entry, Mapping):
        return None
    time_ms, raw = entry.get("time"), entry.get("value")
    if isinstance(time_ms, bool) or not isinstance(time_ms, int | Decimal) or time_ms <= 0:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0:
        return None
    return IndexValue(float(time_ms) / 1000, value)


class IndexApi(RestCore):
    """The passthrough's ``values`` endpoint (the only one the bot uses)."""

    def get_index_values_answer(self, index_id: str) -> Answer:
        """``values?id=`` as answered (envelope and text kept), for a download that stores
        Kalshi's own JSON. Only the most recent prints: ten minutes for a real-time index."""
        if not index_id:
            raise ValueError("index_id must not be empty")
        return self._get_answer(VALUES_PATH, "cfbenchmarks_values", params_of(id=index_id), True)

    def get_index_values(self, index_id: str) -> list[IndexValue]:
        """The index's most recent prints, oldest first. An account without the
        entitlement gets :class:`~kalshi.errors.AuthError` (HTTP 403)."""
        if not index_id:
            raise ValueError("index_id must not be empty")
        data = self._get(VALUES_PATH, "cfbenchmarks_values", params_of(id=index_id))
        return parse_values(data)
