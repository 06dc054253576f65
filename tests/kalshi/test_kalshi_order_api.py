"""V2 order writes over the fake exchange: bodies, answers, retries and unknown outcomes."""

from __future__ import annotations

from decimal import Decimal as D
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from kalshi.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER, Signer, verify_signature
from kalshi.errors import (
    DeprecatedEndpoint,
    DuplicateOrder,
    MalformedOrderAnswer,
    NotFound,
    OrderRejected,
    ServerError,
    TransportError,
)
from kalshi.errors import OrderOutcomeUnknown as OutcomeUnknownFromErrors
from kalshi.rate_limit import RateLimiter, RateLimitTier
from kalshi.rest import KalshiRestClient, OrderOutcomeUnknown
from tests.kalshi.kalshi_fakes import BASE, KEY_ID, TICKER, FakeClock, FakeKalshi, request
from tests.kalshi.kalshi_spec import openapi_problems

CREATE = "/portfolio/events/orders"


def posts(fake: FakeKalshi) -> list[dict[str, object]]:
    return fake.bodies("POST", CREATE)


def test_create_sends_the_v2_body_and_returns_the_flat_answer(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    req = request("c-1", count=D(3), price=D("0.41"))
    created = client.create_order(req)
    assert posts(fake) == [req.to_wire()]
    assert created.order_id == "ord-1" and created.client_order_id == "c-1"
    assert (created.fill_count, created.remaining_count) == (D(0), D(3))
    assert created.found is None and created.ts_ms > 0
    assert OrderOutcomeUnknown is OutcomeUnknownFromErrors  # still importable from kalshi.rest


def test_a_create_whose_answer_is_lost_resolves_to_exactly_one_order(
    fake: FakeKalshi, client: KalshiRestClient, logs: list[str]
) -> None:
    # The exchange takes the order, then the answer is lost (a timeout after the fact).
    fake.fail("POST", CREATE, exc=httpx.ReadTimeout, process_first=True, exact=True)
    created = client.create_order(request("lost-1"))
    bodies = posts(fake)
    assert len(bodies) == 2
    assert {b["client_order_id"] for b in bodies} == {"lost-1"}  # the retry reused the id
    assert len(fake.orders) == 1  # exactly one order at the exchange
    (stored,) = fake.orders.values()
    assert created.order_id == stored["order_id"]
    assert created.found is not None and created.found.client_order_id == "lost-1"
    assert fake.count("GET", "/portfolio/orders") == 1  # the 409 was resolved by lookup
    assert fake.requests[-1].url.params["ticker"] == TICKER
    assert not any(KEY_ID in line for line in logs)


def test_5xx_after_processing_then_every_retry_failing_still_finds_the_order(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    fake.fail("POST", CREATE, status=500, process_first=True, exact=True)
    for _ in range(3):
        fake.fail("POST", CREATE, status=503, exact=True)
    created = client.create_order(request("c-5"))
    assert len(fake.orders) == 1 and created.order_id == "ord-1"
    assert len(posts(fake)) == 4


def test_a_failed_create_that_left_nothing_is_unknown_not_rejected(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    for _ in range(4):
        fake.fail("POST", CREATE, status=503, exact=True)
    with pytest.raises(OrderOutcomeUnknown) as info:
        client.create_order(request("c-6"))
    assert not isinstance(info.value, OrderRejected)
    assert info.value.client_order_id == "c-6" and info.value.status == 503
    assert fake.orders == {}
    assert fake.count("GET", "/portfolio/orders") == 1  # it looked before giving up


def test_outcome_unknown_when_the_lookup_fails_too(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    for _ in range(4):
        fake.fail("POST", CREATE, exc=httpx.ReadTimeout, exact=True)
    for _ in range(4):
        fake.fail("GET", "/portfolio/orders", status=503)
    with pytest.raises(OrderOutcomeUnknown, match="lookup failed") as info:
        client.create_order(request("c-77"))
    assert info.value.client_order_id == "c-77"
    assert "c-77" in str(info.value)


def test_a_refusal_after_an_uncertain_attempt_is_still_unknown(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    fake.fail("POST", CREATE, exc=httpx.ReadTimeout, exact=True)
    fake.fail("POST", CREATE, status=400, code="market_closed", exact=True)
    with pytest.raises(OrderOutcomeUnknown):
        client.create_order(request("c-8"))
    assert fake.count("GET", "/portfolio/orders") == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [(410, "deprecated_v1_order_endpoint"), (400, "deprecated_field"), (503, "deprecated_x")],
)
def test_a_retired_endpoint_fails_loudly_after_one_attempt(
    fake: FakeKalshi, client: KalshiRestClient, status: int, code: str
) -> None:
    fake.fail("POST", CREATE, status=status, code=code, exact=True)
    with pytest.raises(DeprecatedEndpoint) as info:
        client.create_order(request("c-410"))
    assert info.value.code == code
    assert len(posts(fake)) == 1  # never retried
    assert fake.count("GET", "/portfolio/orders") == 0  # nor resolved by lookup


@pytest.mark.parametrize(
    "body",
    [
        {"client_order_id": "c-m", "fill_count": "0.00", "remaining_count": "5.00", "ts_ms": 1},
        {"order_id": "o", "fill_count": 0, "remaining_count": "5.00", "ts_ms": 1},
        {"order_id": "o", "fill_count": "0.00", "remaining_count": "five", "ts_ms": 1},
        {},
    ],
)
def test_a_2xx_without_a_usable_order_id_is_a_malformed_answer(
    fake: FakeKalshi, client: KalshiRestClient, logs: list[str], body: dict[str, object]
) -> None:
    fake.fail("POST", CREATE, status=201, body=body, process_first=True, exact=True)
    with pytest.raises(MalformedOrderAnswer) as info:
        client.create_order(request("c-m"))
    error = info.value
    assert isinstance(error, OrderOutcomeUnknown)  # reconciliation resolves it
    assert error.client_order_id == "c-m" and error.status == 201
    assert error.raw == orjson.dumps(body).decode()
    assert any("unusable answer" in line and error.raw in line for line in logs)
    assert len(posts(fake)) == 1
    assert fake.count("GET", "/portfolio/orders") == 0  # never guessed from a lookup
    assert not any(KEY_ID in line for line in logs)


def test_an_empty_2xx_is_a_malformed_answer(fake: FakeKalshi, client: KalshiRestClient) -> None:
    fake.routes[("POST", CREATE)] = httpx.Response(201)
    with pytest.raises(MalformedOrderAnswer, match="expected a JSON object") as info:
        client.create_order(request("c-e"))
    assert info.value.raw == ""


def test_reusing_a_client_order_id_returns_the_existing_order(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    first = client.create_order(request("k"))
    again = client.create_order(request("k"))
    assert again.order_id == first.order_id and again.found is not None
    assert len(fake.orders) == 1
    with pytest.raises(DuplicateOrder, match="different order"):
        client.create_order(request("k", side="ask"))


def test_a_duplicate_that_cannot_be_found_is_unknown(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    fake.fail("POST", CREATE, status=409, code="order_already_exists", exact=True)
    with pytest.raises(OrderOutcomeUnknown, match="no order has this client_order_id"):
        client.create_order(request("ghost"))


def test_429_on_create_is_retried_and_not_uncertain(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    fake.fail("POST", CREATE, status=429, code="too_many_requests", exact=True)
    client.create_order(request("c-429"))
    assert len(fake.orders) == 1
    assert fake.count("GET", "/portfolio/orders") == 0


@pytest.mark.parametrize("status", [400, 403])
def test_a_refused_order_is_rejected_once(
    fake: FakeKalshi, client: KalshiRestClient, status: int
) -> None:
    fake.fail("POST", CREATE, status=status, code="insufficient_balance", exact=True)
    with pytest.raises(OrderRejected) as info:
        client.create_order(request("c-r"))
    assert info.value.code == "insufficient_balance"
    assert not isinstance(info.value, DuplicateOrder)
    assert len(posts(fake)) == 1


def test_local_rate_limit_after_an_uncertain_attempt_looks_the_order_up(
    fake: FakeKalshi, signer: Signer
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitTier("t", 100, 1), now=clock, sleep=clock.sleep)
    fake.fail("POST", CREATE, exc=httpx.ReadTimeout, process_first=True, exact=True)
    with KalshiRestClient(
        BASE,
        signer,
        transport=fake.transport(),
        rate_limiter=limiter,
        rate_limit_timeout=0.5,
        sleep=lambda _s: None,
    ) as rest:
        created = rest.create_order(request("c-rl"))
    assert len(posts(fake)) == 1  # the retry never left: no write tokens
    assert created.order_id == "ord-1"  # yet the order that arrived was found


def test_presigned_headers_sign_the_v2_create_path(fake: FakeKalshi, signer: Signer) -> None:
    with KalshiRestClient(
        BASE, signer, transport=fake.transport(), rate_limit=False, presign_orders=True
    ) as rest:
        cache = rest.presigned
        assert cache is not None and cache.path == "/trade-api/v2/portfolio/events/orders"
        rest.refresh_presigned()
        stamp = cache.get()[TIMESTAMP_HEADER]
        hits = cache.hits
        rest.create_order(request("c-p"))
        sent = fake.requests[-1]
        assert cache.hits == hits + 1  # no signing on the order path
        assert sent.headers[TIMESTAMP_HEADER] == stamp
        assert verify_signature(
            signer.private_key.public_key(),
            stamp,
            "POST",
            urlsplit(str(sent.url)).path,
            sent.headers[SIGNATURE_HEADER],
        )
        rest.cancel_order("ord-1")  # other paths are signed per request
        cancel = fake.requests[-1]
        assert verify_signature(
            signer.private_key.public_key(),
            cancel.headers[TIMESTAMP_HEADER],
            "DELETE",
            "/trade-api/v2/portfolio/events/orders/ord-1",
            cancel.headers[SIGNATURE_HEADER],
        )


def test_cancel_and_the_cancel_fill_race(fake: FakeKalshi, client: KalshiRestClient) -> None:
    created = client.create_order(request("c-c", count=D(4)))
    canceled = client.cancel_order(created.order_id, market_ticker=TICKER, exchange_index=0)
    sent = fake.requests[-1]
    assert sent.method == "DELETE" and sent.url.path == f"/trade-api/v2{CREATE}/ord-1"
    assert dict(sent.url.params) == {"market_ticker": TICKER, "exchange_index": "0"}
    assert (canceled.order_id, canceled.client_order_id, canceled.reduced_by) == (
        "ord-1",
        "c-c",
        D(4),
    )
    assert canceled.ts_ms is not None
    with pytest.raises(NotFound):  # already cancelled (or filled): a plain 404
        client.cancel_order(created.order_id)


def test_a_cancel_whose_answer_is_lost_is_confirmed_by_lookup(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    created = client.create_order(request("c-l"))
    fake.fail("DELETE", CREATE + "/", exc=httpx.ReadTimeout, process_first=True)
    canceled = client.cancel_order(created.order_id)
    assert canceled.reduced_by is None and canceled.ts_ms is None  # unknown: answer lost
    assert fake.orders["ord-1"]["status"] == "canceled"
    assert fake.count("DELETE", f"{CREATE}/ord-1") == 2


def test_amend_body_and_answer(fake: FakeKalshi, client: KalshiRestClient) -> None:
    client.create_order(request("c-a", count=D(5)))
    amended = client.amend_order(
        "ord-1",
        ticker=TICKER,
        side="bid",
        price=D("0.47"),
        count=D(3),
        client_order_id="c-a",
        updated_client_order_id="c-a2",
        expiration_time=0,
    )
    (body,) = fake.bodies("POST", f"{CREATE}/ord-1/amend")
    assert body == {
        "ticker": TICKER,
        "side": "bid",
        "price": "0.4700",
        "count": "3.00",
        "client_order_id": "c-a",
        "updated_client_order_id": "c-a2",
        "expiration_time": 0,
    }
    assert openapi_problems("AmendOrderV2Request", body) == []
    assert (amended.client_order_id, amended.remaining_count) == ("c-a2", D(3))
    with pytest.raises(ValueError, match="side must be bid or ask"):
        client.amend_order("ord-1", ticker=TICKER, side="yes", price=D("0.5"), count=D(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strictly between"):
        client.amend_order("ord-1", ticker=TICKER, side="bid", price=D(1), count=D(1))


def test_amend_and_decrease_are_not_repeated_after_an_uncertain_attempt(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    client.create_order(request("c-u", count=D(5)))
    fake.fail("POST", f"{CREATE}/ord-1/decrease", status=503, process_first=True)
    with pytest.raises(ServerError):
        client.decrease_order("ord-1", reduce_by=D(1))
    assert fake.count("POST", f"{CREATE}/ord-1/decrease") == 1
    assert fake.orders["ord-1"]["remaining_count_fp"] == "4.00"  # reduced once, not twice
    fake.fail("POST", f"{CREATE}/ord-1/amend", exc=httpx.ReadTimeout)
    with pytest.raises(TransportError):
        client.amend_order("ord-1", ticker=TICKER, side="bid", price=D("0.5"), count=D(2))
    assert fake.count("POST", f"{CREATE}/ord-1/amend") == 1
    fake.fail("POST", f"{CREATE}/ord-1/amend", status=429, code="too_many_requests")
    client.amend_order("ord-1", ticker=TICKER, side="bid", price=D("0.5"), count=D(2))
    assert fake.count("POST", f"{CREATE}/ord-1/amend") == 3  # a 429 is safe to retry


def test_decrease_bodies_and_answers(fake: FakeKalshi, client: KalshiRestClient) -> None:
    client.create_order(request("c-d", count=D(10)))
    by = client.decrease_order("ord-1", reduce_by=D(2), market_ticker=TICKER)
    to = client.decrease_order("ord-1", reduce_to=D("3.5"), exchange_index=0)
    first, second = fake.bodies("POST", f"{CREATE}/ord-1/decrease")
    assert first == {"reduce_by": "2.00", "market_ticker": TICKER}
    assert second == {"reduce_to": "3.50", "exchange_index": 0}
    for body in (first, second):
        assert openapi_problems("DecreaseOrderV2Request", body) == []
    assert (by.remaining_count, to.remaining_count) == (D(8), D("3.5"))
    assert by.client_order_id == "c-d"
    with pytest.raises(ValueError, match="exactly one"):
        client.decrease_order("ord-1")
    with pytest.raises(ValueError, match="exactly one"):
        client.decrease_order("ord-1", reduce_by=D(1), reduce_to=D(1))


def test_batch_create_entries_in_request_order(fake: FakeKalshi, client: KalshiRestClient) -> None:
    client.create_order(request("b-dup", count=D(2)))  # already at the exchange
    fake.routes[("POST", CREATE + "/batched")] = lambda r: _batch_with_a_refusal(fake, r)
    reqs = [request("b-1"), request("b-dup", count=D(2)), request("b-bad", side="ask")]
    entries = client.batch_create_orders(reqs)
    (body,) = fake.bodies("POST", CREATE + "/batched")
    assert body == {"orders": [r.to_wire() for r in reqs]}
    assert openapi_problems("BatchCreateOrdersV2Request", body) == []
    assert [e.client_order_id for e in entries] == ["b-1", "b-dup", "b-bad"]
    ok, dup, bad = entries
    assert ok.result is not None and ok.error is None and ok.result.remaining_count == D(5)
    assert dup.result is not None and dup.result.order_id == "ord-1"  # resolved by lookup
    assert dup.result.found is not None
    assert bad.result is None and isinstance(bad.error, OrderRejected)
    assert bad.error.code == "invalid_price"


def _batch_with_a_refusal(fake: FakeKalshi, req: httpx.Request) -> httpx.Response:
    answer = fake.process_batch(orjson.loads(req.content)["orders"][:2])
    answer.append({"client_order_id": "b-bad", "error": {"code": "invalid_price", "message": "x"}})
    assert openapi_problems("BatchCreateOrdersV2Response", {"orders": answer}) == []
    return httpx.Response(201, json={"orders": answer})


def test_a_batch_whose_answer_is_lost_is_resolved_order_by_order(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    fake.fail("POST", CREATE + "/batched", exc=httpx.ReadTimeout, process_first=True)
    for _ in range(3):
        fake.fail("POST", CREATE + "/batched", status=502)
    entries = client.batch_create_orders([request("lb-1"), request("lb-2", side="ask")])
    assert len(fake.orders) == 2
    assert [e.result.order_id for e in entries if e.result] == ["ord-1", "ord-2"]
    assert fake.count("GET", "/portfolio/orders") == 1  # one scan for both


def test_a_batch_that_never_arrived_is_unknown_per_order(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    for _ in range(4):
        fake.fail("POST", CREATE + "/batched", status=503)
    entries = client.batch_create_orders([request("nb-1"), request("nb-2")])
    assert all(isinstance(e.error, OrderOutcomeUnknown) for e in entries)
    assert [e.error.client_order_id for e in entries] == ["nb-1", "nb-2"]  # type: ignore[union-attr]


def test_a_malformed_batch_answer_is_unknown_per_order(
    fake: FakeKalshi, client: KalshiRestClient
) -> None:
    fake.routes[("POST", CREATE + "/batched")] = httpx.Response(
        201, json={"orders": [{"client_order_id": "mb-1", "fill_count": "0.00"}]}
    )
    entries = client.batch_create_orders([request("mb-1"), request("mb-2")])
    assert all(isinstance(e.error, MalformedOrderAnswer) for e in entries)
    with pytest.raises(ValueError, match="repeated"):
        client.batch_create_orders([request("x"), request("x")])
    assert client.batch_create_orders([]) == []


def test_batch_cancel_and_cancel_all(fake: FakeKalshi, client: KalshiRestClient) -> None:
    for n in range(3):
        client.create_order(request(f"bc-{n}", count=D(n + 1)))
    entries = client.batch_cancel_orders([("ord-1", TICKER), ("ord-2", None), ("nope", TICKER)])
    (body,) = fake.bodies("DELETE", CREATE + "/batched")
    assert body == {
        "orders": [
            {"order_id": "ord-1", "market_ticker": TICKER},
            {"order_id": "ord-2"},
            {"order_id": "nope", "market_ticker": TICKER},
        ]
    }
    assert openapi_problems("BatchCancelOrdersV2Request", body) == []
    assert [(e.order_id, e.reduced_by) for e in entries] == [
        ("ord-1", D(1)),
        ("ord-2", D(2)),
        ("nope", D(0)),
    ]
    assert entries[0].error is None and entries[0].client_order_id == "bc-0"
    assert isinstance(entries[2].error, NotFound)
    client.cancel_all_orders()
    assert fake.requests[-1].method == "DELETE" and fake.requests[-1].url.path.endswith(CREATE)
    assert fake.orders["ord-3"]["status"] == "canceled"
    assert client.batch_cancel_orders([]) == []


def test_order_groups(fake: FakeKalshi, client: KalshiRestClient) -> None:
    group = client.create_order_group(25)
    (body,) = fake.bodies("POST", "/portfolio/order_groups/create")
    assert body == {"contracts_limit": 25}
    assert openapi_problems("CreateOrderGroupRequest", body) == []
    assert (group.order_group_id, group.contracts_limit) == ("og-1", D(25))
    client.create_order(request("g-1", order_group_id="og-1"))
    detail = client.get_order_group("og-1")
    assert detail.orders == ("ord-1",) and detail.is_auto_cancel_enabled is True
    assert [g.order_group_id for g in client.get_order_groups()] == ["og-1"]
    client.update_order_group_limit("og-1", 50)
    assert fake.bodies("PUT", "/portfolio/order_groups/og-1/limit") == [{"contracts_limit": 50}]
    assert client.get_order_group("og-1").contracts_limit == D(50)
    client.trigger_order_group("og-1")
    assert fake.orders["ord-1"]["status"] == "canceled"  # the exchange-side kill switch
    client.reset_order_group("og-1")
    assert fake.count("PUT", "/portfolio/order_groups/og-1/reset") == 1
    fake.fail("DELETE", "/portfolio/order_groups/og-1", exc=httpx.ReadTimeout, process_first=True)
    client.delete_order_group("og-1")  # the retry's 404 confirms the lost delete
    assert fake.groups == {}
    with pytest.raises(ValueError, match="at least 1"):
        client.create_order_group(0)
    with pytest.raises(ValueError, match="whole number"):
        client.create_order_group(D(5))  # type: ignore[arg-type]


def test_no_write_ever_goes_to_a_v1_path(fake: FakeKalshi, client: KalshiRestClient) -> None:
    created = client.create_order(request("v-1", count=D(4)))
    client.amend_order(created.order_id, ticker=TICKER, side="bid", price=D("0.4"), count=D(3))
    client.decrease_order(created.order_id, reduce_by=D(1))
    client.cancel_order(created.order_id)
    client.batch_create_orders([request("v-2")])
    client.batch_cancel_orders([("ord-2", TICKER)])
    client.cancel_all_orders()
    writes = [r for r in fake.requests if r.method != "GET"]
    assert len(writes) == 7
    assert all(r.url.path.startswith("/trade-api/v2/portfolio/events/orders") for r in writes)


def test_the_fake_answers_the_spec_shapes(fake: FakeKalshi) -> None:
    answer = fake.create(request("s-1").to_wire())
    assert openapi_problems("CreateOrderV2Response", answer) == []
    assert openapi_problems("Order", fake.orders["ord-1"]) == []
    assert openapi_problems("CancelOrderV2Response", fake.cancel("ord-1")) == []
    assert openapi_problems("BatchCancelOrdersV2Response", {"orders": [fake.cancel("x")]}) == []


def _timing_out(
    clock: FakeClock, fake: FakeKalshi, seen: list[tuple[str, float]]
) -> httpx.MockTransport:
    """Every request waits out its read timeout on ``clock``; a create is taken first."""

    def handle(request: httpx.Request) -> httpx.Response:
        read = request.extensions["timeout"]["read"]
        seen.append((request.method, read))
        if request.method == "POST":
            fake.process(request)  # the exchange has it; the answer never comes
        clock.advance(read)
        raise httpx.ReadTimeout("simulated", request=request)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("deadline", [10.0, 3.0])
def test_a_create_that_keeps_timing_out_ends_by_its_deadline_as_unknown(
    fake: FakeKalshi, signer: Signer, deadline: float
) -> None:
    """One create used to hold the order actor for ~40 s (4 attempts of 5 s, backoff, then
    a lookup with its own retries). Now it, its retries and the lookup end by the deadline
    (an attempt started there still gets a second), and the order stays unknown."""
    clock = FakeClock(start=0.0)
    seen: list[tuple[str, float]] = []
    with (
        KalshiRestClient(
            BASE,
            signer,
            transport=_timing_out(clock, fake, seen),
            rate_limit=False,
            timeout=5.0,
            max_attempts=4,
            sleep=clock.sleep,
            perf_counter=clock,
            create_deadline=deadline,
        ) as rest,
        pytest.raises(OrderOutcomeUnknown) as info,
    ):
        rest.create_order(request("slow-1"))
    assert clock.now <= deadline + 1.0
    assert "lookup failed" in str(info.value)
    assert [method for method, _ in seen].count("POST") >= 1
    assert all(read <= 5.0 for _, read in seen)
    assert seen[-1][0] == "GET"  # the lookup was tried, within what was left
    assert len(fake.orders) == 1  # the order exists: unknown, never rejected
