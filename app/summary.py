"""The session summary printed at shutdown: what this run did, and whether it showed any edge.

Counts come from the ledger rather than the actors: a crashed order actor or strategy
comes back with empty counters, but what it did is still in the ledger. The realized
edge per contract against the cost floor, the settled P&L with its 95% interval and the
verdict come from the fill watch (``app.fill_watch``), which kept each fill with the book
it met; every figure says which market it was measured against — in sim mode, our own
simulated makers, not Kalshi.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from loguru import logger

from app.fill_watch import FILL_WATCH
from app.modes import Mode
from config.settings import Settings
from messages.control import StopTrading
from messages.queries import GetJudged, GetStatus
from messages.status import RiskStatus
from runtime.system import ActorSystem
from scoring.edge import EdgeReport, edge_report, pnl_interval
from scoring.fills import WINDOW_SECONDS, Judged
from scoring.intervals import Interval
from scoring.text import dollars, interval_text, plural
from storage.history import LedgerHistory, SessionCounts


def market_label(mode: Mode, settings: Settings) -> str:
    """Which market this session's fills and books came from."""
    if mode is Mode.SIM:
        if settings.kalshi_api_base:  # an exchange-sim of its own: its preset is its own
            return f"our simulated makers ({settings.kalshi_api_base}), not Kalshi"
        preset = settings.sim_market_preset
        return (
            f"our simulated makers (the built-in exchange simulator, preset {preset}), not Kalshi"
        )
    exchange = settings.kalshi_api_base or f"Kalshi {settings.kalshi_env.value}"
    if mode is Mode.PAPER:
        return f"the books of {exchange}, paper fills (no queue; our orders never move the book)"
    return f"{exchange}, real fills"


class SessionSummary:
    """``before_stop`` of :func:`app.bot.supervise`: stop new trading, then print the summary."""

    def __init__(
        self,
        history: LedgerHistory,
        since: float,
        out: TextIO | None = None,
        market: str = "an unnamed market",
        seed: int = 0,
    ) -> None:
        self.history = history
        self.since = since
        self.out = out
        self.market = market
        self.seed = seed

    def __call__(self, system: ActorSystem) -> None:
        _ask(system, "risk", StopTrading("shutdown", "system"))  # resting orders are cancelled
        status = _ask(system, "risk", GetStatus())
        judged = _ask(system, FILL_WATCH, GetJudged())
        try:
            counts: SessionCounts | None = self.history.session_counts(self.since)
        except Exception as exc:  # a summary must never stop the shutdown
            logger.warning("summary: the ledger cannot be read: {}", exc)
            counts = None
        if isinstance(judged, Judged):
            edge = edge_lines(judged, self.market, self.seed)
        else:
            edge = [f"  measured against: {self.market} (the fill watch is unavailable)"]
        lines = summary_lines(counts, status if isinstance(status, RiskStatus) else None, edge)
        print("\n".join(lines), file=self.out or sys.stdout, flush=True)


def summary_lines(
    counts: SessionCounts | None, status: RiskStatus | None, edge: Sequence[str] = ()
) -> list[str]:
    """The counts, then ``edge`` (the market, settled P&L, verdict, edge table), then the
    account's day."""
    lines = ["sol15 session summary"]
    if counts is None:
        lines.append("  signals, orders and fills: unavailable (the ledger cannot be read)")
    else:
        lines += [
            f"  signals sent to risk: {counts.signals}",
            f"  orders: {counts.orders} ({counts.filled_orders} filled)",
            f"  fills: {counts.fills}",
        ]
    lines += edge
    if status is not None:
        lines.append(
            f"  P&L today: ${status.daily_pnl:.2f} (realized ${status.realized_pnl:.2f}, "
            f"unrealized ${status.unrealized_pnl:.2f}, fees ${status.fees_paid:.2f}), "
            f"{status.open_positions} open positions — the account's UTC day; the session's "
            "settled P&L and its interval are above"
        )
    return lines


def edge_lines(judged: Judged, market: str, seed: int = 0) -> list[str]:
    """Settled P&L with its interval, the verdict, and the edge table, each ``key: value``."""
    report = edge_report(judged.entries, unsettled=judged.unsettled, seed=seed)
    pnl = pnl_interval(judged.entries, judged.quiet, seed=seed)
    scaled = ""
    if judged.window_seconds and judged.window_seconds != WINDOW_SECONDS:
        scaled = f"; minutes left scaled from {judged.window_seconds:g}-s markets to 15 minutes"
    lines = [
        f"  measured against: {market}",
        f"  settled P&L: {_pnl_text(pnl)} ({plural(len(judged.entries), 'fill')} judged, "
        f"{judged.unsettled} in markets not settled yet)",
        f"  verdict: {report.verdict}",
        "  realized edge vs cost floor: ¢/contract by minutes left at the fill (floor = half "
        f"the spread + the fee, from the book each fill met{scaled})",
    ]
    lines += _edge_rows(report)
    return lines


def _pnl_text(pnl: Interval) -> str:
    if pnl.windows == 0:
        return "$0.00, no settled windows (no interval)"
    windows = plural(pnl.windows, "window")
    if math.isnan(pnl.low):
        return f"{dollars(pnl.estimate)} over {windows} (no interval)"
    few = ": too few to trust the interval" if pnl.too_few else ""
    return f"{interval_text(pnl, 2, money=True)} (95% interval, resampling {windows}{few})"


def _edge_rows(report: EdgeReport) -> list[str]:
    rows = []
    for row in report.rows:
        if not row.fills:
            continue
        rows.append(
            f"    {row.label} min left: {plural(row.fills, 'fill')}, "
            f"{plural(row.contracts, 'contract')}, "
            f"floor {interval_text(row.floor, 2)} (real KXSOL15M {row.real_floor}), "
            f"edge {interval_text(row.edge, 2, signed=True)}"
        )
    return rows or ["    no settled fills: none to judge"]


def _ask(system: ActorSystem, name: str, message: object) -> Any:
    try:
        return system.ask(name, message, timeout=5)
    except Exception as exc:  # a summary must never stop the shutdown
        logger.warning("summary: {} unavailable: {}", name, exc)
        return None
