"""One format for numbers (money fixed-point, ratios as numbers) and one reader of ``since``."""

from __future__ import annotations

from decimal import Decimal as D

import orjson
import pytest

from messages.formats import dumps, money, normalize, parse_since
from messages.trading import Signal

JAN1 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("10.38720987654320987654320988", "10.38721"),  # a division's digits: 6 at most
        ("0.03227608000", "0.032276"),  # trailing noise dropped
        (D("0.56"), "0.5600"),  # Kalshi's four places at least
        (D("1000"), "1000.0000"),
        (D("0.00017"), "0.00017"),  # a fractional fill's fee keeps its fifth place
        (D("-1.5"), "-1.5000"),
        (D("-0.0000001"), "0.0000"),  # never "-0.0000"
        (3, "3.0000"),
        (0.1, "0.1000"),  # a float by its shortest text, not its binary expansion
    ],
)
def test_money_is_fixed_point_with_four_to_six_places(value: object, text: str) -> None:
    assert money(value) == text  # type: ignore[arg-type]


def test_money_refuses_what_is_not_an_amount() -> None:
    for bad in ("abc", "NaN", D("Infinity")):
        with pytest.raises(ValueError, match="not an amount"):
            money(bad)


def test_a_message_on_the_wire_has_money_as_text_and_probabilities_as_numbers() -> None:
    signal = Signal(
        "s1", "kelly_volatility", "KX", "yes", D("0.03227608000"), D("0.652"), D("0.61"), 3, 1.0
    )
    body = orjson.loads(dumps(signal))
    assert (body["edge"], body["market_price"], body["model_prob"]) == ("0.032276", "0.6100", 0.652)


def test_rows_read_back_are_normalized_by_field_name() -> None:
    row = {
        "price": "0.52",
        "fees": 0.0175,  # a strategy's metric sent as a float
        "model_prob": "0.6",
        "nested": [{"realized_pnl": "-0.40000"}],
        "reason": "0.5",  # not a money field: as it is
        "market_value": None,
        "note": "n/a",
    }
    assert normalize(row) == {
        "price": "0.5200",
        "fees": "0.0175",
        "model_prob": 0.6,
        "nested": [{"realized_pnl": "-0.4000"}],
        "reason": "0.5",
        "market_value": None,
        "note": "n/a",
    }


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01",
        "2026-01-01T00:00:00Z",
        "2026-01-01T01:00:00+01:00",
        "2026-01-01T00:00:00.000z",
        "1767225600",
        "1767225600.0",
    ],
)
def test_since_is_a_date_a_zoned_date_time_or_unix_seconds(text: str) -> None:
    assert parse_since(text) == JAN1


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("yesterday", "must be Unix seconds, a date"),
        ("2026-01-01T09:30:00", "needs a time zone"),
        ("-5", "non-negative"),
        ("nan", "non-negative"),
        ("2026-13-01", "must be Unix seconds"),
    ],
)
def test_since_refuses_other_forms_saying_which_are_accepted(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_since(text)
