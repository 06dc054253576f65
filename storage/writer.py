"""Applying a batch of ledger entries in one transaction (all of it, or none of it).

Duplicates are dropped here: a fill is booked once per ``trade_id`` and a
settlement once per market, whether the repeat is in this batch or already in
the database (a restarted order actor re-reports recent fills); an exchange id
that comes back meaning something else is kept and reported
(:mod:`storage.exchange_ids`). Order updates never move an order back: not from a
final state to an open one (``failed``, our own conclusion, is not final: the
exchange may prove it wrong), and not to an older update than the one recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from execution.transitions import TRANSITIONS
from messages.vocabulary import TERMINAL as FINISHED
from storage.database import Database
from storage.exchange_ids import FillKeys, OrderIds
from storage.journal import (
    CONTROL,
    DAILY,
    DECISION,
    FILL,
    INTENT,
    JOURNAL_COLUMNS,
    OPERATIONS,
    POSITIONS,
    RISK,
    ROW_KEYS,
    SCOREBOARD,
    SETTLEMENT,
    SIGNAL,
    UPDATE,
    Entry,
    Item,
    JournalRow,
    Row,
    entries_of,
)
from storage.schema import (
    controls,
    daily_pnl,
    fills,
    key_of,
    orders,
    positions,
    risk_state,
    scoreboard,
    set_by,
    settlements,
    signals,
)
from storage.upsert import insert_ignore, upsert

TERMINAL = tuple(
    sorted(status.value for status in FINISHED)
)  # sorted: the SQL built from it is stable
# States no update may leave (the transition table's dead ends); sorted: stable SQL.
FINAL = tuple(sorted(status.value for status, then in TRANSITIONS.items() if not then))
_CHUNK = 500  # ids per IN (...) query
PAUSE_EVERY = 32  # entries planned between two calls of the writer's ``pause`` (~30 µs)


def _updated(table: sa.Table, *writers: str) -> tuple[str, ...]:
    """What a row of these writes changes when its key is already there: all it sets but the key."""
    key = key_of(table)
    return tuple(c for c in set_by(table, *writers) if c not in key)


_SIGNAL_COLUMNS = _updated(signals, "row", "both")
_DECISION_COLUMNS = _updated(signals, "decision")  # the signal's own columns stay as it set them
_INTENT_COLUMNS = _updated(orders, "row")
_UPDATE_COLUMNS = _updated(orders, "update")
_SCOREBOARD_KEYS = key_of(scoreboard)


@dataclass(frozen=True, slots=True)
class Written:
    entries: int
    journal_rows: int
    duplicates: int
    conflicts: tuple[str, ...] = ()  # exchange ids that came back meaning something else


def _is_one_of(column: Any, statuses: Iterable[str]) -> Any:
    # Literal constants: an expanding IN (...) parameter cannot be used with executemany.
    return sa.or_(*(column == sa.literal_column(f"'{status}'") for status in statuses))


def _newer_window(excluded: Any) -> Any:
    """A scoreboard row is replaced by a newer one, and a settled row never by an unsettled."""
    settled_kept = sa.and_(scoreboard.c.outcome.is_not(None), excluded.outcome.is_(None))
    return sa.and_(excluded.updated_at >= scoreboard.c.updated_at, sa.not_(settled_kept))


def _no_regression(excluded: Any) -> Any:
    """An update applies unless it would reopen a finished order or is older than the last."""
    reopen = sa.and_(
        _is_one_of(orders.c.status, FINAL), sa.not_(_is_one_of(excluded.status, TERMINAL))
    )
    return sa.and_(sa.not_(reopen), excluded.updated_at >= orders.c.updated_at)


Compiled = tuple[str, tuple[str, ...]]  # SQL with positional markers; row keys in marker order


def _positional(database: Database) -> Dialect:
    """The dialect to compile for, with positional parameters (rows become plain tuples)."""
    if database.dialect == "sqlite":
        return database.engine.dialect  # qmark
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    dialect: Dialect = PGDialect_psycopg(paramstyle="format")  # type: ignore[no-untyped-call]
    return dialect


@dataclass(slots=True)
class _Plan:
    statements: list[tuple[str, list[tuple[Any, ...]] | None]]
    written: Written


class LedgerWriter:
    """Compiles its statements once; a batch is then a few ``executemany`` calls of tuples,
    so the database is locked only for as long as the driver needs to write the rows."""

    def __init__(self, database: Database, pause: Callable[[], object] | None = None) -> None:
        """``pause``: called every :data:`PAUSE_EVERY` entries while a batch is planned (the
        writer process gives its core away there: planning 1,000 entries is ~3 ms of Python
        with no system call, which a thread woken onto that core would otherwise wait out)."""
        self.database = database
        self.pause: Callable[[], object] = pause or _go_on
        d = database.dialect
        mark = "?" if d == "sqlite" else "%s"
        scope = database.scope  # words from a fixed list (``Scope`` checks): safe as literals
        stamp: dict[str, Any] = {
            "mode": sa.literal_column(f"'{scope.mode}'"),
            "env": sa.literal_column(f"'{scope.env}'"),
        }
        self._journal_sql = (
            f"INSERT INTO journal ({', '.join(JOURNAL_COLUMNS)}, mode, env) "
            f"VALUES ({', '.join([mark] * len(JOURNAL_COLUMNS))}, '{scope.mode}', '{scope.env}')"
        )
        statements: dict[str, Any] = {
            SIGNAL: upsert(d, signals, key_of(signals), _SIGNAL_COLUMNS).values(stamp),
            DECISION: upsert(d, signals, key_of(signals), _DECISION_COLUMNS).values(stamp),
            INTENT: upsert(d, orders, key_of(orders), _INTENT_COLUMNS).values(stamp),
            UPDATE: upsert(
                d,
                orders,
                key_of(orders),
                _UPDATE_COLUMNS,
                custom={"order_id": lambda ex: sa.func.coalesce(ex.order_id, orders.c.order_id)},
                where=_no_regression,
            ).values(stamp),
            FILL: insert_ignore(d, fills, key_of(fills)).values(stamp),
            SETTLEMENT: insert_ignore(d, settlements, key_of(settlements)).values(stamp),
            POSITIONS: positions.insert(),
            DAILY: upsert(d, daily_pnl, key_of(daily_pnl), _updated(daily_pnl, "row")),
            RISK: upsert(d, risk_state, key_of(risk_state), _updated(risk_state, "row")),
            CONTROL: upsert(d, controls, key_of(controls), _updated(controls, "row")),
            SCOREBOARD: upsert(
                d, scoreboard, _SCOREBOARD_KEYS, _updated(scoreboard, "row"), where=_newer_window
            ),
        }
        dialect = _positional(database)
        self._compiled: dict[str, str] = {}
        for op, stmt in statements.items():
            compiled = stmt.compile(dialect=dialect, column_keys=list(ROW_KEYS[op]))
            if tuple(compiled.positiontup or ()) != ROW_KEYS[op]:  # encode() builds the tuples
                raise AssertionError(f"{op}: parameters {compiled.positiontup} != {ROW_KEYS[op]}")
            self._compiled[op] = str(compiled)
        self._clear_positions = str(positions.delete().compile(dialect=dialect))

    def write(self, items: Sequence[Item]) -> Written:
        """Write ``items`` (entries, or messages still to encode) in one transaction;
        raises ``sqlalchemy.exc.SQLAlchemyError``."""
        entries = entries_of(items)
        with self.database.engine.connect() as conn:
            plan = self._plan(conn, entries)
            conn.rollback()  # end the reads: the writes below are one short transaction
            with conn.begin():
                for sql, rows in plan.statements:
                    conn.exec_driver_sql(sql, rows)
        return plan.written

    def _plan(self, conn: Connection, entries: Sequence[Entry]) -> _Plan:
        """Drop duplicates and turn every row into a tuple, before the database is locked."""
        pause = self.pause
        gate = _Gate.read(conn, entries, pause)
        journal_rows: list[JournalRow] = []
        by_op: dict[str, list[Entry]] = {op: [] for op in OPERATIONS}
        duplicates = 0
        for given in _paced(entries, pause):
            entry = gate.admit(given)
            if entry is None:
                duplicates += 1
                continue
            if entry.journal is not None:
                journal_rows.append(entry.journal)
            if entry.op is not None and entry.row is not None:
                by_op[entry.op].append(entry)
        statements: list[tuple[str, list[tuple[Any, ...]] | None]] = []
        if journal_rows:
            statements.append((self._journal_sql, journal_rows))
        for op in OPERATIONS:
            chosen = by_op[op]
            if not chosen:
                continue
            if op == POSITIONS:  # the latest full set replaces the table
                statements.append((self._clear_positions, None))
                if chosen[-1].values:
                    statements.append((self._compiled[op], chosen[-1].values))
                continue
            statements.append((self._compiled[op], _collapse(op, chosen, pause)))
        conflicts = (*gate.fills.conflicts, *gate.order_ids.conflicts)
        return _Plan(statements, Written(len(entries), len(journal_rows), duplicates, conflicts))


@dataclass(slots=True)
class _Gate:
    """What of a batch is new: fills and settlements not booked yet (a fill id meaning
    another fill is kept under an alias), and order ids as other orders may hold them."""

    fills: FillKeys
    order_ids: OrderIds
    settled: set[str]

    @classmethod
    def read(cls, conn: Connection, entries: Sequence[Entry], pause: Callable[[], object]) -> _Gate:
        booked = FillKeys.read(conn, entries)
        pause()
        order_ids = OrderIds.read(conn, entries)
        pause()
        settled = _existing(conn, settlements.c.ticker, _keys(entries, SETTLEMENT, "ticker"))
        pause()
        return cls(booked, order_ids, settled)

    def admit(self, entry: Entry) -> Entry | None:
        """``entry`` as it is to be written; None for a repeat of what is booked."""
        if entry.op == FILL:
            return self.fills.place(entry)
        if entry.op == UPDATE:
            return self.order_ids.claim(entry)
        if entry.op == SETTLEMENT:
            assert entry.row is not None
            ticker = entry.row["ticker"]
            if ticker in self.settled:
                return None
            self.settled.add(ticker)
        return entry


_UNIQUE: dict[str, tuple[str, ...]] = {  # what one statement may touch only once
    SIGNAL: key_of(signals),
    DECISION: key_of(signals),
    INTENT: key_of(orders),
    FILL: key_of(fills),
    SETTLEMENT: key_of(settlements),
    DAILY: key_of(daily_pnl),
    RISK: key_of(risk_state),
    CONTROL: key_of(controls),
    SCOREBOARD: key_of(scoreboard),
}


def _go_on() -> None:
    """The default ``pause``: none."""


T = TypeVar("T")


def _paced(items: Iterable[T], pause: Callable[[], object]) -> Iterator[T]:
    """``items``, calling ``pause`` after every :data:`PAUSE_EVERY` of them."""
    for n, item in enumerate(items, 1):
        yield item
        if n % PAUSE_EVERY == 0:
            pause()


def _collapse(
    op: str, entries: list[Entry], pause: Callable[[], object] = _go_on
) -> list[tuple[Any, ...]]:
    """The parameter tuples one statement applies: one per key (PostgreSQL will not touch a
    row twice in one statement); the last one wins, except for order updates (folded)."""
    if op == UPDATE:
        return fold_updates(entries, pause)
    keys = _UNIQUE[op]
    latest: dict[Any, tuple[Any, ...]] = {}
    for entry in _paced(entries, pause):
        row = entry.row
        assert row is not None
        latest[tuple(row[k] for k in keys)] = entry.values
    return list(latest.values())


def fold_updates(
    entries: list[Entry], pause: Callable[[], object] = _go_on
) -> list[tuple[Any, ...]]:
    """One row per order, as applying the updates one by one would leave it."""
    folded: dict[str, Row] = {}
    for entry in _paced(entries, pause):
        row = entry.row
        assert row is not None
        key = row["client_order_id"]
        current = folded.get(key)
        if current is None:
            folded[key] = row
            continue
        reopen = current["status"] in FINAL and row["status"] not in TERMINAL
        if reopen or row["updated_at"] < current["updated_at"]:
            continue
        merged = dict(row)
        if merged["order_id"] is None:
            merged["order_id"] = current["order_id"]
        merged["created_at"] = current["created_at"]
        folded[key] = merged
    keys = ROW_KEYS[UPDATE]
    return [tuple(row[k] for k in keys) for row in _paced(folded.values(), pause)]


def _keys(entries: Iterable[Entry], op: str, key: str) -> list[str]:
    return [e.row[key] for e in entries if e.op == op and e.row is not None]


def _existing(conn: Connection, column: sa.Column[Any], keys: list[str]) -> set[str]:
    found: set[str] = set()
    unique = sorted(set(keys))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        found.update(conn.execute(sa.select(column).where(column.in_(chunk))).scalars())
    return found
