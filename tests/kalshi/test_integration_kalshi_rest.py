"""The REST client against the simulator over real HTTP on 127.0.0.1.

Every client call, and each fault knob as the client sees it: latency, 5xx, 429 and an
order acknowledged by the exchange whose answer is lost (exactly one order results).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from kalshi.auth import Signer, generate_private_key
from kalshi.backoff import Backoff
from kalshi.errors import (
    AuthError,
    BadRequest,
    KalshiError,
    NotFound,
    OrderRejected,
    RateLimited,
    ServerError,
)
from kalshi.orderbook import OrderBook
from kalshi.orders import OrderRequestV2
from kalshi.rest import KalshiRestClient
from messages.vocabulary import Side, TimeInForce

simulator_testing = pytest.importorskip("simulator.testing")
if TYPE_CHECKING:
    from simulator.testing import SimHandle
else:
    SimHandle = simulator_testing.SimHandle


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with simulator_testing.running_exchange(seed=11) as handle:
        yield handle


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def rest(sim: SimHandle, sleeps: list[float]) -> Iterator[KalshiRestClient]:
    with KalshiRestClient(
        sim.api_base,
        sim.signer(),
        rate_limit=False,
        backoff=Backoff(base=0.01, maximum=0.05, rng=random.Random(2)),
        sleep=sleeps.append,  # backoff is recorded, not slept: the sim's clock is manual
        timeout=5.0,
    ) as client:
        yield client


def test_exchange_series_and_markets(sim: SimHandle, rest: KalshiRestClient) -> None:
    status = rest.get_exchange_status()
    assert status.exchange_active and status.trading_active
    series = rest.get_series("KXSOL15M")
    assert series.fee_type == "quadratic" and series.fee_multiplier == D(1)
    ticker = sim.current_ticker()
    markets = rest.get_markets(series_ticker="KXSOL15M", status="open")
    assert ticker in [m.ticker for m in markets]
    market = rest.get_market(ticker)
    assert market.status == "active"
    assert market.floor_strike is not None and market.strike_type == "greater_or_equal"
    assert market.price_levels.tick_at(D("0.05")) == D("0.001")
    assert market.price_levels.tick_at(D("0.50")) == D("0.01")
    assert (market.close_time - market.open_time).total_seconds() == 900
    with pytest.raises(NotFound):
        rest.get_market("KXSOL15M-26JAN010000-00")
    with pytest.raises(KalshiError) as info:  # the spec documents 400 for GetSeries, not 404
        rest.get_series("NOPE")
    assert isinstance(info.value, BadRequest | NotFound)


def test_get_markets_paginates_over_real_cursors(sim: SimHandle, rest: KalshiRestClient) -> None:
    every = rest.get_markets(series_ticker="KXSOL15M")
    assert len(every) >= 2
    one_per_page = rest.get_markets(series_ticker="KXSOL15M", limit=1)
    assert [m.ticker for m in one_per_page] == [m.ticker for m in every]
    first = rest.get_markets_page(series_ticker="KXSOL15M", limit=1)
    assert first.cursor is not None and len(first.items) == 1


def test_orderbook_matches_market_quotes(sim: SimHandle, rest: KalshiRestClient) -> None:
    sim.advance(20)
    ticker = sim.current_ticker()
    snapshot = rest.get_orderbook(ticker)
    book = OrderBook(ticker, snapshot.yes, snapshot.no)
    market = rest.get_market(ticker)
    best_yes = book.best_yes_bid()
    best_ask = book.best_yes_ask()
    assert best_yes is not None and best_ask is not None
    assert market.yes_bid == best_yes.price and market.yes_ask == best_ask.price
    top = rest.get_orderbook(ticker, depth=1)
    assert len(top.yes) <= 1 and len(top.no) <= 1
    assert top.yes[-1] == best_yes


def order(
    ticker: str,
    side: Side,
    price: D,
    count: int,
    coid: str,
    tif: TimeInForce = "good_till_canceled",
) -> OrderRequestV2:
    """A buy of ``side`` at ``price`` as a V2 request on the YES book."""
    return OrderRequestV2.for_intent(
        ticker, side, "buy", D(count), price, client_order_id=coid, time_in_force=tif
    )


def test_order_lifecycle_fills_positions_balance(sim: SimHandle, rest: KalshiRestClient) -> None:
    ticker = sim.current_ticker()
    start = rest.get_balance()
    resting = rest.create_order(order(ticker, "yes", D("0.02"), 3, "life-rest"))
    assert (resting.fill_count, resting.remaining_count) == (D(0), D(3))
    stored = rest.get_order(resting.order_id)
    assert stored.client_order_id == "life-rest" and stored.status == "resting"
    assert (stored.side, stored.action, stored.book_side) == ("yes", "buy", "bid")
    assert stored.exchange_index is not None
    listed = rest.get_orders(ticker=ticker, status="resting")
    assert resting.order_id in [o.order_id for o in listed.items]
    cancelled = rest.cancel_order(resting.order_id, market_ticker=ticker)
    assert cancelled.reduced_by == D(3) and cancelled.client_order_id == "life-rest"
    assert rest.get_order(resting.order_id).status == "canceled"
    with pytest.raises(NotFound):
        rest.cancel_order(resting.order_id)

    taken = rest.create_order(
        order(ticker, "yes", D("0.99"), 2, "life-take", "immediate_or_cancel")
    )
    assert (taken.fill_count, taken.remaining_count) == (D(2), D(0))
    assert taken.average_fill_price is not None and taken.average_fee_paid is not None
    fills = rest.get_fills(ticker=ticker)
    mine = [f for f in fills.items if f.order_id == taken.order_id]
    assert sum(f.count for f in mine) == D(2)
    assert all((f.side, f.action, f.book_side) == ("yes", "buy", "bid") for f in mine)
    executed = rest.get_order(taken.order_id)
    assert executed.status == "executed"
    assert sum(f.fee for f in mine) == executed.taker_fees
    positions = rest.get_positions(ticker=ticker)
    (position,) = positions.items
    assert position.position == D(2)
    end = rest.get_balance()
    # The balance is reported in whole cents; fees are charged to $0.0001.
    spent = start.balance - end.balance
    cost = (executed.taker_fill_cost or D(0)) + (executed.taker_fees or D(0))
    assert abs(spent - cost) < D("0.01")


def test_amend_decrease_and_batches(sim: SimHandle, rest: KalshiRestClient) -> None:
    ticker = sim.current_ticker()
    created = rest.create_order(order(ticker, "yes", D("0.02"), 5, "amend-1"))
    amended = rest.amend_order(
        created.order_id, ticker=ticker, side="bid", price=D("0.03"), count=D(4)
    )
    assert amended.order_id == created.order_id
    assert rest.get_order(created.order_id).yes_price == D("0.03")
    decreased = rest.decrease_order(created.order_id, reduce_by=D(1), market_ticker=ticker)
    assert decreased.remaining_count == D(3)
    entries = rest.batch_create_orders(
        [
            order(ticker, "yes", D("0.02"), 1, "batch-1"),
            order(ticker, "no", D("0.02"), 1, "batch-2"),
        ]
    )
    assert [e.error for e in entries] == [None, None]
    ids = [e.result.order_id for e in entries if e.result is not None]
    assert len(ids) == 2
    cancels = rest.batch_cancel_orders([(i, ticker) for i in ids])
    assert [(c.reduced_by, c.error) for c in cancels] == [(D(1), None), (D(1), None)]
    rest.cancel_all_orders()
    assert rest.get_orders(ticker=ticker, status="resting").items == ()


def test_order_group_is_an_exchange_side_kill_switch(
    sim: SimHandle, rest: KalshiRestClient
) -> None:
    ticker = sim.current_ticker()
    group = rest.create_order_group(10)
    assert group.contracts_limit == D(10)
    resting = rest.create_order(
        OrderRequestV2.for_intent(
            ticker,
            "yes",
            "buy",
            D(2),
            D("0.02"),
            client_order_id="group-1",
            time_in_force="good_till_canceled",
            order_group_id=group.order_group_id,
        )
    )
    detail = rest.get_order_group(group.order_group_id)
    assert resting.order_id in detail.orders
    assert rest.get_order(resting.order_id).order_group_id == group.order_group_id
    rest.trigger_order_group(group.order_group_id)
    assert rest.get_order(resting.order_id).status == "canceled"
    rest.reset_order_group(group.order_group_id)
    rest.update_order_group_limit(group.order_group_id, 20)
    assert rest.get_order_group(group.order_group_id).contracts_limit == D(20)
    rest.delete_order_group(group.order_group_id)
    assert group.order_group_id not in [g.order_group_id for g in rest.get_order_groups()]


def test_account_limits_size_the_rate_limiter(sim: SimHandle) -> None:
    with KalshiRestClient(sim.api_base, sim.signer()) as client:
        limits = client.get_account_limits()
        assert limits.write.refill_rate > 0 and limits.read.bucket_capacity > 0
        costs = client.get_endpoint_costs()
        assert costs.default_cost == 10
        limiter = client.adopt_account_limits()
        assert limiter is not None and limiter.source == "account"
        assert limiter.cost("DELETE", "/portfolio/events/orders/x")[1] == 2


def test_rejected_order(sim: SimHandle, rest: KalshiRestClient) -> None:
    ticker = sim.current_ticker()
    with pytest.raises(OrderRejected) as info:
        rest.create_order(order(ticker, "yes", D("0.50"), 10_000_000, "too-big"))
    assert info.value.status == 400


def test_settled_market_result_follows_the_rule(sim: SimHandle, rest: KalshiRestClient) -> None:
    ticker = sim.current_ticker()
    sim.advance_to_next_window()
    sim.advance(120)
    market = rest.get_market(ticker)
    assert market.result in ("yes", "no")
    assert market.expiration_value is not None and market.floor_strike is not None
    assert (market.result == "yes") == (market.expiration_value >= market.floor_strike)


def test_wrong_key_is_an_auth_error(sim: SimHandle) -> None:
    stranger = Signer(sim.key_id, generate_private_key())
    with (
        KalshiRestClient(sim.api_base, stranger, rate_limit=False) as client,
        pytest.raises(AuthError) as info,
    ):
        client.get_balance()
    assert info.value.status == 401
    assert "custom (127.0.0.1" in str(info.value)
    assert sim.key_id not in str(info.value)


def test_latency_knob_shows_in_latency_samples(sim: SimHandle, rest: KalshiRestClient) -> None:
    rest.get_exchange_status()
    sim.faults.update(latency_ms=150)
    rest.get_exchange_status()
    fast, slow = rest.latency.samples("get_exchange_status")
    assert slow.seconds >= 0.15
    assert slow.seconds > fast.seconds


def test_5xx_knob_is_retried(sim: SimHandle, rest: KalshiRestClient, sleeps: list[float]) -> None:
    sim.faults.update(error_5xx_next=2)
    assert rest.get_balance().balance > 0
    assert len(sleeps) == 2
    assert [s.status for s in rest.latency.samples("get_balance")] == [500, 500, 200]
    sim.faults.update(error_5xx_next=10)
    with pytest.raises(ServerError):
        rest.get_balance()  # bounded: gives up after max_attempts


def test_429_knob_is_retried_with_backoff(
    sim: SimHandle, rest: KalshiRestClient, sleeps: list[float]
) -> None:
    sim.faults.update(error_429_next=3)
    assert rest.get_exchange_status().trading_active
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[2]  # exponential
    sim.faults.update(error_429_next=10)
    with pytest.raises(RateLimited):
        rest.get_exchange_status()


def test_5xx_on_create_order_never_doubles_it(sim: SimHandle, rest: KalshiRestClient) -> None:
    # The 5xx knob answers before the exchange sees the order: a plain retry.
    ticker = sim.current_ticker()
    sim.faults.update(error_5xx_next=1)
    created = rest.create_order(order(ticker, "yes", D("0.03"), 1, "five-hundred"))
    matching = [
        o for o in rest.get_orders(ticker=ticker).items if o.client_order_id == "five-hundred"
    ]
    assert [o.order_id for o in matching] == [created.order_id]


@pytest.mark.parametrize("mode", ["close", "500"])
def test_lost_acknowledgement_makes_exactly_one_order(
    sim: SimHandle, rest: KalshiRestClient, mode: str
) -> None:
    ticker = sim.current_ticker()
    before = rest.get_orders(ticker=ticker).items
    sim.faults.update(lost_response_next=1, lost_response_mode=mode)
    created = rest.create_order(order(ticker, "yes", D("0.04"), 4, f"lost-{mode}"))
    assert created.client_order_id == f"lost-{mode}"
    after = rest.get_orders(ticker=ticker).items
    assert len(after) == len(before) + 1
    assert [o.order_id for o in after if o.client_order_id == f"lost-{mode}"] == [created.order_id]
    attempts = rest.latency.samples("create_order")
    assert len(attempts) == 2  # the lost one, then the duplicate that was resolved
    assert attempts[0].status in (None, 500)
    assert attempts[1].status == 409


def test_lost_acknowledgement_on_a_taker_order(sim: SimHandle, rest: KalshiRestClient) -> None:
    ticker = sim.current_ticker()
    sim.faults.update(lost_response_next=1, lost_response_mode="close")
    created = rest.create_order(
        order(ticker, "yes", D("0.99"), 1, "lost-taker", "immediate_or_cancel")
    )
    assert created.fill_count == D(1) and created.found is not None
    assert created.found.status == "executed"
    fills = [f for f in rest.get_fills(ticker=ticker).items if f.order_id == created.order_id]
    assert sum(f.count for f in fills) == D(1)
    (position,) = rest.get_positions(ticker=ticker).items
    assert position.position == D(1)  # bought once, not twice


def test_presigned_order_headers_are_accepted(sim: SimHandle) -> None:
    with KalshiRestClient(
        sim.api_base, sim.signer(), rate_limit=False, presign_orders=True
    ) as client:
        client.refresh_presigned()
        created = client.create_order(order(sim.current_ticker(), "no", D("0.02"), 1, "presign"))
        assert client.presigned is not None and client.presigned.hits == 1
        resting = client.get_order(created.order_id)
        assert resting.status == "resting" and resting.book_side == "ask"
        assert resting.no_price == D("0.02")
