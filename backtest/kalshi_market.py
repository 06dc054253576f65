"""How sharp the real market was: its own YES mid, from a folder's quotes, scored on outcomes.

At 14, 10, 5, 2 and 1 minutes before a window's close, the market's forecast is the mid
of the latest candlestick ending at or before that moment (and not before the open): a
candle's close is the book at its ``end_period_ts``. A book with a side missing has no
mid and gives no forecast (counted). The Brier score by minutes left, with a 95% interval
from resampling whole windows (:mod:`scoring.intervals`), is what ``KALSHI.md`` measured
on recorded production data; here it comes from the folder alone, so it needs no index.
Beside it, where the model could run (the index covered the window), the model's Brier
and the market's on exactly the same windows.
"""

from __future__ import annotations

import bisect
import html
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from backtest.calibration import WindowForecasts
from backtest.kalshi_folder import FolderMarket, Quote
from scoring.forecasts import HORIZONS, REAL_SOL_MID_BRIER, Forecast, brier_of, by_horizon
from scoring.intervals import by_window

DIGITS = 4


def quote_at(quotes: Sequence[Quote], moment: int, open_ts: int) -> Quote | None:
    """The latest quote at or before ``moment`` within the market's life."""
    i = bisect.bisect_right([q.end_ts for q in quotes], moment)
    if i == 0 or quotes[i - 1].end_ts < open_ts:
        return None
    return quotes[i - 1]


def market_forecasts(
    markets: Iterable[FolderMarket], quotes: dict[str, tuple[Quote, ...]]
) -> tuple[list[Forecast], Counter[str]]:
    """The market's forecasts at every horizon of every market with quotes, and why some
    horizons have none."""
    forecasts: list[Forecast] = []
    missing: Counter[str] = Counter()
    for market in markets:
        book = quotes.get(market.ticker)
        if not book:
            continue
        outcome = int(market.result == "yes")
        for minutes in HORIZONS:
            moment = market.close_ts - 60 * minutes
            if moment < market.open_ts:
                continue  # a window shorter than the horizon
            quote = quote_at(book, moment, market.open_ts)
            mid = None if quote is None else quote.mid
            if mid is None:
                missing["no quote" if quote is None else "one side of the book empty"] += 1
            else:
                forecasts.append(Forecast(market.ticker, minutes, mid, outcome))
    return forecasts, missing


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, DIGITS)


def score(forecasts: Sequence[Forecast], seed: int) -> dict[str, dict[str, Any]]:
    """Brier by minutes left with its 95% interval over windows."""
    table: dict[str, dict[str, Any]] = {}
    groups = by_horizon(forecasts)
    for minutes in HORIZONS:
        group = groups.get(minutes, [])
        interval = by_window(group, lambda f: f.window, brier_of, seed=seed)
        table[str(minutes)] = {
            "n": len(group),
            "brier": _rounded(brier_of(group)),
            "low": _rounded(interval.low),
            "high": _rounded(interval.high),
            "kalshi_md": REAL_SOL_MID_BRIER.get(minutes),
        }
    return table


def beside_model(
    market: Sequence[Forecast], windows: Sequence[WindowForecasts]
) -> dict[str, dict[str, Any]]:
    """The model's Brier and the market's on the same (window, minutes) pairs."""
    mids = {(f.window, f.minutes): f for f in market}
    table: dict[str, dict[str, Any]] = {}
    for minutes in HORIZONS:
        model: list[Forecast] = []
        same: list[Forecast] = []
        for record in windows:
            snap, outcome = record.snapshots.get(minutes), record.outcome
            paired = mids.get((record.ticker, minutes))
            if snap is None or outcome is None or paired is None:
                continue
            model.append(Forecast(record.ticker, minutes, snap.model, outcome))
            same.append(paired)
        table[str(minutes)] = {
            "n": len(model),
            "model": _rounded(brier_of(model)),
            "market": _rounded(brier_of(same)),
        }
    return table


def report_lines(summary: dict[str, Any]) -> list[str]:
    """The report's section on the real market (``summary``: BacktestResult.kalshi)."""
    lines = [
        "",
        f"the real market (Kalshi's own quotes in {summary['folder']}): Brier of the YES mid "
        "by minutes left [95% interval over windows], and the model beside it on the "
        "windows it could run",
        "  min left  windows  market Brier [95%]          model   market (same windows)",
    ]
    for minutes in HORIZONS:
        row = summary["market_brier"][str(minutes)]
        pair = summary["beside_model"][str(minutes)]
        shown = _f(row["brier"])
        if row["low"] is not None:
            shown += f" [{_f(row['low'])}, {_f(row['high'])}]"
        lines.append(
            f"  {minutes:>8}  {row['n']:>7}  {shown:<26}  {_f(pair['model']):>6}   "
            f"{_f(pair['market'])} (n={pair['n']})"
        )
    lines.append(
        f"  windows: {summary['windows_with_quotes']} with quotes of {summary['markets_settled']} "
        f"settled markets; {summary['windows_replayed']} replayed through the strategies"
    )
    for reason, count in sorted(summary["skipped"].items()):
        lines.append(f"  skipped {count}: {reason}")
    for reason, count in sorted(summary["horizons_missing"].items()):
        lines.append(f"  no market forecast at {count} horizons: {reason}")
    lines.extend(f"  note: {text}" for text in summary["notes"])
    lines.extend(f"  assumption: {text}" for text in summary["assumptions"])
    lines.extend(f"  problem: {text}" for text in summary["problems"])
    return lines


def report_html(summary: dict[str, Any]) -> str:
    """The same section for the HTML report."""
    head = ("min left", "windows", "market Brier", "95% interval", "model", "market, same", "n")
    rows = []
    for minutes in HORIZONS:
        row, pair = summary["market_brier"][str(minutes)], summary["beside_model"][str(minutes)]
        interval = f"[{_f(row['low'])}, {_f(row['high'])}]" if row["low"] is not None else "–"
        cells = (minutes, row["n"], _f(row["brier"]), interval, _f(pair["model"]))
        rows.append((*cells, _f(pair["market"]), pair["n"]))
    table = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    notes = report_lines(summary)[len(HORIZONS) + 3 :]
    return (
        "<h2>The real market</h2><p class='note'>Brier score of the YES mid of Kalshi's own "
        f"quotes ({html.escape(summary['folder'])}) by minutes left, with the model beside it "
        "on the windows it could run.</p><table><tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in head)
        + f"</tr>{table}</table><ul>"
        + "".join(f"<li>{html.escape(n.strip())}</li>" for n in notes)
        + "</ul>"
    )


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.{DIGITS}f}"
