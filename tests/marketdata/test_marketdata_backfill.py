"""The backfill's choice of source and its clean-up of what a source answers."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal as D

from marketdata.backfill import (
    Backfill,
    Print,
    SourceUnavailable,
    backfill,
    clean,
    first_each_second,
)

NOW = 1_000_000.0


class Source:
    """A source that answers ``prints`` (filtered to ``since``) or fails with ``refuse``."""

    def __init__(self, name: str, prints: Sequence[Print] = (), refuse: str = "") -> None:
        self.name = name
        self._prints = list(prints)
        self._refuse = refuse
        self.asked: list[tuple[str, float]] = []

    def prints(self, index_id: str, since: float) -> list[Print]:
        self.asked.append((index_id, since))
        if self._refuse:
            raise SourceUnavailable(self._refuse)
        return [p for p in self._prints if p[0] >= since]


def _series(start: float, n: int, step: float = 1.0) -> list[Print]:
    return [(start + i * step, D("74") + D(i) / 100) for i in range(n)]


def test_the_first_source_with_prints_is_used_and_the_others_are_not_asked() -> None:
    first = Source("the passthrough", _series(NOW - 299, 300))
    second = Source("the ledger", _series(NOW - 100, 50))
    found = backfill([first, second], "SOLUSD_RTI", NOW, 300)
    assert found.source == "the passthrough"
    assert len(found.prints) == 300 and found.passed_over == ()
    assert first.asked == [("SOLUSD_RTI", NOW - 300)]
    assert second.asked == []
    assert found.describe("SOLUSD_RTI") == (
        "index SOLUSD_RTI: warmed up with 300 prints over 299 s from the passthrough"
    )


def test_a_refusing_source_is_passed_over_and_the_log_line_says_why() -> None:
    refused = Source("the CF Benchmarks passthrough", refuse="not entitled (HTTP 403)")
    ledger = Source("the ledger", _series(NOW - 120, 100))
    found = backfill([refused, ledger], "SOLUSD_RTI", NOW, 300)
    assert found.source == "the ledger"
    assert found.passed_over == (("the CF Benchmarks passthrough", "not entitled (HTTP 403)"),)
    line = found.describe("SOLUSD_RTI")
    assert "from the ledger" in line
    assert "the CF Benchmarks passthrough: not entitled (HTTP 403)" in line


def test_an_empty_source_is_passed_over_and_none_at_all_says_so() -> None:
    empty = Source("the ledger", _series(NOW - 2_000, 10))  # all too old
    found = backfill([Source("a", refuse="down"), empty], "X", NOW, 300)
    assert found == Backfill(
        (), None, (("a", "down"), ("the ledger", "no prints in the last 300 s"))
    )
    assert found.describe("X").startswith("index X: no recent prints to warm up from (a: down;")
    assert backfill([], "X", NOW, 300).describe("X") == (
        "index X: no recent prints to warm up from; the strategies warm up on live prints"
    )


def test_clean_sorts_drops_duplicates_old_and_impossible_prints() -> None:
    raw = [
        (NOW - 5, D("2")),
        (NOW - 10, D("1")),
        (NOW - 5, D("9")),  # the same time again: the first one stands
        (NOW - 400, D("3")),  # older than asked
        (NOW - 3, D("0")),
        (NOW - 2, D("-1")),
        (NOW - 1, D("NaN")),
        (float("nan"), D("4")),
        (NOW, D("5")),
    ]
    assert clean(raw, NOW - 300) == ((NOW - 10, D("1")), (NOW - 5, D("2")), (NOW, D("5")))


def test_one_print_a_second_is_recorded_the_first_of_each_second() -> None:
    fast = _series(NOW, 15, step=0.2)  # three seconds at 5 Hz
    assert first_each_second(fast, 0.0) == [fast[0], fast[5], fast[10]]
    assert first_each_second(fast, NOW + 0.4) == [fast[5], fast[10]]  # its second is done
    assert first_each_second(fast, NOW + 2.0) == []
