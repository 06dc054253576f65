"""The report's PNG charts (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from backtest.calibration import BUCKETS, REAL_MARKET_BRIER, SOURCES, Score, WindowForecasts
from backtest.calibration import reliability_table as _reliability
from backtest.ledger import MarketResult
from backtest.metrics import drawdown_series
from backtest.session import EquityPoint
from scoring.compare import BrierRow
from scoring.costs import REAL_SOL_COST_FLOOR_CENTS
from scoring.edge import EdgeReport
from scoring.intervals import Interval

COLORS = {"model": "#1f77b4", "naive": "#ff7f0e", "market": "#2ca02c"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def equity_chart(
    path: Path,
    bankroll: Decimal,
    curve: Sequence[EquityPoint],
    first: float,
    market: str = "",
) -> None:
    """Cumulative P&L and drawdown below the running peak, after each settlement; the
    title names the market it was measured against."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, height_ratios=(2, 1))
    times = [datetime.fromtimestamp(first, tz=UTC)] + [
        datetime.fromtimestamp(p.ts, tz=UTC) for p in curve
    ]
    pnl = [0.0] + [float(p.equity - bankroll) for p in curve]
    dd = [0.0, *drawdown_series(bankroll, curve)]
    top.plot(times, pnl, color="#1f77b4", linewidth=1.2)
    top.axhline(0, color="#999", linewidth=0.8)
    top.set_ylabel("P&L after fees ($)")
    title = "Cumulative P&L (cash + positions at mid, after each settlement)"
    top.set_title(f"{title}\nagainst {market}" if market else title, fontsize=10)
    bottom.fill_between(times, dd, 0, color="#d62728", alpha=0.4, step="post")
    bottom.set_ylabel("drawdown ($)")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def reliability_chart(path: Path, records: Sequence[WindowForecasts]) -> None:
    """Forecast vs observed frequency, one panel per minutes-left bucket."""
    plt = _pyplot()
    table = _reliability(records)
    fig, axes = plt.subplots(1, len(BUCKETS), figsize=(4 * len(BUCKETS), 4.2), sharey=True)
    for ax, minutes in zip(axes, BUCKETS, strict=True):
        ax.plot([0, 1], [0, 1], color="#999", linewidth=0.8, linestyle="--")
        for source in SOURCES:
            bins = [b for b in table[minutes][source] if b.count > 0]
            if not bins:
                continue
            ax.plot(
                [b.mean_prob for b in bins],
                [b.frequency for b in bins],
                marker="o",
                markersize=3,
                color=COLORS[source],
                label=source,
            )
        ax.set_title(f"{minutes} min left")
        ax.set_xlabel("forecast P(YES)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("observed YES frequency")
    axes[0].legend(loc="upper left")
    fig.suptitle("Reliability: model vs naive (no averaging) vs market mid")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _bars(interval: Interval) -> tuple[float, float]:
    """Distances from the estimate to the interval's ends (0 without an interval)."""
    if math.isnan(interval.low) or math.isnan(interval.estimate):
        return 0.0, 0.0
    return interval.estimate - interval.low, interval.high - interval.estimate


def brier_chart(
    path: Path, scores: dict[int, dict[str, Score]], rows: Sequence[BrierRow] = ()
) -> None:
    """Brier by minutes left; the model's and the market's with their 95% intervals."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    minutes = list(scores)
    intervals = {row.minutes: row for row in rows}
    for source in SOURCES:
        values = [scores[m][source].brier for m in minutes]
        if all(math.isnan(v) for v in values):
            continue
        bars = None
        if source in ("model", "market") and intervals:
            spans = [
                _bars(getattr(intervals[m], source)) if m in intervals else (0.0, 0.0)
                for m in minutes
            ]
            bars = [[low for low, _ in spans], [high for _, high in spans]]
        ax.errorbar(
            minutes, values, yerr=bars, marker="o", capsize=3, color=COLORS[source], label=source
        )
    real = {r.minutes: r.real_market for r in rows if r.real_market is not None}
    real = real or dict(REAL_MARKET_BRIER)
    ax.plot(
        list(real),
        list(real.values()),
        marker="x",
        linestyle=":",
        color="#555",
        label="real Kalshi mid (2026, KALSHI.md)",
    )
    ax.invert_xaxis()
    ax.set_xlabel("minutes before close")
    ax.set_ylabel("Brier score (lower is better)")
    ax.legend()
    ax.set_title("Brier score by minutes left (95% intervals, resampling windows)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def edge_chart(path: Path, report: EdgeReport, market: str) -> None:
    """Realized edge per contract by minutes left, with its interval, against the cost floors."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    rows = [row for row in report.rows if row.fills]
    x = list(range(len(report.rows)))
    labels = [row.label for row in report.rows]
    where = {row.minutes: i for i, row in enumerate(report.rows)}
    if rows:
        spans = [_bars(row.edge) for row in rows]
        ax.errorbar(
            [where[row.minutes] for row in rows],
            [row.edge.estimate for row in rows],
            yerr=[[low for low, _ in spans], [high for _, high in spans]],
            fmt="o",
            capsize=4,
            color="#1f77b4",
            label="realized edge (¢/contract)",
        )
        ax.plot(
            [where[row.minutes] for row in rows],
            [-row.floor.estimate for row in rows],
            "s",
            color="#d62728",
            label="− cost floor of these fills",
        )
    ax.plot(
        [where[m] for m in REAL_SOL_COST_FLOOR_CENTS if m in where],
        [-v for m, v in REAL_SOL_COST_FLOOR_CENTS.items() if m in where],
        "x:",
        color="#555",
        label="− real KXSOL15M floor (KALSHI.md)",
    )
    ax.axhline(0, color="#999", linewidth=0.8)
    ax.set_xticks(x, labels)
    ax.set_xlabel("minutes left at the fill")
    ax.set_ylabel("¢ per contract")
    ax.set_title(f"Realized edge vs the cost floor — {market}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def outcomes_chart(path: Path, markets: Sequence[MarketResult]) -> None:
    """Per-market P&L histogram, and expected vs realized P&L per market."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    pnl = [float(m.pnl) for m in markets if m.settled]
    if pnl:
        left.hist(pnl, bins=40, color="#1f77b4")
    left.set_title("P&L per market traded ($)")
    left.set_xlabel("P&L after fees")
    bought = [m for m in markets if m.settled and m.contracts_bought]
    if bought:
        right.scatter(
            [float(m.expected) for m in bought],
            [float(m.pnl) for m in bought],
            s=6,
            alpha=0.5,
            color="#1f77b4",
        )
        values = [float(m.expected) for m in bought] + [float(m.pnl) for m in bought]
        lo, hi = min(values), max(values)
        right.plot([lo, hi], [lo, hi], color="#999", linestyle="--", linewidth=0.8)
    right.set_title("expected at entry vs realized, per market ($)")
    right.set_xlabel("expected (model prob − price − fee)")
    right.set_ylabel("realized")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
