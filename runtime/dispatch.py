"""A message-type dispatch table for an actor's ``handle``.

Actors receive frozen message classes and answer each kind differently. A long
``if type(m) is A ... elif`` chain grows one branch per kind (and past ruff's
complexity limit); a table keyed by type names every handler and costs one dict
lookup on the hot path, however many kinds the actor knows.

Most kinds are matched by their exact type, as the chains did. A few are matched
as a base class (every :class:`~messages.timers.Tick`, say): those are looked up
along the message type's MRO once, and the answer is cached under the concrete
type, so later messages of that type are a plain dict hit too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from runtime.actor import SupervisedActor

A = TypeVar("A")

Handler = Callable[[A, Any], Any]


class Dispatch(dict[type, Handler[A] | None]):
    """``table[type(message)]``: the handler for that message, or None (not handled here).

    Index it (``table[kind]``), not ``.get``: a type seen for the first time is
    resolved by ``__missing__`` (exact, then base classes) and remembered. The
    cache only grows by the message types an actor actually receives, and the
    racing writes of two threads store the same answer.
    """

    def __init__(
        self, exact: Mapping[type, Handler[A]], inherited: Mapping[type, Handler[A]] | None = None
    ) -> None:
        super().__init__(exact)
        self._inherited: dict[type, Handler[A]] = dict(inherited or {})

    def __missing__(self, kind: type) -> Handler[A] | None:
        handler = next((self._inherited[b] for b in kind.__mro__ if b in self._inherited), None)
        self[kind] = handler
        return handler


def ignore(actor: object, message: object) -> None:
    """A handler for messages an actor receives on purpose and drops (not counted as ignored)."""


class DispatchedActor(SupervisedActor):
    """An actor whose ``handle`` is its class's ``_DISPATCH`` table.

    A type missing from the table goes to :meth:`SupervisedActor.handle` (an
    unanswered query is a dead letter, anything else is counted as ignored).
    """

    _DISPATCH: ClassVar[Dispatch[Any]] = Dispatch({})

    def handle(self, message: Any) -> Any:
        handler = self._DISPATCH[type(message)]
        if handler is None:
            return super().handle(message)
        return handler(self, message)
