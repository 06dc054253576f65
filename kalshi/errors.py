"""Typed exceptions for everything the Kalshi wire layer can report.

Kalshi answers errors with ``{"error": {"code", "message", "details"}}`` (and, for
bodies it cannot parse, the same keys at the top level). We map status and code to
a small hierarchy so callers branch on type, not on strings. Messages carry what the
server said and what we did, never a key id, a private key or a signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# No code for a duplicate ``client_order_id`` is named in openapi.yaml: Create Order
# documents only ``409 Conflict - resource already exists``. Any 409 from Create Order
# is therefore a duplicate; these codes are recognised on a 400 as well.
DUPLICATE_ORDER_CODES = frozenset(
    {
        "order_already_exists",
        "duplicate_order",
        "duplicate_client_order_id",
        "client_order_id_already_exists",
        "client_order_id_in_use",
    }
)

DEPRECATED_PREFIX = "deprecated_"

AUTH_HINT = (
    "demo and production API keys are not interchangeable: check that the key id and "
    "private key were issued by the environment this request went to"
)


class KalshiError(Exception):
    """Base of every error from the wire layer."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"HTTP {self.status}" if self.status is not None else "Kalshi"
        code = f" [{self.code}]" if self.code else ""
        details = f" ({self.details})" if self.details else ""
        return f"{head}{code}: {self.message}{details}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r})"


class AuthError(KalshiError):
    """401/403: the key was refused. The message names the environment that was used."""

    def __init__(
        self,
        message: str,
        *,
        environment: str,
        status: int | None = None,
        code: str | None = None,
        details: str | None = None,
    ) -> None:
        self.environment = environment
        super().__init__(
            f"{message} — request went to the {environment} environment; {AUTH_HINT}",
            status=status,
            code=code,
            details=details,
        )


class RateLimited(KalshiError):
    """429 from the exchange (no Retry-After: back off exponentially)."""


class LocalRateLimited(RateLimited):
    """Our own token bucket could not supply the tokens within the caller's timeout."""


class NotFound(KalshiError):
    """404: unknown market or order (also a cancel that lost the race with a fill)."""


class OrderRejected(KalshiError):
    """400/403/409 on an order write: the exchange refused the order or the change."""


class DuplicateOrder(OrderRejected):
    """Create Order answered that this ``client_order_id`` already exists."""


class DeprecatedEndpoint(KalshiError):
    """HTTP 410 or an error code ``deprecated_*``: Kalshi retired what we called.

    Never retried and never silent: trading cannot go on until the client is updated
    (the V1 order endpoints answered exactly this for weeks before bots noticed).
    """


class OrderOutcomeUnknown(KalshiError):
    """A create may or may not have made an order; only a lookup can tell.

    Look it up later by :attr:`client_order_id`; never resend it under a new id.
    ``raw`` is the exchange's answer when there was one; ``claimed``: the exchange said an
    order with this id exists (a 409) though the lookup did not find it — not finding it
    later proves nothing either.
    """

    def __init__(
        self,
        message: str,
        *,
        client_order_id: str,
        cause: KalshiError | None = None,
        raw: str | None = None,
        status: int | None = None,
        claimed: bool = False,
    ) -> None:
        self.client_order_id = client_order_id
        self.raw = raw
        self.claimed = claimed
        super().__init__(
            f"{message}; client_order_id={client_order_id}",
            status=cause.status if cause is not None else status,
            code=cause.code if cause is not None else None,
            details=cause.details if cause is not None else None,
        )


class MalformedOrderAnswer(OrderOutcomeUnknown):
    """A 2xx create answer we cannot read (no ``order_id``, a count that is not fixed-point).

    The order may well exist: it is an unknown outcome for reconciliation, never a guess.
    """


class BadRequest(KalshiError):
    """Any other 4xx: the request itself is wrong; retrying will not help."""


class ServerError(KalshiError):
    """5xx: the exchange failed; the outcome of a write is unknown."""


class TransportError(KalshiError):
    """Timeout or connection failure: no HTTP answer at all."""


class ParseError(KalshiError, ValueError):
    """A response or message did not have the shape the spec promises."""


def is_deprecation(code: str | None) -> bool:
    return code is not None and code.startswith(DEPRECATED_PREFIX)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text[:500] or None


def parse_error_body(body: object) -> tuple[str | None, str | None, str | None]:
    """``(code, message, details)`` from any of the error shapes Kalshi uses."""
    if not isinstance(body, Mapping):
        return None, _text(body) if isinstance(body, str) else None, None
    inner: Any = body.get("error")
    if isinstance(inner, Mapping):
        source: Mapping[str, Any] = inner
    elif isinstance(inner, str):
        return None, _text(inner), None
    else:
        source = body
    return _text(source.get("code")), _text(source.get("message")), _text(source.get("details"))


def error_from_response(
    status: int,
    body: object,
    *,
    environment: str,
    order_endpoint: bool = False,
    create_order: bool = False,
) -> KalshiError:
    """The typed error for an HTTP error answer.

    ``order_endpoint`` marks order writes, where 400/403/409 mean the exchange refused
    the order or the change; ``create_order`` marks a create, where 409 is a duplicate.
    A 410 or a ``deprecated_*`` code is :class:`DeprecatedEndpoint` whatever the status.
    """
    code, message, details = parse_error_body(body)
    text = message or f"HTTP {status}"
    kwargs: dict[str, Any] = {"status": status, "code": code, "details": details}
    if status == 410 or is_deprecation(code):
        return DeprecatedEndpoint(text, **kwargs)
    if order_endpoint and status == 403:
        return OrderRejected(text, **kwargs)
    if status in (401, 403):
        return AuthError(text, environment=environment, **kwargs)
    if status == 429:
        return RateLimited(text, **kwargs)
    if status == 404:
        return NotFound(text, **kwargs)
    if create_order and (status == 409 or (status == 400 and code in DUPLICATE_ORDER_CODES)):
        return DuplicateOrder(text, **kwargs)
    if order_endpoint and status in (400, 409):
        return OrderRejected(text, **kwargs)
    if status >= 500:
        return ServerError(text, **kwargs)
    return BadRequest(text, **kwargs)


def error_from_item(body: object) -> KalshiError:
    """The typed error of one entry of a batch answer (a bare ``ErrorResponse``, no status).

    Without a status only the code can tell kinds apart: a retired endpoint, a duplicate
    ``client_order_id``, an unknown order; any other code is a refusal of that item.
    """
    code, message, details = parse_error_body(body)
    text = message or code or "batch item failed"
    kwargs: dict[str, Any] = {"code": code, "details": details}
    if is_deprecation(code):
        return DeprecatedEndpoint(text, **kwargs)
    if code in DUPLICATE_ORDER_CODES:
        return DuplicateOrder(text, **kwargs)
    if code is not None and "not_found" in code:
        return NotFound(text, **kwargs)
    return OrderRejected(text, **kwargs)
