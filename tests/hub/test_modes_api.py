"""Issue 18's rough edges through the API: history per mode (``?mode=``), ``since`` in every
form, one format for numbers on every surface, ``canceled`` and "filled 5 of 22"."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from hub.store import HubStore
from messages.formats import MONEY_FIELDS, RATIO_FIELDS
from messages.trading import Fill, OrderUpdate
from messages.vocabulary import OrderStatus
from runtime.bus import BOOK, FILLS, MARKETS, ORDERS, SIGNALS, STATUS
from storage import Database, open_database, prepare
from storage.export import main as export_main
from storage.history import LedgerHistory
from storage.journal import daily_row, encode, positions_rows
from storage.schema import Scope
from storage.writer import LedgerWriter
from tests.hub import fakes
from tests.hub.conftest import Harness, StartHub
from tests.hub.wsclient import next_message

pytestmark = pytest.mark.anyio

FIXED = re.compile(r"^-?\d+\.\d{4,6}$")  # Kalshi's fixed-point dollars
WEB = Path(__file__).resolve().parents[2] / "web"


def _partial_ioc(now: float) -> list[Any]:
    """An IOC for 22 that took 5 and was canceled, at a price with noise in its digits."""
    fill = Fill(
        "t-ioc", "ex-ioc", "c-ioc", fakes.TICKER, "yes", "buy", 5, D("0.61"),
        D("0.03227608000"), True, now - 1, "kelly_volatility",
    )  # fmt: skip
    done = OrderUpdate(
        "c-ioc", "ex-ioc", fakes.TICKER, "yes", "buy", OrderStatus.CANCELED, 5, 0, D("0.61"),
        "kelly_volatility", now, fees=D("0.03227608000"), count=22,
    )  # fmt: skip
    return [fill, done]


@pytest.fixture
def ledger(tmp_path: Path) -> Any:
    db = open_database(f"sqlite:///{tmp_path / 'sol15-sim.db'}", scope=Scope.of("sim", "prod"))
    prepare(db)
    yield db
    db.dispose()


def _checked(value: Any, where: str, found: list[str]) -> None:
    """Every money field a fixed-point string, every ratio a number, all the way down."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list):
                _checked(item, f"{where}.{key}", found)
            elif key in MONEY_FIELDS and item is not None:
                assert isinstance(item, str) and FIXED.match(item), (f"{where}.{key}", item)
                found.append(f"{where}.{key}")
            elif key in RATIO_FIELDS and item is not None:
                assert type(item) in (int, float), (f"{where}.{key}", item)
    elif isinstance(value, list):
        for item in value:
            _checked(item, where, found)


async def _get(session: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
    async with session.get(path) as response:
        return response.status, await response.json()


def _hub(start_hub: StartHub, ledger: Database) -> Harness:
    now = 1_780_000_000.0
    events = [fakes.signal(now - 5), fakes.decision(now - 5), *_partial_ioc(now)]
    LedgerWriter(ledger).write([e for e in (encode(m, now) for m in events) if e is not None])
    return start_hub(store=HubStore(reader=LedgerHistory(ledger)))


async def test_money_is_fixed_point_and_ratios_are_numbers_on_every_surface(
    start_hub: StartHub, ledger: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = _hub(start_hub, ledger)
    now = hub.clock.now()
    status = fakes.risk_status(pnl="10.38720987654320987654320988", now=now)
    LedgerWriter(ledger).write([positions_rows(status), daily_row(status)])
    hub.publish(STATUS, status)
    hub.publish(MARKETS, fakes.market(now))
    hub.publish(BOOK, fakes.book(now))
    hub.settle()
    frames: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(hub.url) as session:
        async with session.ws_connect("/ws") as ws:
            await next_message(ws, "status_update", seen=frames)
            hub.publish(SIGNALS, fakes.signal(now))
            await next_message(ws, "trading_signal", seen=frames)
            for message in _partial_ioc(now):
                hub.publish(FILLS if isinstance(message, Fill) else ORDERS, message)
            await next_message(ws, "trade_execution", lambda d: d["kind"] == "order", seen=frames)
        bodies = {path: (await _get(session, path))[1] for path in (
            "/api/status", "/api/trades", "/api/signals", "/api/positions", "/api/dashboard",
        )}  # fmt: skip
    assert bodies["/api/status"]["risk_metrics"]["daily_pnl"] == "10.38721"
    assert bodies["/api/trades"]["trades"][0]["fee"] == "0.032276"
    assert bodies["/api/signals"]["signals"][0]["model_prob"] == 0.652
    for path, body in {**bodies, "ws": frames}.items():
        found: list[str] = []
        _checked(body, path, found)
        assert found, f"{path}: no money field seen"
    db = ledger.url.database
    assert export_main(["--db", f"sqlite:///{db}", "--since", "0", "--format", "json"]) == 0
    exported: list[str] = []
    _checked(orjson.loads(capsys.readouterr().out), "export", exported)
    assert {"export.fills.fee", "export.trades.fees"} <= set(exported)
    assert export_main(["--db", f"sqlite:///{db}", "--since", "0", "--format", "csv"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (row["price"], row["fee"], row["mode"]) == ("0.6100", "0.032276", "sim")


async def test_a_partial_ioc_reads_filled_5_of_22_and_keeps_kalshis_status(
    start_hub: StartHub, ledger: Database
) -> None:
    hub = _hub(start_hub, ledger)
    async with aiohttp.ClientSession(hub.url) as session:
        async with session.ws_connect("/ws") as ws:
            await next_message(ws, "status_update")
            hub.publish(ORDERS, _partial_ioc(hub.clock.now())[1])
            frame = await next_message(ws, "trade_execution")
        _, body = await _get(session, "/api/trades")
    [order] = body["trades"]
    assert (order["status"], order["status_text"], order["quantity"]) == (
        "canceled",
        "filled 5 of 22",
        22,
    )
    assert (frame["status"], frame["status_text"], frame["quantity"]) == (
        "canceled",
        "filled 5 of 22",
        22,
    )
    assert "t.status_text || t.status" in (WEB / "app.js").read_text()  # the trades table


async def test_the_memory_history_says_filled_5_of_22_too(hub: Harness) -> None:
    for message in _partial_ioc(hub.clock.now()):
        hub.publish(FILLS if isinstance(message, Fill) else ORDERS, message)
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        _, body = await _get(session, "/api/trades")
    assert [(t["status"], t["status_text"]) for t in body["trades"]] == [
        ("canceled", "filled 5 of 22")
    ]


async def test_order_counts_are_spelled_canceled_everywhere(
    start_hub: StartHub, ledger: Database
) -> None:
    hub = _hub(start_hub, ledger)
    async with aiohttp.ClientSession(hub.url) as session, session.get("/api/status") as response:
        text = await response.text()
    assert orjson.loads(text)["orders"]["canceled"] == 1
    assert "cancelled" not in text
    for page in ("app.js", "index.html"):
        assert "cancelled" not in (WEB / page).read_text(), page


@pytest.mark.parametrize("path", ["/api/trades", "/api/signals"])
async def test_since_takes_a_date_a_zoned_time_or_unix_seconds(
    start_hub: StartHub, ledger: Database, path: str
) -> None:
    hub = _hub(start_hub, ledger)  # its rows are from 2026-05-28
    async with aiohttp.ClientSession(hub.url) as session:
        for since, count in [
            ("2026-01-01", 1),
            ("2026-01-01T00:00:00Z", 1),
            ("2026-05-28T21:00:00%2B02:00", 1),
            ("1767225600", 1),
            ("2027-01-01", 0),
        ]:
            status, body = await _get(session, f"{path}?since={since}")
            assert (status, body["count"]) == (200, count), (since, body)
        for bad in ("yesterday", "2026-01-01T00:00:00", "-1"):
            status, body = await _get(session, f"{path}?since={bad}")
            assert status == 400 and body["error"]["message"].startswith("since "), body


async def test_history_shows_the_current_mode_unless_asked(
    start_hub: StartHub, ledger: Database
) -> None:
    now = 1_780_000_100.0
    paper = dataclasses.replace(ledger, scope=Scope.of("paper", "demo"))
    entries = [encode(m, now) for m in (fakes.signal(now, "sig-p"), fakes.order_update(now))]
    LedgerWriter(paper).write([e for e in entries if e is not None])
    hub = _hub(start_hub, ledger)  # the bot runs in sim

    async def listed(path: str, key: str) -> list[tuple[str, str]]:
        status, body = await _get(session, path)
        assert status == 200, body
        return [
            (item[key], item["mode"]) for item in body[path.split("?", maxsplit=1)[0].split("/")[2]]
        ]

    async with aiohttp.ClientSession(hub.url) as session:
        assert await listed("/api/trades", "trade_id") == [("c-ioc", "sim")]
        assert await listed("/api/trades?mode=paper", "trade_id") == [("c-1", "paper")]
        assert len(await listed("/api/trades?mode=all", "trade_id")) == 2
        assert await listed("/api/signals?mode=paper", "signal_id") == [("sig-p", "paper")]
        assert await listed("/api/signals", "signal_id") == [("sig-1", "sim")]
        status, body = await _get(session, "/api/trades?mode=demo")
        assert status == 400 and "mode must be one of all, live, paper, sim" in str(body)
        status, body = await _get(session, "/api/status")
    assert body["orders"]["total"] == 1  # this mode's orders
