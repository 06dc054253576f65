"""The one place sol15 gives an actor a mailbox of its own: pykka has no public hook for it.

The ledger and the console record events that nobody waits for; their mailbox
(``actors.ledger._LazyInbox``) sets those aside without waking the actor's thread, so
that recording an order never takes the interpreter from placing it. pykka builds every
actor's mailbox with ``Actor._create_actor_inbox()``, a static method its docs call
"internal, for implementors of new actor types", and stores the result as the public
``actor_inbox`` attribute, which pykka itself then uses through ``put`` (``ActorRef.tell``
and ``ask``), ``get`` and ``empty`` (the actor loop). A ``queue.Queue`` subclass honours
all three. Checked on pykka 4.0.0 to 4.5.0 (the same hook, called once in
``Actor.__init__``); ``requirements.txt`` pins pykka to the checked range, and
``tests/runtime/test_inbox.py`` fails first if a new pykka moves the hook.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from importlib.metadata import version
from typing import Any, ClassVar, TypeVar

import pykka

CHECKED_PYKKA = ((4, 0), (4, 5))  # oldest and newest minor version the hook was checked on
_HOOK = "_create_actor_inbox"
Q = TypeVar("Q", bound="queue.Queue[Any]")

if not callable(getattr(pykka.Actor, _HOOK, None)):  # fail at import, not by a silent default
    raise ImportError(
        f"pykka {version('pykka')} has no Actor.{_HOOK}: runtime/inbox.py was checked on "
        f"pykka {CHECKED_PYKKA[0]}..{CHECKED_PYKKA[1]}; pin pykka in requirements.txt"
    )


class OwnInbox:
    """Mixin, listed before the actor base class: the actor's mailbox is ``inbox_type()``.

    ``class LedgerActor(OwnInbox, SupervisedActor): inbox_type = _LazyInbox``; the actor
    reads its mailbox back, typed, with :meth:`own_inbox`.
    """

    inbox_type: ClassVar[Callable[[], queue.Queue[Any]]]

    @classmethod
    def _create_actor_inbox(cls) -> Any:
        """pykka's private hook (see the module docstring), called once per actor."""
        return cls.inbox_type()

    def own_inbox(self, kind: type[Q]) -> Q:
        """The mailbox this actor was built with, as ``kind`` (a wrong kind is a bug)."""
        inbox: object = getattr(self, "actor_inbox", None)
        if not isinstance(inbox, kind):
            raise TypeError(
                f"{type(self).__name__}'s mailbox is {type(inbox).__name__}, not {kind.__name__}"
            )
        return inbox
