"""The daily summary's figures from a small seeded ledger, checked against a hand computation;
and the same summary delivered by the alert actor at its time to a local webhook."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import orjson
import pytest

from actors.alerts import AlertActor, Deliveries, ledger_summary
from alerting.rules import AlertConfig
from alerting.targets import targets_of
from messages.scoreboard import ScoreboardReport
from messages.trading import Fill, Settlement
from messages.vocabulary import Action, Side
from runtime.bus import SCOREBOARD
from runtime.clock import SimClock
from runtime.quiescence import quiesce
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from scoring.scoreboard_summary import summarize
from storage import Database, open_database, prepare
from storage.journal import encode
from storage.writer import LedgerWriter
from tests.alerting.receiver import webhook

DAY = 1_779_926_400.0  # 2026-05-28T00:00:00Z; the summary covers [DAY, DAY + 86400)
NEXT = DAY + 86_400


def _fill(n: int, ticker: str, side: Side, action: Action, count: int, price: str, fee: str,
          at: float) -> Fill:  # fmt: skip
    return Fill(f"t{n}", f"o{n}", f"c{n}", ticker, side, action, count, D(price), D(fee),
                True, at, "kelly_volatility")  # fmt: skip


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Database]:
    """KX-A: 10 YES at 0.40 bought the day before, settled YES in the day: 10 − 4 − 0.07 = +5.93.
    KX-B: 5 NO at 0.55 (fee 0.06), 2 sold at 0.70 (fee 0.02), settled YES:
    1.40 − 2.75 − 0.08 = −1.43. KX-C: 4 YES at 0.615 (fee 0.0175) in the day, settled the
    next day. KX-D settled in the day without a fill of ours. A fill after the day."""
    database = open_database(f"sqlite:///{tmp_path}/ledger.db")
    prepare(database)
    events = [
        _fill(1, "KX-A", "yes", "buy", 10, "0.40", "0.07", DAY - 600),
        Settlement("KX-A", "yes", 10, 0, D("10"), DAY + 300),
        _fill(2, "KX-B", "no", "buy", 5, "0.55", "0.06", DAY + 3600),
        _fill(3, "KX-B", "no", "sell", 2, "0.70", "0.02", DAY + 3700),
        Settlement("KX-B", "yes", 0, 3, D("0"), DAY + 4500),
        _fill(4, "KX-C", "yes", "buy", 4, "0.615", "0.0175", DAY + 80_000),
        Settlement("KX-C", "no", 4, 0, D("0"), NEXT + 300),
        Settlement("KX-D", "no", 0, 0, D("0"), DAY + 9000),
        _fill(5, "KX-E", "yes", "buy", 1, "0.50", "0.02", NEXT + 10),
    ]
    LedgerWriter(database).write([e for e in (encode(m, NEXT) for m in events) if e is not None])
    try:
        yield database
    finally:
        database.dispose()


def test_the_daily_figures_match_the_hand_computation(ledger: Database) -> None:
    summary = ledger_summary(ledger)(DAY, NEXT)
    assert summary.trades == 3 and summary.contracts == 5 + 2 + 4
    assert summary.fees == D("0.0975")  # 0.06 + 0.02 + 0.0175: the day's fills
    assert summary.settled_markets == 2 and summary.wins == 1 and summary.win_rate == 0.5
    assert summary.realized_pnl == D("4.50")  # 5.93 − 1.43


def test_the_alert_actor_sends_the_summary_at_its_time(ledger: Database) -> None:
    clock = SimClock(start=NEXT - 7)
    system = ActorSystem(clock=clock, seed=1)
    record = Deliveries()
    with webhook() as hook:
        alerter = ChildSpec.of(
            "alerter",
            AlertActor,
            targets_of(hook.url()),
            AlertConfig(source="sol15 sim"),  # summary at 00:00 UTC
            ledger_summary(ledger),
            record=record,
        )
        system.start(SupervisorSpec("root", (alerter,)))
        try:
            board = {**summarize([]), "model": "kelly_volatility", "market": "simulated"}
            report = ScoreboardReport(orjson.dumps(board).decode(), clock.now())
            system.bus.publish(SCOREBOARD, report)  # as the scoreboard actor publishes it
            quiesce(system)
            clock.advance(5)  # a tick before midnight: nothing due
            quiesce(system)
            assert record.wait_idle(5) and hook.bodies == []
            clock.advance(5)
            quiesce(system)
            [body] = hook.wait_for(1)
        finally:
            system.shutdown()
    assert body["title"] == "sol15 sim INFO: daily summary"
    lines = body["message"].splitlines()
    assert lines[:4] == [
        "2026-05-28 00:00 to 2026-05-29 00:00 UTC",
        "realized P&L: $4.5000 (1 of 2 settled markets won (50%))",
        "trades: 3 fills, 11 contracts",
        "fees paid: $0.0975",
    ]
    assert lines[4:6] == [
        "scoreboard: 0 settled windows of kelly_volatility against simulated",
        "model vs market at 14, 10, 5, 2, 1 min left: no windows with both forecasts yet",
    ]
    assert lines[6] == f"trades: {board['trades']['verdict']}" and len(lines) == 7
