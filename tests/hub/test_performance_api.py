"""``/api/performance`` over real HTTP, read from a ledger written by the real writer."""

from __future__ import annotations

from decimal import Decimal as D

import aiohttp
import pytest

from hub.store import HubStore
from storage import Database
from storage.journal import daily_row, encode, positions_rows
from storage.performance import LedgerPerformance
from storage.writer import LedgerWriter
from tests.accounting import seeded
from tests.accounting.test_performance import check_report
from tests.actors.test_risk_restart import database
from tests.hub.conftest import StartHub

pytestmark = pytest.mark.anyio
__all__ = ["database"]  # the fixture: a prepared SQLite ledger


def seed(db: Database) -> None:
    """The seeded session, as the LedgerActor would hand it to the writer."""
    messages, _, _ = seeded.fills_and_settlements()
    entries = [e for m in messages if (e := encode(m, seeded.T0 + 9000)) is not None]
    status = seeded.status_at_end()
    entries += [daily_row(status), positions_rows(status)]
    LedgerWriter(db).write(entries)


async def test_performance_matches_the_hand_computation_to_the_cent(
    start_hub: StartHub, database: Database
) -> None:
    seed(database)
    # the fallback bankroll is not the ledger's: the starting balance must come from the ledger
    store = HubStore(performance=LedgerPerformance(database, D(5)))
    hub = start_hub(trading=False, store=store)
    async with (
        aiohttp.ClientSession(hub.url) as session,
        session.get("/api/performance") as response,
    ):
        assert response.status == 200
        body = await response.json()
    check_report(body)


async def test_performance_refuses_parameters_and_needs_a_ledger(start_hub: StartHub) -> None:
    hub = start_hub(trading=False)
    async with aiohttp.ClientSession(hub.url) as session:
        async with session.get("/api/performance") as response:
            assert response.status == 503
            assert (await response.json())["error"]["code"] == "performance_unavailable"
        async with session.get("/api/performance?x=1") as response:
            assert response.status == 400
