"""``LedgerHistory``: the hub's :class:`storage.history_api.HistoryReader`, read from the ledger.

Answers ``/api/trades``, ``/api/trades/active``, ``/api/positions`` and
``/api/signals`` with the same dict shapes as the bus-fed ``MemoryHistory``, but
from the database: the whole history, not the last few thousand events, and it
survives restarts. Readers run on the hub's executor threads; each call takes a
pooled connection (WAL: readers never wait for the ledger's writes).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from loguru import logger

from messages.formats import money, normalize_row, status_text
from messages.status import Position
from storage.database import Database
from storage.history_api import (
    ACTIVE,
    STATUS_ALIASES,
    HistoryQuery,
    HistoryUnavailable,
    OrderCounts,
    SignalQuery,
    TradeQuery,
)
from storage.migrate import reason_of
from storage.schema import fills, of_mode, orders, positions, row_columns, signals
from storage.writer import TERMINAL


@dataclass(frozen=True, slots=True)
class SessionCounts:
    """A session's work as the ledger recorded it (the summary printed at shutdown)."""

    signals: int
    orders: int
    filled_orders: int
    fills: int


_MAX_LIMIT = 10_000


_FILL_COLUMNS = row_columns(fills)
_POSITION_FIELDS = tuple(f.name for f in dataclasses.fields(Position))  # the table mirrors them


def _fill_dict(row: Any) -> dict[str, Any]:
    """A fill as ``hub.wire.plain(Fill)`` gives it: the table's ``ts`` is its ``timestamp``."""
    found = {"timestamp" if c == "ts" else c: row._mapping[c] for c in _FILL_COLUMNS}
    found["is_taker"] = bool(found["is_taker"])
    return found


def _order_dict(row: Any, order_fills: list[dict[str, Any]]) -> dict[str, Any]:
    """An order as ``MemoryHistory`` shows it (``trade_id`` is the client order id)."""
    booked = sum(int(f["count"]) for f in order_fills)
    filled = max(int(row.filled), booked)
    quantity = max(int(row.quantity or 0), int(row.filled) + int(row.remaining))
    remaining = 0 if row.status in TERMINAL else max(0, min(int(row.remaining), quantity - filled))
    avg = None
    fill_fees = money(0)
    updated = float(row.updated_at)
    if order_fills:
        cost = sum((Decimal(f["price"]) * int(f["count"]) for f in order_fills), Decimal(0))
        avg = money(cost / booked) if booked else None
        fill_fees = money(sum((Decimal(f["fee"]) for f in order_fills), Decimal(0)))
        updated = max([updated, *(float(f["timestamp"]) for f in order_fills)])
    created = float(row.created_at) if row.origin == "intent" else None
    strategy = row.strategy_name or next(
        (f["strategy_name"] for f in order_fills if f["strategy_name"]), ""
    )
    return {
        "trade_id": row.client_order_id,
        "client_order_id": row.client_order_id,
        "order_id": row.order_id,
        "signal_id": row.signal_id,
        "ticker": row.ticker or "",
        "side": row.side or "",
        "action": row.action or "",
        "quantity": quantity,
        "filled": filled,
        "remaining": remaining,
        "price": row.price,
        "avg_fill_price": avg,
        "fee": row.fees,
        "fill_fees": fill_fees,
        "status": row.status or "pending",
        "status_text": status_text(row.status or "pending", filled, quantity),
        "strategy_name": strategy,
        "reason": row.reason,
        "mode": row.mode,
        "env": row.env,
        "created_at": created,
        "updated_at": updated,
        "timestamp": float(row.created_at),
        "fills": order_fills,
    }


def _payload(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    body: dict[str, Any] = orjson.loads(text)
    body.pop("type", None)
    return body


def _limit(value: int) -> int:
    return max(0, min(int(value), _MAX_LIMIT))


def _newest_first(stmt: Any, ts: Any, key: Any, query: HistoryQuery) -> Any:
    """The query's page: newest first (``key`` breaks ties), ``offset`` matches skipped."""
    ordered = stmt.order_by(ts.desc(), key.desc())
    return ordered.limit(_limit(query.limit)).offset(max(0, query.offset))


class LedgerHistory:
    """Implements ``storage.history_api.HistoryReader`` (plus ``counts``) over the ledger."""

    def __init__(
        self,
        database: Database,
        active_limit: int = 5_000,
        flush: Callable[[], object] | None = None,
    ) -> None:
        self.database = database
        self.active_limit = active_limit
        # Asks the ledger to write what it holds before a read, so an order the dashboard has
        # just heard about (its event reached the hub and the ledger together) is read back
        # in its latest state, not as of the ledger's previous batch.
        self.flush = flush

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        """A pooled connection; a database error becomes ``HistoryUnavailable`` (a 503)."""
        if self.flush is not None:
            try:
                self.flush()
            except Exception as exc:  # the ledger is restarting: read what is written
                logger.debug("history: the ledger did not flush before a read: {}", exc)
        try:
            with self.database.engine.connect() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise HistoryUnavailable(reason_of(exc)) from None

    # -- orders ------------------------------------------------------------------------------

    def _mode(self, table: sa.Table, asked: str | None) -> Any:
        """The rows of the mode asked for: by default the mode the bot runs in (all of them
        for a reader that runs in none, e.g. a tool reading the ledger)."""
        return of_mode(table, asked or self.database.scope.mode)

    def _filtered(self, stmt: Any, table: sa.Table, ts: Any, query: HistoryQuery) -> Any:
        """``stmt`` narrowed to the query's mode, market, series, strategy and start."""
        stmt = stmt.where(self._mode(table, query.mode))
        if query.ticker is not None:
            stmt = stmt.where(table.c.ticker == query.ticker)
        if query.series is not None:  # an identifier (the API checks): a safe prefix
            stmt = stmt.where(table.c.ticker.startswith(f"{query.series}-", autoescape=True))
        if query.strategy is not None:
            stmt = stmt.where(table.c.strategy_name == query.strategy)
        if query.since is not None:
            stmt = stmt.where(ts >= query.since)
        return stmt

    def trades(self, query: TradeQuery) -> list[dict[str, Any]]:
        """Newest first; ``query.offset`` skips that many matches (pagination)."""
        stmt = self._filtered(sa.select(orders), orders, orders.c.created_at, query)
        if query.status:
            wanted = STATUS_ALIASES.get(query.status)
            if wanted is None:
                return []
            stmt = stmt.where(orders.c.status.in_(sorted(wanted)))
        stmt = _newest_first(stmt, orders.c.created_at, orders.c.client_order_id, query)
        with self._connect() as conn:
            rows = conn.execute(stmt).all()
            by_order = self._fills_of(conn, rows)
        return [normalize_row(_order_dict(r, by_order.get(r.client_order_id, []))) for r in rows]

    def active_orders(self) -> list[dict[str, Any]]:
        return self.trades(TradeQuery(status="active", limit=self.active_limit))

    def find_order(self, order_id: str) -> dict[str, Any] | None:
        """An order by ``client_order_id`` or exchange ``order_id``."""
        stmt = sa.select(orders).where(
            sa.or_(orders.c.client_order_id == order_id, orders.c.order_id == order_id),
            self._mode(orders, None),
        )
        with self._connect() as conn:
            row = conn.execute(stmt.limit(1)).first()
            if row is None:
                return None
            by_order = self._fills_of(conn, [row])
        return normalize_row(_order_dict(row, by_order.get(row.client_order_id, [])))

    def counts(self) -> OrderCounts:
        stmt = (
            sa.select(orders.c.status, sa.func.count())
            .where(self._mode(orders, None))
            .group_by(orders.c.status)
        )
        with self._connect() as conn:
            by_status = {status: int(n) for status, n in conn.execute(stmt)}
        return OrderCounts(
            active=sum(by_status.get(s, 0) for s in ACTIVE),
            filled=by_status.get("executed", 0),
            canceled=by_status.get("canceled", 0),
            rejected=by_status.get("rejected", 0) + by_status.get("failed", 0),
            total=sum(by_status.values()),
        )

    def session_counts(self, since: float) -> SessionCounts:
        """What happened from ``since`` on, whichever actor incarnation did it."""
        with self._connect() as conn:
            signal_count = conn.execute(
                sa.select(sa.func.count())
                .select_from(signals)
                .where(signals.c.ts >= since, self._mode(signals, None))
            ).scalar_one()
            placed, filled = conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.count().filter(orders.c.filled > 0),
                ).where(orders.c.created_at >= since, self._mode(orders, None))
            ).one()
            fill_count = conn.execute(
                sa.select(sa.func.count())
                .select_from(fills)
                .where(fills.c.ts >= since, self._mode(fills, None))
            ).scalar_one()
        return SessionCounts(int(signal_count), int(placed), int(filled), int(fill_count))

    @staticmethod
    def _fills_of(conn: sa.Connection, rows: Any) -> dict[str, list[dict[str, Any]]]:
        """Each order's fills (by client order id, or by exchange id for fills without one)."""
        found: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        coids = [r.client_order_id for r in rows]
        by_exchange_id = {r.order_id: r.client_order_id for r in rows if r.order_id}
        if not coids:
            return found
        stmt = (
            sa.select(fills)
            .where(
                sa.or_(
                    fills.c.client_order_id.in_(coids),
                    fills.c.order_id.in_(sorted(by_exchange_id)),
                )
            )
            .order_by(fills.c.ts, fills.c.trade_id)
        )
        for fill in conn.execute(stmt):
            key = fill.client_order_id or by_exchange_id.get(fill.order_id)
            if key is not None:
                found[key].append(_fill_dict(fill))
        return found

    # -- positions and signals ------------------------------------------------------------------

    def positions(self) -> list[dict[str, Any]]:
        stmt = sa.select(positions).order_by(positions.c.rank, positions.c.ticker)
        with self._connect() as conn:
            rows = conn.execute(stmt).all()
        return [normalize_row({f: getattr(r, f) for f in _POSITION_FIELDS}) for r in rows]

    def signals(self, query: SignalQuery) -> list[dict[str, Any]]:
        """Newest first, each with its risk decision (None while undecided)."""
        chosen = sa.select(
            signals.c.payload, signals.c.decision_payload, signals.c.mode, signals.c.env
        ).where(signals.c.payload.is_not(None))
        stmt = self._filtered(chosen, signals, signals.c.ts, query)
        if query.status == "pending":
            stmt = stmt.where(signals.c.approved.is_(None))
        elif query.status in ("approved", "rejected"):
            stmt = stmt.where(signals.c.approved == (query.status == "approved"))
        elif query.status is not None:
            return []
        stmt = _newest_first(stmt, signals.c.ts, signals.c.signal_id, query)
        with self._connect() as conn:
            rows = conn.execute(stmt).all()
        found = []
        for payload, decision, mode, env in rows:
            entry = _payload(payload)
            assert entry is not None
            entry["decision"] = _payload(decision)
            entry["mode"], entry["env"] = mode, env
            found.append(normalize_row(entry))
        return found
