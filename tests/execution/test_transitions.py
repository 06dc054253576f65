"""The transition table: what may follow what, and nothing else."""

from __future__ import annotations

import itertools

import pytest

from execution.transitions import TRANSITIONS, IllegalTransition, allowed, check_transition
from messages.vocabulary import TERMINAL, OrderStatus

S = OrderStatus


def test_the_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.EXECUTED, S.RESTING),
        (S.CANCELED, S.EXECUTED),
        (S.EXECUTED, S.CANCELED),
        (S.UNKNOWN, S.REJECTED),
        (S.RESTING, S.REJECTED),
        (S.FAILED, S.UNKNOWN),
    ],
)
def test_impossible_transitions_are_refused(old: OrderStatus, new: OrderStatus) -> None:
    assert not allowed(old, new)
    with pytest.raises(IllegalTransition, match=f"from {old.value} to {new.value}"):
        check_transition(old, new)


def test_a_rejected_order_goes_nowhere_and_nothing_goes_back_to_pending() -> None:
    for state in OrderStatus:
        assert not allowed(S.REJECTED, state)
        assert not allowed(state, S.PENDING)


def test_only_failed_may_be_left_among_the_terminal_states() -> None:
    for old in TERMINAL:
        assert bool(TRANSITIONS[old]) == (old is S.FAILED)
    assert TRANSITIONS[S.FAILED] == {S.RESTING, S.EXECUTED, S.CANCELED}


def test_the_legal_moves_are_exactly_the_documented_ones() -> None:
    legal = {(old, new) for old, new in itertools.product(S, S) if allowed(old, new)}
    assert legal == {
        *(
            (S.PENDING, s)
            for s in (S.UNKNOWN, S.RESTING, S.EXECUTED, S.CANCELED, S.REJECTED, S.FAILED)
        ),
        *((S.UNKNOWN, s) for s in (S.RESTING, S.EXECUTED, S.CANCELED, S.FAILED)),
        *((S.RESTING, s) for s in (S.RESTING, S.UNKNOWN, S.EXECUTED, S.CANCELED)),
        *((S.FAILED, s) for s in (S.RESTING, S.EXECUTED, S.CANCELED)),
    }
