"""The ledger's protocol: what other actors tell and ask the LedgerActor, and its answers.

They live here, not beside the actor, so an actor that talks to the ledger depends on
the words, not on the actor (imports point down: messages sit below actors). The saved
risk state is a type parameter (``S``: ``storage.risk_state.SavedRisk`` in the bot)
because that type belongs to the storage layer, which messages must not import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from messages.base import Message, message
from messages.control import ControlChanged
from messages.scoreboard import ScoreboardWindow
from messages.trading import Fill

S = TypeVar("S")
LEDGER = "ledger"  # the actor's address and the bus topic of LedgerHealth


@message("ledger_health")
class LedgerHealth(Message):
    """Whether the ledger can write. ``source``: ``ledger`` (journal) or ``order`` (write-ahead)."""

    ok: bool
    source: str
    reason: str
    timestamp: float


@dataclass(frozen=True, slots=True)
class SaveRiskState(Generic[S]):
    """Keep the risk engine's state; ``urgent``: write it (and everything before it) now."""

    account: str  # ``storage.risk_state.account_of``
    saved: S  # a ``storage.risk_state.SavedRisk``
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class LoadRiskState:
    """Ask for the latest saved risk state of ``account`` (answered with :class:`LoadedRisk`)."""

    account: str


@dataclass(frozen=True, slots=True)
class LoadedRisk(Generic[S]):
    saved: S | None  # a ``storage.risk_state.SavedRisk``
    known: bool  # False: the database could not be read, so ``None`` means "unknown"
    unreadable: str = ""  # why a saved state exists but cannot be decoded ("" = none such)


@dataclass(frozen=True, slots=True)
class SaveControl:
    """Keep an operator's switch; written at once, answers True once it is on disk."""

    change: ControlChanged


@dataclass(frozen=True, slots=True)
class LoadControls:
    """The switches whose names start with ``prefix`` (answered with :class:`LoadedControls`)."""

    prefix: str


@dataclass(frozen=True, slots=True)
class LoadedControls:
    values: Mapping[str, str]  # name → JSON value
    known: bool  # False: the database could not be read


@dataclass(frozen=True, slots=True)
class LoadStrategyFills:
    """``strategy_name``'s fills since ``since`` in unsettled markets (:class:`LoadedFills`)."""

    strategy_name: str
    since: float


@dataclass(frozen=True, slots=True)
class LoadedFills:
    fills: tuple[Fill, ...]  # oldest first
    known: bool  # False: the database could not be read


@dataclass(frozen=True, slots=True)
class LoadScoreboard:
    """The scoreboard's windows of ``market`` and ``model`` (:class:`LoadedScoreboard`)."""

    market: str
    model: str


@dataclass(frozen=True, slots=True)
class LoadedScoreboard:
    windows: tuple[ScoreboardWindow, ...]  # in order of close
    known: bool  # False: the database could not be read


@dataclass(frozen=True, slots=True)
class Flush:
    """Write everything buffered now; answers True when it was written."""
