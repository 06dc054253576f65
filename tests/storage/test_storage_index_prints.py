"""The index prints kept in the ledger, read back as a warm-up source."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from marketdata.backfill import SourceUnavailable
from messages.market_data import IndexPrints
from storage import Database
from storage.index_prints import LedgerPrints
from storage.journal import encode
from storage.schema import journal
from storage.writer import LedgerWriter
from tests.storage.backends import Backend

T0 = 1_780_000_200.0


def batch(index: str, start: float, n: int) -> IndexPrints:
    prints = tuple((start + i, D("74.5") + D(i) / 1000) for i in range(n))
    return IndexPrints(index, prints, prints[-1][0])


def keep(db: Database, *batches: IndexPrints) -> None:
    entries = [encode(b, T0 + 100) for b in batches]
    LedgerWriter(db).write([e for e in entries if e is not None])


def test_recent_batches_of_the_index_are_read_back_oldest_first(database: Database) -> None:
    keep(database, batch("SOLUSD_RTI", T0 - 400, 5), batch("SOLUSD_RTI", T0, 5))
    keep(database, batch("SOLUSD_RTI", T0 + 5, 5), batch("BRTI", T0, 5))
    found = LedgerPrints(database).prints("SOLUSD_RTI", T0 - 1)
    assert found == [(T0 + i, D("74.5") + D(i % 5) / 1000) for i in range(10)]
    assert LedgerPrints(database).prints("ETHUSD_RTI", 0) == []


def test_a_damaged_row_gives_no_prints_and_stops_nothing(database: Database) -> None:
    keep(database, batch("SOLUSD_RTI", T0, 3))
    with database.engine.begin() as conn:
        conn.execute(
            sa.insert(journal).values(
                ts=T0 + 10, recorded_at=T0, kind="index_prints", ref="SOLUSD_RTI", payload="{"
            )
        )
    assert len(LedgerPrints(database).prints("SOLUSD_RTI", T0 - 1)) == 3


def test_an_unreadable_ledger_is_a_source_that_cannot_answer(backend: Backend) -> None:
    db = backend.open()  # never prepared: no journal table
    try:
        with pytest.raises(SourceUnavailable, match="cannot be read"):
            LedgerPrints(db).prints("SOLUSD_RTI", 0)
    finally:
        db.dispose()
