"""Error bodies and statuses map to typed exceptions; messages never carry secrets."""

from __future__ import annotations

import pytest

from kalshi.errors import (
    AuthError,
    BadRequest,
    DeprecatedEndpoint,
    DuplicateOrder,
    KalshiError,
    MalformedOrderAnswer,
    NotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
    ServerError,
    error_from_item,
    error_from_response,
    parse_error_body,
)


def body(code: str, message: str = "msg", details: str | None = None) -> dict[str, object]:
    inner: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        inner["details"] = details
    return {"error": inner}


@pytest.mark.parametrize(
    ("status", "kwargs", "kind"),
    [
        (401, {}, AuthError),
        (403, {}, AuthError),
        (429, {}, RateLimited),
        (404, {}, NotFound),
        (404, {"order_endpoint": True}, NotFound),
        (400, {"order_endpoint": True}, OrderRejected),
        (409, {"order_endpoint": True}, OrderRejected),
        (403, {"order_endpoint": True}, OrderRejected),
        (410, {}, DeprecatedEndpoint),
        (410, {"order_endpoint": True, "create_order": True}, DeprecatedEndpoint),
        (409, {"order_endpoint": True, "create_order": True}, DuplicateOrder),
        (400, {}, BadRequest),
        (409, {}, BadRequest),
        (500, {}, ServerError),
        (503, {"order_endpoint": True}, ServerError),
    ],
)
def test_status_mapping(status: int, kwargs: dict[str, bool], kind: type[KalshiError]) -> None:
    error = error_from_response(status, body("some_code"), environment="demo", **kwargs)
    assert type(error) is kind
    assert error.status == status
    assert error.code == "some_code"


def test_fields_are_kept_and_rendered() -> None:
    error = error_from_response(
        400,
        body("invalid_order", "invalid order", "post only cross"),
        environment="production",
        order_endpoint=True,
    )
    assert isinstance(error, OrderRejected)
    assert (error.code, error.message, error.details) == (
        "invalid_order",
        "invalid order",
        "post only cross",
    )
    assert str(error) == "HTTP 400 [invalid_order]: invalid order (post only cross)"


def test_duplicate_code_on_400_is_a_duplicate() -> None:
    error = error_from_response(
        400, body("order_already_exists"), environment="demo", create_order=True
    )
    assert isinstance(error, DuplicateOrder)
    assert isinstance(error, OrderRejected)  # a duplicate is a refused order too


def test_auth_error_names_environment_and_hint() -> None:
    error = error_from_response(
        401, body("authentication_error", "bad signature"), environment="demo"
    )
    assert isinstance(error, AuthError)
    text = str(error)
    assert "demo environment" in text
    assert "demo and production" in text
    assert "bad signature" in text
    assert error.environment == "demo"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"error": {"code": "c", "message": "m", "details": "d"}}, ("c", "m", "d")),
        (
            {"code": "bad_request", "message": "bad request", "details": "x"},
            ("bad_request", "bad request", "x"),
        ),
        ({"error": "plain text"}, (None, "plain text", None)),
        ("upstream proxy error", (None, "upstream proxy error", None)),
        (None, (None, None, None)),
        ({"error": {"code": 17}}, ("17", None, None)),
    ],
)
def test_every_error_shape_parses(raw: object, expected: tuple[object, ...]) -> None:
    assert parse_error_body(raw) == expected


def test_status_without_body_still_maps() -> None:
    error = error_from_response(502, None, environment="demo")
    assert isinstance(error, ServerError)
    assert "HTTP 502" in str(error)


@pytest.mark.parametrize("status", [400, 403, 404, 409, 500])
def test_a_deprecated_code_is_deprecated_whatever_the_status(status: int) -> None:
    error = error_from_response(
        status, body("deprecated_v1_order_endpoint"), environment="demo", order_endpoint=True
    )
    assert type(error) is DeprecatedEndpoint
    assert error.code == "deprecated_v1_order_endpoint"


def test_batch_item_errors_map_by_code() -> None:
    assert type(error_from_item({"code": "deprecated_x", "message": "m"})) is DeprecatedEndpoint
    assert type(error_from_item({"code": "order_already_exists"})) is DuplicateOrder
    assert type(error_from_item({"code": "order_not_found"})) is NotFound
    refused = error_from_item({"code": "insufficient_balance", "message": "no money"})
    assert type(refused) is OrderRejected and refused.message == "no money"
    assert type(error_from_item(None)) is OrderRejected


def test_unknown_outcomes_carry_the_client_order_id_and_the_raw_answer() -> None:
    cause = ServerError("boom", status=503, code="internal")
    unknown = OrderOutcomeUnknown("lost", client_order_id="c-1", cause=cause)
    assert (unknown.client_order_id, unknown.status, unknown.code) == ("c-1", 503, "internal")
    assert unknown.raw is None and "client_order_id=c-1" in str(unknown)
    malformed = MalformedOrderAnswer("no id", client_order_id="c-2", raw="{}", status=201)
    assert isinstance(malformed, OrderOutcomeUnknown)
    assert (malformed.raw, malformed.status) == ("{}", 201)
