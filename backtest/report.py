"""The ``--report DIR`` output: ``index.html``, PNG charts, ``summary.json``, ``trades.csv``, ``windows.csv``.

Everything a reader needs to judge the numbers is on the page: the data, the
market model's assumptions (lag, spread, depth…), execution and risk settings,
then P&L, drawdown, trades, win rate, fees, edge and calibration.
"""

from __future__ import annotations

import csv
import html
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from backtest import calibration as calib
from backtest import charts
from backtest.calibration import BUCKETS, REAL_MARKET_BRIER, SOURCES
from backtest.kalshi_market import report_html as kalshi_html
from backtest.runner import BacktestResult
from scoring.forecasts import LOG_LOSS_EPS

HTML_ROWS = 300  # tables longer than this are cut on the page (the CSV has them all)


def _iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def assumptions(result: BacktestResult) -> dict[str, Any]:
    config = result.config.describe()
    notes = [
        "fills walk the book with Kalshi's taker fee (execution.paper.PaperBroker); "
        "orders are immediate-or-cancel unless exec.time_in_force says otherwise",
        "P&L is net of fees; equity = cash + positions at mid; a market pays $1 per "
        "winning contract at its settlement",
        "the same strategies and RiskEngine as the live bot, on a simulated clock",
    ]
    if result.kind == "history":
        notes += [
            "index prints: a seeded Brownian bridge through each 1-minute bar's OHLC "
            "(Binance spot SOL/USDT stands in for the CF Benchmarks index)",
            "books: the simulator's market-maker desk (fair value from the index "
            "market.lag_seconds ago, noise, spread schedule, depth) — no noise traders; "
            "our fills take the desk's depth",
            "strike = 60-s average before open; settlement = 60-s average before close",
        ]
    else:
        notes.append("books, index and market listings as recorded; fills cannot move the book")
    return {
        "kind": result.kind,
        "files": result.paths,
        "variance_ratio": result.variance_ratio,
        "gaps": result.gaps,
        "skipped_windows": len(result.skipped),
        "warnings": result.warnings,
        "notes": notes,
        **config,
    }


def window_rows(result: BacktestResult) -> list[dict[str, Any]]:
    """One row per market: strike, outcome, the three forecasts per bucket, what we did."""
    traded: dict[str, list[Any]] = {}
    for market in result.markets:
        traded.setdefault(market.ticker, []).append(market)
    rows = []
    for record in result.forecasts:
        row: dict[str, Any] = {
            "ticker": record.ticker,
            "open": _iso(record.open_time),
            "close": _iso(record.close_time),
            "strike": str(record.strike),
            "settlement": "" if record.settlement is None else str(record.settlement),
            "result": record.result or "",
        }
        for minutes in BUCKETS:
            snap = record.snapshots.get(minutes)
            for source in SOURCES:
                value = None if snap is None else getattr(snap, source)
                row[f"{source}_{minutes}m"] = "" if value is None else round(value, 6)
        mine = traded.get(record.ticker, [])
        row["contracts"] = sum(m.contracts_bought for m in mine)
        row["pnl"] = str(sum((m.pnl for m in mine), Decimal(0))) if mine else ""
        row["strategies"] = " ".join(sorted({m.strategy for m in mine}))
        rows.append(row)
    return rows


def _write_csv(path: Path, rows: Sequence[dict[str, Any]], header: Sequence[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header))
        writer.writeheader()
        writer.writerows(rows)


def trade_rows(result: BacktestResult) -> list[dict[str, Any]]:
    return [
        {
            "time": _iso(t.ts),
            "ticker": t.ticker,
            "strategy": t.strategy,
            "side": t.side,
            "action": t.action,
            "count": t.count,
            "price": str(t.price),
            "fee": str(t.fee),
            "model_prob": "" if t.model_prob is None else str(t.model_prob),
            "expected": "" if t.expected is None else str(t.expected),
        }
        for t in result.trades
    ]


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def calibration_rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    for minutes in BUCKETS:
        entry = summary["buckets"][str(minutes)]
        row = [str(minutes), str(entry["model"]["n"])]
        for metric in ("brier", "log_loss"):
            row += [_num(entry[source][metric]) for source in SOURCES]
        row.append(_num(REAL_MARKET_BRIER.get(minutes), 3))
        rows.append(row)
    return rows


def sharpness_warning(summary: dict[str, Any]) -> str:
    """Say so when the simulated market is less sharp than the real one: P&L is then optimistic."""
    if summary.get("kind") != "history":
        return ""
    worse = []
    for minutes in BUCKETS:
        market = summary["buckets"][str(minutes)]["market"]["brier"]
        real = REAL_MARKET_BRIER.get(minutes)
        if market is not None and real is not None and market > real:
            worse.append(f"{minutes} min ({market:.3f} vs {real:.3f})")
    if not worse:
        return ""
    return (
        "The simulated market's mid is less sharp than the real Kalshi mid at "
        + ", ".join(worse)
        + ": the strategies trade against a softer market than the real one, so the P&L "
        "above is an upper bound (the makers' lag, noise and spread are the market.* parameters)."
    )


CALIBRATION_HEADER = (
    "min left",
    "n",
    "Brier model",
    "Brier naive",
    "Brier market",
    "log-loss model",
    "log-loss naive",
    "log-loss market",
    "real Kalshi mid Brier (2026)",
)

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f2f2f2} td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} .note{color:#555;font-size:.9em}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.5em 1em}
"""


def write_report(result: BacktestResult, directory: Path) -> Path:
    """Write every file of the report into ``directory``; returns the HTML page."""
    directory.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    calibration = calib.summary(result.forecasts)
    scores = calib.score_table(result.forecasts)
    facts = assumptions(result)
    warning = sharpness_warning({**calibration, "kind": result.kind})
    windows = window_rows(result)
    trades = trade_rows(result)

    (directory / "summary.json").write_bytes(
        orjson.dumps(
            {"summary": summary, "assumptions": facts, "calibration": calibration},
            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
            default=str,
        )
    )
    window_header = list(windows[0]) if windows else ["ticker"]
    _write_csv(directory / "windows.csv", windows, window_header)
    trade_header = list(trades[0]) if trades else ["time"]
    _write_csv(directory / "trades.csv", trades, trade_header)

    charts.equity_chart(
        directory / "equity.png", result.bankroll, result.equity, result.first_ts or 0.0
    )
    charts.reliability_chart(directory / "reliability.png", result.forecasts)
    charts.brier_chart(directory / "brier.png", scores)
    charts.outcomes_chart(directory / "outcomes.png", result.markets)

    headline = [
        (
            "period",
            f"{_iso(result.first_ts)} → {_iso(result.last_ts)} "
            f"({summary['market_days']} days of markets)",
        ),
        ("markets listed / traded", f"{summary['windows_listed']} / {summary['markets_traded']}"),
        ("P&L after fees", f"${Decimal(summary['pnl']):.2f} ({summary['return']:.2%} of bankroll)"),
        ("fees paid", f"${Decimal(summary['fees']):.2f}"),
        (
            "orders / fills / contracts",
            f"{summary['orders']} / {summary['fills']} / {summary['contracts']}",
        ),
        ("win rate (markets)", _num(summary["win_rate"], 3)),
        (
            "edge per contract: expected / realized",
            f"{_num(summary['edge_expected_per_contract'])} / "
            f"{_num(summary['edge_realized_per_contract'])}",
        ),
        (
            "max drawdown",
            f"${Decimal(summary['max_drawdown']):.2f} ({summary['max_drawdown_pct']:.2%} of peak)",
        ),
        ("Sharpe (daily, ×√365)", _num(summary["sharpe_daily_annualized"], 2)),
        (
            "circuit-breaker halts",
            f"{summary['halts']} (reset daily: {result.config.risk.reset_breaker_daily})",
        ),
        ("risk decisions", ", ".join(f"{k} {v}" for k, v in sorted(summary["decisions"].items()))),
    ]
    strategy_rows = [
        [
            name,
            s["markets_traded"],
            _num(s["win_rate"], 3),
            s["contracts"],
            s["pnl"],
            s["fees"],
            _num(s["edge_expected_per_contract"]),
            _num(s["edge_realized_per_contract"]),
        ]
        for name, s in summary["strategies"].items()
    ]
    window_cols = ["ticker", "open", "strike", "settlement", "result"]
    window_cols += [f"{s}_{m}m" for m in (14, 5, 1) for s in SOURCES]
    window_cols += ["contracts", "pnl"]
    trade_cols = list(trades[0]) if trades else []

    sections = [
        f"<h1>sol15 backtest{(' — ' + html.escape(result.config.label)) if result.config.label else ''}</h1>",
        _table(("figure", "value"), headline),
        "<h2>P&amp;L and drawdown</h2><img src='equity.png' alt='equity'>",
        "<h2>Strategies</h2>",
        _table(
            (
                "strategy",
                "markets",
                "win rate",
                "contracts",
                "P&L $",
                "fees $",
                "expected edge/contract",
                "realized/contract",
            ),
            strategy_rows,
        ),
        "<img src='outcomes.png' alt='outcomes'>",
        "<h2>Model calibration</h2>",
        "<p class='note'>model = digital_probability with the strategy's EWMA σ (averaged "
        "settlement); naive = spot vs strike at close, same σ; market = YES mid of the book. "
        f"log-loss clips p to [{LOG_LOSS_EPS}, 1 − {LOG_LOSS_EPS}].</p>",
        _table(CALIBRATION_HEADER, calibration_rows(calibration)),
        f"<p class='warn'>{html.escape(warning)}</p>" if warning else "",
        "<img src='brier.png' alt='brier'><img src='reliability.png' alt='reliability'>",
        kalshi_html(result.kalshi) if result.kalshi else "",  # --market kalshi:DIR
        "<h2>Assumptions</h2>",
        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in facts["notes"]) + "</ul>",
        _table(
            ("setting", "value"),
            [
                (f"{group}.{k}", v)
                for group in ("market", "exec", "risk", "data")
                for k, v in facts[group].items()
            ]
            + [(f"{name} params", params) for name, params in facts["strategies"].items()]
            + [("seed", facts["seed"]), ("files", ", ".join(facts["files"]))]
            + (
                [("bridge variance ratio", _num(facts["variance_ratio"], 3))]
                if facts["variance_ratio"]
                else []
            )
            + [("gaps", len(facts["gaps"])), ("windows skipped", facts["skipped_windows"])],
        ),
        "<ul>"
        + "".join(f"<li>{html.escape(g)}</li>" for g in facts["gaps"] + facts["warnings"])
        + "</ul>",
        f"<h2>Trades</h2><p class='note'>{len(trades)} fills; the first {HTML_ROWS} below, all in "
        "<a href='trades.csv'>trades.csv</a>.</p>",
        _table(trade_cols, ([r[c] for c in trade_cols] for r in trades[:HTML_ROWS])),
        f"<h2>Per-window outcomes</h2><p class='note'>{len(windows)} markets; the first "
        f"{HTML_ROWS} below, all in <a href='windows.csv'>windows.csv</a>.</p>",
        _table(window_cols, ([r.get(c, "") for c in window_cols] for r in windows[:HTML_ROWS])),
    ]
    page = directory / "index.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>sol15 backtest</title>"
        f"<style>{_CSS}</style></head><body>{''.join(sections)}</body></html>",
        encoding="utf-8",
    )
    return page
