"""Which order state may follow which: the one table every order change is checked against.

An explicit table (as NautilusTrader's order FSM keeps one) turns a late, duplicated or
out-of-order report into a refused transition instead of a silent regression: an
executed order never rests again, a cancelled one never executes, nothing goes back to
``pending``. ``failed`` is the one terminal state that may be left: it is our own
conclusion ("it never reached the exchange"), and the exchange may prove it wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from messages.vocabulary import OrderStatus

PENDING = OrderStatus.PENDING
UNKNOWN = OrderStatus.UNKNOWN
RESTING = OrderStatus.RESTING
EXECUTED = OrderStatus.EXECUTED
CANCELED = OrderStatus.CANCELED
REJECTED = OrderStatus.REJECTED
FAILED = OrderStatus.FAILED

TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        PENDING: frozenset({UNKNOWN, RESTING, EXECUTED, CANCELED, REJECTED, FAILED}),
        UNKNOWN: frozenset({RESTING, EXECUTED, CANCELED, FAILED}),
        RESTING: frozenset({RESTING, UNKNOWN, EXECUTED, CANCELED}),  # resting→resting: a fill
        FAILED: frozenset({RESTING, EXECUTED, CANCELED}),  # the exchange had it after all
        EXECUTED: frozenset(),
        CANCELED: frozenset(),
        REJECTED: frozenset(),
    }
)


class IllegalTransition(ValueError):
    """An order was asked to move to a state that cannot follow its current one."""

    def __init__(self, old: OrderStatus, new: OrderStatus) -> None:
        self.old = old
        self.new = new
        super().__init__(f"an order cannot go from {old.value} to {new.value}")


def allowed(old: OrderStatus, new: OrderStatus) -> bool:
    return new in TRANSITIONS[old]


def check_transition(old: OrderStatus, new: OrderStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``new`` may follow ``old``."""
    if new not in TRANSITIONS[old]:
        raise IllegalTransition(old, new)
