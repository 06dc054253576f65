"""The daily summary's figures, from the ledger's fills and settlements (pure arithmetic).

Realized P&L counts the markets that settled in the window, each with all its fills
(bought before the window opened or not): payout + sale proceeds − purchase cost − fees.
A market won is one whose P&L is above zero. Trades and fees are the fills made in
the window. Money stays ``Decimal`` throughout; the rows are the ledger's, as
``storage.export`` reads them (money as fixed-point text).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from scoring.text import dollars, plural

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class DailySummary:
    start: float
    end: float
    trades: int  # fills in the window
    contracts: int
    fees: Decimal  # paid on the window's fills
    settled_markets: int  # settled in the window, with at least one of our fills
    wins: int
    realized_pnl: Decimal  # of the settled markets, fees included

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.settled_markets if self.settled_markets else None


def market_pnl(fills: Iterable[Mapping[str, Any]], payout: Decimal) -> Decimal:
    """One market's realized P&L: what it paid out and sold for, less what it cost."""
    pnl = payout
    for fill in fills:
        value = Decimal(fill["price"]) * int(fill["count"])
        pnl += value if fill["action"] == "sell" else -value
        pnl -= Decimal(fill["fee"])
    return pnl


def daily_summary(
    start: float,
    end: float,
    window_fills: Iterable[Mapping[str, Any]],
    settlements: Iterable[Mapping[str, Any]],
    market_fills: Iterable[Mapping[str, Any]],
) -> DailySummary:
    """``window_fills``: fills in [start, end); ``settlements``: settled in it;
    ``market_fills``: every fill of those settled markets."""
    trades = contracts = 0
    fees = ZERO
    for fill in window_fills:
        trades += 1
        contracts += int(fill["count"])
        fees += Decimal(fill["fee"])
    by_market: defaultdict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for fill in market_fills:
        by_market[fill["ticker"]].append(fill)
    settled = wins = 0
    realized = ZERO
    for row in settlements:
        own = by_market.get(row["ticker"])
        if not own:
            continue  # a market we never traded
        pnl = market_pnl(own, Decimal(row["payout"]))
        settled += 1
        wins += pnl > 0
        realized += pnl
    return DailySummary(start, end, trades, contracts, fees, settled, wins, realized)


def summary_text(summary: DailySummary) -> str:
    """The message body: the window, P&L, win rate, trades and fees."""
    start = datetime.fromtimestamp(summary.start, UTC).strftime("%Y-%m-%d %H:%M")
    end = datetime.fromtimestamp(summary.end, UTC).strftime("%Y-%m-%d %H:%M")
    rate = summary.win_rate
    record = (
        f"{summary.wins} of {plural(summary.settled_markets, 'settled market')} won ({rate:.0%})"
        if rate is not None
        else "no settled markets"
    )
    return (
        f"{start} to {end} UTC\n"
        f"realized P&L: {dollars(summary.realized_pnl, 4)} ({record})\n"
        f"trades: {plural(summary.trades, 'fill')}, {plural(summary.contracts, 'contract')}\n"
        f"fees paid: {dollars(summary.fees, 4)}"
    )


def scoreboard_lines(report: Mapping[str, Any]) -> list[str]:
    """The scoreboard's verdicts (``/api/scoreboard``'s body), one line each: the model vs
    the market by minutes left (horizons with the same verdict share a line), and the trades.
    """
    by_verdict: dict[str, list[str]] = {}
    for horizon in report.get("horizons", []):
        by_verdict.setdefault(str(horizon["verdict"]), []).append(str(horizon["minutes"]))
    lines = [
        f"scoreboard: {report.get('settled_windows', 0)} settled windows of {report.get('model')} "
        f"against {report.get('market')}"
    ]
    lines += [
        f"model vs market at {', '.join(minutes)} min left: {verdict}"
        for verdict, minutes in by_verdict.items()
    ]
    trades = report.get("trades")
    if isinstance(trades, Mapping) and trades.get("verdict"):
        lines.append(f"trades: {trades['verdict']}")
    return lines
