"""A small seeded sim session, and what it earned worked out by hand.

Four markets, starting balance $1000 (the ledger's first day starts at it):

- KXA: buy 10 YES @ 0.40 (fee 0.17), settles YES: 10 − 4.00 − 0.17 = +5.83 (win)
- KXB: buy 5 NO @ 0.30 (fee 0.11), sell 5 NO @ 0.20 (fee 0.08): −0.50 − 0.19 = −0.69 (loss)
- KXC: buy 4 YES @ 0.55 (fee 0.07), settles NO: −2.20 − 0.07 = −2.27 (loss)
- KXD: buy 3 YES @ 0.50 (fee 0.05), still open, worth 1.80: realized −0.05, unrealized +0.30

Cash: 1000 − 4.17 + 10 − 1.61 + (5 − 4.00 − 0.08) − 2.27 − 1.55 = 1001.32; equity + 1.80.
Realized equity after each event: 999.83, 1005.83, 1005.72, 1005.14 (hour 0),
1005.07, 1002.87 (hour 1), 1002.82 (hour 2): peak 1005.83, max drawdown 3.01.
Edges at entry: 0.05 × 10, 0.04 × 5, 0.06 × 4 over 19 contracts = 0.94 / 19 = 0.0495;
realized: (5.83 − 0.69 − 2.27) / 19 = 2.87 / 19 = 0.1511.
"""

from __future__ import annotations

from decimal import Decimal as D

from messages.status import Position, RiskStatus
from messages.trading import Fill, OrderIntent, Settlement, Signal

T0 = 1_779_998_400.0  # on the hour (UTC)
DAY0 = 1_779_926_400.0  # that day's midnight (UTC)
KELLY = "kelly_volatility"


def _signal(sid: str, ticker: str, side: str, edge: str, price: str, n: int, ts: float) -> Signal:
    action = "sell" if sid.endswith("-exit") else "buy"
    return Signal(sid, KELLY, ticker, side, D(edge), D("0.6"), D(price), n, ts, action=action)


def _intent(coid: str, signal: Signal) -> OrderIntent:
    return OrderIntent(
        coid, signal.signal_id, KELLY, signal.ticker, signal.direction, signal.action,  # type: ignore[arg-type]
        signal.quantity, signal.market_price, "immediate_or_cancel", created_at=signal.timestamp,
    )  # fmt: skip


def _fill(tid: str, coid: str, signal: Signal, fee: str, ts: float) -> Fill:
    return Fill(
        tid, f"o-{coid}", coid, signal.ticker, signal.direction, signal.action,  # type: ignore[arg-type]
        signal.quantity, signal.market_price, D(fee), True, ts, KELLY,
    )  # fmt: skip


def fills_and_settlements() -> tuple[list[object], list[Fill], list[Settlement]]:
    """Every message in arrival order, and the fills and settlements among them."""
    sa = _signal("sA", "KXA", "yes", "0.05", "0.40", 10, T0 + 9)
    sb = _signal("sB", "KXB", "no", "0.04", "0.30", 5, T0 + 999)
    sbx = _signal("sB-exit", "KXB", "no", "0", "0.20", 5, T0 + 1199)
    sc = _signal("sC", "KXC", "yes", "0.06", "0.55", 4, T0 + 3999)
    sd = _signal("sD", "KXD", "yes", "0.03", "0.50", 3, T0 + 7999)
    fills = [
        _fill("tA", "cA", sa, "0.17", T0 + 10),
        _fill("tB", "cB", sb, "0.11", T0 + 1000),
        _fill("tBx", "cBx", sbx, "0.08", T0 + 1200),
        _fill("tC", "cC", sc, "0.07", T0 + 4000),
        _fill("tD", "cD", sd, "0.05", T0 + 8000),
    ]
    settlements = [
        Settlement("KXA", "yes", 10, 0, D(10), T0 + 900),
        Settlement("KXC", "no", 4, 0, D(0), T0 + 4500),
    ]
    signals = [sa, sb, sbx, sc, sd]
    coids = ["cA", "cB", "cBx", "cC", "cD"]
    messages: list[object] = []
    for signal, coid in zip(signals, coids, strict=True):
        messages += [signal, _intent(coid, signal)]
    messages += [*fills, *settlements]
    return messages, fills, settlements


def status_at_end() -> RiskStatus:
    """The risk status the ledger last recorded: the day's start and KXD's value."""
    held = Position("KXD", "yes", 3, D("0.50"), D("1.50"), D("1.80"), D("0.30"), D(0))
    return RiskStatus(
        "running", D("3.12"), D("2.82"), D("0.30"), D("0.48"), D("1.50"), D(0), 1,
        D("1003.12"), D(1000), False, "", (held,), T0 + 8001,
    )  # fmt: skip


EXPECTED: dict[str, object] = {
    "starting_balance": "1000.0000",
    "balance": "1001.3200",
    "equity": "1003.1200",
    "realized_pnl": "2.8200",
    "unrealized_pnl": "0.3000",
    "fees": "0.4800",
    "max_drawdown": "3.0100",
    "peak_equity": "1005.8300",
}
EXPECTED_RECORD = {
    "trades": 3,
    "open_trades": 1,
    "wins": 1,
    "losses": 2,
    "even": 0,
    "avg_expected_edge": "0.0495",
    "avg_realized_edge": "0.1511",
    "contracts": 19,
}
EXPECTED_MARKETS = {  # ticker: (pnl, fees, entry, exit, settlement, result counts)
    "KXA": ("5.8300", "0.1700", "0.4000", None, "yes", (1, 0)),
    "KXB": ("-0.6900", "0.1900", "0.3000", "0.2000", None, (0, 1)),
    "KXC": ("-2.2700", "0.0700", "0.5500", None, "no", (0, 1)),
    "KXD": ("-0.0500", "0.0500", "0.5000", None, None, (0, 0)),
}
EXPECTED_HOURLY = [
    (T0, "1005.1400", "5.1400"),
    (T0 + 3600, "1002.8700", "-2.2700"),
    (T0 + 7200, "1002.8200", "-0.0500"),
]
EXPECTED_DAILY = [(DAY0, "1002.8200", "2.8200")]
