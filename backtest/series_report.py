"""Several series backtested together: one section per series and one combined equity curve.

Each series runs on its own coin's history with its own makers, in its own session
with the configured bankroll; the combined curve is the sum of their P&L after each
settlement, against the sum of their bankrolls.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from backtest.runner import BacktestResult
from backtest.session import EquityPoint

ZERO = Decimal(0)


def combined_equity(results: Mapping[str, BacktestResult]) -> tuple[Decimal, list[EquityPoint]]:
    """The sum of every series' bankroll and, after each settlement anywhere, of their equity."""
    bankroll = sum((r.bankroll for r in results.values()), ZERO)
    events = sorted(
        (point.ts, series, point) for series, r in results.items() for point in r.equity
    )
    latest = {series: (r.bankroll, ZERO) for series, r in results.items()}
    curve: list[EquityPoint] = []
    for ts, series, point in events:
        latest[series] = (point.equity, point.fees)
        equity = sum((e for e, _ in latest.values()), ZERO)
        fees = sum((f for _, f in latest.values()), ZERO)
        if curve and curve[-1].ts == ts:
            curve[-1] = EquityPoint(ts, equity, fees)
        else:
            curve.append(EquityPoint(ts, equity, fees))
    return bankroll, curve


def series_rows(results: Mapping[str, BacktestResult]) -> list[dict[str, Any]]:
    """Per series: range, markets, P&L with its 95% interval, verdict, fills."""
    rows = []
    for series, result in results.items():
        honesty = result.judged()
        rows.append(
            {
                "series": series,
                "first_ts": result.first_ts,
                "last_ts": result.last_ts,
                "windows": result.windows_listed,
                "pnl": str(result.pnl),
                "pnl_low": honesty.pnl.low,
                "pnl_high": honesty.pnl.high,
                "verdict": honesty.verdict,
                "fills": result.counters.fills,
                "markets_traded": len({m.ticker for m in result.markets if m.contracts_bought}),
            }
        )
    return rows


def series_summary(results: Mapping[str, BacktestResult]) -> dict[str, Any]:
    """JSON-ready: every series' own summary and the combined P&L."""
    bankroll, curve = combined_equity(results)
    final = curve[-1].equity if curve else bankroll
    return {
        "series": {series: r.summary() for series, r in results.items()},
        "combined": {
            "bankroll": str(bankroll),
            "final_equity": str(final),
            "pnl": str(final - bankroll),
            "rows": series_rows(results),
        },
    }


def render_series_text(results: Mapping[str, BacktestResult]) -> str:
    """The single-series console report for each series, then the combined line."""
    from backtest.cli import render_text

    parts = [f"=== {series} ===\n{render_text(result)}" for series, result in results.items()]
    bankroll, curve = combined_equity(results)
    final = curve[-1].equity if curve else bankroll
    lines = [f"=== all {len(results)} series ==="]
    for row in series_rows(results):
        lines.append(
            f"  {row['series']:<10} P&L ${Decimal(row['pnl']):.2f} "
            f"[{row['pnl_low']:.2f}, {row['pnl_high']:.2f}] over {row['windows']} markets, "
            f"{row['fills']} fills; {row['verdict']}"
        )
    lines.append(
        f"  combined   P&L ${final - bankroll:.2f} on ${bankroll:.0f} (each series its own "
        "session and bankroll)"
    )
    return "\n\n".join([*parts, "\n".join(lines)])


def write_series_report(results: Mapping[str, BacktestResult], directory: Path) -> Path:
    """``DIR/<series>/`` holds each series' full report; ``DIR/index.html`` links them."""
    from backtest import charts
    from backtest.report import write_report

    directory.mkdir(parents=True, exist_ok=True)
    for series, result in results.items():
        write_report(result, directory / series)
    bankroll, curve = combined_equity(results)
    first = min((r.first_ts or 0.0) for r in results.values())
    charts.equity_chart(directory / "equity.png", bankroll, curve, first, "each series' makers")
    summary = series_summary(results)
    (directory / "summary.json").write_bytes(
        orjson.dumps(summary, option=orjson.OPT_INDENT_2, default=str)
    )
    items = "".join(
        f"<li><a href='{html.escape(s)}/index.html'>{html.escape(s)}</a>: P&amp;L "
        f"${Decimal(row['pnl']):.2f} [{row['pnl_low']:.2f}, {row['pnl_high']:.2f}], "
        f"{html.escape(row['verdict'])}</li>"
        for s, row in zip(results, summary["combined"]["rows"], strict=True)
    )
    page = directory / "index.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>sol15 backtest</title></head>"
        f"<body><h1>sol15 backtest: {len(results)} series</h1><ul>{items}</ul>"
        f"<p>combined P&amp;L ${Decimal(summary['combined']['pnl']):.2f} on ${bankroll:.0f}</p>"
        "<img src='equity.png' alt='combined equity'></body></html>",
        encoding="utf-8",
    )
    return page
