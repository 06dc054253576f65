"""The hub's history endpoints and order counts read the ledger (SQLite and PostgreSQL).

The ledger holds a previous session (``tests.storage.sample_history``); the hub starts
with an empty memory, so everything it shows comes from the database.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import aiohttp
import pytest

from hub.inputs import MAX_OFFSET
from hub.store import HubStore
from messages.trading import OrderIntent
from storage import Database
from storage.history import LedgerHistory
from storage.journal import encode
from storage.writer import LedgerWriter
from tests.hub.conftest import StartHub
from tests.storage.backends import Backend, backend, database
from tests.storage.sample_history import T0, write_to_ledger

__all__ = ["backend", "database"]

pytestmark = pytest.mark.anyio


async def _get(session: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
    async with session.get(path) as response:
        return response.status, await response.json()


async def _ids(
    session: aiohttp.ClientSession, path: str, key: str = "client_order_id"
) -> list[str]:
    status, body = await _get(session, path)
    assert status == 200, body
    listed = body["trades"] if "trades" in body else body["signals"]
    assert body["count"] == len(listed)
    return [item[key] for item in listed]


async def test_history_endpoints_and_counts_come_from_the_ledger(
    start_hub: StartHub, database: Database
) -> None:
    write_to_ledger(database)
    hub = start_hub(store=HubStore(reader=LedgerHistory(database)))
    async with aiohttp.ClientSession(hub.url) as session:
        assert await _ids(session, "/api/trades") == ["c6", "c5", "c3", "c1"]
        assert await _ids(session, "/api/trades?limit=2&offset=2") == ["c3", "c1"]
        assert await _ids(session, "/api/trades?status=filled") == ["c1"]
        assert await _ids(session, "/api/trades/active") == ["c6", "c5"]
        assert await _ids(session, "/api/signals?status=rejected", "signal_id") == ["s2"]
        status, found = await _get(session, "/api/positions")
        assert status == 200
        assert [(p["ticker"], p["contracts"]) for p in found["positions"]] == [
            ("KX-1", 3),
            ("KX-0", 1),
        ]
        status, body = await _get(session, "/api/status")
        assert body["orders"] == {
            "active": 2,
            "filled": 1,
            "canceled": 0,
            "rejected": 1,
            "total": 4,
        }

        # A new order reaches the status at the hub's next re-read of the counts.
        intent = OrderIntent(
            "c7",
            "s7",
            "kelly_volatility",
            "KX-1",
            "yes",
            "buy",
            1,
            D("0.4"),
            "good_till_canceled",
            created_at=T0 + 20,
        )
        entry = encode(intent, T0 + 20)
        assert entry is not None
        LedgerWriter(database).write([entry])
        hub.clock.advance(hub.config.counts_interval)
        hub.settle()
        _, body = await _get(session, "/api/status")
        assert (body["orders"]["total"], body["orders"]["active"]) == (5, 3)


async def test_an_unreadable_ledger_is_a_503_and_the_hub_keeps_running(
    start_hub: StartHub, backend: Backend, database: Database
) -> None:
    write_to_ledger(database)
    hub = start_hub(store=HubStore(reader=LedgerHistory(database)))
    async with aiohttp.ClientSession(hub.url) as session:
        backend.run_sql("ALTER TABLE orders RENAME TO orders_away")
        for path in ("/api/trades", "/api/trades/active", "/api/trades/c1/cancel"):
            if path.endswith("cancel"):
                async with session.post(path) as response:
                    status, body = response.status, await response.json()
            else:
                status, body = await _get(session, path)
            assert status == 503, body
            assert body["error"]["code"] == "history_unavailable"
        status, _ = await _get(session, "/api/positions")  # its own table: still readable
        assert status == 200
        hub.clock.advance(hub.config.counts_interval)
        hub.settle()
        status, body = await _get(session, "/api/status")
        assert status == 200
        assert body["orders"]["total"] == 4  # the last counts read, not zeros

        backend.run_sql("ALTER TABLE orders_away RENAME TO orders")
        assert await _ids(session, "/api/trades?limit=1") == ["c6"]


async def test_an_offset_beyond_its_bound_is_a_400_naming_it(
    start_hub: StartHub, database: Database
) -> None:
    """A huge offset used to overflow the database's integer: a 500 instead of an answer."""
    write_to_ledger(database)
    hub = start_hub(store=HubStore(reader=LedgerHistory(database)))
    async with aiohttp.ClientSession(hub.url) as session:
        for path in ("/api/trades", "/api/signals"):
            for offset in (MAX_OFFSET + 1, 10**20):
                status, body = await _get(session, f"{path}?offset={offset}")
                assert status == 400, (path, offset, body)
                assert body["error"]["code"] == "invalid_parameter"
                assert body["error"]["message"] == f"offset must be between 0 and {MAX_OFFSET}"
            status, body = await _get(session, f"{path}?offset={MAX_OFFSET}")
            assert (status, body["count"]) == (200, 0)
