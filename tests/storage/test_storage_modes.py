"""History per mode: every history row carries its mode and exchange environment, the
history reads one mode by default, and a ledger older than version 4 is migrated in place
without losing a row (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from messages.trading import Fill, OrderIntent, OrderUpdate, Settlement, Signal
from messages.vocabulary import OrderStatus
from storage import Database, prepare, recovery
from storage.export import main as export_main
from storage.history import LedgerHistory
from storage.history_api import SignalQuery, TradeQuery
from storage.journal import encode
from storage.migrate import legacy_notice
from storage.performance import LedgerPerformance
from storage.schema import (
    SCHEMA_VERSION,
    SCOPE_COLUMNS,
    SCOPED_TABLES,
    Scope,
    metadata,
    schema_version,
)
from storage.writer import LedgerWriter
from tests.storage.backends import Backend, url_with_schema

T0 = 1_780_000_200.0
SIM = Scope.of("sim", "prod")  # sim runs on a simulator whatever KALSHI_ENV says
PAPER = Scope.of("paper", "demo")


def _session(tag: str, at: float) -> list[Any]:
    """One signal that became an order, filled and settled."""
    coid = f"c-{tag}"
    return [
        Signal(f"s-{tag}", "kelly_volatility", f"KX-{tag}", "yes", D("0.05"), D("0.6"),
               D("0.52"), 3, at),
        OrderIntent(coid, f"s-{tag}", "kelly_volatility", f"KX-{tag}", "yes", "buy", 3,
                    D("0.52"), "immediate_or_cancel", created_at=at + 0.1),
        Fill(f"t-{tag}", f"o-{tag}", coid, f"KX-{tag}", "yes", "buy", 3, D("0.52"),
             D("0.0175"), True, at + 0.2, "kelly_volatility"),
        OrderUpdate(coid, f"o-{tag}", f"KX-{tag}", "yes", "buy", OrderStatus.EXECUTED, 3, 0, D("0.52"),
                    "kelly_volatility", at + 0.3, fees=D("0.0175"), count=3),
        Settlement(f"KX-{tag}", "yes", 3, 0, D("3"), at + 900),
    ]  # fmt: skip


def _write(db: Database, scope: Scope, events: list[Any]) -> None:
    scoped = dataclasses.replace(db, scope=scope)  # another bot on the same database
    entries = [e for e in (encode(m, T0 + 1_000) for m in events) if e is not None]
    LedgerWriter(scoped).write(entries)


def _scopes(db: Database) -> dict[str, set[tuple[str, str]]]:
    with db.engine.connect() as conn:
        return {
            t.name: {tuple(r) for r in conn.execute(sa.select(t.c.mode, t.c.env))}
            for t in SCOPED_TABLES
        }


def test_every_history_row_carries_the_mode_and_env_that_wrote_it(database: Database) -> None:
    _write(database, SIM, _session("a", T0))
    _write(database, PAPER, _session("b", T0 + 10))
    scopes = _scopes(database)
    assert all(found == {("sim", "sim"), ("paper", "demo")} for found in scopes.values()), scopes


def test_the_history_shows_the_current_mode_unless_asked(database: Database) -> None:
    _write(database, SIM, _session("a", T0))
    _write(database, PAPER, _session("b", T0 + 10))
    paper = LedgerHistory(dataclasses.replace(database, scope=PAPER))

    def trades(mode: str | None) -> list[tuple[str, str]]:
        return [(t["client_order_id"], t["mode"]) for t in paper.trades(TradeQuery(mode=mode))]

    assert trades(None) == [("c-b", "paper")]  # the sim run's history stays out of paper
    assert trades("sim") == [("c-a", "sim")]
    assert trades("all") == [("c-b", "paper"), ("c-a", "sim")]
    assert trades("live") == []
    assert [s["signal_id"] for s in paper.signals(SignalQuery())] == ["s-b"]
    assert [s["env"] for s in paper.signals(SignalQuery(mode="all"))] == ["demo", "sim"]
    assert paper.counts().total == 1 and paper.counts().filled == 1
    assert paper.find_order("c-a") is None and paper.find_order("c-b") is not None
    assert paper.session_counts(0.0).fills == 1


_OLD_TABLES = {
    "signal": "signals",
    "intent": "orders",
    "fill": "fills",
    "settlement": "settlements",
}


def _v3_ledger(db: Database) -> None:
    """A version-3 ledger as sol15 wrote it: no mode or env columns, three versions."""
    old = sa.MetaData()
    for table in metadata.sorted_tables:
        columns = [c._copy() for c in table.columns if c.name not in SCOPE_COLUMNS]
        sa.Table(table.name, old, *columns)
    with db.engine.begin() as conn:
        old.create_all(conn)
        for n in (1, 2, 3):
            conn.execute(
                schema_version.insert().values(
                    version=n, app="sol15", applied_at=0.0, description=f"v{n}"
                )
            )
        entries = [e for e in (encode(m, T0 + 1_000) for m in _session("old", T0)) if e]
        for entry in entries:  # rows as the old writer left them (its keys lack mode/env)
            if entry.journal is not None:
                conn.execute(old.tables["journal"].insert().values(
                    ts=entry.journal[0], recorded_at=entry.journal[1], kind=entry.journal[2],
                    ref=entry.journal[3], ticker=entry.journal[4], payload=entry.journal[5],
                ))  # fmt: skip
            name = _OLD_TABLES.get(entry.op or "")
            if name is not None and entry.row is not None:
                conn.execute(old.tables[name].insert().values(**entry.row))


def _counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in SCOPED_TABLES
        }


def test_a_version_3_ledger_is_migrated_without_losing_a_row(backend: Backend) -> None:
    db = backend.open()
    try:
        _v3_ledger(db)
        with db.engine.connect() as conn:
            before = {
                t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("journal", "signals", "orders", "fills", "settlements")
            }
        assert before == {"journal": 5, "signals": 1, "orders": 1, "fills": 1, "settlements": 1}
        paper = dataclasses.replace(db, scope=PAPER)  # the bot starts in paper on it
        assert prepare(paper) == SCHEMA_VERSION == 4
        assert _counts(db) == before
        assert all(found == {("paper", "demo")} for found in _scopes(db).values())
        history = LedgerHistory(paper)
        [order] = history.trades(TradeQuery())
        assert (order["client_order_id"], order["mode"], order["filled"]) == ("c-old", "paper", 3)
        assert [s["signal_id"] for s in history.signals(SignalQuery())] == ["s-old"]
        _write(db, PAPER, _session("new", T0 + 60))  # and the writer goes on with it
        assert len(history.trades(TradeQuery())) == 2
        assert prepare(paper) == 4  # once
    finally:
        db.dispose()


def test_a_migration_without_a_mode_labels_old_rows_unknown(backend: Backend) -> None:
    db = backend.open()
    try:
        _v3_ledger(db)
        prepare(db)
        assert all(found == {("unknown", "unknown")} for found in _scopes(db).values())
        assert len(LedgerHistory(db).trades(TradeQuery())) == 1  # a reader in no mode sees all
        assert LedgerHistory(dataclasses.replace(db, scope=SIM)).trades(TradeQuery()) == []
    finally:
        db.dispose()


def test_the_export_has_a_mode_column_and_takes_one_mode(
    backend: Backend, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(database, SIM, _session("a", T0))
    _write(database, PAPER, _session("b", T0 + 10))
    url = url_with_schema(backend)

    def exported(*args: str) -> dict[str, Any]:
        code = export_main(["--db", url, "--since", "2026-01-01", "--format", "json", *args])
        out, err = capsys.readouterr()
        assert code == 0, err
        body: dict[str, Any] = orjson.loads(out)
        return body

    both = exported()
    assert [(t["client_order_id"], t["mode"], t["env"]) for t in both["trades"]] == [
        ("c-a", "sim", "sim"),
        ("c-b", "paper", "demo"),
    ]
    paper = exported("--mode", "paper")
    assert [f["trade_id"] for f in paper["fills"]] == ["t-b"] and paper["mode"] == "paper"
    assert [s["mode"] for s in paper["settlements"]] == ["paper"]
    code = export_main(["--db", url, "--since", "2026-01-01", "--format", "csv", "--mode", "sim"])
    header, row = capsys.readouterr().out.splitlines()
    assert code == 0 and header.endswith(",mode,env") and row.endswith(",sim,sim")


def test_the_old_shared_ledger_is_named_and_left_alone(tmp_path: Path) -> None:
    new = f"sqlite:///{(tmp_path / 'sol15-paper.db').as_posix()}"
    assert legacy_notice(tmp_path, new) is None  # nothing old: nothing to say
    old = tmp_path / "sol15.db"
    old.write_bytes(b"old ledger")
    notice = legacy_notice(tmp_path, new)
    assert notice is not None
    assert f"DATABASE_URL=sqlite:///{old.as_posix()}" in notice and "--mode all" in notice
    (tmp_path / "sol15-paper.db").write_bytes(b"")
    assert legacy_notice(tmp_path, new) is None  # said once: the new ledger exists now
    assert old.read_bytes() == b"old ledger"


def test_a_restart_recovers_only_its_own_modes_orders_and_fills(database: Database) -> None:
    """A shared ledger: a paper bot's recovery never adopts the sim run's open orders or fills."""
    resting = OrderUpdate(
        "c-rest", "o-rest", "KX-a", "yes", "buy", OrderStatus.RESTING, 0, 3, D("0.52"),
        "kelly_volatility", T0 + 1, count=3,
    )  # fmt: skip
    sim_events = [*_session("a", T0)[:3], resting]
    _write(database, SIM, sim_events)
    _write(database, PAPER, _session("b", T0 + 10)[:3])
    paper = dataclasses.replace(database, scope=PAPER)
    sim = dataclasses.replace(database, scope=SIM)
    now = T0 + 100
    assert [o.client_order_id for o in recovery.open_orders(paper, now)] == ["c-b"]
    assert [o.client_order_id for o in recovery.open_orders(sim, now)] == ["c-a", "c-rest"]
    assert [f.trade_id for f in recovery.strategy_fills(paper, "kelly_volatility", 0)] == ["t-b"]
    assert recovery.last_fill_ts(sim) == T0 + 0.2


def test_the_performance_report_counts_only_its_own_modes_trades(database: Database) -> None:
    """A ledger shared by modes: paper's P&L never includes the sim run's trades."""
    _write(database, SIM, _session("a", T0))
    _write(database, PAPER, _session("b", T0 + 10))
    paper = LedgerPerformance(dataclasses.replace(database, scope=PAPER), bankroll=D("1000"))
    body = paper.report()
    assert [t["ticker"] for t in body["trades"]] == ["KX-b"]
    # bought 3 at 0.52 with a 0.0175 fee, settled YES at $1: 3 − 1.56 − 0.0175
    assert body["realized_pnl"] == "1.4225"
