"""Errors the exchange returns, with Kalshi's HTTP status and error-body shape.

The OpenAPI spec gives the body shape (``{"error": {"code", "message",
"details"}}`` on the wire; the spec's ``ErrorResponse`` describes the inner
object) but no list of codes. The codes below are the conventional ones that
Kalshi's live API and public clients use; each is named once here so the
server, the core and the tests agree.
"""

from __future__ import annotations

from typing import Any

BAD_REQUEST = "bad_request"
INVALID_PARAMETERS = "invalid_parameters"
MISSING_PARAMETERS = "missing_parameters"
INVALID_PRICE = "invalid_price"
DEPRECATED_ORDER_ENDPOINT = "deprecated_order_endpoint"
DEPRECATED_V1_ORDER_ENDPOINT = "deprecated_v1_order_endpoint"
INSUFFICIENT_BALANCE = "insufficient_balance"
MARKET_CLOSED = "market_closed"
MARKET_NOT_FOUND = "market_not_found"
SERIES_NOT_FOUND = "series_not_found"
AUTHENTICATION_ERROR = "authentication_error"
NOT_FOUND = "not_found"
ORDER_ALREADY_EXISTS = "order_already_exists"
TOO_MANY_REQUESTS = "too_many_requests"
INTERNAL_SERVER_ERROR = "internal_server_error"
METHOD_NOT_ALLOWED = "method_not_allowed"
CONFLICT = "conflict"
FORBIDDEN = "forbidden"


class ExchangeError(Exception):
    """A request the exchange refuses; carries the HTTP status and Kalshi's error code."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON body Kalshi sends with an error status."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def __repr__(self) -> str:
        return f"ExchangeError({self.status}, {self.code!r}, {self.message!r})"


def bad_request(message: str, details: str = "") -> ExchangeError:
    return ExchangeError(400, BAD_REQUEST, message, details)


def invalid(message: str, details: str = "") -> ExchangeError:
    return ExchangeError(400, INVALID_PARAMETERS, message, details)


def missing(field: str) -> ExchangeError:
    return ExchangeError(400, MISSING_PARAMETERS, f"{field} is required", f"missing field: {field}")


def invalid_price(message: str, details: str = "") -> ExchangeError:
    return ExchangeError(400, INVALID_PRICE, message, details)


def deprecated_v1(method: str, path: str) -> ExchangeError:
    """What the retired V1 order writes answer since June 2026."""
    return ExchangeError(
        410,
        DEPRECATED_V1_ORDER_ENDPOINT,
        "this V1 order endpoint was retired: use the V2 endpoints under /portfolio/events/orders",
        f"{method} {path}",
    )


def retired(method: str, path: str) -> ExchangeError:
    """What an order endpoint answers once Kalshi has retired it (a fault: the next move)."""
    return ExchangeError(
        410,
        DEPRECATED_ORDER_ENDPOINT,
        "this order endpoint was retired: see Kalshi's API changelog",
        f"{method} {path}",
    )


def not_found(message: str, details: str = "") -> ExchangeError:
    return ExchangeError(404, NOT_FOUND, message, details)


def insufficient_balance(message: str, details: str = "") -> ExchangeError:
    return ExchangeError(400, INSUFFICIENT_BALANCE, message, details)


def market_closed(message: str, details: str = "") -> ExchangeError:
    return ExchangeError(400, MARKET_CLOSED, message, details)


def duplicate_order(client_order_id: str) -> ExchangeError:
    return ExchangeError(
        409,
        ORDER_ALREADY_EXISTS,
        "an order with this client_order_id already exists",
        f"client_order_id={client_order_id}",
    )


def unauthorized(message: str, details: str = "") -> ExchangeError:
    return ExchangeError(401, AUTHENTICATION_ERROR, message, details)
