"""The index prints the spot feed kept in the ledger, as a warm-up source for the next start.

The feed sends them in small batches (``IndexPrints``, one print a second) that the
ledger journals like any event; the journal's (kind, ts) index finds the recent ones.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import orjson
import sqlalchemy as sa

from marketdata.backfill import Print, SourceUnavailable
from messages.market_data import IndexPrints
from storage.database import Database
from storage.migrate import reason_of
from storage.schema import journal


class LedgerPrints:
    """The prints recorded in the ledger's journal."""

    name = "the ledger"

    def __init__(self, database: Database) -> None:
        self.database = database

    def prints(self, index_id: str, since: float) -> list[Print]:
        stmt = (
            sa.select(journal.c.payload)
            .where(
                journal.c.kind == IndexPrints.type,
                journal.c.ts >= since,
                journal.c.ref == index_id,
            )
            .order_by(journal.c.ts, journal.c.seq)
        )
        try:
            with self.database.engine.connect() as conn:
                payloads = list(conn.execute(stmt).scalars())
        except sa.exc.SQLAlchemyError as exc:
            raise SourceUnavailable(f"cannot be read ({reason_of(exc)})") from None
        found: list[Print] = []
        for payload in payloads:
            found.extend(_prints_of(payload))
        return found


def _prints_of(payload: str) -> list[Print]:
    """A journaled batch's prints; a row that is not one (damaged, foreign) gives none."""
    try:
        raw = orjson.loads(payload).get("prints")
        return [(float(ts), Decimal(value)) for ts, value in raw]
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError, InvalidOperation):
        return []
