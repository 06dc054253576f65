"""How the ledger holds a message between its arrival and its write (``storage.journal``)."""

from __future__ import annotations

import pickle
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from loguru import logger

import storage.journal
from messages.trading import OrderIntent, Signal
from storage.journal import Entry, encode, entries_of, pending

NOW = 1_000.5


def signal(reason: object = "") -> Signal:
    return Signal(
        "s1", "kelly", "KX-1", "yes", D("0.0500"), D("0.61"), D("0.50"), 3, 999.0, reason=reason  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_kept_message_is_held_pickled_and_encoded_when_written() -> None:
    kept = pending(signal(), NOW)
    assert kept is not None
    held, arrived = kept
    assert type(held) is bytes and arrived == NOW  # a write sends bytes
    assert entries_of([kept]) == [encode(signal(), NOW)]


def test_entries_messages_and_pickled_messages_mix_in_one_batch_in_order() -> None:
    intent = OrderIntent(
        "c1", "s1", "kelly", "KX-1", "yes", "buy", 2, D("0.45"), "immediate_or_cancel"
    )
    ready = encode(intent, NOW)
    assert ready is not None
    written = entries_of([pending(signal(), NOW), ready, (intent, NOW)])  # type: ignore[list-item]
    assert written == [encode(signal(), NOW), ready, ready]


def test_a_message_that_cannot_be_pickled_is_encoded_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object) -> bytes:
        raise pickle.PicklingError("injected")

    monkeypatch.setattr(
        storage.journal,
        "pickle",
        SimpleNamespace(dumps=refuse, loads=pickle.loads, HIGHEST_PROTOCOL=5),
    )
    kept = pending(signal(), NOW)
    assert kept is not None and isinstance(kept[0], Entry)
    assert entries_of([kept]) == [encode(signal(), NOW)]


def test_a_message_that_can_be_neither_pickled_nor_encoded_is_logged_and_skipped() -> None:
    broken = signal(reason=lambda: "not data")  # neither pickle nor JSON can carry a function
    lines: list[str] = []
    sink = logger.add(lines.append, level="ERROR", format="{message}")
    try:
        assert pending(broken, NOW) is None  # the publisher is not failed by it
    finally:
        logger.remove(sink)
    assert len(lines) == 1 and "a Signal cannot be recorded" in lines[0]
