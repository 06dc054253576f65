"""Warm restarts: the settlement index's recent prints, from the first source that has them.

A (re)started bot's strategies need minutes of index prints before they trade (the
volatility estimate warms up on them), and systemd restarts a bot in seconds. So the
spot feed asks its sources in order — Kalshi's CF Benchmarks passthrough, then the
prints the bot recorded in its ledger — for the last minutes of prints, and hands them
to the strategies as if it had seen them. The log says which source was used and why
each one before it was not.

What the feed records for the next start is one print a second (the first of each
second: at 1 Hz every print, at 5 Hz the one on the whole second, which is what the
1-second channel and CF Benchmarks publish); the volatility estimate weights each
return by the time it covers, so it does not mind the coarser history.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

Print = tuple[float, Decimal]  # (Unix seconds, value), as the spot feed keeps them


class SourceUnavailable(Exception):
    """A source cannot answer now; the message says why in a few words (for the log)."""


class PrintSource(Protocol):
    """Somewhere the recent prints of an index can be read from."""

    @property
    def name(self) -> str:
        """What the log calls it ("the CF Benchmarks passthrough")."""
        ...

    def prints(self, index_id: str, since: float) -> Sequence[Print]:
        """Prints of ``index_id`` from ``since`` on (more is fine); raises
        :class:`SourceUnavailable` when it cannot say."""
        ...


@dataclass(frozen=True, slots=True)
class Backfill:
    """The prints found (oldest first), the source they came from and what was passed over."""

    prints: tuple[Print, ...]
    source: str | None  # None: no source had any
    passed_over: tuple[tuple[str, str], ...] = ()  # (source, why it was not used)

    def describe(self, index_id: str) -> str:
        """One log line: which source warmed ``index_id`` (or that none did), and why not
        the ones before it."""
        why = "; ".join(f"{name}: {reason}" for name, reason in self.passed_over)
        if self.source is None:
            tail = f" ({why})" if why else ""
            return (
                f"index {index_id}: no recent prints to warm up from{tail}; "
                "the strategies warm up on live prints"
            )
        first, last = self.prints[0][0], self.prints[-1][0]
        tail = f" ({why})" if why else ""
        return (
            f"index {index_id}: warmed up with {len(self.prints)} prints over "
            f"{last - first:.0f} s from {self.source}{tail}"
        )


def backfill(sources: Iterable[PrintSource], index_id: str, now: float, seconds: float) -> Backfill:
    """The last ``seconds`` of prints before ``now`` from the first source that has some."""
    since = now - seconds
    passed: list[tuple[str, str]] = []
    for source in sources:
        try:
            found = clean(source.prints(index_id, since), since)
        except SourceUnavailable as exc:
            passed.append((source.name, str(exc)))
            continue
        if found:
            return Backfill(found, source.name, tuple(passed))
        passed.append((source.name, f"no prints in the last {seconds:g} s"))
    return Backfill((), None, tuple(passed))


def clean(prints: Iterable[Print], since: float) -> tuple[Print, ...]:
    """Prints from ``since`` on, by time, each time once, with positive finite values."""
    kept: list[Print] = []
    for ts, value in sorted(prints, key=lambda p: p[0]):
        if not math.isfinite(ts) or ts < since or not value.is_finite() or value <= 0:
            continue
        if kept and ts <= kept[-1][0]:
            continue
        kept.append((ts, value))
    return tuple(kept)


def first_each_second(prints: Iterable[Print], after: float) -> list[Print]:
    """The first print of each whole second later than ``after``'s second, in order."""
    chosen: list[Print] = []
    last_second = math.floor(after)
    for ts, value in prints:
        second = math.floor(ts)
        if second > last_second:
            chosen.append((ts, value))
            last_second = second
    return chosen
