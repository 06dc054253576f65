"""Dispatch: exact types win, base classes match subclasses, unknown types miss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.dispatch import Dispatch, ignore


@dataclass(frozen=True)
class Base:
    pass


@dataclass(frozen=True)
class Child(Base):
    pass


@dataclass(frozen=True)
class Special(Base):
    pass


@dataclass(frozen=True)
class Other:
    pass


class Recorder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_base(self, message: Any) -> str:
        self.seen.append(f"base:{type(message).__name__}")
        return "base"

    def on_special(self, message: Any) -> str:
        self.seen.append("special")
        return "special"


TABLE: Dispatch[Recorder] = Dispatch(
    {Special: Recorder.on_special, Other: ignore}, inherited={Base: Recorder.on_base}
)


def test_exact_type_wins_over_a_matching_base() -> None:
    actor = Recorder()
    handler = TABLE[type(Special())]
    assert handler is not None
    assert handler(actor, Special()) == "special"
    assert actor.seen == ["special"]


def test_a_base_class_entry_matches_its_subclasses_and_is_cached() -> None:
    table: Dispatch[Recorder] = Dispatch({}, inherited={Base: Recorder.on_base})
    assert Child not in table
    handler = table[Child]
    assert handler is Recorder.on_base
    assert table[Base] is Recorder.on_base
    assert Child in table  # the next Child is a plain dict hit


def test_an_exact_entry_does_not_match_subclasses() -> None:
    table: Dispatch[Recorder] = Dispatch({Base: Recorder.on_base})
    assert table[Child] is None
    assert table[Base] is Recorder.on_base


def test_unknown_types_miss_and_ignore_drops() -> None:
    assert TABLE[int] is None
    handler = TABLE[Other]
    assert handler is ignore
    assert handler(Recorder(), Other()) is None
