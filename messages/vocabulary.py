"""The trading vocabulary: one spelling for sides, actions, book sides, time in force and order
states, shared by the messages, the wire layer, the execution core and the backtest.

The side-like words are ``Literal`` types: they cost nothing at run time, travel as the
plain strings Kalshi and the ▶ WebSocket contract use, and mypy rejects a misspelling.
Order states are an enum because the execution core keeps an explicit transition table
over them (:mod:`execution.transitions`); it is a ``StrEnum``, so a state equals its wire
spelling, serializes as it and is stored as it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, TypeGuard

Side = Literal["yes", "no"]  # the outcome a contract pays on
Action = Literal["buy", "sell"]
BookSide = Literal["bid", "ask"]  # Kalshi's V2 single YES book: bid buys YES, ask sells YES
TimeInForce = Literal["fill_or_kill", "good_till_canceled", "immediate_or_cancel"]
SelfTradePrevention = Literal["taker_at_cross", "maker"]

SIDES: tuple[Side, ...] = ("yes", "no")
ACTIONS: tuple[Action, ...] = ("buy", "sell")
BOOK_SIDES: tuple[BookSide, ...] = ("bid", "ask")
TIMES_IN_FORCE: tuple[TimeInForce, ...] = (
    "fill_or_kill",
    "good_till_canceled",
    "immediate_or_cancel",
)
SELF_TRADE_PREVENTION: tuple[SelfTradePrevention, ...] = ("taker_at_cross", "maker")


class OrderStatus(StrEnum):
    """Where an order is in its life; the exchange's words plus our own for the edges.

    ``pending``: made and journaled, not yet answered. ``unknown``: sent, but whether the
    exchange has it is not known (a lost answer, a malformed one); it stays so until
    reconciliation finds it by ``client_order_id``. ``rejected``: the exchange said no.
    ``failed``: never reached the exchange (a ledger failure, or reconciliation proved it
    absent).
    """

    PENDING = "pending"
    UNKNOWN = "unknown"
    RESTING = "resting"
    EXECUTED = "executed"
    CANCELED = "canceled"
    REJECTED = "rejected"
    FAILED = "failed"


TERMINAL: frozenset[OrderStatus] = frozenset(
    {OrderStatus.EXECUTED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.FAILED}
)
OPEN: frozenset[OrderStatus] = frozenset(
    {OrderStatus.PENDING, OrderStatus.UNKNOWN, OrderStatus.RESTING}
)


def is_side(value: object) -> TypeGuard[Side]:
    return value in SIDES


def is_action(value: object) -> TypeGuard[Action]:
    return value in ACTIONS


def is_book_side(value: object) -> TypeGuard[BookSide]:
    return value in BOOK_SIDES


def is_time_in_force(value: object) -> TypeGuard[TimeInForce]:
    return value in TIMES_IN_FORCE
