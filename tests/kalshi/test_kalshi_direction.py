"""Our four directions on Kalshi's single YES book, exactly, both ways."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kalshi.direction import (
    book_side_of_outcome,
    direction_of,
    from_book,
    outcome_of,
    to_book,
)
from kalshi.errors import ParseError
from messages.vocabulary import Action, BookSide, Side

# (side, action, price of our side) -> (book side, YES price, outcome side)
FOUR = [
    ("yes", "buy", D("0.56"), "bid", D("0.56"), "yes"),
    ("no", "sell", D("0.44"), "bid", D("0.56"), "yes"),
    ("no", "buy", D("0.30"), "ask", D("0.70"), "no"),
    ("yes", "sell", D("0.70"), "ask", D("0.70"), "no"),
]


@pytest.mark.parametrize(("side", "action", "price", "book", "yes_price", "outcome"), FOUR)
def test_to_book_and_back(
    side: Side, action: Action, price: D, book: BookSide, yes_price: D, outcome: Side
) -> None:
    assert to_book(side, action, price) == (book, yes_price)
    assert outcome_of(side, action) == outcome
    assert book_side_of_outcome(outcome) == book
    back = from_book(book, yes_price, side=side, action=action)
    assert back == (side, action, price)
    assert str(back[2]) == str(price)  # exact: the same digits, nothing rounded


@pytest.mark.parametrize(("side", "action", "price", "book", "yes_price", "outcome"), FOUR)
def test_direction_of_reported_orders(
    side: str, action: str, price: D, book: str, yes_price: D, outcome: str
) -> None:
    del price, yes_price
    assert direction_of(book, outcome, side, action) == (side, action)
    assert direction_of(book, None, side, action) == (side, action)
    assert direction_of(None, outcome, side, action) == (side, action)
    assert direction_of(None, None, side, action) == (side, action)  # legacy only
    assert direction_of(book, outcome, side, None) == (side, action)  # side alone decides
    assert direction_of(book, outcome, None, action) == (side, action)  # action alone too


def test_without_a_hint_the_canonical_direction_is_a_buy() -> None:
    assert from_book("bid", D("0.5600")) == ("yes", "buy", D("0.5600"))
    assert from_book("ask", D("0.5600")) == ("no", "buy", D("0.4400"))
    assert direction_of("bid", "yes", None, None) == ("yes", "buy")
    assert direction_of("ask", None, None, None) == ("no", "buy")


def test_a_hint_that_contradicts_the_book_side_is_ignored() -> None:
    # "buy YES" cannot be an ask: the canonical reading wins.
    assert from_book("ask", D("0.70"), side="yes", action="buy") == ("no", "buy", D("0.30"))
    assert from_book("bid", D("0.70"), side="yes", action=None) == ("yes", "buy", D("0.70"))
    assert direction_of("ask", "no", "yes", "buy") == ("no", "buy")


def test_prices_stay_exact_in_the_tails() -> None:
    assert to_book("no", "buy", D("0.999")) == ("ask", D("0.001"))
    assert from_book("ask", D("0.0005"))[2] == D("0.9995")
    assert to_book("no", "sell", D("0.123456")) == ("bid", D("0.876544"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("bid", "no", None, None), "contradicts"),
        (("ask", "yes", "yes", "buy"), "contradicts"),
        (("up", None, "yes", "buy"), "unknown book_side"),
        (("bid", "maybe", None, None), "unknown outcome_side"),
        (("bid", "yes", "perhaps", None), "unknown side"),
        (("bid", "yes", None, "hold"), "unknown action"),
        ((None, None, "yes", None), "no direction"),
        ((None, None, None, None), "no direction"),
    ],
)
def test_inconsistent_or_unknown_values_are_parse_errors(
    args: tuple[str | None, str | None, str | None, str | None], message: str
) -> None:
    with pytest.raises(ParseError, match=message):
        direction_of(*args)


def test_unknown_book_side_in_from_book_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="unknown book_side"):
        from_book("up", D("0.5"))  # type: ignore[arg-type]


def test_our_own_bad_intent_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="side must be"):
        to_book("maybe", "buy", D("0.5"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="action must be"):
        outcome_of("yes", "hold")  # type: ignore[arg-type]
