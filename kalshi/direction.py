"""Our order directions on Kalshi's single YES book, and back.

We think in (side, action, price of our side): "buy NO at 0.30". Kalshi's V2 order API
knows one book, the YES book: ``bid`` buys YES, ``ask`` sells YES, and every price is a
YES price. Buying NO at p is selling YES at 1 − p; selling NO at p is buying YES at
1 − p. The exchange reports direction as ``outcome_side`` (the exposure an order gives:
buy-yes and sell-no give ``yes``) and ``book_side`` (the same bit: yes ↔ bid), which
cannot tell a buy of YES from a sale of NO — the deprecated ``side``/``action`` can, so
they are used to tell those apart whenever they agree with the new fields.

    buy  YES at p -> bid, YES price p        outcome yes
    sell NO  at p -> bid, YES price 1 − p    outcome yes
    buy  NO  at p -> ask, YES price 1 − p    outcome no
    sell YES at p -> ask, YES price p        outcome no

All arithmetic is exact Decimal; nothing is rounded.
"""

from __future__ import annotations

from decimal import Decimal

from kalshi.errors import ParseError
from kalshi.units import ONE
from messages.vocabulary import Action, BookSide, Side, is_action, is_book_side, is_side

_OTHER: dict[Side, Side] = {"yes": "no", "no": "yes"}
_BOOK_SIDE: dict[Side, BookSide] = {"yes": "bid", "no": "ask"}
_OUTCOME: dict[BookSide, Side] = {"bid": "yes", "ask": "no"}


def _check(side: object, action: object) -> None:
    if not is_side(side):
        raise ValueError(f"side must be yes or no, not {side!r}")
    if not is_action(action):
        raise ValueError(f"action must be buy or sell, not {action!r}")


def outcome_of(side: Side, action: Action) -> Side:
    """The outcome an order leaves us exposed to: buying a side, or selling the other."""
    _check(side, action)
    return side if action == "buy" else _OTHER[side]


def book_side_of_outcome(outcome: Side) -> BookSide:
    """``yes`` exposure is a YES bid, ``no`` exposure a YES ask."""
    if not is_side(outcome):
        raise ValueError(f"outcome must be yes or no, not {outcome!r}")
    return _BOOK_SIDE[outcome]


def yes_price_of(side: Side, price: Decimal) -> Decimal:
    """The YES price of ``price`` quoted for ``side``."""
    return price if side == "yes" else ONE - price


def to_book(side: Side, action: Action, price: Decimal) -> tuple[BookSide, Decimal]:
    """Our (side, action, price of our side) as V2's (book side, YES price)."""
    return book_side_of_outcome(outcome_of(side, action)), yes_price_of(side, price)


def from_book(
    book_side: BookSide,
    yes_price: Decimal,
    *,
    side: Side | None = None,
    action: Action | None = None,
) -> tuple[Side, Action, Decimal]:
    """A V2 (book side, YES price) as (side, action, price of that side).

    With a (side, action) hint that agrees with ``book_side``, that direction; otherwise
    the canonical buy: ``bid`` is buying YES at the YES price, ``ask`` buying NO at
    1 − the YES price. An unknown book side is a :class:`ParseError` (it is wire data).
    """
    if not is_book_side(book_side):
        raise ParseError(f"unknown book_side {book_side!r}")
    outcome = _OUTCOME[book_side]
    chosen_side: Side
    chosen_action: Action
    if is_side(side) and is_action(action) and outcome_of(side, action) == outcome:
        chosen_side, chosen_action = side, action
    else:
        chosen_side, chosen_action = outcome, "buy"
    return chosen_side, chosen_action, yes_price_of(chosen_side, yes_price)


def direction_of(
    book_side: str | None,
    outcome_side: str | None,
    legacy_side: str | None,
    legacy_action: str | None,
) -> tuple[Side, Action]:
    """(side, action) of a reported order or fill, preferring the new fields.

    The exposure comes from ``outcome_side``/``book_side`` (which must agree). The legacy
    ``side``/``action`` only choose between the two directions with that exposure (buy
    the exposed side, or sell the other) and are ignored where they contradict it. A
    payload with neither new field falls back to the legacy pair. Unknown values, a
    contradiction between the new fields, or no direction at all: :class:`ParseError`.
    """
    outcome = _exposure(book_side, outcome_side)
    side = legacy_side if is_side(legacy_side) else None
    action = legacy_action if is_action(legacy_action) else None
    if legacy_side is not None and side is None:
        raise ParseError(f"unknown side {legacy_side!r}")
    if legacy_action is not None and action is None:
        raise ParseError(f"unknown action {legacy_action!r}")
    if outcome is None:
        if side is None or action is None:
            raise ParseError("no direction: neither outcome_side/book_side nor side and action")
        return side, action
    if side is not None and action is not None:
        if outcome_of(side, action) == outcome:
            return side, action
        return outcome, "buy"
    if side is not None:
        return (side, "buy") if side == outcome else (side, "sell")
    if action == "sell":
        return _OTHER[outcome], "sell"
    return outcome, "buy"


def _exposure(book_side: str | None, outcome_side: str | None) -> Side | None:
    """The outcome an order is exposed to, from the new fields (None when both absent)."""
    if book_side is not None and not is_book_side(book_side):
        raise ParseError(f"unknown book_side {book_side!r}")
    if outcome_side is not None and not is_side(outcome_side):
        raise ParseError(f"unknown outcome_side {outcome_side!r}")
    from_book_side = _OUTCOME[book_side] if book_side is not None else None
    if from_book_side is not None and outcome_side is not None and from_book_side != outcome_side:
        raise ParseError(f"outcome_side {outcome_side!r} contradicts book_side {book_side!r}")
    return from_book_side or outcome_side
