"""The write-ahead handle: an intent is committed (visible to any other session) when
``record`` returns; a failure raises instead of letting the order go; it recovers by itself."""

from __future__ import annotations

import time
from decimal import Decimal as D

import pytest

from messages.trading import OrderIntent
from storage import Database, LedgerUnavailable
from storage.intents import IntentLog
from storage.journal import encode
from storage.recovery import open_orders, orders_by_id
from storage.writer import LedgerWriter
from tests.storage.backends import Backend, admin

T0 = 1_780_000_200.0


def intent(coid: str) -> OrderIntent:
    return OrderIntent(
        coid, "s-" + coid, "kelly_volatility", "KX-1", "no", "buy", 4, D("0.37"),
        "immediate_or_cancel", created_at=T0,
    )  # fmt: skip


def committed(backend: Backend) -> list[tuple[str, str]]:
    """The open orders another session sees (so only committed rows)."""
    other = backend.open()
    try:
        return [(o.client_order_id, o.status) for o in open_orders(other, now=T0)]
    finally:
        other.dispose()


def test_a_recorded_intent_is_committed_as_a_pending_order(
    backend: Backend, database: Database
) -> None:
    log = IntentLog(database)
    try:
        log.record(intent("c1"), T0)
        assert committed(backend) == [("c1", "pending")]
        [row] = open_orders(database, now=T0)
        assert row.intent() == intent("c1")
        assert (row.order_id, row.filled, row.remaining, row.in_orders) == (None, 0, 4, False)
        assert list(orders_by_id(database, ["c1", "c2"])) == ["c1"]
    finally:
        log.close()


def test_once_the_ledger_actor_has_the_order_it_is_read_from_there(database: Database) -> None:
    log = IntentLog(database)
    try:
        log.record(intent("c1"), T0)
        log.record(intent("c1"), T0)  # a repeat is harmless
        LedgerWriter(database).write([e for e in [encode(intent("c1"), T0)] if e is not None])
        [row] = open_orders(database, now=T0)
        assert (row.client_order_id, row.in_orders, row.signal_id) == ("c1", True, "s-c1")
        assert orders_by_id(database, ["c1"])["c1"].in_orders
    finally:
        log.close()


def test_a_write_that_cannot_be_made_durable_raises_and_leaves_nothing(backend: Backend) -> None:
    db = backend.prepared(timeout=0.2)
    log = IntentLog(db)
    try:
        log.connect()
        with (
            backend.outage(),
            pytest.raises(LedgerUnavailable, match="c1 could not be made durable"),
        ):
            log.record(intent("c1"), T0)
        assert committed(backend) == []
        log.record(intent("c2"), T0)  # the database is back: so is the handle
        assert committed(backend) == [("c2", "pending")]
    finally:
        log.close()
        db.dispose()


def test_the_handle_reconnects_after_the_server_kills_its_connection(
    postgres_backend: Backend,
) -> None:
    backend = postgres_backend
    database = backend.prepared()
    log = IntentLog(database)
    try:
        log.record(intent("c1"), T0)
        with admin() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'sol15' AND pid <> pg_backend_pid()"
            )
        with pytest.raises(LedgerUnavailable):
            log.record(intent("c2"), T0)
        log.record(intent("c3"), T0)
        assert [c for c, _ in committed(backend)] == ["c1", "c3"]
    finally:
        log.close()
        database.dispose()


def test_a_write_ahead_takes_well_under_a_millisecond_on_sqlite(sqlite_backend: Backend) -> None:
    """The hot path pays for this write; keep an eye on it (generous bound, median of many)."""
    database = sqlite_backend.prepared()
    log = IntentLog(database)
    try:
        times = []
        for n in range(300):
            started = time.perf_counter()
            log.record(intent(f"c{n}"), T0)
            times.append(time.perf_counter() - started)
        assert sorted(times)[len(times) // 2] < 0.0005
    finally:
        log.close()
        database.dispose()


def test_maintenance_forgets_intents_past_the_recovery_window(database: Database) -> None:
    from dataclasses import replace

    from storage.recovery import WAL_WINDOW

    log = IntentLog(database)
    try:
        log.record(replace(intent("old"), created_at=T0 - WAL_WINDOW - 1), T0)
        log.record(intent("new"), T0)
        log.maintain(T0)
        assert list(orders_by_id(database, ["old", "new"])) == ["new"]
        log.record(intent("after"), T0)  # the handle still works after its maintenance
    finally:
        log.close()
