"""The LedgerActor on its own (SimClock, SQLite and PostgreSQL): batching, throttled P&L marks,
the risk state, and a database that fails while running — nothing lost, nothing doubled."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from actors.ledger import ID_CONFLICT, LedgerActor
from messages.control import ControlChanged
from messages.ledger import (
    LEDGER,
    Flush,
    LedgerHealth,
    LoadControls,
    LoadedControls,
    LoadedFills,
    LoadedRisk,
    LoadRiskState,
    LoadScoreboard,
    LoadStrategyFills,
    SaveControl,
    SaveRiskState,
)
from messages.queries import GetStats
from messages.scoreboard import ScoreboardWindow
from messages.status import Alert, Position, RiskStatus
from messages.trading import Fill, Settlement, Signal
from risk.engine import RiskState, TradingState
from runtime.bus import ALERTS, FILLS, SCOREBOARD, SIGNALS, STATUS
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import quiesce, settle
from runtime.restart_policy import Backoff
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from storage import Database
from storage.risk_state import SavedRisk
from storage.schema import controls, fills, journal, positions, risk_state, scoreboard
from tests.actors.probe import Probe, ProbeLog
from tests.storage.backends import BACKENDS, Backend, make_backend

NO_BACKOFF = Backoff(initial=0.0, maximum=0.0, jitter=0.0)
FLUSH = 0.2
QUIET = 0.002  # the ledger's quiet_gap
MAX_DEFER = 0.1


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with make_backend(request.param, tmp_path) as made:
        yield made


@dataclass
class Rig:
    system: ActorSystem
    clock: SimClock
    db: Database
    backend: Backend
    log: ProbeLog

    def publish(self, topic: str, *messages: object) -> None:
        for message in messages:
            self.system.bus.publish(topic, message)
        quiesce(self.system)

    def busy(self, seconds: float, every: float = QUIET / 2) -> None:
        """Keep the order path busy for ``seconds``: a signal every ``every`` seconds."""
        for _ in range(round(seconds / every)):
            self.publish(SIGNALS, signal(999))
            self.tick(every)

    def tick(self, seconds: float = FLUSH) -> None:
        """Let the flush timer fire."""
        self.clock.advance(seconds)
        quiesce(self.system)

    def ask(self, message: object) -> Any:
        return self.system.ask(LEDGER, message, timeout=10)

    def count(self, table: sa.Table, *where: Any) -> int:
        with self.db.engine.connect() as conn:
            stmt = sa.select(sa.func.count()).select_from(table).where(*where)
            return int(conn.execute(stmt).scalar_one())

    def kinds(self) -> list[str]:
        with self.db.engine.connect() as conn:
            return list(conn.execute(sa.select(journal.c.kind).order_by(journal.c.seq)).scalars())


@pytest.fixture
def rig(backend: Backend, system: ActorSystem, clock: SimClock) -> Iterator[Rig]:
    db = backend.prepared(timeout=0.2)
    log = ProbeLog()
    system.start(
        SupervisorSpec(
            "root",
            (
                ChildSpec.of("probe", Probe, (ALERTS, LEDGER), log),
                ChildSpec.of(
                    LEDGER,
                    LedgerActor,
                    db,
                    flush_interval=FLUSH,
                    batch_size=50,
                    mark_interval=10.0,
                    quiet_gap=QUIET,
                    max_defer=MAX_DEFER,
                ),
            ),
            max_restarts=10,
            backoff=NO_BACKOFF,
        )
    )
    yield Rig(system, clock, db, backend, log)
    system.shutdown(timeout=10)
    db.dispose()


T0 = 1_000.0


def signal(n: int) -> Signal:
    return Signal(f"s{n}", "kelly", "KX-1", "yes", D("0.05"), D("0.6"), D("0.5"), 1, T0 + n)


def fill(n: int) -> Fill:
    return Fill(f"t{n}", "o1", "c1", "KX-1", "yes", "buy", 1, D("0.5"), D("0.02"), True, T0 + n)


def status(ts: float, state: str = "running", contracts: int = 1) -> RiskStatus:
    held = (Position("KX-1", "yes", contracts, D("0.5"), D("0.5") * contracts, None, None, D(0)),)
    return RiskStatus(
        state, D(0), D(0), D(0), D(0), D(0), D(0), 1, D(1000), D(1000), False, "", held, ts
    )


def test_events_are_written_in_batches_by_the_flush_timer(rig: Rig) -> None:
    rig.publish(SIGNALS, signal(1), signal(2))
    assert rig.kinds() == []  # buffered: the hot path never waits for the disk
    rig.tick()
    assert rig.kinds() == ["trading_signal", "trading_signal"]


def test_a_full_batch_is_written_once_the_order_path_is_quiet_without_the_timer(
    rig: Rig,
) -> None:
    rig.publish(FILLS, *(fill(n) for n in range(50)))
    assert rig.count(fills) == 0  # they have just arrived: orders are being made
    rig.tick(0.02)  # quiet for longer than quiet_gap; the flush timer is not due yet
    assert rig.count(fills) == 50


def test_a_write_waits_while_orders_are_being_made(rig: Rig) -> None:
    rig.tick(FLUSH - QUIET / 2)
    rig.publish(SIGNALS, signal(1))
    rig.busy(MAX_DEFER / 2)  # the flush timer fires in a burst of events
    assert rig.kinds() == []
    rig.tick(0.04)  # the burst is over: written at the next look (+70 ms)
    assert rig.kinds()[0] == "trading_signal"
    assert rig.ask(GetStats())["buffered"] == 0


def test_a_write_waits_for_a_quiet_moment_no_longer_than_max_defer(rig: Rig) -> None:
    rig.tick(FLUSH - QUIET / 2)
    rig.publish(SIGNALS, signal(1))
    rig.busy(MAX_DEFER * 0.8)
    assert rig.kinds() == []
    rig.busy(MAX_DEFER * 0.4)  # never quiet: written when it has waited max_defer
    assert rig.kinds()[0] == "trading_signal"


def test_a_waiting_write_looks_less_and_less_often_while_orders_keep_coming(rig: Rig) -> None:
    rig.tick(FLUSH - QUIET / 2)
    rig.publish(SIGNALS, signal(1))
    rig.busy(MAX_DEFER * 0.9)  # 90 ms of orders: looks at +10, +30, +70 ms (not every 10 ms)
    assert rig.kinds() == [] and rig.ask(GetStats())["looks"] == 3
    rig.busy(MAX_DEFER * 0.2)  # the last look is due when it has waited max_defer
    assert rig.kinds()[0] == "trading_signal" and rig.ask(GetStats())["looks"] == 4


def test_an_asked_flush_writes_at_once_even_in_a_burst(rig: Rig) -> None:
    rig.publish(SIGNALS, signal(1))
    assert rig.ask(Flush()) is True
    assert rig.kinds() == ["trading_signal"]


def test_an_event_that_cannot_be_recorded_is_skipped_and_the_others_written(rig: Rig) -> None:
    unrecordable = dataclasses.replace(signal(2), reason=lambda: "not data")  # type: ignore[arg-type]
    rig.publish(SIGNALS, signal(1), unrecordable, signal(3))
    rig.tick()
    assert rig.count(journal) == 2
    assert rig.ask(GetStats())["written"] == 2 and rig.ask(GetStats())["healthy"]


def test_a_repeated_fill_is_kept_once(rig: Rig) -> None:
    rig.publish(FILLS, fill(1), fill(2), fill(1))
    rig.tick()
    rig.publish(FILLS, fill(2))
    assert rig.ask(Flush()) is True
    assert rig.count(fills) == 2
    assert rig.kinds() == ["fill", "fill"]
    assert rig.ask(GetStats())["duplicates"] == 2


def test_a_fill_id_that_comes_back_for_another_fill_is_kept_and_alerted_once(rig: Rig) -> None:
    other = dataclasses.replace(fill(1), order_id="o9", ticker="KX-9")
    rig.publish(FILLS, fill(1))
    assert rig.ask(Flush()) is True
    rig.publish(FILLS, other)
    assert rig.ask(Flush()) is True
    rig.publish(FILLS, other, fill(1))  # re-reported: plain repeats now
    assert rig.ask(Flush()) is True
    assert rig.count(fills) == 2 and rig.ask(GetStats())["healthy"]
    quiesce(rig.system)
    [alert] = [a for a in rig.log.of(Alert) if a.alert_type == ID_CONFLICT]
    assert alert.level == "warning" and "t1" in alert.message and "o9" in alert.message


def test_pnl_marks_are_throttled_but_state_changes_are_kept(rig: Rig) -> None:
    rig.publish(STATUS, *(status(T0 + n) for n in range(5)))  # same state, within 10 s
    rig.publish(STATUS, status(T0 + 5, state="halted"))  # a change: kept at once
    rig.tick(10.0)
    rig.publish(STATUS, status(T0 + 16, state="halted", contracts=3))  # 10 s later: kept
    rig.tick()
    assert rig.kinds() == ["risk_status"] * 3
    with rig.db.engine.connect() as conn:
        assert conn.execute(sa.select(positions.c.contracts)).scalars().all() == [3]


def _saved(halted: bool) -> SavedRisk:
    state = RiskState(cash=D("990"), day_start_equity=D("1000"))
    if halted:
        state.trading_state = TradingState.HALTED
        state.circuit_breaker_triggered = True
        state.halt_reason = "circuit_breaker"
    return SavedRisk("2026-05-28", state, T0)


def test_the_risk_state_is_answered_from_memory_and_urgent_saves_are_on_disk(rig: Rig) -> None:
    assert rig.ask(LoadRiskState("acct")) == LoadedRisk(None, True)
    rig.system.tell(LEDGER, SaveRiskState("acct", _saved(False)))
    loaded = rig.ask(LoadRiskState("acct"))
    assert loaded.known and loaded.saved == _saved(False)  # newer than the disk
    assert rig.count(risk_state) == 0
    assert rig.ask(SaveRiskState("acct", _saved(True), urgent=True)) is True
    assert rig.count(risk_state, risk_state.c.circuit_breaker_triggered.is_(True)) == 1
    crash(rig.system, LEDGER)  # a new incarnation reads it back from the database
    settle(rig.system, rig.clock)
    assert rig.ask(LoadRiskState("acct")).saved == _saved(True)


def test_an_outage_halts_trading_buffers_everything_and_recovers(rig: Rig) -> None:
    with rig.backend.outage():
        rig.publish(SIGNALS, signal(1))
        rig.publish(FILLS, fill(1))
        assert rig.ask(Flush()) is False
        health = rig.log.wait_for(LedgerHealth)
        assert (health.ok, health.source) == (False, LEDGER)
        alert = rig.log.wait_for(Alert, lambda a: a.alert_type == "ledger_unavailable")
        assert alert.level == "critical" and "new trading is halted" in alert.message
        rig.publish(SIGNALS, signal(2))
        assert rig.ask(GetStats())["buffered"] >= 3
        assert rig.ask(Flush()) is False  # still down: one alert, not one per attempt
        assert len(rig.log.of(LedgerHealth)) == 1
    rig.tick(1.0)  # the retry is due: the database is back
    back = rig.log.wait_for(LedgerHealth, lambda h: h.ok)
    assert back.source == LEDGER
    rig.log.wait_for(Alert, lambda a: a.alert_type == "ledger_recovered")
    rig.tick()
    kinds = rig.kinds()
    assert kinds.count("trading_signal") == 2 and kinds.count("fill") == 1
    assert kinds.count("alert") == 2  # the outage and the recovery are journaled too
    assert rig.ask(GetStats())["buffered"] == 0


def test_a_crash_during_an_outage_hands_the_held_events_to_the_next_incarnation(rig: Rig) -> None:
    with rig.backend.outage():
        rig.publish(SIGNALS, signal(1), signal(2))
        rig.publish(FILLS, fill(1))
        assert rig.ask(Flush()) is False
        crash(rig.system, LEDGER)
        settle(rig.system, rig.clock)
        assert rig.ask(GetStats())["buffered"] >= 3
    assert rig.ask(Flush()) is True
    kinds = rig.kinds()
    assert kinds.count("trading_signal") == 2 and kinds.count("fill") == 1
    assert "actor_crashed" not in kinds or kinds.count("actor_crashed") == 1


def test_a_write_ahead_failure_is_journaled_and_its_recovery_announced(rig: Rig) -> None:
    rig.publish(LEDGER, LedgerHealth(False, "order", "intent c1 could not be made durable", T0))
    rig.tick()
    back = rig.log.wait_for(LedgerHealth, lambda h: h.ok)
    assert back.source == LEDGER
    assert rig.kinds()[0] == "ledger_health"


def test_an_orderly_stop_writes_what_is_buffered(rig: Rig) -> None:
    rig.publish(SIGNALS, signal(1))
    rig.system.shutdown(timeout=10)
    assert rig.kinds() == ["trading_signal"]


def test_an_operators_switch_is_written_at_once_and_read_by_the_next_incarnation(
    rig: Rig,
) -> None:
    assert rig.ask(LoadControls("strategy:")) == LoadedControls({}, True)
    off = ControlChanged("strategy:kelly:enabled", "false", "api", T0)
    assert rig.ask(SaveControl(off)) is True
    assert rig.count(controls) == 1
    crash(rig.system, LEDGER)
    settle(rig.system, rig.clock)
    loaded = rig.ask(LoadControls("strategy:kelly"))
    assert loaded.known and dict(loaded.values) == {"strategy:kelly:enabled": "false"}
    assert "control_changed" in rig.kinds()  # and journaled


def test_a_strategys_fills_come_back_written_or_held_but_not_those_of_settled_markets(
    rig: Rig,
) -> None:
    def kelly(n: int, **changes: Any) -> Fill:
        return dataclasses.replace(fill(n), strategy_name="kelly", **changes)

    rig.publish(FILLS, kelly(1), kelly(2, ticker="KX-OLD"), fill(3))
    rig.publish(FILLS, Settlement("KX-OLD", "yes", 1, 0, D(1), T0 + 5))
    assert rig.ask(Flush()) is True
    with rig.backend.outage():  # written ones are read; those held back are added
        rig.publish(FILLS, kelly(4))
        loaded = rig.ask(LoadStrategyFills("kelly", T0))
        if rig.backend.name == "postgresql":  # its outage locks reads out too: not known
            assert loaded == LoadedFills((), False)
        else:
            assert loaded.known and [f.trade_id for f in loaded.fills] == ["t1", "t4"]
    rig.tick(1.0)  # written now: each once
    assert [f.trade_id for f in rig.ask(LoadStrategyFills("kelly", T0)).fills] == ["t1", "t4"]
    assert [f.trade_id for f in rig.ask(LoadStrategyFills("kelly", T0 + 2)).fills] == ["t4"]


def window(
    ticker: str, updated: float, outcome: str | None = None, market: str = "kalshi"
) -> ScoreboardWindow:
    settled = None if outcome is None else updated
    snaps = f'[{{"minutes": 1, "at": {updated}}}]'
    return ScoreboardWindow(
        ticker, market, "kelly", T0, T0 + 900, outcome, settled, updated, snaps, "[]"
    )


def test_the_scoreboards_windows_come_back_written_or_held_and_a_settled_one_stays(
    rig: Rig,
) -> None:
    rig.publish(SCOREBOARD, window("KX-1", T0 + 1), window("KX-2", T0 + 2))
    rig.publish(SCOREBOARD, window("KX-1", T0 + 3, "yes"), window("KX-9", T0, market="simulated"))
    assert rig.ask(Flush()) is True
    assert rig.count(scoreboard) == 3  # one row per window (and market)
    rig.publish(SCOREBOARD, window("KX-1", T0 + 4))  # a late, unsettled copy: never undoes it
    rig.publish(SCOREBOARD, window("KX-2", T0 + 1))  # older than the row written: not applied
    assert rig.ask(Flush()) is True
    with rig.db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(scoreboard.c.ticker, scoreboard.c.outcome, scoreboard.c.updated_at)
            .where(scoreboard.c.market == "kalshi")
            .order_by(scoreboard.c.ticker)
        ).all()
    assert [tuple(r) for r in rows] == [("KX-1", "yes", T0 + 3), ("KX-2", None, T0 + 2)]
    rig.publish(SCOREBOARD, window("KX-2", T0 + 5))  # newer, held back, not written yet
    loaded = rig.ask(LoadScoreboard("kalshi", "kelly"))
    assert loaded.known
    by_ticker = {w.ticker: w for w in loaded.windows}
    assert set(by_ticker) == {"KX-1", "KX-2"}  # not the simulated market's
    assert by_ticker["KX-1"].outcome == "yes" and by_ticker["KX-1"].updated_at == T0 + 3
    # KX-2: the newest, held back (T0 + 5), is the one answered
    assert by_ticker["KX-2"].updated_at == T0 + 5 and by_ticker["KX-2"].outcome is None
    assert rig.kinds().count("scoreboard_window") == 1  # journaled once: when it settled
