"""Kalshi's fee formula, rounded up to $0.0001, pinned to real fills."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kalshi.fees import fill_fee, maker_fee, round_fee, taker_fee, taker_fee_per_contract


@pytest.mark.parametrize(
    ("count", "price", "fee"),
    [
        # Real KXSOL15M / 15-minute taker fills (../shared/KALSHI.md, "Fees"): count @ YES price
        (1, "0.954", "0.0031"),
        (1, "0.091", "0.0058"),
        (2, "0.931", "0.0090"),
        (20, "0.050", "0.0665"),
        (3, "0.953", "0.0095"),
        # The fact sheet's worked examples
        (1, "0.55", "0.0174"),
        (10, "0.90", "0.0630"),
    ],
)
def test_taker_fee_matches_real_fills(count: int, price: str, fee: str) -> None:
    assert taker_fee(D(price), D(count)) == D(fee)


@pytest.mark.parametrize(
    ("price", "count", "fee"),
    [
        ("0.50", 1, "0.0175"),  # exact: no rounding
        ("0.50", 10, "0.1750"),
        ("0.10", 100, "0.6300"),
        ("0.01", 1, "0.0007"),  # 0.000693 rounds up
        ("0.99", 100, "0.0693"),
        ("0.37", 13, "0.2122"),  # 0.212121 rounds up, not to 0.22
        ("0.005", 1000, "0.3483"),  # sub-cent tick: 0.34825
    ],
)
def test_taker_fee_rounds_up_to_the_ten_thousandth(price: str, count: int, fee: str) -> None:
    assert taker_fee(D(price), D(count)) == D(fee)


def test_a_fee_is_never_rounded_to_the_cent() -> None:
    assert taker_fee(D("0.954"), D(1)) != D("0.01")
    assert round_fee(D("0.00001")) == D("0.0001")
    assert round_fee(D("0.0175")) == D("0.0175")


def test_taker_fee_multiplier() -> None:
    assert taker_fee(D("0.50"), D(10), D(2)) == D("0.3500")
    assert taker_fee(D("0.50"), D(10), D("0.5")) == D("0.0875")


def test_maker_fee_by_fee_type() -> None:
    assert maker_fee(D("0.50"), D(10), "quadratic") == D(0)
    assert maker_fee(D("0.50"), D(10), "flat") == D(0)
    assert maker_fee(D("0.50"), D(10), "quadratic_with_maker_fees") == D("0.0438")  # 0.04375
    assert maker_fee(D("0.20"), D(100), "quadratic_with_maker_fees") == D("0.2800")
    # combo: a 0.5 maker multiplier of the taker rate instead of 0.25
    assert maker_fee(D("0.50"), D(10), "quadratic_with_combo_maker_fees") == D("0.0875")


def test_fill_fee_picks_taker_or_maker() -> None:
    assert fill_fee(D("0.50"), D(10), is_taker=True) == D("0.1750")
    assert fill_fee(D("0.50"), D(10), is_taker=False) == D(0)
    assert fill_fee(D("0.50"), D(10), is_taker=False, fee_type="quadratic_with_maker_fees") == D(
        "0.0438"
    )


def test_per_contract_fee_is_unrounded() -> None:
    assert taker_fee_per_contract(D("0.50")) == D("0.0175")
