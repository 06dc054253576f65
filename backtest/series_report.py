"""Several series backtested together: one section per series and one combined equity curve.

The series trade in one session (``backtest.multi``): one bankroll, one set of limits.
Each series' section is its part of the run (its markets, fills and forecasts; its
curve is the bankroll plus its own settled P&L); the combined curve is the session's.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from backtest.runner import BacktestResult


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


def series_summary(whole: BacktestResult, results: Mapping[str, BacktestResult]) -> dict[str, Any]:
    """JSON-ready: every series' own summary and the whole session's."""
    return {
        "series": {series: r.summary() for series, r in results.items()},
        "combined": {**whole.summary(), "rows": series_rows(results)},
    }


def render_series_text(whole: BacktestResult, results: Mapping[str, BacktestResult]) -> str:
    """The single-series console report for each series, then the whole session's."""
    from backtest.cli import render_text

    parts = [f"=== {series} ===\n{render_text(result)}" for series, result in results.items()]
    lines = [f"=== all {len(results)} series, one session ==="]
    for row in series_rows(results):
        lines.append(
            f"  {row['series']:<10} P&L ${Decimal(row['pnl']):.2f} "
            f"[{row['pnl_low']:.2f}, {row['pnl_high']:.2f}] over {row['windows']} markets, "
            f"{row['fills']} fills; {row['verdict']}"
        )
    from backtest.report import pnl_line, verdict_line

    honesty = whole.judged()
    lines.append(f"  combined   {pnl_line(whole, honesty)}")
    lines.append(f"  verdict    {verdict_line(honesty)}")
    c = whole.counters
    lines.append(
        f"  trading    {c.orders} orders, {c.fills} fills; halts {c.halts}; decisions "
        + ", ".join(f"{k} {v}" for k, v in sorted(c.decisions.items()))
    )
    return "\n\n".join([*parts, "\n".join(lines)])


def write_series_report(
    whole: BacktestResult, results: Mapping[str, BacktestResult], directory: Path
) -> Path:
    """``DIR/<series>/`` holds each series' full report; ``DIR/index.html`` links them
    beside the combined equity curve (``equity.png``)."""
    from backtest import charts
    from backtest.report import write_report

    directory.mkdir(parents=True, exist_ok=True)
    for series, result in results.items():
        write_report(result, directory / series)
    bankroll = whole.bankroll
    first = whole.first_ts or 0.0
    charts.equity_chart(
        directory / "equity.png", bankroll, whole.equity, first, "each series' simulated makers"
    )
    summary = series_summary(whole, results)
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
