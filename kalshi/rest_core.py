"""The plumbing under :class:`~kalshi.rest.KalshiRestClient`: send one request, retry.

- Every request is signed over ``timestamp + METHOD + path`` (no query string); the
  order-create path can use pre-signed headers to keep RSA signing off the hot path.
- Token buckets keep us inside the account's read/write budgets before we send.
- Failures become typed errors (:mod:`kalshi.errors`); 429, 5xx and transport failures
  are retried with exponential backoff and jitter, and a retry policy can turn a final
  failure into a result (e.g. an order found by lookup after its answer was lost).
- A call may have a deadline: no retry starts that could not end before it, and each
  attempt's timeouts (and its wait for rate-limit tokens) shrink to the time left.
- Per-request latency lands in :attr:`RestCore.latency`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import orjson
from loguru import logger

from kalshi.auth import Signer
from kalshi.backoff import Backoff
from kalshi.environment import environment_name
from kalshi.errors import (
    AuthError,
    DeprecatedEndpoint,
    KalshiError,
    LocalRateLimited,
    ParseError,
    RateLimited,
    ServerError,
    TransportError,
    error_from_response,
)
from kalshi.metrics import LatencyRecorder, RequestSample
from kalshi.models import Page
from kalshi.presign import PresignedHeaders
from kalshi.rate_limit import BASIC, RateLimiter, RateLimitTier

T = TypeVar("T")
CREATE_ORDER_PATH = "/portfolio/events/orders"  # V2 create (POST); also cancel-all (DELETE)
Resolve = Callable[[KalshiError, bool], T | None]
LAST_ATTEMPT_SECONDS = 1.0  # an attempt made at (or past) a deadline still gets this long


@dataclass(frozen=True, slots=True)
class Answer:
    """A 2xx answer: its status, the parsed JSON (None if empty or not JSON) and the text."""

    status: int
    data: Any
    text: str


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def params_of(**values: object) -> dict[str, str]:
    """Query parameters, leaving out the ones that are None."""
    return {key: _query_value(value) for key, value in values.items() if value is not None}


def segment(value: str) -> str:
    """One path segment (a ticker or an id), escaped."""
    if not value:
        raise ValueError("an empty path segment (ticker or id)")
    return quote(value, safe="")


def _http_client(
    api_base: str,
    timeout: httpx.Timeout,
    max_connections: int,
    transport: httpx.BaseTransport | None,
) -> httpx.Client:
    """One pooled client per key: kept-alive connections spare a TLS handshake per order."""
    return httpx.Client(
        base_url=api_base + "/",
        timeout=timeout,
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
        ),
        headers={"Accept": "application/json", "User-Agent": "sol15-kalshi/0.2"},
        transport=transport,
    )


class RestCore:
    """Signing, rate limiting, sending and retrying for one API key."""

    def __init__(
        self,
        api_base: str,
        signer: Signer | None = None,
        *,
        timeout: float | httpx.Timeout = 5.0,
        tier: RateLimitTier = BASIC,
        rate_limiter: RateLimiter | None = None,
        rate_limit: bool = True,
        rate_limit_timeout: float | None = 10.0,
        max_attempts: int = 4,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        presign_orders: bool = False,
        presign_max_age: float = 1.0,
        latency: LatencyRecorder | None = None,
        perf_counter: Callable[[], float] = time.perf_counter,
        max_connections: int = 10,
        duplicate_lookup_pages: int = 20,
        create_deadline: float | None = 10.0,
    ) -> None:
        """``create_deadline``: seconds one order create may take with its retries and the
        lookup after an uncertain attempt (None: unbounded) — the order actor sends nothing
        else meanwhile."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if create_deadline is not None and create_deadline <= 0:
            raise ValueError("create_deadline must be positive (or None)")
        self.create_deadline = create_deadline
        self.api_base = api_base.rstrip("/")
        self.environment = environment_name(self.api_base)
        self._base_path = httpx.URL(self.api_base).path.rstrip("/")
        self._signer = signer
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._backoff = backoff or Backoff(base=0.2, maximum=5.0)
        self._limiter: RateLimiter | None = None
        if rate_limit:
            self._limiter = rate_limiter or RateLimiter(tier, sleep=sleep)
        self._rate_limit_timeout = rate_limit_timeout
        self._perf = perf_counter
        self._lookup_pages = duplicate_lookup_pages
        self.latency = latency or LatencyRecorder()
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._order_headers: PresignedHeaders | None = None
        if presign_orders and signer is not None:
            self._order_headers = PresignedHeaders(
                signer, "POST", self._base_path + CREATE_ORDER_PATH, max_age=presign_max_age
            )
            self._order_headers.refresh()
        self._http = _http_client(self.api_base, self._timeout, max_connections, transport)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.api_base!r}, environment={self.environment!r})"

    def close(self) -> None:
        self._http.close()

    @property
    def rate_limiter(self) -> RateLimiter | None:
        return self._limiter

    def use_rate_limiter(self, limiter: RateLimiter) -> None:
        """Swap in a limiter sized from the account (see ``RateLimiter.from_account``)."""
        self._limiter = limiter

    # -- signing -------------------------------------------------------------------------

    def refresh_presigned(self) -> None:
        """Re-sign the cached create-order headers now (call from a timer, e.g. every 0.5 s)."""
        if self._order_headers is not None:
            self._order_headers.refresh()

    @property
    def presigned(self) -> PresignedHeaders | None:
        return self._order_headers

    def signing_path(self, path: str) -> str:
        """The path Kalshi verifies: the base's path plus ``path``, no query string."""
        return self._base_path + path.split("?", 1)[0]

    def _auth_headers(
        self, method: str, path: str, presigned: PresignedHeaders | None
    ) -> dict[str, str]:
        if self._signer is None:
            return {}
        if presigned is not None:
            return presigned.get()
        return self._signer.headers(method, self.signing_path(path))

    # -- one request ---------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        attempt: int,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        order_write: bool = False,
        create: bool = False,
        auth: bool = True,
        items: int = 1,
        presigned: PresignedHeaders | None = None,
        deadline: float | None = None,
    ) -> Answer:
        """Send once; the :class:`Answer` of a 2xx, else a typed :class:`KalshiError`.

        Requests are signed whenever a key is configured; ``auth`` marks endpoints that
        cannot work without one (they fail here instead of earning a 401). ``items`` is
        the size of a batch, which is billed per item. ``deadline`` (on the
        ``perf_counter`` clock) caps the wait for tokens and the request's timeouts.
        """
        if auth and self._signer is None:
            raise AuthError(
                f"{endpoint} needs an API key and none is configured",
                environment=self.environment,
            )
        left = None if deadline is None else max(deadline - self._perf(), LAST_ATTEMPT_SECONDS)
        self._take_tokens(method, path, left, items)
        headers = self._auth_headers(method, path, presigned)
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = orjson.dumps(body)
        response = self._request(method, path, endpoint, attempt, params, content, headers, left)
        data = self._decode(response, endpoint)
        status = response.status_code
        if 200 <= status < 300:
            return Answer(status, data, response.text)
        raise self._failure(method, path, endpoint, response, data, order_write, create)

    def _take_tokens(self, method: str, path: str, left: float | None, items: int) -> None:
        """Wait for the rate limiter's tokens, no longer than the request has left."""
        if self._limiter is None:
            return
        wait = self._rate_limit_timeout
        if left is not None:
            wait = left if wait is None else min(wait, left)
        self._limiter.acquire(method, path, wait, items)

    def _request(
        self,
        method: str,
        path: str,
        endpoint: str,
        attempt: int,
        params: Mapping[str, str] | None,
        content: bytes | None,
        headers: dict[str, str],
        left: float | None,
    ) -> httpx.Response:
        """The HTTP exchange itself, timed into ``latency`` whether it answered or not;
        httpx's errors become a :class:`TransportError` naming the endpoint."""
        started = self._perf()
        status: int | None = None
        error: str | None = None
        try:
            response = self._http.request(
                method,
                path.lstrip("/"),
                params=params,
                content=content,
                headers=headers,
                timeout=httpx.USE_CLIENT_DEFAULT if left is None else self._within(left),
            )
            status = response.status_code
        except httpx.TimeoutException as exc:
            error = "TransportError"
            raise TransportError(f"{endpoint}: timed out ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            error = "TransportError"
            raise TransportError(f"{endpoint}: connection failed ({type(exc).__name__})") from None
        finally:
            self.latency.record(
                RequestSample(endpoint, method, status, self._perf() - started, attempt, error)
            )
        return response

    def _failure(
        self,
        method: str,
        path: str,
        endpoint: str,
        response: httpx.Response,
        data: Any,
        order_write: bool,
        create: bool,
    ) -> KalshiError:
        """The typed error of a non-2xx answer; a 429 also slows this endpoint's limiter."""
        failure = error_from_response(
            response.status_code,
            data if data is not None else response.text[:500],
            environment=self.environment,
            order_endpoint=order_write,
            create_order=create,
        )
        if isinstance(failure, DeprecatedEndpoint):
            logger.error("kalshi {}: {} {} is retired: {}", endpoint, method, path, failure)
        if isinstance(failure, RateLimited) and self._limiter is not None:
            self._limiter.penalize(method, path)
        return failure

    def _within(self, seconds: float) -> httpx.Timeout:
        """The client's timeouts, none longer than ``seconds``."""
        t = self._timeout

        def cap(value: float | None) -> float:
            return seconds if value is None else min(value, seconds)

        return httpx.Timeout(
            connect=cap(t.connect), read=cap(t.read), write=cap(t.write), pool=cap(t.pool)
        )

    def deadline_in(self, seconds: float | None) -> float | None:
        """The ``perf_counter`` time ``seconds`` from now (None stays None)."""
        return None if seconds is None else self._perf() + seconds

    def _attempt(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`_send` for answers that must carry a JSON body."""
        answer = self._send(method, path, **kwargs)
        if answer.data is None:
            raise ParseError(
                f"{kwargs['endpoint']}: HTTP {answer.status} with an empty or non-JSON body"
            )
        return answer.data

    @staticmethod
    def _decode(response: httpx.Response, endpoint: str) -> Any:
        if not response.content:
            return None
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            logger.warning("kalshi {}: HTTP {} body is not JSON", endpoint, response.status_code)
            return None

    # -- retries -------------------------------------------------------------------------

    def _with_retries(
        self,
        endpoint: str,
        send: Callable[[int], T],
        resolve: Resolve[T] | None = None,
        *,
        retry_uncertain: bool = True,
        deadline: float | None = None,
    ) -> T:
        """Run ``send(attempt)``, retrying 429, 5xx and transport failures.

        ``resolve(error, uncertain)`` may turn a final error into a result (or raise a
        better one); ``uncertain`` is true once an earlier attempt may have reached the
        exchange. Without ``retry_uncertain`` (writes that must not be repeated blindly)
        only 429s, which the exchange refused unseen, are retried. A retired endpoint
        (:class:`DeprecatedEndpoint`) is never retried nor resolved. No retry starts
        whose backoff would end past ``deadline`` (a ``perf_counter`` time).
        """
        uncertain = False
        last: KalshiError | None = None
        for attempt in range(self._max_attempts):
            if attempt and not self._pause(endpoint, attempt, last, deadline):
                break
            try:
                return send(attempt)
            except DeprecatedEndpoint:
                raise
            except LocalRateLimited as exc:  # nothing left this time, but maybe before
                last = exc
                break
            except (RateLimited, ServerError, TransportError) as exc:
                last = exc
                if not isinstance(exc, RateLimited):
                    uncertain = True
                    if not retry_uncertain:
                        break
            except KalshiError as exc:
                last = exc
                break
        assert last is not None
        if resolve is not None:
            resolved = resolve(last, uncertain)
            if resolved is not None:
                return resolved
        raise last

    def _pause(
        self, endpoint: str, attempt: int, last: KalshiError | None, deadline: float | None
    ) -> bool:
        """Back off before retry number ``attempt``; False when the deadline leaves no time."""
        delay = self._backoff.delay(attempt - 1)
        if deadline is not None and self._perf() + delay >= deadline:
            logger.warning(
                "kalshi {}: attempt {} failed ({}); no time left to retry", endpoint, attempt, last
            )
            return False
        # One line per endpoint and kind of failure per minute (runtime.log's throttle): a
        # bot without network would otherwise log every retry of every request, forever.
        reason = f"kalshi {endpoint} retry: {type(last).__name__}"
        logger.bind(throttle=reason).warning(
            "kalshi {}: attempt {} failed ({}); retrying in {:.3f}s", endpoint, attempt, last, delay
        )
        self._sleep(delay)
        return True

    # -- reads ---------------------------------------------------------------------------

    def _get(
        self,
        path: str,
        endpoint: str,
        params: Mapping[str, str] | None = None,
        auth: bool = True,
        deadline: float | None = None,
    ) -> Any:
        return self._with_retries(
            endpoint,
            lambda attempt: self._attempt(
                "GET",
                path,
                endpoint=endpoint,
                attempt=attempt,
                params=params,
                auth=auth,
                deadline=deadline,
            ),
            deadline=deadline,
        )

    def _get_answer(
        self,
        path: str,
        endpoint: str,
        params: Mapping[str, str] | None = None,
        auth: bool = False,
    ) -> Answer:
        """:meth:`_get` keeping the answer's text, for callers that store Kalshi's own JSON."""

        def send(attempt: int) -> Answer:
            answer = self._send(
                "GET", path, endpoint=endpoint, attempt=attempt, params=params, auth=auth
            )
            if not isinstance(answer.data, Mapping):
                raise ParseError(f"{endpoint}: HTTP {answer.status} without a JSON object")
            return answer

        return self._with_retries(endpoint, send)

    @staticmethod
    def _field(data: Any, key: str, endpoint: str) -> Any:
        if not isinstance(data, Mapping) or data.get(key) is None:
            raise ParseError(f"{endpoint}: response has no {key!r}")
        return data[key]

    def _page(self, data: Any, key: str, parse: Callable[[object], T], endpoint: str) -> Page[T]:
        raw = self._field(data, key, endpoint)
        if not isinstance(raw, list):
            raise ParseError(f"{endpoint}: {key!r} is not a list")
        items: list[T] = []
        skipped = 0
        for entry in raw:
            try:
                items.append(parse(entry))
            except ParseError as exc:
                skipped += 1
                logger.warning("kalshi {}: skipping malformed entry: {}", endpoint, exc)
        cursor = data.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise ParseError(f"{endpoint}: cursor is not a string")
        return Page(tuple(items), cursor or None, skipped)
