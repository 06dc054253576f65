"""Kalshi's fee formula, to the cent, at several prices."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kalshi.fees import maker_fee, taker_fee, taker_fee_per_contract


@pytest.mark.parametrize(
    ("price", "count", "fee"),
    [
        ("0.50", 1, "0.02"),  # 0.0175 rounds up
        ("0.50", 10, "0.18"),  # 0.175
        ("0.50", 100, "1.75"),
        ("0.10", 100, "0.63"),  # exactly 0.63: no rounding up
        ("0.90", 100, "0.63"),  # symmetric
        ("0.01", 1, "0.01"),  # 0.000693
        ("0.99", 100, "0.07"),  # 0.0693
        ("0.37", 13, "0.22"),  # 0.07 × 13 × 0.37 × 0.63 = 0.2121…
        ("0.005", 1000, "0.35"),  # sub-cent tick: 0.34825
    ],
)
def test_taker_fee_to_the_cent(price: str, count: int, fee: str) -> None:
    assert taker_fee(D(price), D(count)) == D(fee)


def test_taker_fee_multiplier() -> None:
    assert taker_fee(D("0.50"), D(10), D(2)) == D("0.35")
    assert taker_fee(D("0.50"), D(10), D("0.5")) == D("0.09")  # 0.0875


def test_maker_fee_by_fee_type() -> None:
    assert maker_fee(D("0.50"), D(10), "quadratic") == D(0)
    assert maker_fee(D("0.50"), D(10), "quadratic_with_maker_fees") == D("0.05")  # 0.04375
    assert maker_fee(D("0.20"), D(100), "quadratic_with_maker_fees") == D("0.28")


def test_per_contract_fee_is_unrounded() -> None:
    assert taker_fee_per_contract(D("0.50")) == D("0.0175")
