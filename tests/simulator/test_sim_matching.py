"""Matching engine and portfolio booking, on the pure core with no simulated traders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi.fees import taker_fee
from simulator import errors
from simulator.errors import ExchangeError
from simulator.exchange import Exchange
from tests.simulator.helpers import START, order, quiet_exchange

D = Decimal
BALANCE = D(10000)


@pytest.fixture
def ex() -> Exchange:
    return quiet_exchange()


def users(ex: Exchange, *names: str) -> list[str]:
    return [ex.create_user(name) for name in names]


def book(ex: Exchange) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    market = ex.current_market()
    assert market is not None
    return ex.orderbook(market.ticker)


def test_price_time_priority_and_fees_to_the_ten_thousandth(ex: Exchange) -> None:
    alice, bob, carol, dave = users(ex, "alice", "bob", "carol", "dave")
    first = order(ex, alice, "yes", "buy", "0.40", 5)
    second = order(ex, bob, "yes", "buy", "0.40", 5)
    better = order(ex, carol, "yes", "buy", "0.41", 3)
    # Selling YES at 0.40 is a NO bid at 0.60: it meets YES bids >= 0.40, best price first,
    # then the earlier order at the same price.
    sell = order(ex, dave, "yes", "sell", "0.40", 10)
    assert sell.status == "executed"
    fills = ex.fills(dave)[::-1]
    assert [(f.yes_price, f.count) for f in fills] == [
        (D("0.410"), 3),
        (D("0.400"), 5),
        (D("0.400"), 2),
    ]
    assert [f.order_id for f in ex.fills(carol)] == [better.order_id]
    assert ex.get_order(alice, first.order_id).status == "executed"
    rest = ex.get_order(bob, second.order_id)
    assert (rest.status, rest.fill_count, rest.remaining) == ("resting", 2, 3)
    # Per-fill taker fee, each rounded up to $0.0001 (as Kalshi charges, not to the cent):
    # 0.07×3×0.41×0.59 = 0.050799 → 0.0508; 0.07×5×0.4×0.6 = 0.084; 0.07×2×0.24 = 0.0336.
    assert [f.fee for f in fills] == [D("0.0508"), D("0.0840"), D("0.0336")]
    assert all(f.fee == 0 for f in ex.fills(carol) + ex.fills(alice))  # quadratic: no maker fee
    # dave bought NO at 0.59 ×3 and 0.60 ×7: 1.77 + 4.20, plus 0.1684 in fees.
    assert ex.balance(dave) == BALANCE - D("5.97") - D("0.1684")
    assert ex.positions(dave)[0].position == -10
    assert sell.taker_fees == D("0.1684")
    assert sell.taker_fill_cost == D("5.97")
    # Makers: 0.41×3 and 0.40×5 paid; bob still holds 0.40×3 for his resting rest.
    assert ex.balance(carol) == BALANCE - D("1.23")
    assert ex.balance(bob) == BALANCE - D("0.80") - D("1.20")
    assert book(ex) == ([(D("0.400"), D(3))], [])


def test_yes_bid_crosses_no_bid_at_complement(ex: Exchange) -> None:
    alice, bob = users(ex, "alice", "bob")
    order(ex, alice, "no", "buy", "0.45", 4)  # NO bid 0.45 = YES ask 0.55
    below = order(ex, bob, "yes", "buy", "0.54", 4)
    assert below.status == "resting"  # 0.54 + 0.45 < 1: no cross
    assert book(ex) == ([(D("0.540"), D(4))], [(D("0.450"), D(4))])
    at = order(ex, bob, "yes", "buy", "0.55", 4)
    assert at.status == "executed"
    assert ex.fills(bob)[0].yes_price == D("0.550")
    assert ex.fills(alice)[0].no_price == D("0.450")
    assert ex.positions(alice)[0].position == -4
    assert ex.positions(bob)[0].position == 4


def test_taker_gets_the_makers_price(ex: Exchange) -> None:
    alice, bob = users(ex, "alice", "bob")
    order(ex, alice, "no", "buy", "0.45", 2)
    taker = order(ex, bob, "yes", "buy", "0.70", 2)  # willing to pay 0.70, pays 0.55
    assert taker.taker_fill_cost == D("1.10")
    assert ex.balance(bob) == BALANCE - D("1.10") - taker_fee(D("0.55"), D(2))


def test_immediate_or_cancel_partial(ex: Exchange) -> None:
    alice, bob = users(ex, "alice", "bob")
    order(ex, alice, "yes", "buy", "0.30", 3)
    ioc = order(ex, bob, "no", "buy", "0.70", 10, time_in_force="immediate_or_cancel")
    assert (ioc.status, ioc.fill_count, ioc.remaining) == ("canceled", 3, 0)
    assert book(ex) == ([], [])
    # Nothing stays held for the canceled rest.
    assert ex.balance(bob) == BALANCE - D("2.10") - taker_fee(D("0.30"), D(3))


def test_fill_or_kill_all_or_nothing(ex: Exchange) -> None:
    alice, bob = users(ex, "alice", "bob")
    order(ex, alice, "yes", "buy", "0.30", 3)
    order(ex, alice, "yes", "buy", "0.29", 3)
    killed = order(ex, bob, "no", "buy", "0.71", 7, time_in_force="fill_or_kill")
    assert (killed.status, killed.fill_count) == ("canceled", 0)
    assert ex.balance(bob) == BALANCE
    assert book(ex) == ([(D("0.290"), D(3)), (D("0.300"), D(3))], [])
    filled = order(ex, bob, "no", "buy", "0.71", 6, time_in_force="fill_or_kill")
    assert (filled.status, filled.fill_count) == ("executed", 6)
    assert book(ex) == ([], [])


def test_good_till_time_expires(ex: Exchange) -> None:
    (alice,) = users(ex, "alice")
    placed = order(ex, alice, "yes", "buy", "0.20", 5, expiration_ts=int(START) + 10)
    assert ex.balance(alice) == BALANCE - D("1.00")
    ex.advance(START + 9)
    assert ex.get_order(alice, placed.order_id).status == "resting"
    ex.advance(START + 10)
    expired = ex.get_order(alice, placed.order_id)
    assert (expired.status, expired.last_update_reason) == ("canceled", "ExpiryCancel")
    assert ex.balance(alice) == BALANCE
    assert book(ex) == ([], [])


def test_expiration_in_the_past_is_refused(ex: Exchange) -> None:
    (alice,) = users(ex, "alice")
    with pytest.raises(ExchangeError) as caught:
        order(ex, alice, "yes", "buy", "0.20", 5, expiration_ts=int(START) - 1)
    assert (caught.value.status, caught.value.code) == (400, errors.INVALID_PARAMETERS)


def test_post_only_that_would_cross_is_canceled(ex: Exchange) -> None:
    alice, bob = users(ex, "alice", "bob")
    order(ex, alice, "no", "buy", "0.45", 5)
    crossing = order(ex, bob, "yes", "buy", "0.55", 5, post_only=True)
    assert (crossing.status, crossing.fill_count) == ("canceled", 0)
    assert crossing.last_update_reason == "PostOnlyCrossCancel"
    assert ex.fills(bob) == []
    assert ex.balance(bob) == BALANCE
    passive = order(ex, bob, "yes", "buy", "0.54", 5, post_only=True)
    assert passive.status == "resting"
    with pytest.raises(ExchangeError):
        order(ex, bob, "yes", "buy", "0.50", 1, post_only=True, time_in_force="fill_or_kill")


def test_reduce_only_is_capped_to_the_position(ex: Exchange) -> None:
    alice, bob = users(ex, "alice", "bob")
    nothing = order(ex, alice, "yes", "sell", "0.50", 3, reduce_only=True)
    assert (nothing.status, nothing.remaining, nothing.last_update_reason) == (
        "canceled",
        0,
        "ReduceOnlyCancel",
    )
    order(ex, bob, "no", "buy", "0.50", 5)
    order(ex, alice, "yes", "buy", "0.50", 5)  # alice now holds 5 YES
    capped = order(ex, alice, "yes", "sell", "0.60", 8, reduce_only=True)
    assert (capped.status, capped.remaining, capped.initial_count) == ("resting", 5, 8)
    assert capped.last_update_reason == "ReduceOnlyCancel"
    # A second reduce-only sell finds the 5 contracts already spoken for.
    again = order(ex, alice, "yes", "sell", "0.60", 1, reduce_only=True)
    assert (again.status, again.remaining) == ("canceled", 0)


def test_selling_held_contracts_needs_no_cash() -> None:
    ex = quiet_exchange(starting_balance=D("5.175"))
    alice = ex.create_user("alice")
    bob = ex.create_user("bob", D(100))
    order(ex, bob, "no", "buy", "0.50", 10)
    order(ex, alice, "yes", "buy", "0.50", 10)  # 5.00 + 0.175 fee: all her cash
    assert ex.balance(alice) == 0
    order(ex, bob, "yes", "buy", "0.55", 10)
    sale = order(ex, alice, "yes", "sell", "0.55", 10)  # a NO bid at 0.45 closing her YES
    assert sale.status == "executed"
    state = ex.positions(alice)[0]
    assert state.position == 0
    assert state.realized_pnl == D("0.50")
    fee = taker_fee(D("0.55"), D(10))
    assert ex.balance(alice) == D("5.50") - fee  # each closed pair paid $1, she paid 0.45


def test_cancel_returns_reduced_count_and_cash(ex: Exchange) -> None:
    alice, bob = users(ex, "alice", "bob")
    placed = order(ex, alice, "yes", "buy", "0.35", 10)
    order(ex, bob, "no", "buy", "0.65", 4)  # fills 4 of alice's 10
    assert ex.balance(alice) == BALANCE - D("3.50")
    canceled, reduced = ex.cancel_order(alice, placed.order_id)
    assert reduced == 6
    assert (canceled.status, canceled.fill_count, canceled.remaining) == ("canceled", 4, 0)
    assert ex.balance(alice) == BALANCE - D("1.40")
    with pytest.raises(ExchangeError) as caught:
        ex.cancel_order(alice, placed.order_id)
    assert caught.value.status == 404
    with pytest.raises(ExchangeError) as unknown:
        ex.cancel_order(alice, "no-such-order")
    assert unknown.value.status == 404
    with pytest.raises(ExchangeError):
        ex.cancel_order(bob, placed.order_id)  # someone else's order is not found either


def test_duplicate_client_order_id(ex: Exchange) -> None:
    alice, bob = users(ex, "alice", "bob")
    order(ex, alice, "yes", "buy", "0.20", 1, client_order_id="x-1")
    with pytest.raises(ExchangeError) as caught:
        order(ex, alice, "yes", "buy", "0.21", 1, client_order_id="x-1")
    assert (caught.value.status, caught.value.code) == (409, errors.ORDER_ALREADY_EXISTS)
    assert len(ex.orders(alice)) == 1
    order(ex, bob, "yes", "buy", "0.20", 1, client_order_id="x-1")  # per user


def test_insufficient_balance_creates_nothing() -> None:
    ex = quiet_exchange(starting_balance=D("1.00"))
    alice = ex.create_user("alice")
    with pytest.raises(ExchangeError) as caught:
        order(ex, alice, "yes", "buy", "0.50", 3)
    assert (caught.value.status, caught.value.code) == (400, errors.INSUFFICIENT_BALANCE)
    assert ex.orders(alice) == []
    assert ex.balance(alice) == D("1.00")
    assert order(ex, alice, "yes", "buy", "0.50", 2, post_only=True).status == "resting"


@pytest.mark.parametrize(
    ("price", "count"),
    [("0", 1), ("1", 1), ("0.105", 1), ("0.5", 0), ("0.5", -2), ("0.5", "1.5")],
)
def test_invalid_price_or_count(ex: Exchange, price: str, count: object) -> None:
    (alice,) = users(ex, "alice")
    market = ex.current_market()
    assert market is not None
    from simulator.orders import OrderRequest

    request = OrderRequest(market.ticker, "yes", "buy", D(str(count)), D(price))
    with pytest.raises(ExchangeError) as caught:
        ex.place_order(alice, request)
    assert caught.value.status == 400
    assert ex.orders(alice) == []


def test_tiered_tick(ex: Exchange) -> None:
    (alice,) = users(ex, "alice")
    assert order(ex, alice, "yes", "buy", "0.095", 1).status == "resting"
    assert order(ex, alice, "yes", "buy", "0.905", 1).status == "resting"
    with pytest.raises(ExchangeError):
        order(ex, alice, "yes", "buy", "0.555", 1)


def test_self_trade_prevention(ex: Exchange) -> None:
    (alice,) = users(ex, "alice")
    resting = order(ex, alice, "no", "buy", "0.50", 5)
    taker = order(ex, alice, "yes", "buy", "0.50", 5)
    assert (taker.status, taker.last_update_reason, taker.fill_count) == (
        "canceled",
        "SelfTradeCancel",
        0,
    )
    assert ex.get_order(alice, resting.order_id).status == "resting"
    other = order(ex, alice, "yes", "buy", "0.50", 5, self_trade_prevention="maker")
    assert other.status == "resting"
    assert ex.get_order(alice, resting.order_id).last_update_reason == "SelfTradeCancel"
    assert ex.balance(alice) == BALANCE - D("2.50")


def test_unknown_market(ex: Exchange) -> None:
    (alice,) = users(ex, "alice")
    with pytest.raises(ExchangeError) as caught:
        order(ex, alice, "yes", "buy", "0.50", 1, ticker="KXSOL15M-99JAN010000-00")
    # GET /markets/{ticker} answers 404; CreateOrder declares no 404, so a 400.
    assert (caught.value.status, caught.value.code) == (400, errors.MARKET_NOT_FOUND)
    with pytest.raises(ExchangeError) as lookup:
        ex.market("KXSOL15M-99JAN010000-00")
    assert lookup.value.status == 404


def test_next_market_is_not_open(ex: Exchange) -> None:
    (alice,) = users(ex, "alice")
    upcoming = [m for m in ex.all_markets() if m.status == "initialized"]
    assert len(upcoming) == 1
    with pytest.raises(ExchangeError) as caught:
        order(ex, alice, "yes", "buy", "0.50", 1, ticker=upcoming[0].ticker)
    assert (caught.value.status, caught.value.code) == (400, errors.MARKET_CLOSED)
