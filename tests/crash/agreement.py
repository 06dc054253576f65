"""What the crash test checks after every restart: the exchange and the ledger agree exactly.

The exchange is the truth. After a kill, the orders and fills it holds are fixed (every
order is immediate-or-cancel, so none rests), and the restarted bot must bring its
ledger to them: each of those orders once, with the exchange's id, state and filled
count; each of those fills once; no order marked ``rejected`` that the exchange has; and
no intent written before the kill still open. The checks use only that contract, not
how ids look or how an order the exchange never received is spelled.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from kalshi.auth import Signer
from kalshi.rest import KalshiRestClient
from tests.crash.harness import LedgerFile

OPEN = ("pending", "unknown", "resting")


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


@dataclass(frozen=True)
class ExchangeBook:
    """The exchange's orders (by ``client_order_id``) and fills (by ``trade_id``)."""

    orders: dict[str, Any]
    fills: dict[str, Any]


def read_exchange(sim: dict[str, str]) -> ExchangeBook:
    signer = Signer.from_file(sim["KALSHI_API_KEY"], sim["KALSHI_PRIVATE_KEY_PATH"])
    with KalshiRestClient(sim["KALSHI_API_BASE"], signer, rate_limit=False, timeout=30) as rest:
        orders = _all(lambda c: rest.get_orders(limit=200, cursor=c))
        fills = _all(lambda c: rest.get_fills(limit=200, cursor=c))
    by_coid = {o.client_order_id: o for o in orders}
    assert len(by_coid) == len(orders), "two exchange orders share a client_order_id"
    return ExchangeBook(by_coid, {f.trade_id: f for f in fills})


@dataclass(frozen=True)
class AtKill:
    """What existed when the bot was killed: the exchange's book and the intents written."""

    exchange: ExchangeBook
    intents: frozenset[str]


def disagreements(ledger: LedgerFile, at_kill: AtKill, now: ExchangeBook) -> list[str]:
    """How the ledger differs from the exchange on everything that existed at the kill
    (an empty list: they agree). ``now`` is the exchange read after the ledger."""
    problems: list[str] = []
    rows = {
        coid: (order_id, status, filled)
        for coid, order_id, status, filled in ledger.query(
            "SELECT client_order_id, order_id, status, filled FROM orders"
        )
    }
    for coid in at_kill.exchange.orders:
        order = now.orders[coid]
        expected = (order.order_id, order.status, int(order.fill_count))
        if rows.get(coid) != expected:
            problems.append(f"order {coid}: ledger {rows.get(coid)}, exchange {expected}")
    booked = Counter(t for (t,) in ledger.query("SELECT trade_id FROM fills"))
    problems += [f"fill {t} missing" for t in at_kill.exchange.fills if t not in booked]
    problems += [f"fill {t} booked {n} times" for t, n in booked.items() if n > 1]
    problems += [f"fill {t} is not the exchange's" for t in booked if t not in now.fills]
    for coid, (_, status, filled) in rows.items():
        if status == "rejected" and coid in now.orders:
            problems.append(f"order {coid} is at the exchange but marked rejected")
        if coid in at_kill.intents and coid not in now.orders and (status in OPEN or filled):
            problems.append(f"order {coid}, never received, is left {status} ({filled} filled)")
    problems += [f"intent {c} has no order row" for c in at_kill.intents if c not in rows]
    return problems
