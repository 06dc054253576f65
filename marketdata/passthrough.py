"""The CF Benchmarks passthrough as a backfill source (:mod:`marketdata.backfill`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from kalshi.cfbenchmarks import IndexValue
from kalshi.errors import AuthError, KalshiError
from marketdata.backfill import Print, SourceUnavailable


class IndexValues(Protocol):
    def get_index_values(self, index_id: str) -> list[IndexValue]: ...


class PassthroughPrints:
    """Kalshi's CF Benchmarks REST passthrough: the last ten minutes of an index, one print
    a second. ``client`` opens a REST client for one request (and closes it after)."""

    name = "the CF Benchmarks passthrough"

    def __init__(self, client: Callable[[], AbstractContextManager[IndexValues]]) -> None:
        self._client = client

    def prints(self, index_id: str, since: float) -> list[Print]:
        try:
            with self._client() as rest:
                values = rest.get_index_values(index_id)
        except AuthError as exc:
            if exc.status == 403:
                raise SourceUnavailable("this account is not entitled to it (HTTP 403)") from None
            raise SourceUnavailable(f"refused (HTTP {exc.status})") from None
        except KalshiError as exc:
            raise SourceUnavailable(str(exc)) from None
        return [(v.ts, v.value) for v in values if v.ts >= since]
