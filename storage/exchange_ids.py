"""Ids the exchange gave, as the ledger keys rows by them: a repeat is news only when it differs.

A fill is booked once per ``trade_id`` and an order row holds its exchange ``order_id``,
unique in the ledger. But one ledger can outlive an exchange (the built-in one starts anew
with each run; an account can move between environments), so the same id can come back
meaning something else. Such a repeat is neither dropped nor allowed to fail the write
(the ledger would halt trading for good): a fill with another content is kept under an
alias of its ``trade_id`` (``<trade_id>~<digest of its content>``), an order whose
``order_id`` another order holds keeps its row without it (its updates, with the id, stay
in the journal), and each such conflict is reported so the operator hears of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.journal import FILL, UPDATE, Entry, Row, make
from storage.schema import fills, orders

_CHUNK = 500
FILL_FACTS = ("order_id", "ticker", "count")  # what a fill is, whoever reported it


def _identity(row: Row | Any) -> tuple[str, ...]:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return tuple(str(get(name)) for name in FILL_FACTS)


def alias(trade_id: str, row: Row) -> str:
    """The key a fill is kept under when its ``trade_id`` already names another fill."""
    digest = hashlib.sha256("|".join(_identity(row)).encode()).hexdigest()[:12]
    return f"{trade_id}~{digest}"


def _select(conn: Connection, table: sa.Table, key: sa.Column[Any], keys: Iterable[str]) -> Any:
    unique = sorted(set(keys))
    for start in range(0, len(unique), _CHUNK):
        yield from conn.execute(sa.select(table).where(key.in_(unique[start : start + _CHUNK])))


@dataclass(slots=True)
class FillKeys:
    """The fills already booked under the keys a batch may use: fill identity by key."""

    booked: dict[str, tuple[str, ...]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, conn: Connection, entries: Sequence[Entry]) -> FillKeys:
        keys: list[str] = []
        for entry in entries:
            if entry.op == FILL and entry.row is not None:
                keys += (entry.row["trade_id"], alias(entry.row["trade_id"], entry.row))
        found = {r.trade_id: _identity(r) for r in _select(conn, fills, fills.c.trade_id, keys)}
        return cls(found)

    def place(self, entry: Entry) -> Entry | None:
        """``entry`` to write (under an alias if its id means another fill), or None: booked."""
        row = entry.row
        assert row is not None
        trade_id, identity = row["trade_id"], _identity(row)
        held = self.booked.get(trade_id)
        if held is None or held == identity:
            self.booked[trade_id] = identity
            return None if held is not None else entry
        kept_as = alias(trade_id, row)
        if kept_as in self.booked:
            return None  # this other fill was kept under its alias before
        self.booked[kept_as] = identity
        self.conflicts.append(
            f"fill id {trade_id} was booked for order {held[0]} on {held[1]} ({held[2]} "
            f"contracts) and came again for order {row['order_id']} on {row['ticker']} "
            f"({row['count']} contracts): both are kept, the second as {kept_as}"
        )
        return make(entry.journal, FILL, {**row, "trade_id": kept_as})


@dataclass(slots=True)
class OrderIds:
    """Which order holds each exchange ``order_id`` a batch's updates name."""

    holders: dict[str, str] = field(default_factory=dict)  # order_id → client_order_id
    conflicts: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, conn: Connection, entries: Sequence[Entry]) -> OrderIds:
        ids = [
            e.row["order_id"]
            for e in entries
            if e.op == UPDATE and e.row is not None and e.row["order_id"]
        ]
        rows = _select(conn, orders, orders.c.order_id, ids)
        return cls({r.order_id: r.client_order_id for r in rows})

    def claim(self, entry: Entry) -> Entry:
        """``entry``, without its ``order_id`` when another order holds that id already."""
        row = entry.row
        assert row is not None
        order_id, coid = row["order_id"], row["client_order_id"]
        if not order_id:
            return entry
        holder = self.holders.setdefault(order_id, coid)
        if holder == coid:
            return entry
        self.conflicts.append(
            f"exchange order id {order_id} is already recorded for order {holder}; order "
            f"{coid} was given it too: its row is kept without the id (its updates, with "
            "the id, are in the journal)"
        )
        return make(entry.journal, UPDATE, {**row, "order_id": None})
