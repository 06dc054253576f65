"""The journal and the current-state tables as batches of messages leave them."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from messages.status import Alert, Position, RiskStatus
from messages.system import ActorCrashed, ActorRestarted
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Settlement, Signal
from messages.vocabulary import OrderStatus
from risk.engine import RiskState, TradingState
from storage import Database
from storage.journal import daily_row, encode, positions_rows, risk_row, status_mark
from storage.recovery import load_risk
from storage.risk_state import SavedRisk
from storage.schema import daily_pnl, fills, journal, orders, positions, settlements, signals
from storage.writer import PAUSE_EVERY, LedgerWriter
from tests.storage.backends import Backend

T0 = 1_780_000_200.0


def signal(sid: str = "s1", ts: float = T0) -> Signal:
    return Signal(sid, "kelly_volatility", "KX-1", "yes", D("0.05"), D("0.61"), D("0.52"), 3, ts)


def intent(coid: str = "c1", count: int = 3, ts: float = T0) -> OrderIntent:
    return OrderIntent(
        coid, "s1", "kelly_volatility", "KX-1", "yes", "buy", count, D("0.52"),
        "immediate_or_cancel", created_at=ts,
    )  # fmt: skip


def update(status: str, filled: int, remaining: int, ts: float, coid: str = "c1") -> OrderUpdate:
    order_id = None if status == "pending" else "o-1"
    return OrderUpdate(
        coid, order_id, "KX-1", "yes", "buy", OrderStatus(status), filled, remaining, D("0.52"),
        "kelly_volatility", ts, fees=D("0.02") * filled,
    )  # fmt: skip


def fill(trade_id: str, count: int = 1, ts: float = T0 + 1) -> Fill:
    return Fill(
        trade_id, "o-1", "c1", "KX-1", "yes", "buy", count, D("0.52"), D("0.02"), True, ts,
        "kelly_volatility",
    )  # fmt: skip


def write(db: Database, *messages: object) -> Any:
    entries = [encode(m, T0 + 10) for m in messages]
    return LedgerWriter(db).write([e for e in entries if e is not None])


def rows(db: Database, table: sa.Table, *order: str) -> list[Any]:
    with db.engine.connect() as conn:
        stmt = sa.select(table).order_by(*(table.c[name] for name in order))
        return list(conn.execute(stmt))


def the_order(db: Database, coid: str = "c1") -> Any:
    [row] = [r for r in rows(db, orders, "client_order_id") if r.client_order_id == coid]
    return row


def test_every_event_is_journaled_in_arrival_order_with_its_payload(database: Database) -> None:
    crash = ActorCrashed("risk", 1, "RuntimeError", "boom", False, T0 + 2)
    restart = ActorRestarted("risk", 2, 1, 0.5, T0 + 3)
    alert = Alert("circuit_breaker", "halted", "critical", T0 + 4)
    events = [
        signal(),
        intent(),
        update("executed", 3, 0, T0 + 1),
        fill("t1", 3),
        crash,
        restart,
        alert,
    ]
    write(database, *events)
    journaled = rows(database, journal, "seq")
    assert [r.kind for r in journaled] == [
        "trading_signal", "order_intent", "order_update", "fill", "actor_crashed",
        "actor_restarted", "alert",
    ]  # fmt: skip
    assert [r.ref for r in journaled] == ["s1", "c1", "c1", "t1", "risk", "risk", "circuit_breaker"]
    assert journaled[4].ts == T0 + 2 and journaled[4].recorded_at == T0 + 10
    body = orjson.loads(journaled[0].payload)
    assert body["type"] == "trading_signal" and body["edge"] == "0.0500"  # fixed-point
    assert body["model_prob"] == 0.61 and body["market_price"] == "0.5200"  # as on the wire


@pytest.mark.parametrize("decision_first", [False, True])
def test_a_signal_and_its_decision_meet_in_one_row_whichever_comes_first(
    database: Database, decision_first: bool
) -> None:
    decision = RiskDecision("s1", "kelly_volatility", "KX-1", True, "approved", 2, T0 + 0.1)
    pair = (decision, signal()) if decision_first else (signal(), decision)
    write(database, pair[0])
    write(database, pair[1])
    [row] = rows(database, signals, "signal_id")
    assert (row.ts, row.edge, row.approved, row.decision_quantity) == (T0, "0.0500", True, 2)
    assert row.payload is not None and row.decision_payload is not None


def test_an_order_moves_through_its_states(database: Database) -> None:
    write(database, intent())
    assert (the_order(database).status, the_order(database).remaining) == ("pending", 3)
    write(database, update("resting", 1, 2, T0 + 1), update("executed", 3, 0, T0 + 2))
    row = the_order(database)
    assert (row.status, row.order_id, row.filled, row.remaining, row.fees) == (
        "executed", "o-1", 3, 0, "0.0600",
    )  # fmt: skip
    assert (row.quantity, row.origin, row.signal_id) == (3, "intent", "s1")


def test_an_update_before_its_intent_keeps_its_state(database: Database) -> None:
    write(database, update("executed", 3, 0, T0 + 1))
    write(database, intent())
    row = the_order(database)
    assert (row.status, row.filled, row.quantity, row.signal_id) == ("executed", 3, 3, "s1")


@pytest.mark.parametrize("one_batch", [True, False])
def test_a_finished_order_never_reopens_and_an_older_update_never_wins(
    database: Database, one_batch: bool
) -> None:
    late = [update("executed", 3, 0, T0 + 2), update("resting", 1, 2, T0 + 1)]
    stale = update("canceled", 1, 0, T0 + 0.5)  # older than the execution
    if one_batch:
        write(database, intent(), *late, stale)
    else:
        for message in (intent(), *late, stale):
            write(database, message)
    row = the_order(database)
    assert (row.status, row.filled, row.updated_at) == ("executed", 3, T0 + 2)


def test_an_order_id_once_known_is_kept(database: Database) -> None:
    write(database, intent(), update("resting", 0, 3, T0 + 1))
    write(database, update("pending", 0, 3, T0 + 2))  # no order id in this one
    assert the_order(database).order_id == "o-1"


def test_a_fill_is_booked_once_by_trade_id(database: Database) -> None:
    first = write(database, fill("t1"), fill("t2"), fill("t1"))
    again = write(database, fill("t2"), fill("t3"))
    assert (first.duplicates, again.duplicates) == (1, 1)
    assert [r.trade_id for r in rows(database, fills, "trade_id")] == ["t1", "t2", "t3"]
    journaled = [r.ref for r in rows(database, journal, "seq") if r.kind == "fill"]
    assert journaled == ["t1", "t2", "t3"]


def test_a_fill_id_that_comes_back_for_another_fill_keeps_both_and_says_so(
    database: Database,
) -> None:
    """A new exchange (a second run of the built-in one) may reuse a fill id: the second
    fill is a fact of its own, not a repeat to drop."""
    mine = fill("t1", count=2)
    theirs = dataclasses.replace(fill("t1", count=5), order_id="o-9", ticker="KX-2")
    first = write(database, mine)
    clash = write(database, theirs)
    assert (first.conflicts, clash.duplicates) == ((), 0)
    [conflict] = clash.conflicts
    assert "t1" in conflict and "o-9" in conflict and "both are kept" in conflict
    booked = rows(database, fills, "trade_id")
    assert [(r.order_id, r.ticker, r.count) for r in booked] == [
        ("o-1", "KX-1", 2), ("o-9", "KX-2", 5),
    ]  # fmt: skip
    assert booked[0].trade_id == "t1" and booked[1].trade_id.startswith("t1~")
    # both re-reported (a restarted order actor): each is now a plain repeat
    again = write(database, mine, theirs)
    assert (again.duplicates, again.conflicts) == (2, ())
    assert len(rows(database, fills, "trade_id")) == 2
    journaled = [r.ref for r in rows(database, journal, "seq") if r.kind == "fill"]
    assert journaled == ["t1", "t1"]  # each fact journaled once, under the exchange's id


def test_an_order_id_given_to_a_second_order_never_fails_the_write(database: Database) -> None:
    """The ledger's orders hold their exchange ids uniquely: a second order with an id the
    ledger already holds must not fail every write from then on (which halts trading)."""
    write(database, intent("c1"), update("executed", 3, 0, T0 + 1, coid="c1"))
    newcomer = update("resting", 0, 3, T0 + 60, coid="c2")  # given "o-1" again
    written = write(database, intent("c2", ts=T0 + 59), newcomer)
    [conflict] = written.conflicts
    assert "o-1" in conflict and "c1" in conflict and "c2" in conflict
    assert (the_order(database, "c1").order_id, the_order(database, "c1").status) == (
        "o-1", "executed",
    )  # fmt: skip
    second = the_order(database, "c2")
    assert (second.order_id, second.status, second.remaining) == (None, "resting", 3)
    later = write(database, update("executed", 3, 0, T0 + 61, coid="c2"))
    assert the_order(database, "c2").status == "executed" and later.conflicts
    kept = [r for r in rows(database, journal, "seq") if r.ref == "c2" and r.kind == "order_update"]
    assert all(orjson.loads(r.payload)["order_id"] == "o-1" for r in kept)


def test_a_failed_order_the_exchange_turns_out_to_hold_is_recorded_as_it_is(
    database: Database,
) -> None:
    """``failed`` is our conclusion (not at the exchange) and the exchange may prove it
    wrong; an executed, cancelled or rejected order is never reopened."""
    write(database, intent(), dataclasses.replace(update("failed", 0, 0, T0 + 1), order_id=None))
    write(database, update("resting", 1, 2, T0 + 2))
    assert (the_order(database).status, the_order(database).order_id) == ("resting", "o-1")
    write(database, update("canceled", 1, 0, T0 + 3), update("resting", 1, 2, T0 + 4))
    assert the_order(database).status == "canceled"


def test_a_settlement_is_booked_once(database: Database) -> None:
    paid = Settlement("KX-1", "yes", 3, 0, D("3"), T0 + 900)
    write(database, paid, paid)
    write(database, paid)
    [row] = rows(database, settlements, "ticker")
    assert (row.result, row.payout) == ("yes", "3.0000")
    assert [r.kind for r in rows(database, journal, "seq")] == ["settlement"]


def _status(ts: float, *held: Position, state: str = "running") -> RiskStatus:
    return RiskStatus(
        state, D("-1.5"), D("-0.5"), D("-1"), D("0.5"), D("3"), D(0), len(held), D("998.5"),
        D("1000"), False, "", held, ts,
    )  # fmt: skip


def _position(ticker: str, contracts: int) -> Position:
    return Position(ticker, "yes", contracts, D("0.5"), D("0.5") * contracts, None, None, D(0))


def test_positions_and_the_day_follow_the_latest_status(database: Database) -> None:
    writer = LedgerWriter(database)
    first = _status(T0, _position("KX-B", 2), _position("KX-A", 1))
    writer.write([daily_row(first), positions_rows(first), status_mark(first, T0)])
    later = _status(T0 + 5, _position("KX-A", 4), state="halted")
    writer.write([daily_row(later), positions_rows(later)])
    assert [(r.ticker, r.contracts) for r in rows(database, positions, "rank")] == [("KX-A", 4)]
    [day] = rows(database, daily_pnl, "day")
    assert (day.day, day.daily_pnl, day.day_start_equity, day.trading_state) == (
        "2026-05-28", "-1.5000", "1000.0000", "halted",
    )  # fmt: skip
    assert [r.kind for r in rows(database, journal, "seq")] == ["risk_status"]


def test_the_risk_state_is_kept_per_account(database: Database) -> None:
    writer = LedgerWriter(database)
    state = RiskState(cash=D("990"), day_start_equity=D("1000"))
    halted = RiskState(
        cash=D("980"), day_start_equity=D("1000"), trading_state=TradingState.HALTED,
        circuit_breaker_triggered=True, halt_reason="circuit_breaker",
    )  # fmt: skip
    writer.write([risk_row("a", SavedRisk("2026-05-28", state, T0))])
    writer.write([risk_row("b", SavedRisk("2026-05-28", state, T0))])
    writer.write([risk_row("a", SavedRisk("2026-05-28", halted, T0 + 1))])
    loaded_a, loaded_b = load_risk(database, "a"), load_risk(database, "b")
    assert loaded_a is not None and loaded_b is not None
    assert loaded_a.state.circuit_breaker_triggered and loaded_a.state.cash == D("980")
    assert not loaded_b.state.circuit_breaker_triggered
    assert load_risk(database, "c") is None


def test_a_failed_batch_writes_nothing_and_its_retry_writes_everything(backend: Backend) -> None:
    db = backend.prepared(timeout=0.2)
    try:
        writer = LedgerWriter(db)
        batch = [encode(m, T0) for m in (signal(), intent(), fill("t1"))]
        with backend.outage(), pytest.raises(sa.exc.OperationalError):
            writer.write([e for e in batch if e is not None])
        assert rows(db, journal, "seq") == []
        writer.write([e for e in batch if e is not None])
        assert [r.kind for r in rows(db, journal, "seq")] == [
            "trading_signal",
            "order_intent",
            "fill",
        ]
    finally:
        db.dispose()


def test_planning_a_batch_pauses_as_it_goes_and_changes_nothing(database: Database) -> None:
    # The writer process gives its core away at each pause: planning is Python with no
    # system call, which a bot thread woken onto that core would otherwise wait out.
    messages = [
        m
        for n in range(200)
        for m in (
            intent(f"c{n}"),
            dataclasses.replace(update("resting", 0, 3, T0 + 1, f"c{n}"), order_id=f"o-{n}"),
        )
    ]
    entries = [e for e in (encode(m, T0 + 10) for m in messages) if e is not None]
    pauses: list[None] = []
    written = LedgerWriter(database, pause=lambda: pauses.append(None)).write(entries)
    assert written.journal_rows == 400
    assert len(pauses) >= 400 // PAUSE_EVERY + 200 // PAUSE_EVERY  # the batch and the fold
    assert len(rows(database, orders, "client_order_id")) == 200
    assert {r.status for r in rows(database, orders, "client_order_id")} == {"resting"}
