"""SIGKILL the bot while it trades, again and again; the ledger and the exchange must agree.

The simulated exchange runs in its own process with 60 s markets, 200 ms of added
latency on every REST call (an order request is in flight for a while) and one order
answer in five lost after the order was made (the client retries and looks it up). The bot
(``run.py --mode sim`` against it, a SQLite ledger in a temporary folder) is killed at
seeded random moments — half of them the instant a new intent appears in the ledger's
write-ahead log (plus up to 350 ms), that is between the intent and the exchange's
acknowledgement — and
started again. At the end: every exchange order is in the ledger once, in the exchange's
state; every exchange fill is in the ledger once; no intent is left pending (those the
exchange never received are ``failed``); and the day's starting equity, hence the daily
P&L and its loss limit, carried on through every restart.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.sim_process import exchange_process
from kalshi.auth import Signer
from kalshi.rest import KalshiRestClient
from tests.crash.harness import Bot, LedgerFile, money, poll

SEED = 20260528
KILLS = 12
LATENCY_MS = 200
LOST_ANSWERS = 0.2


def _all(fetch: Any) -> list[Any]:
    items: list[Any] = []
    cursor = None
    for _ in range(100):
        page = fetch(cursor)
        items.extend(page.items)
        if page.cursor is None or page.cursor == cursor:
            break
        cursor = page.cursor
    return items


def _exchange(sim: dict[str, str]) -> tuple[list[Any], list[Any]]:
    signer = Signer.from_file(sim["KALSHI_API_KEY"], sim["KALSHI_PRIVATE_KEY_PATH"])
    with KalshiRestClient(sim["KALSHI_API_BASE"], signer, rate_limit=False, timeout=30) as rest:
        orders = _all(lambda c: rest.get_orders(limit=200, cursor=c))
        fills = _all(lambda c: rest.get_fills(limit=200, cursor=c))
    return orders, fills


def _wait(seconds: float) -> None:
    """Let the bot run this long (the kill moment; the bot is another process)."""
    deadline = time.monotonic() + seconds
    poll(lambda: True if time.monotonic() >= deadline else None, seconds + 5, "the kill moment")


def _today() -> str:
    return datetime.now(tz=UTC).date().isoformat()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigkills_while_trading_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    ledger = LedgerFile(tmp_path / "ledger.db")
    url = f"sqlite:///{ledger.path}"
    started = time.monotonic()
    with exchange_process(
        tmp_path / "exchange", "--window-seconds", "60", "--seed", str(SEED % 1000)
    ) as sim:
        control = sim["KALSHI_API_BASE"].split("/trade-api")[0]
        faults = {"latency_ms": LATENCY_MS, "lost_response_rate": LOST_ANSWERS}
        httpx.post(f"{control}/sim/faults", json=faults, timeout=10).raise_for_status()
        day = _today()
        starts: list[Any] = []
        mid_request: list[str] = []  # intents killed between write-ahead and acknowledgement
        for kill in range(KILLS):
            bot = Bot(sim, url, tmp_path)
            try:
                bot.wait_ready()
                starts.append(money(bot.risk()["starting_bankroll"]))
                known = ledger.intents()
                if kill % 2 == 0:  # the moment a new intent is written: its request is in flight
                    fresh = poll(
                        lambda known=known: (ledger.intents() - known) or None,
                        # more than a whole 60-s window: a start in a window's last 30 s
                        # (no new entries there) waits for the next window to open
                        timeout=90,
                        what="a new intent",
                        every=0.005,
                    )
                    _wait(rng.uniform(0.0, 0.35))
                    bot.kill()
                    mid_request.extend(sorted(fresh))
                else:  # anywhere
                    _wait(rng.uniform(0.5, 6.0))
                    bot.kill()
            finally:
                bot.ensure_dead()
        # a last start reconciles; an orderly stop cancels what rests and writes everything
        bot = Bot(sim, url, tmp_path)
        try:
            bot.wait_ready()
            starts.append(money(bot.risk()["starting_bankroll"]))
            poll(
                lambda: True if not ledger.unsettled() else None,
                timeout=30,
                what="the open intents to be settled",
                every=0.1,
            )
            assert bot.terminate() == 0, bot.stderr.tail()
        finally:
            bot.ensure_dead()
        exchange_orders, exchange_fills = _exchange(sim)

    # every exchange order is in the ledger once, in the exchange's state
    rows = {
        coid: (order_id, status, filled)
        for coid, order_id, status, filled in ledger.query(
            "SELECT client_order_id, order_id, status, filled FROM orders"
        )
    }
    assert exchange_orders, "the bot never traded: nothing was tested"
    assert len({o.client_order_id for o in exchange_orders}) == len(exchange_orders)
    for order in exchange_orders:
        assert rows.get(order.client_order_id) == (
            order.order_id,
            order.status,
            int(order.fill_count),
        ), order
    # orders the exchange never received were marked so; no intent is left open or unlogged
    at_exchange = {o.client_order_id for o in exchange_orders}
    never_sent = {coid: status for coid, (_, status, _) in rows.items() if coid not in at_exchange}
    assert set(never_sent.values()) <= {"failed", "rejected"}, never_sent
    assert ledger.intents() <= set(rows)
    # every exchange fill is in the ledger once (and journaled once)
    booked = Counter(t for (t,) in ledger.query("SELECT trade_id FROM fills"))
    assert booked == Counter(f.trade_id for f in exchange_fills)
    journaled = Counter(r for (r,) in ledger.query("SELECT ref FROM journal WHERE kind = 'fill'"))
    assert journaled == booked
    # the day's starting equity (so the daily P&L and its loss limit) carried on
    if _today() == day:
        assert len(set(starts)) == 1, starts
        [(saved_day,)] = ledger.query("SELECT day FROM risk_state")
        assert saved_day == day
    landed = Counter(rows[c][1] if c in rows else "lost" for c in mid_request)
    print(
        f"\ncrash test: {KILLS} SIGKILLs ({len(mid_request)} intents in flight at a kill: "
        f"{dict(landed)}), {len(exchange_orders)} exchange orders, {len(exchange_fills)} fills, "
        f"{len(never_sent)} intents never received, day started at ${starts[0]}, "
        f"{time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    assert len(mid_request) >= KILLS // 2
