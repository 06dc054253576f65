"""Fixed-point parsing/formatting and the tiered tick, exactly."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kalshi.units import (
    PriceLevels,
    UnitError,
    ceil_to_cent,
    cents_to_dollars,
    dollars_to_cents,
    format_count,
    format_dollars,
    parse_count,
    parse_dollars,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.5600", D("0.56")), ("0.001", D("0.001")), ("1.000000", D(1)), ("12", D(12))],
)
def test_parse_dollars_is_exact(text: str, value: D) -> None:
    assert parse_dollars(text) == value
    assert isinstance(parse_dollars(text), D)


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "Infinity", "0.1234567", 0.5, None, True])
def test_parse_dollars_refuses_bad_input(bad: object) -> None:
    with pytest.raises(UnitError):
        parse_dollars(bad)


def test_parse_count_allows_two_decimals_only() -> None:
    assert parse_count("10.00") == D(10)
    assert parse_count("-54.00") == D(-54)
    assert parse_count("2.50") == D("2.5")
    with pytest.raises(UnitError):
        parse_count("1.001")


def test_formatting_round_trips() -> None:
    assert format_dollars(D("0.5")) == "0.5000"
    assert format_dollars(D("0.0015")) == "0.0015"
    assert format_dollars(D("0.00155")) == "0.00155"
    assert format_count(D(10)) == "10.00"
    assert format_count(3) == "3.00"
    for text in ("0.5600", "0.0010", "0.9990"):
        assert format_dollars(parse_dollars(text)) == text


def test_cents_conversions() -> None:
    assert dollars_to_cents(D("0.56")) == 56
    assert cents_to_dollars(56) == D("0.56")
    with pytest.raises(UnitError):
        dollars_to_cents(D("0.555"))
    assert ceil_to_cent(D("0.0001")) == D("0.01")
    assert ceil_to_cent(D("0.17500")) == D("0.18")
    assert ceil_to_cent(D("0.63")) == D("0.63")


def test_tiered_tick() -> None:
    levels = PriceLevels()
    assert levels.tick_at(D("0.05")) == D("0.001")
    assert levels.tick_at(D("0.50")) == D("0.01")
    assert levels.tick_at(D("0.95")) == D("0.001")
    assert levels.is_valid(D("0.955"))
    assert levels.is_valid(D("0.055"))
    assert levels.is_valid(D("0.55"))
    assert not levels.is_valid(D("0.555"))
    assert not levels.is_valid(D("0"))
    assert not levels.is_valid(D("1"))
    assert levels.round_down(D("0.555")) == D("0.55")
    assert levels.round_down(D("0.0555")) == D("0.055")
    assert levels.round_down(D("0.9555")) == D("0.955")


def test_price_levels_from_wire_round_trip() -> None:
    wire = [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]
    levels = PriceLevels.from_wire(wire)
    assert levels.to_wire() == wire
    assert levels.tick_at(D("0.05")) == D("0.01")
    assert PriceLevels.from_wire(None) == PriceLevels()
