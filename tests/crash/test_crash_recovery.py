"""SIGKILL the bot while it trades, again and again; after every restart the ledger and the
exchange agree exactly.

The simulated exchange runs in its own process with 60 s markets, 200 ms of added
latency on every REST call (an order request is in flight for a while) and one order
answer in five lost after the order was made (the client retries and looks it up). The bot
(``run.py --mode sim`` against it, a SQLite ledger in a temporary folder) is killed with
SIGKILL at seeded random moments, 6 times: half of them the instant a new intent appears
in the ledger's write-ahead log (plus up to 350 ms), that is between the intent and the
exchange's acknowledgement, the others at a random moment of its first 20 s. Each kind's
moments are stratified (one in each third of its range), so six kills still reach every
part of both: early, while the request is in flight, and after its answer (or its loss)
for the first kind; early, mid and late in a start for the second.

After every restart, the orders and fills the exchange held at the kill must reach the
ledger (``tests/crash/agreement.py``): each order once, in the exchange's state; each fill
once; no order marked ``rejected`` that the exchange has; no intent left open. At the end,
after an orderly stop, the same holds for everything, and the day's starting equity, hence
the daily P&L and its loss limit, carried on through every restart.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bench.sim_process import exchange_process
from tests.crash.agreement import AtKill, disagreements, read_exchange
from tests.crash.harness import Bot, LedgerFile, money, poll

SEED = 20260528
KILLS = 6
STRATA = 3  # each kind of kill lands once in each third of its range
EARLY = 20.0  # seconds after its start that count as "early" for a kill
LATENCY_MS = 200
LOST_ANSWERS = 0.2
SETTLE_TIMEOUT = 45.0  # for a restarted bot to bring its ledger to the exchange


def _wait(seconds: float) -> None:
    """Let the bot run this long (the kill moment; the bot is another process)."""
    deadline = time.monotonic() + seconds
    poll(lambda: True if time.monotonic() >= deadline else None, seconds + 5, "the kill moment")


def _today() -> str:
    return datetime.now(tz=UTC).date().isoformat()


def _agree(sim: dict[str, str], ledger: LedgerFile, at_kill: AtKill, restart: int) -> None:
    """Wait until the restarted bot's ledger agrees with the exchange on everything that
    existed at the kill; fail with the differences if it does not in time."""
    last: list[str] = []

    def agreed() -> bool | None:
        nonlocal last
        last = disagreements(ledger, at_kill, read_exchange(sim))
        return True if not last else None

    try:
        poll(agreed, SETTLE_TIMEOUT, "agreement", every=0.25)
    except AssertionError:
        shown = "\n  ".join(last[:20])
        raise AssertionError(
            f"after restart {restart} the ledger and the exchange disagree:\n  {shown}"
        ) from None


def _moment(rng: random.Random, low: float, high: float, nth: int) -> float:
    """A seeded moment in the ``nth`` third (cyclically) of ``[low, high]``: a few kills
    spread over the whole range instead of bunching by chance."""
    width = (high - low) / STRATA
    start = low + (nth % STRATA) * width
    return rng.uniform(start, start + width)


def _kill(
    bot: Bot,
    ledger: LedgerFile,
    rng: random.Random,
    mid_request: bool,
    first_orders: list[float],
    nth: int,
) -> float:
    """Kill ``bot`` at a seeded moment (its kind's ``nth`` kill); returns how long after its
    start it died. A kill mid-request notes how long after its start the bot wrote its
    first intent."""
    if mid_request:  # the moment a new intent is written: its request is in flight
        known = ledger.intents()
        poll(
            lambda: (ledger.intents() - known) or None,
            # more than a whole 60-s window: a start in a window's last seconds (no new
            # entries there) waits for the next window to open
            timeout=90,
            what="a new intent",
            every=0.005,
        )
        first_orders.append(time.monotonic() - bot.started)
        _wait(_moment(rng, 0.0, 0.35, nth))
    else:  # anywhere in its first seconds
        _wait(max(0.0, bot.started + _moment(rng, 1.0, EARLY - 2.0, nth) - time.monotonic()))
    return bot.kill()


@pytest.mark.slow
@pytest.mark.timeout(480)
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
        starts: list[object] = []
        killed_at: list[float] = []
        first_orders: list[float] = []  # seconds from a start to its first intent
        at_kill: AtKill | None = None
        mid_request = 0
        for restart in range(KILLS + 1):
            bot = Bot(sim, url, tmp_path)
            try:
                bot.wait_ready()
                starts.append(money(bot.risk()["starting_bankroll"]))
                if at_kill is not None:
                    _agree(sim, ledger, at_kill, restart)
                if restart == KILLS:  # the last start: an orderly stop writes everything
                    assert bot.terminate() == 0, bot.stderr.tail()
                    break
                in_flight = restart % 2 == 0
                killed_at.append(_kill(bot, ledger, rng, in_flight, first_orders, restart // 2))
                mid_request += in_flight
                at_kill = AtKill(read_exchange(sim), frozenset(ledger.intents()))
            finally:
                bot.ensure_dead()
        final = read_exchange(sim)

    assert final.orders, "the bot never traded: nothing was tested"
    problems = disagreements(ledger, AtKill(final, frozenset(ledger.intents())), final)
    assert not problems, "\n".join(problems)
    # every order the ledger has is the exchange's, or one it never received and never filled
    rows = ledger.query("SELECT client_order_id, status, filled FROM orders")
    never_received = {c: s for c, s, _ in rows if c not in final.orders}
    assert all(f == 0 for c, _, f in rows if c in never_received)
    journaled = Counter(r for (r,) in ledger.query("SELECT ref FROM journal WHERE kind = 'fill'"))
    assert journaled == Counter(final.fills.keys())  # each fill journaled once
    # the day's starting equity (so the daily P&L and its loss limit) carried on
    if _today() == day:
        assert len(set(starts)) == 1, starts
        [(saved_day,)] = ledger.query("SELECT day FROM risk_state")
        assert saved_day == day
    early = sum(1 for at in killed_at if at <= EARLY)
    print(
        f"\ncrash test: {len(killed_at)} SIGKILLs ({mid_request} with an intent in flight, "
        f"{early} within {EARLY:g} s of start; first intent {min(first_orders):.1f}–"
        f"{max(first_orders):.1f} s after a start), {len(final.orders)} exchange orders, "
        f"{len(final.fills)} fills, {len(never_received)} intents never received "
        f"({dict(Counter(never_received.values()))}), day started at ${starts[0]}, "
        f"{time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    assert len(killed_at) == KILLS and mid_request == KILLS // 2
    assert early >= KILLS // 2, killed_at
