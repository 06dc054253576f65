"""What a restarted actor reads back from the ledger before it reconciles with the exchange."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa

from messages.trading import Fill, OrderIntent
from messages.vocabulary import Action, Side, TimeInForce
from storage.database import Database
from storage.errors import LedgerUnavailable
from storage.intent_file import read_intent_records
from storage.journal import fields_of
from storage.migrate import reason_of
from storage.risk_state import SavedRisk
from storage.schema import controls, fills, of_mode, orders, risk_state, settlements
from storage.writer import TERMINAL

T = TypeVar("T")
_CHUNK = 500
WAL_WINDOW = 7 * 86_400  # intents older than this are settled (recovery reads no further back)


@dataclass(frozen=True, slots=True)
class LedgerOrder:
    """An order as the ledger last recorded it."""

    client_order_id: str
    order_id: str | None
    signal_id: str
    strategy_name: str
    ticker: str
    side: Side
    action: Action
    quantity: int
    price: Decimal
    time_in_force: TimeInForce
    reduce_only: bool
    status: str
    filled: int
    remaining: int
    created_at: float
    in_orders: bool = True  # False: only in the write-ahead log (the bus copy was lost)
    reason: str = ""  # why it is in its state (e.g. why its outcome is unknown)

    def intent(self) -> OrderIntent:
        return OrderIntent(
            client_order_id=self.client_order_id,
            signal_id=self.signal_id,
            strategy_name=self.strategy_name,
            ticker=self.ticker,
            side=self.side,
            action=self.action,
            count=self.quantity,
            price=self.price,
            time_in_force=self.time_in_force,
            reduce_only=self.reduce_only,
            created_at=self.created_at,
        )


def _order(row: Any) -> LedgerOrder:
    return LedgerOrder(
        client_order_id=row.client_order_id,
        order_id=row.order_id,
        signal_id=row.signal_id or "",
        strategy_name=row.strategy_name or "",
        ticker=row.ticker or "",
        side=row.side or "yes",
        action=row.action or "buy",
        quantity=int(row.quantity or 0),
        price=Decimal(row.price or "0"),
        time_in_force=row.time_in_force or "good_till_canceled",
        reduce_only=bool(row.reduce_only),
        status=row.status,
        filled=int(row.filled),
        remaining=int(row.remaining),
        created_at=float(row.created_at),
        reason=row.reason or "",
    )


def _from_intent(payload: str | bytes) -> LedgerOrder:
    """An intent only the write-ahead log holds, as a pending order."""
    body = orjson.loads(payload)
    return LedgerOrder(
        client_order_id=body["client_order_id"],
        order_id=None,
        signal_id=body["signal_id"],
        strategy_name=body["strategy_name"],
        ticker=body["ticker"],
        side=body["side"],
        action=body["action"],
        quantity=int(body["count"]),
        price=Decimal(body["price"]),
        time_in_force=body["time_in_force"],
        reduce_only=bool(body["reduce_only"]),
        status="pending",
        filled=0,
        remaining=int(body["count"]),
        created_at=float(body["created_at"]),
        in_orders=False,
    )


def _read(db: Database, what: str, query: Callable[[sa.Connection], T]) -> T:
    try:
        with db.engine.connect() as conn:
            return query(conn)
    except sa.exc.SQLAlchemyError as exc:
        raise LedgerUnavailable(f"cannot read {what} from the ledger: {reason_of(exc)}") from None


def _wal(db: Database) -> list[LedgerOrder]:
    """The write-ahead log's intents, oldest first, each once."""
    found: dict[str, LedgerOrder] = {}
    for payload in read_intent_records(db.intents_path):
        try:
            order = _from_intent(payload)
        except (ValueError, KeyError, ArithmeticError):  # not one of ours: skip, never crash
            continue
        found.setdefault(order.client_order_id, order)
    return sorted(found.values(), key=lambda o: (o.created_at, o.client_order_id))


def _in_orders(conn: sa.Connection, client_order_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(client_order_ids), _CHUNK):
        chunk = client_order_ids[start : start + _CHUNK]
        stmt = sa.select(orders.c.client_order_id).where(orders.c.client_order_id.in_(chunk))
        found.update(conn.execute(stmt).scalars())
    return found


def open_orders(db: Database, now: float | None = None) -> list[LedgerOrder]:
    """Orders the ledger does not know to be finished, oldest first, then the write-ahead log's
    intents of the last :data:`WAL_WINDOW` seconds before ``now`` that ``orders`` lacks (their
    bus copy died with the process)."""
    since = (time.time() if now is None else now) - WAL_WINDOW
    unlogged = [o for o in _wal(db) if o.created_at >= since]

    def query(conn: sa.Connection) -> list[LedgerOrder]:
        stmt = (
            sa.select(orders)
            .where(orders.c.status.not_in(TERMINAL), of_mode(orders, db.scope.mode))
            .order_by(orders.c.created_at, orders.c.client_order_id)
        )
        found = [_order(row) for row in conn.execute(stmt)]
        logged = _in_orders(conn, [o.client_order_id for o in unlogged])
        return found + [o for o in unlogged if o.client_order_id not in logged]

    return _read(db, "open orders", query)


def orders_by_id(db: Database, client_order_ids: Iterable[str]) -> dict[str, LedgerOrder]:
    """The ledger's record of each of these orders that it knows, whatever its state."""
    wanted = sorted(set(client_order_ids))

    def query(conn: sa.Connection) -> dict[str, LedgerOrder]:
        found: dict[str, LedgerOrder] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            stmt = sa.select(orders).where(orders.c.client_order_id.in_(chunk))
            found.update((row.client_order_id, _order(row)) for row in conn.execute(stmt))
        return found

    if not wanted:
        return {}
    found = _read(db, "orders", query)
    missing = {coid for coid in wanted if coid not in found}
    if missing:
        found.update((o.client_order_id, o) for o in _wal(db) if o.client_order_id in missing)
    return found


def last_fill_ts(db: Database) -> float | None:
    """The time of the newest fill the ledger holds (None if it holds none)."""

    def query(conn: sa.Connection) -> float | None:
        stmt = sa.select(sa.func.max(fills.c.ts)).where(of_mode(fills, db.scope.mode))
        value = conn.execute(stmt).scalar()
        return None if value is None else float(value)

    return _read(db, "the last fill", query)


def load_risk(db: Database, account: str) -> SavedRisk | None:
    """The risk engine's last saved state for ``account`` (None if it has none)."""

    def query(conn: sa.Connection) -> SavedRisk | None:
        stmt = sa.select(risk_state.c.state).where(risk_state.c.account == account)
        text = conn.execute(stmt).scalar()
        return None if text is None else SavedRisk.from_json(text)

    return _read(db, "the risk state", query)


def load_controls(db: Database, prefix: str = "") -> dict[str, str]:
    """The operator's switches whose names start with ``prefix``: name → JSON value."""

    def query(conn: sa.Connection) -> dict[str, str]:
        stmt = sa.select(controls.c.name, controls.c.value)
        if prefix:
            stmt = stmt.where(controls.c.name.startswith(prefix, autoescape=True))
        return {row.name: row.value for row in conn.execute(stmt)}

    return _read(db, "the operator's switches", query)


def _fill(row: Any) -> Fill:
    return Fill(**fields_of(row, fills, ts="timestamp"))


def strategy_fills(db: Database, strategy_name: str, since: float) -> list[Fill]:
    """``strategy_name``'s fills since ``since`` in markets the ledger has not seen settle,
    oldest first: what it still holds, for a strategy rebuilding its positions."""

    def query(conn: sa.Connection) -> list[Fill]:
        settled = sa.select(settlements.c.ticker)
        stmt = (
            sa.select(fills)
            .where(
                fills.c.strategy_name == strategy_name,
                fills.c.ts >= since,
                fills.c.ticker.not_in(settled),
                of_mode(fills, db.scope.mode),  # a shared ledger: not another mode's fills
            )
            .order_by(fills.c.ts, fills.c.trade_id)
        )
        return [_fill(row) for row in conn.execute(stmt)]

    return _read(db, f"the fills of {strategy_name}", query)
