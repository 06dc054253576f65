"""What the RiskActor takes back from the ledger when it or the whole process restarts:
an operator's stop stays, the bot's own stop at shutdown does not, and a saved state
that cannot be read keeps trading halted with an alert saying how to resume."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from pathlib import Path

import pytest
import sqlalchemy as sa

from actors.ledger import LedgerActor
from actors.risk import RISK_STATE_UNREADABLE, RiskActor
from messages.control import ResetCircuitBreaker, StopTrading
from messages.ledger import LEDGER
from messages.queries import GetStatus
from messages.status import Alert, RiskStatus
from risk.limits import RiskLimits
from runtime.bus import ALERTS
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import settle
from runtime.restart_policy import Backoff
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from storage import Database, open_database, prepare
from storage.risk_state import PAPER_ACCOUNT, STOPPED_BY_SYSTEM
from storage.schema import risk_state
from tests.actors.probe import Probe, ProbeLog

T0 = 1_780_000_200.0
NO_BACKOFF = Backoff(initial=0.0, maximum=0.0, jitter=0.0)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(f"sqlite:///{tmp_path}/ledger.db")
    prepare(db)
    yield db
    db.dispose()


@contextmanager
def process(database: Database) -> Iterator[tuple[ActorSystem, ProbeLog]]:
    """One run of the bot's trading subtree on ``database`` (a new system: a new process)."""
    clock = SimClock(start=T0)
    system = ActorSystem(clock=clock, seed=3)
    log = ProbeLog()
    system.start(
        SupervisorSpec(
            "root",
            (
                ChildSpec.of("probe", Probe, (ALERTS,), log),
                ChildSpec.of(LEDGER, LedgerActor, database),
                ChildSpec.of("risk", RiskActor, RiskLimits(), None, D(1000), ledger=LEDGER),
            ),
            max_restarts=10,
            backoff=NO_BACKOFF,
        )
    )
    try:
        yield system, log
    finally:
        system.shutdown(timeout=10)


def status(system: ActorSystem) -> RiskStatus:
    answer: RiskStatus = system.ask("risk", GetStatus(), timeout=10)
    return answer


def test_an_operators_stop_survives_a_new_process_and_the_bots_own_does_not(
    database: Database,
) -> None:
    with process(database) as (system, _):
        system.ask("risk", StopTrading("maintenance", "api"), timeout=10)
        # the shutdown stops trading too; the operator's stop stays theirs
        system.ask("risk", StopTrading("shutdown", STOPPED_BY_SYSTEM), timeout=10)
    with process(database) as (system, _):
        assert status(system).trading_state == "stopped"
        crash(system, "risk")  # and across a restart of the actor alone
        assert isinstance(system.clock, SimClock)
        settle(system, system.clock)
        assert status(system).trading_state == "stopped"
        system.ask("risk", GetStatus(), timeout=10)
    with process(database) as (system, _):
        assert status(system).trading_state == "stopped"
        system.ask("risk", StopTrading("shutdown", STOPPED_BY_SYSTEM), timeout=10)
    with process(database) as (system, _):
        assert status(system).trading_state == "stopped"  # still the operator's


def test_the_bots_own_stop_at_shutdown_does_not_outlive_the_process(database: Database) -> None:
    with process(database) as (system, _):
        assert status(system).trading_state == "running"
        system.ask("risk", StopTrading("shutdown", STOPPED_BY_SYSTEM), timeout=10)
    with process(database) as (system, _):
        assert status(system).trading_state == "running"


CORRUPT = {
    "not_json": "{truncated",
    "missing_fields": '{"format": 1, "day": "2026-05-28"}',
    "bad_money": (
        '{"format": 1, "day": "2026-05-28", "saved_at": 1.0, "cash": "a lot", '
        '"day_start_equity": "1000", "positions": [], "reservations": [], '
        '"realized_pnl": "0", "fees": "0", "marks": {}, "trading_state": "halted", '
        '"circuit_breaker_triggered": true, "halt_reason": "circuit_breaker", '
        '"breaker_reference": "1000", "approvals": []}'
    ),
}


@pytest.mark.parametrize("blob", CORRUPT.values(), ids=CORRUPT.keys())
def test_an_unreadable_saved_risk_state_keeps_trading_halted_until_reset(
    database: Database, blob: str
) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            risk_state.insert().values(
                account=PAPER_ACCOUNT,
                day="2026-05-28",
                trading_state="halted",
                circuit_breaker_triggered=True,
                halt_reason="circuit_breaker",
                state=blob,
                updated_at=T0 - 60,
            )
        )
    with process(database) as (system, log):
        now = status(system)
        assert (now.trading_state, now.halt_reason) == ("halted", RISK_STATE_UNREADABLE)
        alert = log.wait_for(Alert, lambda a: RISK_STATE_UNREADABLE in a.message)
        assert alert.level == "critical"
        assert "reset the circuit breaker" in alert.message and "P&L" in alert.message
    with process(database) as (system, _):  # the halt was saved over the bad state
        now = status(system)
        assert (now.trading_state, now.halt_reason) == ("halted", RISK_STATE_UNREADABLE)
        system.ask("risk", ResetCircuitBreaker(), timeout=10)
        assert status(system).trading_state == "running"
    with process(database) as (system, _):
        assert status(system).trading_state == "running"
    with database.engine.connect() as conn:
        saved = conn.execute(sa.select(risk_state.c.state)).scalar_one()
    assert saved != blob
