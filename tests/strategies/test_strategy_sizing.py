"""Fee-aware edge, Kelly sizing and book walking, against values worked out by hand."""

from __future__ import annotations

import math
from decimal import ROUND_CEILING
from decimal import Decimal as D
from typing import TypedDict

import pytest

from kalshi.fees import taker_fee, taker_fee_per_contract
from strategies.sizing import (
    edge,
    kelly_contracts,
    kelly_contracts_bound,
    kelly_fraction,
    max_count_with_edge,
    plan_buy,
    walk_book,
)


@pytest.mark.parametrize(
    ("price", "fees"),
    [
        # 0.07 × P × (1 − P) per contract, × 1 / 3 / 100 contracts, up to the $0.0001
        ("0.01", ("0.0007", "0.0021", "0.0693")),  # 0.000693 / 0.002079 / 0.0693
        ("0.10", ("0.0063", "0.0189", "0.6300")),  # exact
        ("0.50", ("0.0175", "0.0525", "1.7500")),
        ("0.90", ("0.0063", "0.0189", "0.6300")),
        ("0.99", ("0.0007", "0.0021", "0.0693")),
    ],
)
def test_fee_to_the_ten_thousandth(price: str, fees: tuple[str, str, str]) -> None:
    for count, fee in zip((1, 3, 100), fees, strict=True):
        assert taker_fee(D(price), D(count)) == D(fee)
        # a single-level walk books exactly that fee
        assert walk_book([(D(price), D(1000))], count).fees == D(fee)


def test_edge_and_kelly_fraction_by_hand() -> None:
    assert edge(D("0.60"), D("0.50"), D("0.0175")) == D("0.0825")
    # even odds (cost 0.5), q = 0.6: the textbook p − q/b = 0.6 − 0.4 = 0.2
    assert kelly_fraction(D("0.6"), D("0.5")) == D("0.2")
    # cost 0.6 wins 0.4: (0.7 − 0.6) / 0.4 = 0.25
    assert kelly_fraction(D("0.7"), D("0.6")) == D("0.25")
    assert kelly_fraction(D("0.5"), D("0.5")) == 0
    assert kelly_fraction(D("0.4"), D("0.5")) == 0
    assert kelly_fraction(D("0.9"), D("1")) == 0
    assert kelly_fraction(D("0.9"), D("0")) == 0


def test_kelly_contracts_by_hand() -> None:
    # P 0.48 + fee 0.02 = cost 0.50; q 0.6 → x* 0.2; 0.25 × 0.2 × $1000 / 0.5 = 100
    args = (D("0.6"), D("0.48"), D("0.02"), D("1000"))
    assert kelly_contracts(*args, multiplier=D("0.25")) == 100
    assert kelly_contracts(*args, multiplier=D(1)) == 400
    assert kelly_contracts(*args, multiplier=D("0.25"), max_contracts=50) == 50
    assert kelly_contracts(*args, multiplier=D("0.25"), depth=30) == 30
    assert kelly_contracts(D("0.5"), D("0.48"), D("0.02"), D("1000")) == 0
    assert kelly_contracts(D("0.3"), D("0.48"), D("0.02"), D("1000")) == 0  # never negative
    assert kelly_contracts(*args[:3], D("0")) == 0
    # rounds down: 0.25 × 0.2 × 999 / 0.5 = 99.9
    assert kelly_contracts(D("0.6"), D("0.48"), D("0.02"), D("999")) == 99


@pytest.mark.parametrize("ask", ["0.05", "0.31", "0.50", "0.62", "0.88", "0.97"])
@pytest.mark.parametrize(("bankroll", "multiplier"), [("100", "0.25"), ("1000", "0.5")])
def test_the_float_kelly_bound_is_never_below_the_contracts(
    ask: str, bankroll: str, multiplier: str
) -> None:
    # The worst case for the bound: q just high enough (on the 6-decimal grid the strategy
    # rounds to) for n contracts, and the float q it came from 5e-7 below that.
    price, b, m = D(ask), D(bankroll), D(multiplier)
    fee = taker_fee_per_contract(price)
    cost = price + fee
    cost_f = float(price) + 0.07 * float(price) * (1.0 - float(price))
    for n in range(1, 40):
        q_exact = cost + n * cost * (1 - cost) / (m * b)
        if q_exact >= 1:
            break
        q = q_exact.quantize(D("0.000001"), rounding=ROUND_CEILING)
        assert kelly_contracts(q, price, fee, b, multiplier=m) >= n
        q_f = float(q) - 4.99e-7
        assert f"{q_f:.6f}" == str(q)  # the strategy's q for this float
        bound = kelly_contracts_bound(q_f, cost_f, float(b), float(m))
        assert kelly_contracts(q, price, fee, b, multiplier=m) <= bound < n + 0.2


def test_the_float_kelly_bound_without_an_edge_or_a_price() -> None:
    assert kelly_contracts_bound(0.40, 0.50, 100.0, 0.25) < 0  # no edge: held 0 is at target
    assert kelly_contracts_bound(0.99, 1.0, 100.0, 0.25) == math.inf  # no bound: decide exactly
    assert kelly_contracts_bound(0.50, 0.0, 100.0, 0.25) == math.inf


def test_full_kelly_maximizes_expected_log_wealth() -> None:
    q, cost, bankroll = 0.62, 0.5175, 500.0
    n_star = kelly_contracts(D("0.62"), D("0.50"), D("0.0175"), D("500"), multiplier=D(1))

    def growth(n: int) -> float:
        return q * math.log(bankroll + n * (1 - cost)) + (1 - q) * math.log(bankroll - n * cost)

    best = max(range(int(bankroll / cost)), key=growth)
    assert best in (n_star, n_star + 1)


ASKS = [(D("0.40"), D(5)), (D("0.41"), D(10)), (D("0.43"), D(20))]


def test_walk_book_average_price_and_fees() -> None:
    walk = walk_book(ASKS, 12)
    assert walk.count == 12
    assert walk.cost == D("4.87")  # 5 × 0.40 + 7 × 0.41
    assert walk.avg_price == D("4.87") / 12
    assert walk.fees == D("0.0840") + D("0.1186")  # 0.084 + ceil(0.118531)
    assert walk.limit_price == D("0.41")
    assert walk.levels_used == 2
    assert walk.avg_all_in == (D("4.87") + D("0.2026")) / 12
    thin = walk_book(ASKS, 100)
    assert (thin.count, thin.limit_price, thin.levels_used) == (35, D("0.43"), 3)
    empty = walk_book([], 5)
    assert (empty.count, empty.limit_price, empty.avg_price) == (0, None, None)


def test_max_count_with_marginal_edge() -> None:
    asks = [(D("0.40"), D(5)), (D("0.41"), D(10)), (D("0.46"), D(20))]
    # q 0.5: edges 0.0832, 0.0731, 0.0226 → the third level is below 0.03
    assert max_count_with_edge(asks, D("0.5"), D("0.03")) == 15
    assert max_count_with_edge(asks, D("0.5"), D("0.02")) == 35
    assert max_count_with_edge(asks, D("0.4"), D("0.03")) == 0


class _Money(TypedDict):
    """plan_buy's money settings, shared by the calls below."""

    bankroll: D
    kelly_multiplier: D
    min_edge: D


def test_plan_buy_walks_with_marginal_kelly() -> None:
    asks = [(D("0.45"), D(3)), (D("0.47"), D(10)), (D("0.55"), D(50))]
    kw: _Money = {"bankroll": D(100), "kelly_multiplier": D("0.25"), "min_edge": D("0.03")}
    # targets at each level's cost: 13 at 0.45, 11 at 0.47, 3 at 0.55
    plan = plan_buy(asks, D("0.60"), **kw)
    assert plan is not None
    assert plan.count == 11
    assert plan.limit_price == D("0.47")
    assert plan.fee == D("0.017437")  # 0.07 × 0.47 × 0.53
    assert plan.edge == D("0.112563")
    assert plan.target == 11
    assert plan.kelly_fraction == D("0.112563") / D("0.512563")
    assert plan.walk.count == 11 and plan.walk.cost == D("3") * D("0.45") + D(8) * D("0.47")
    # contracts already held count against the target
    held = plan_buy(asks, D("0.60"), held=5, **kw)
    assert held is not None and held.count == 6
    assert plan_buy(asks, D("0.60"), held=13, **kw) is None
    capped = plan_buy(asks, D("0.60"), max_contracts=4, **kw)
    assert capped is not None and (capped.count, capped.limit_price) == (4, D("0.47"))
    # no edge at the best level: nothing
    assert plan_buy(asks, D("0.47"), **kw) is None
