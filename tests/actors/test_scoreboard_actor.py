"""The ScoreboardActor with a real LedgerActor on a SimClock: what it records, what comes
back after a crash, and a summary that cannot be computed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from actors.ledger import LedgerActor
from actors.scoreboard import RETRY_AFTER, SCOREBOARD_ADDRESS, ScoreboardActor
from messages.ledger import LEDGER, Flush
from messages.queries import GetReport, GetStats
from messages.scoreboard import ScoreboardReport, ScoreboardWindow
from runtime.bus import SCOREBOARD
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import settle
from runtime.restart_policy import Backoff
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from scoring.scoreboard import NOT_WATCHED, WindowRecord
from scoring.scoreboard_process import SummaryFailed
from storage import open_database, prepare
from storage.scoreboard import load_windows
from tests.actors.probe import Probe, ProbeLog
from tests.actors.scoreboard_feed import Feed, quick

NO_BACKOFF = Backoff(initial=0.0, maximum=0.0, jitter=0.0)


class Flaky:
    """A summarizer that fails until told otherwise (as a child process that cannot start)."""

    def __init__(self) -> None:
        self.failing = True
        self.calls = 0

    def __call__(self, records: Sequence[WindowRecord]) -> dict[str, Any]:
        self.calls += 1
        if self.failing:
            raise SummaryFailed("cannot start the scoreboard's summary process: no such file")
        return quick(records)


@dataclass
class Rig:
    system: ActorSystem
    clock: SimClock
    feed: Feed
    log: ProbeLog
    url: str

    def report(self) -> dict[str, Any]:
        body: dict[str, Any] = self.system.ask(SCOREBOARD_ADDRESS, GetReport(), timeout=10)
        return body

    def published(self, **wanted: Any) -> dict[str, Any]:
        """The first report published with these values (waited for: summaries are computed
        on another thread)."""

        def matches(report: ScoreboardReport) -> bool:
            body = json.loads(report.body)
            return all(body[k] == v for k, v in wanted.items())

        found = self.log.wait_for(ScoreboardReport, matches)
        body: dict[str, Any] = json.loads(found.body)
        return body

    def stored(self) -> list[WindowRecord]:
        assert self.system.ask(LEDGER, Flush(), timeout=10) is True
        database = open_database(self.url)
        try:
            return [
                WindowRecord.from_message(w)
                for w in load_windows(database, "kalshi", "kelly_volatility")
            ]
        finally:
            database.dispose()


def start(tmp_path: Path, clock: SimClock, summarizer: Any = quick) -> Rig:
    url = f"sqlite:///{tmp_path}/ledger.db"
    database = open_database(url)
    prepare(database)
    system = ActorSystem(clock=clock, seed=3)
    log = ProbeLog()
    system.start(
        SupervisorSpec(
            "root",
            (
                ChildSpec.of("probe", Probe, (SCOREBOARD,), log),
                ChildSpec.of(LEDGER, LedgerActor, database),
                ChildSpec.of(
                    SCOREBOARD_ADDRESS,
                    ScoreboardActor,
                    market="kalshi",
                    mode="paper",
                    ledger=LEDGER,
                    summarizer=summarizer,
                ),
            ),
            max_restarts=10,
            backoff=NO_BACKOFF,
        )
    )
    return Rig(system, clock, Feed(system, clock), log, url)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = start(tmp_path, SimClock(start=1_780_000_200.0))
    yield made
    made.system.shutdown(timeout=10)


def test_each_window_is_written_as_it_grows_and_once_settled(rig: Rig) -> None:
    close = rig.feed.open("KX-1")
    rig.feed.moments("KX-1", close, (14,))
    [growing] = rig.stored()
    assert growing.outcome is None and [s.minutes for s in growing.snapshots] == [14]
    rig.feed.moments("KX-1", close, (10, 5, 2, 1))
    rig.feed.settle("KX-1", close, "no")
    [settled] = rig.stored()
    assert settled.outcome == "no" and [s.minutes for s in settled.snapshots] == [14, 10, 5, 2, 1]
    body = rig.published(settled_windows=1, status="ready")
    assert body["kept_in"] == "ledger" and body["horizons"][0]["windows"] == 1


def test_a_crash_mid_window_loses_no_snapshot_and_later_ones_are_still_taken(rig: Rig) -> None:
    close = rig.feed.open("KX-1")
    rig.feed.moments("KX-1", close, (14, 10))
    crash(rig.system, SCOREBOARD_ADDRESS, "test")
    settle(rig.system, rig.clock)  # restarted: it reads its windows back from the ledger
    rig.feed.moments("KX-1", close, (5, 2, 1))
    rig.feed.settle("KX-1", close)
    body = rig.published(settled_windows=1, status="ready")
    [window] = body["recent"]
    assert [f["missing"] for f in window["forecasts"]] == [[]] * 5
    assert [h["windows"] for h in body["horizons"]] == [1] * 5


def test_a_moment_passed_while_it_was_down_is_recorded_as_not_watched(rig: Rig) -> None:
    close = rig.feed.open("KX-1")
    rig.feed.moments("KX-1", close, (14,))
    rig.system.shutdown(timeout=10)  # the process stops …
    rig.clock.advance_to(close - 60 * 10 + 30)  # … past the 10-minute moment
    again = start(Path(rig.url.removeprefix("sqlite:///")).parent, rig.clock)
    try:
        again.feed.moments("KX-1", close, (5, 2, 1))
        again.feed.settle("KX-1", close)
        [record] = again.stored()
    finally:
        again.system.shutdown(timeout=10)
    missing = {s.minutes: s.missing for s in record.snapshots}
    assert missing == {14: (), 10: (NOT_WATCHED,), 5: (), 2: (), 1: ()}


def test_a_summary_that_fails_is_reported_and_tried_again_later(tmp_path: Path) -> None:
    flaky = Flaky()
    rig = start(tmp_path, SimClock(start=1_780_000_200.0), summarizer=flaky)
    try:
        rig.feed.window("KX-1")
        body = rig.published(
            summary_error="cannot start the scoreboard's summary process: no such file"
        )
        assert body["status"] == "computing" and body["summarized_windows"] == 0
        assert body["settled_windows"] == 1  # recorded all the same
        stats = rig.system.ask(SCOREBOARD_ADDRESS, GetStats(), timeout=10)
        assert stats == {"summaries_started": 1, "in_flight": False}
        rig.feed.to(rig.clock.now() + RETRY_AFTER / 2)  # ticks every second meanwhile
        assert rig.system.ask(SCOREBOARD_ADDRESS, GetStats(), timeout=10) == stats  # not retried
        flaky.failing = False
        rig.feed.to(rig.clock.now() + RETRY_AFTER)
        body = rig.published(status="ready", summarized_windows=1)
        assert body["summary_error"] is None and body["horizons"][0]["windows"] == 1
    finally:
        rig.system.shutdown(timeout=10)


def test_rows_of_another_market_in_the_same_ledger_are_not_counted(rig: Rig) -> None:
    other = ScoreboardWindow(
        "KX-9", "simulated", "kelly_volatility", 0.0, 900.0, "yes", 905.0, 905.0, "[]", "[]"
    )
    rig.system.bus.publish(SCOREBOARD, other)
    crash(rig.system, SCOREBOARD_ADDRESS, "test")
    settle(rig.system, rig.clock)
    assert rig.report()["settled_windows"] == 0
