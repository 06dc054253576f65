"""runtime.inbox: the adapter over pykka's private mailbox hook, checked on the pykka installed."""

from __future__ import annotations

import queue
from importlib.metadata import version
from typing import Any

import pykka
import pytest

from actors.console import ConsoleReporter
from actors.ledger import LedgerActor, _LazyInbox
from runtime.inbox import CHECKED_PYKKA, OwnInbox


class CountingQueue(queue.Queue[Any]):
    """A mailbox that counts what was put in it."""

    def __init__(self) -> None:
        super().__init__()
        self.puts = 0

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.puts += 1
        super().put(item, block, timeout)


class Echo(OwnInbox, pykka.ThreadingActor):
    inbox_type = CountingQueue

    def on_receive(self, message: Any) -> Any:
        return ("echo", message)


def test_installed_pykka_is_in_the_checked_range() -> None:
    """A pykka outside the range the hook was read on must be checked again before use."""
    major, minor = (int(part) for part in version("pykka").split(".")[:2])
    assert CHECKED_PYKKA[0] <= (major, minor) <= CHECKED_PYKKA[1]


def test_messages_go_through_the_actors_own_mailbox() -> None:
    ref = Echo.start()
    try:
        ref.tell("first")
        assert ref.ask("second", timeout=10) == ("echo", "second")
        inbox = ref.actor_inbox
        assert isinstance(inbox, CountingQueue)
        assert inbox.puts == 2
    finally:
        ref.stop(timeout=10)


def test_own_inbox_names_a_wrong_kind() -> None:
    actor = Echo()  # built, not started: the mailbox exists from the constructor on
    assert actor.own_inbox(CountingQueue) is actor.actor_inbox
    with pytest.raises(TypeError, match="Echo's mailbox is CountingQueue, not _LazyInbox"):
        actor.own_inbox(_LazyInbox)


@pytest.mark.parametrize("actor", [LedgerActor, ConsoleReporter])
def test_recording_actors_get_the_lazy_mailbox(actor: type[OwnInbox]) -> None:
    assert isinstance(actor._create_actor_inbox(), _LazyInbox)
