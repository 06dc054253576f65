"""The ledger in the trading pipeline, against the simulator, on SQLite and PostgreSQL.

Write-ahead: every order request leaves only after its intent is committed; a database
that fails sends no order, halts new trading with an alert and recovers by itself. Recovery:
a restarted order actor settles the ledger's open intents with the exchange and adopts (and
reports) orders the ledger never knew; risk keeps the day's P&L and any halt. Afterwards the
ledger and the exchange agree order for order and fill for fill.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from kalshi.auth import Signer
from kalshi.connection import ExchangeConnection
from kalshi.models import OrderRequestV2
from kalshi.rest import KalshiRestClient
from messages.ledger import LEDGER, Flush, LedgerHealth
from messages.status import Alert
from messages.trading import OrderIntent, OrderUpdate
from risk.limits import RiskLimits
from runtime.faults import crash
from simulator.testing import SimHandle
from storage import Database
from storage.intents import IntentLog
from storage.recovery import orders_by_id
from storage.schema import fills, orders, signals
from tests.actors.pipeline_rig import Fire, Pipeline, running_pipeline
from tests.actors.test_pipeline_faults import check_books
from tests.storage.backends import BACKENDS, Backend, make_backend

LIMITS = RiskLimits(
    max_position_size=D(20),
    max_daily_loss=D(100),
    circuit_breaker_pct=D("0.5"),
    max_concurrent_positions=2,
    min_edge=D("0.03"),
    max_orders_per_minute=60,
)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with make_backend(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def database(backend: Backend) -> Iterator[Database]:
    db = backend.prepared(timeout=0.2)
    yield db
    db.dispose()


# -- comparing the ledger with the exchange -------------------------------------------------


def ledger_rows(db: Database, table: sa.Table) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(table)))


def assert_ledger_matches_exchange(p: Pipeline) -> None:
    """Every exchange order once, in its state; every exchange fill once; no open intent left."""
    assert p.database is not None
    p.quiesce()
    assert p.system.ask(LEDGER, Flush(), timeout=10) is True
    by_coid = {r.client_order_id: r for r in ledger_rows(p.database, orders)}
    exchange_orders = p.exchange_orders()
    for order in exchange_orders:
        row = by_coid[order.client_order_id]
        assert (row.order_id, row.status, row.filled) == (
            order.order_id,
            order.status,
            int(order.fill_count),
        ), order.client_order_id
    at_exchange = {o.client_order_id for o in exchange_orders}
    for coid, row in by_coid.items():
        if coid not in at_exchange:
            assert row.status in ("failed", "rejected"), (coid, row.status)
    booked = {r.trade_id: r for r in ledger_rows(p.database, fills)}
    exchange_fills = p.exchange_fills()
    assert set(booked) == {f.fill_id for f in exchange_fills}
    for fill in exchange_fills:
        row = booked[fill.fill_id]
        assert (row.count, row.client_order_id) == (int(fill.count), fill.client_order_id)


# -- the write-ahead ---------------------------------------------------------------------------


class _CheckingTransport(httpx.HTTPTransport):
    def __init__(self, check: Callable[[str], None]) -> None:
        super().__init__()
        self.check = check

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/portfolio/events/orders"):
            self.check(orjson.loads(request.content)["client_order_id"])
        return super().handle_request(request)


@dataclass(frozen=True)
class _CheckedConnection(ExchangeConnection):
    """The order actor's client calls ``check(client_order_id)`` as each order request leaves."""

    check: Callable[[str], None] | None = None

    def rest(
        self, *, presign_orders: bool = False, timeout: float = 5.0, max_attempts: int = 4
    ) -> KalshiRestClient:
        transport = _CheckingTransport(self.check) if presign_orders and self.check else None
        return KalshiRestClient(
            self.api_base,
            self.signer,
            rate_limit=False,
            presign_orders=presign_orders,
            transport=transport,
        )


def test_every_order_request_leaves_after_its_intent_is_committed(
    backend: Backend, database: Database
) -> None:
    observer = backend.open()  # another session: it sees committed rows only
    seen: list[tuple[str, str | None]] = []
    lock = threading.Lock()

    def check(coid: str) -> None:
        found = orders_by_id(observer, [coid]).get(coid)
        status = None if found is None else found.status
        with lock:
            seen.append((coid, status))

    def connect(sim: SimHandle, signer: Signer) -> ExchangeConnection:
        return _CheckedConnection(sim.api_base, sim.ws_url, signer, rate_limited=False, check=check)

    try:
        with running_pipeline(LIMITS, database=database, make_connection=connect) as p:
            for _ in range(3):
                [signal] = p.fire(Fire(p.ticker, quantity=1))
                assert p.decision_for(signal).approved
                p.quiesce()
            p.wait_fills_published()
            coids = [i.client_order_id for i in p.log.of(OrderIntent)]
            assert [coid for coid, _ in seen] == coids
            assert all(status == "pending" for _, status in seen), seen
            check_books(p)
            assert_ledger_matches_exchange(p)
            assert len(ledger_rows(database, signals)) == 3
    finally:
        observer.dispose()


def test_a_database_outage_halts_trading_and_loses_nothing(
    backend: Backend, database: Database
) -> None:
    with running_pipeline(LIMITS, database=database) as p:
        with backend.outage():
            [first] = p.fire(Fire(p.ticker, quantity=1))
            # Its intent went to the write-ahead log (a local file): the order could go.
            assert p.decision_for(first).approved
            p.wait_fills_published()
            p.advance(1)  # the ledger's next batch cannot be written
            p.log.wait_for(LedgerHealth, lambda h: not h.ok)
            alert = p.log.wait_for(Alert, lambda a: a.alert_type == "ledger_unavailable")
            assert alert.level == "critical"
            p.quiesce()
            [second] = p.fire(Fire(p.ticker, quantity=1))
            decision = p.decision_for(second)
            assert (decision.approved, decision.reason) == (False, "ledger_unavailable")
            status = p.risk_status()
            assert (status.trading_state, status.halt_reason) == ("halted", "ledger_unavailable")
        p.advance(1)  # the ledger's retry: the database is back
        p.log.wait_for(LedgerHealth, lambda h: h.ok)
        p.quiesce()
        assert p.risk_status().trading_state == "running"
        p.fresh_market_data()
        [third] = p.fire(Fire(p.ticker, quantity=1))
        assert p.decision_for(third).approved
        p.wait_fills_published()
        check_books(p)
        assert_ledger_matches_exchange(p)  # the first order, held through the outage, is there
        decided = {r.signal_id: r.decision_reason for r in ledger_rows(database, signals)}
        assert decided == {
            first.signal_id: "approved",
            second.signal_id: "ledger_unavailable",
            third.signal_id: "approved",
        }


def test_a_write_ahead_log_that_cannot_be_written_sends_no_order(database: Database) -> None:
    database.intents_path.parent.mkdir(parents=True, exist_ok=True)
    database.intents_path.mkdir()  # the log's place is taken: no intent can be made durable
    with running_pipeline(LIMITS, database=database) as p:
        [first] = p.fire(Fire(p.ticker, quantity=1))
        failed = p.log.wait_for(OrderUpdate, lambda u: u.status == "failed")
        assert failed.reason == "ledger_unavailable"
        health = p.log.wait_for(LedgerHealth, lambda h: not h.ok)
        assert health.source == "order"
        p.quiesce()
        [second] = p.fire(Fire(p.ticker, quantity=1))
        assert p.decision_for(second).reason == "ledger_unavailable"
        assert p.risk_status().reserved == 0  # the unsent order holds nothing
        assert not p.exchange_orders()
        database.intents_path.rmdir()  # the place is free again
        p.advance(1)  # the ledger's next write announces it can record again
        p.log.wait_for(LedgerHealth, lambda h: h.ok)
        p.quiesce()
        p.fresh_market_data()
        [third] = p.fire(Fire(p.ticker, quantity=1))
        assert p.decision_for(third).approved
        p.wait_fills_published()
        assert_ledger_matches_exchange(p)
        row = {r.client_order_id: r for r in ledger_rows(database, orders)}[failed.client_order_id]
        assert (row.status, row.reason) == ("failed", "ledger_unavailable")
        assert first.signal_id != third.signal_id


# -- recovery ----------------------------------------------------------------------------------


def _intent(p: Pipeline, coid: str, count: int = 1) -> OrderIntent:
    return OrderIntent(
        coid, "", "pipeline-test", p.ticker, "yes", "buy", count, D("0.99"),
        "immediate_or_cancel", created_at=p.clock.now(),
    )  # fmt: skip


def test_a_restarted_order_actor_settles_the_ledgers_open_intents_and_reports_strangers(
    database: Database,
) -> None:
    with running_pipeline(LIMITS, database=database) as p:
        client = KalshiRestClient(p.sim.api_base, p.connection.signer, rate_limit=False)
        log = IntentLog(database)
        try:
            # 1. an intent made durable, then the process died before sending it
            log.record(_intent(p, "never-sent"), p.clock.now())
            # 2. an intent sent, then the process died before the answer came back
            log.record(_intent(p, "sent-unacked", 2), p.clock.now())
            client.create_order(
                OrderRequestV2.for_intent(
                    p.ticker, "yes", "buy", D(2), D("0.99"), client_order_id="sent-unacked",
                    time_in_force="immediate_or_cancel",
                )
            )  # fmt: skip
            # 3. an order placed behind the bot's back, resting far from the market
            client.create_order(
                OrderRequestV2.for_intent(
                    p.ticker, "yes", "buy", D(1), D("0.02"), client_order_id="stranger",
                    time_in_force="good_till_canceled",
                )
            )  # fmt: skip
        finally:
            log.close()
            client.close()
        crash(p.system, "order")
        p.settle()
        p.advance(10)  # "never-sent" not found 10 s after its intent: proof it never left
        p.quiesce()
        p.wait_fills_published()
        alert = p.log.wait_for(Alert, lambda a: a.alert_type == "order_adopted")
        assert "stranger" in alert.message and "sent-unacked" not in alert.message
        assert_ledger_matches_exchange(p)
        rows = {r.client_order_id: r for r in ledger_rows(database, orders)}
        assert (rows["never-sent"].status, rows["never-sent"].reason) == (
            "failed",
            "not_at_exchange",
        )
        assert rows["sent-unacked"].status == "executed" and rows["sent-unacked"].filled == 2
        assert (rows["stranger"].status, rows["stranger"].origin) == ("resting", "adopted")
        assert {f.client_order_id for f in ledger_rows(database, fills)} == {"sent-unacked"}


def test_a_ledger_crash_mid_trade_loses_nothing(database: Database) -> None:
    with running_pipeline(LIMITS, database=database) as p:
        [first] = p.fire(Fire(p.ticker, quantity=2))
        assert p.decision_for(first).approved
        crash(p.system, LEDGER)  # rest_for_one: risk and order restart after it
        [second] = p.fire(Fire(p.ticker, quantity=1))
        p.settle()
        p.decision_for(second)
        p.fresh_market_data()
        [third] = p.fire(Fire(p.ticker, quantity=1))
        assert p.decision_for(third).approved
        p.wait_fills_published()
        check_books(p)
        assert_ledger_matches_exchange(p)


def test_the_days_pnl_continues_across_a_restart_of_risk(database: Database) -> None:
    with running_pipeline(LIMITS, database=database) as p:
        start = p.risk_status().starting_bankroll
        [signal] = p.fire(Fire(p.ticker, quantity=3))
        assert p.decision_for(signal).approved
        p.wait_fills_published()
        before = p.risk_status()
        assert before.fees_paid > 0 and before.bankroll != start
        crash(p.system, "risk")
        p.settle()
        after = p.risk_status()
        assert after.starting_bankroll == before.starting_bankroll == start
        assert (after.fees_paid, after.realized_pnl) == (before.fees_paid, before.realized_pnl)
        assert after.daily_pnl == after.bankroll - start != 0
        check_books(p)


def test_a_second_run_of_the_same_exchange_on_one_ledger_trades_and_keeps_both(
    database: Database,
) -> None:
    """``python run.py`` twice on one data directory: the built-in exchange starts again
    from the same seed, and its ids must not meet the first run's in the ledger (which
    halted trading for good with ``UNIQUE constraint failed: orders.order_id``)."""
    traded: list[str] = []
    for _ in range(2):
        with running_pipeline(LIMITS, database=database) as p:
            [signal] = p.fire(Fire(p.ticker, quantity=2))
            assert p.decision_for(signal).approved
            p.wait_fills_published()
            assert p.system.ask(LEDGER, Flush(), timeout=10) is True, "the ledger cannot write"
            status = p.risk_status()
            assert (status.trading_state, status.halt_reason) == ("running", "")
            assert not [a for a in p.log.of(Alert) if a.level != "info"]
            assert_ledger_matches_exchange_run(p)
            traded += [f.fill_id for f in p.exchange_fills()]
    assert len(set(traded)) == len(traded) > 1
    assert {r.trade_id for r in ledger_rows(database, fills)} == set(traded)


def assert_ledger_matches_exchange_run(p: Pipeline) -> None:
    """This run's exchange orders and fills are in the ledger, each once, as they are."""
    assert p.database is not None
    by_coid = {r.client_order_id: r for r in ledger_rows(p.database, orders)}
    for order in p.exchange_orders():
        row = by_coid[order.client_order_id]
        assert (row.order_id, row.status) == (order.order_id, order.status)
    booked = {r.trade_id for r in ledger_rows(p.database, fills)}
    assert {f.fill_id for f in p.exchange_fills()} <= booked
