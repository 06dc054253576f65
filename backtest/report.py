"""The ``--report DIR`` output: ``index.html``, PNG charts, ``summary.json``, ``trades.csv``, ``windows.csv``.

Everything a reader needs to judge the numbers is on the page: the market the P&L was
measured against (our simulated makers and their preset, a recording, or Kalshi's own
quotes), the latency and the fee beside the headline; the P&L and Sharpe ratio with
their 95% intervals; the verdict on the realized edge; the realized edge per contract
against the cost floor by minutes left; the model's Brier score beside the market's
with intervals; then drawdown, trades, fees, calibration and every assumption.

The table builders (``edge_rows``, ``brier_rows``, ``text_table``) are shared with the
console output and with any other replay that has the same figures.
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
from backtest.honesty import Honesty
from backtest.kalshi_market import report_html as kalshi_html
from backtest.runner import BacktestResult
from scoring.compare import BrierRow
from scoring.edge import EdgeReport
from scoring.forecasts import LOG_LOSS_EPS, SHARPNESS_TOLERANCE
from scoring.text import dollars, interval_text, plural

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


def pnl_line(result: BacktestResult, honesty: Honesty) -> str:
    """The headline P&L with its interval: never one without the other."""
    pnl = honesty.pnl
    if math.isnan(pnl.low):
        span = f"no interval: {plural(pnl.windows, 'settled window')} to resample"
    else:
        span = (
            f"95% interval [{dollars(pnl.low)}, {dollars(pnl.high)}] resampling "
            f"{plural(pnl.windows, 'window')}"
        )
        if pnl.too_few:
            span += " (too few to trust the interval)"
    line = (
        f"{dollars(result.pnl)} on ${result.bankroll:.0f} "
        f"({float(result.pnl / result.bankroll):.2%}), {span}"
    )
    if not math.isnan(pnl.estimate) and abs(pnl.estimate - float(result.pnl)) >= 0.005:
        line += f" (settled windows: {dollars(pnl.estimate)}; the rest is open at mid)"
    return line


def sharpe_line(honesty: Honesty) -> str:
    sharpe = honesty.sharpe
    if math.isnan(sharpe.estimate):
        return f"– (fewer than 2 days with P&L that varies; {sharpe.windows} days)"
    return (
        f"{interval_text(sharpe, 2)} (daily ×√365; 95% interval resampling {sharpe.windows} days)"
    )


def verdict_line(honesty: Honesty) -> str:
    return f"{honesty.verdict} — measured against {honesty.assumptions.market}"


EDGE_HEADER = (
    "min left at the fill",
    "fills",
    "contracts",
    "cost floor of these fills ¢ [95%]",
    "real KXSOL15M floor ¢",
    "realized edge ¢/contract [95%]",
)


def edge_rows(report: EdgeReport) -> list[list[str]]:
    """One row per minutes-left bucket, then every fill together."""
    rows = [
        [
            row.label,
            str(row.fills),
            str(row.contracts),
            interval_text(row.floor, 2),
            _num(row.real_floor, 2),
            interval_text(row.edge, 2, signed=True),
        ]
        for row in report.rows
    ]
    rows.append(
        [
            "all",
            str(sum(row.fills for row in report.rows)),
            str(sum(row.contracts for row in report.rows)),
            interval_text(report.floor, 2),
            "",
            interval_text(report.overall, 2, signed=True),
        ]
    )
    return rows


BRIER_HEADER = (
    "min left",
    "windows",
    "model Brier [95%]",
    "market Brier [95%]",
    "model − market [95%]",
    "real Kalshi mid (KALSHI.md)",
)


def brier_rows(rows: Sequence[BrierRow]) -> list[list[str]]:
    """Model and market Brier by minutes left; ``windows`` counts the paired ones."""
    return [
        [
            str(row.minutes),
            str(row.difference.windows),
            interval_text(row.model),
            interval_text(row.market),
            interval_text(row.difference, signed=True),
            _num(row.real_market, 3),
        ]
        for row in rows
    ]


def text_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  "
) -> list[str]:
    """Fixed-width console lines: first column left, the others right."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [str(cells[0]).ljust(widths[0])]
        parts += [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return (indent + "  ".join(parts)).rstrip()

    return [line(header), *(line(r) for r in rows)]


EDGE_NOTE = (
    "Every fill is judged against its market's settlement: a buy made payout − price − fee "
    "per contract, a sell price − payout − fee (payout $1 if the side traded won). The cost "
    "floor of a fill is half the spread plus the fee at the price a taker without edge pays, "
    "from the book the fill met; the real floor is KXSOL15M's (KALSHI.md). A fill counts at "
    "the horizon nearest its minutes left. Intervals resample whole windows."
)


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
    """Every fill, with the book it met, its cost floor and what it made by settlement."""
    outcome = {(m.strategy, m.ticker): m.result for m in result.markets if m.settled}
    rows = []
    for t in result.trades:
        won = outcome.get((t.strategy, t.ticker))
        realized = ""
        if won is not None and t.count:
            payout = Decimal(1) if won == t.side else Decimal(0)
            gain = payout - t.price if t.action == "buy" else t.price - payout
            realized = str((gain - t.fee / t.count).quantize(Decimal("0.000001")))
        rows.append(
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
                "minutes_left": "" if t.seconds_left is None else round(t.seconds_left / 60, 3),
                "yes_bid": "" if t.yes_bid is None else str(t.yes_bid),
                "yes_ask": "" if t.yes_ask is None else str(t.yes_ask),
                "cost_floor_per_contract": "" if t.floor is None else str(t.floor),
                "realized_per_contract": realized,
            }
        )
    return rows


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
        row.append(_num(entry.get("real_kalshi_mid_brier_2026", REAL_MARKET_BRIER.get(minutes)), 3))
        rows.append(row)
    return rows


def sharpness_warning(summary: dict[str, Any]) -> str:
    """Say so when the simulated market is less sharp than the real one: P&L is then optimistic.

    Within ``SHARPNESS_TOLERANCE`` of the real figure the makers count as calibrated:
    closer than that is below the sampling error of the real figures themselves.
    """
    if summary.get("kind") != "history":
        return ""
    worse = []
    for minutes in BUCKETS:
        bucket = summary["buckets"][str(minutes)]
        market = bucket["market"]["brier"]
        real = bucket.get("real_kalshi_mid_brier_2026", REAL_MARKET_BRIER.get(minutes))
        if market is not None and real is not None and market > real * (1 + SHARPNESS_TOLERANCE):
            worse.append(f"{minutes} min ({market:.3f} vs {real:.3f})")
    if not worse:
        return ""
    return (
        "The simulated market's mid is less sharp than the real Kalshi mid at "
        + ", ".join(worse)
        + ": the strategies trade against a softer market than the real one, so the P&L "
        "above is an upper bound (docs/market-model.md; the makers are the market.* parameters)."
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


def _headline(
    result: BacktestResult, summary: dict[str, Any], honesty: Honesty
) -> list[tuple[str, str]]:
    """The figures at the top: the market and the verdict beside the P&L, never apart."""
    return [
        (
            "period",
            f"{_iso(result.first_ts)} → {_iso(result.last_ts)} "
            f"({summary['market_days']} days of markets)",
        ),
        ("measured against", honesty.assumptions.line()),
        ("P&L after fees", pnl_line(result, honesty)),
        ("verdict", verdict_line(honesty)),
        ("fees paid", f"${Decimal(summary['fees']):.2f}"),
        ("markets listed / traded", f"{summary['windows_listed']} / {summary['markets_traded']}"),
        (
            "orders / fills / contracts",
            f"{summary['orders']} / {summary['fills']} / {summary['contracts']}",
        ),
        ("win rate (markets)", _num(summary["win_rate"], 3)),
        (
            "edge per contract, $: expected by the model at the fills / realized",
            f"{_num(summary['edge_expected_per_contract'])} / "
            f"{_num(summary['edge_realized_per_contract'])}",
        ),
        (
            "max drawdown",
            f"${Decimal(summary['max_drawdown']):.2f} ({summary['max_drawdown_pct']:.2%} of peak)",
        ),
        ("Sharpe ratio", sharpe_line(honesty)),
        (
            "circuit-breaker halts",
            f"{summary['halts']} (reset daily: {result.config.risk.reset_breaker_daily})",
        ),
        ("risk decisions", ", ".join(f"{k} {v}" for k, v in sorted(summary["decisions"].items()))),
    ]


def _strategy_rows(summary: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for name, s in summary["strategies"].items():
        interval = s.get("pnl_interval") or {}
        span = f"[{_num(interval.get('low'), 2)}, {_num(interval.get('high'), 2)}]"
        rows.append(
            [
                name,
                s["markets_traded"],
                _num(s["win_rate"], 3),
                s["contracts"],
                f"{s['pnl']} {span}",
                s["fees"],
                _num(s["edge_expected_per_contract"]),
                _num(s["edge_realized_per_contract"]),
            ]
        )
    return rows


STRATEGY_HEADER = (
    "strategy",
    "markets",
    "win rate",
    "contracts",
    "P&L $ [95%, settled windows]",
    "fees $",
    "expected edge/contract $",
    "realized/contract $",
)


def _honesty_sections(honesty: Honesty) -> list[str]:
    market = html.escape(honesty.assumptions.market)
    return [
        "<h2>Realized edge against the cost floor</h2>",
        f"<p class='note'>{html.escape(EDGE_NOTE)} Market: {market}.</p>",
        _table(EDGE_HEADER, edge_rows(honesty.edge)),
        f"<p>{html.escape(honesty.verdict)}"
        + (
            f" ({honesty.edge.unsettled} fills in markets not settled when the data ended "
            "are not judged)"
            if honesty.edge.unsettled
            else ""
        )
        + "</p><img src='edge.png' alt='edge against the cost floor'>",
        "<h2>Does the model beat the market?</h2>",
        f"<p class='note'>Brier scores by minutes left (lower is better), market = {market}. "
        "model − market is paired by window (windows where both forecast); negative means "
        "the model was sharper. 95% intervals resample whole windows.</p>",
        _table(BRIER_HEADER, brier_rows(honesty.brier)),
    ]


def _assumption_section(facts: dict[str, Any]) -> list[str]:
    settings = [
        (f"{group}.{k}", v)
        for group in ("market", "exec", "risk", "data")
        for k, v in facts[group].items()
    ]
    settings += [(f"{name} params", params) for name, params in facts["strategies"].items()]
    settings += [("seed", facts["seed"]), ("files", ", ".join(facts["files"]))]
    if facts["variance_ratio"]:
        settings.append(("bridge variance ratio", _num(facts["variance_ratio"], 3)))
    settings += [("gaps", len(facts["gaps"])), ("windows skipped", facts["skipped_windows"])]
    return [
        "<h2>Assumptions</h2>",
        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in facts["notes"]) + "</ul>",
        _table(("setting", "value"), settings),
        "<ul>"
        + "".join(f"<li>{html.escape(g)}</li>" for g in facts["gaps"] + facts["warnings"])
        + "</ul>",
    ]


def _write_data(
    result: BacktestResult,
    directory: Path,
    summary: dict[str, Any],
    windows: list[dict[str, Any]],
    trades: list[dict[str, Any]],
) -> None:
    """summary.json, windows.csv, trades.csv and the charts."""
    facts = assumptions(result)
    calibration = calib.summary(result.forecasts, calib.real_mid_brier(result.config.market.series))
    (directory / "summary.json").write_bytes(
        orjson.dumps(
            {"summary": summary, "assumptions": facts, "calibration": calibration},
            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
            default=str,
        )
    )
    _write_csv(directory / "windows.csv", windows, list(windows[0]) if windows else ["ticker"])
    _write_csv(directory / "trades.csv", trades, list(trades[0]) if trades else ["time"])
    honesty = result.judged()
    charts.equity_chart(
        directory / "equity.png",
        result.bankroll,
        result.equity,
        result.first_ts or 0.0,
        honesty.assumptions.market,
    )
    charts.reliability_chart(directory / "reliability.png", result.forecasts)
    charts.brier_chart(directory / "brier.png", calib.score_table(result.forecasts), honesty.brier)
    charts.edge_chart(directory / "edge.png", honesty.edge, honesty.assumptions.market)
    charts.outcomes_chart(directory / "outcomes.png", result.markets)


def write_report(result: BacktestResult, directory: Path) -> Path:
    """Write every file of the report into ``directory``; returns the HTML page."""
    directory.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    honesty = result.judged()
    windows = window_rows(result)
    trades = trade_rows(result)
    _write_data(result, directory, summary, windows, trades)
    calibration = calib.summary(result.forecasts, calib.real_mid_brier(result.config.market.series))
    facts = assumptions(result)
    warning = sharpness_warning({**calibration, "kind": result.kind})
    window_cols = ["ticker", "open", "strike", "settlement", "result"]
    window_cols += [f"{s}_{m}m" for m in (14, 5, 1) for s in SOURCES]
    window_cols += ["contracts", "pnl"]
    trade_cols = list(trades[0]) if trades else []
    label = f" — {html.escape(result.config.label)}" if result.config.label else ""
    sections = [
        f"<h1>sol15 backtest{label}</h1>",
        _table(("figure", "value"), _headline(result, summary, honesty)),
        "<h2>P&amp;L and drawdown</h2><img src='equity.png' alt='equity'>",
        *_honesty_sections(honesty),
        f"<p class='warn'>{html.escape(warning)}</p>" if warning else "",
        "<h2>Strategies</h2>",
        _table(STRATEGY_HEADER, _strategy_rows(summary)),
        "<img src='outcomes.png' alt='outcomes'>",
        "<h2>Model calibration</h2>",
        "<p class='note'>model = digital_probability with the strategy's EWMA σ (averaged "
        "settlement); naive = spot vs strike at close, same σ; market = YES mid of the book. "
        f"log-loss clips p to [{LOG_LOSS_EPS}, 1 − {LOG_LOSS_EPS}].</p>",
        _table(CALIBRATION_HEADER, calibration_rows(calibration)),
        "<img src='brier.png' alt='brier'><img src='reliability.png' alt='reliability'>",
        kalshi_html(result.kalshi) if result.kalshi else "",  # --market kalshi:DIR
        *_assumption_section(facts),
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
