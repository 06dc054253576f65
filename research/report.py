"""report.html and summary.json for a sweep or a walk-forward: one self-contained page.

The page carries its own charts (PNG, base64) so it can be mailed or archived alone.
Every figure of money is shown with its 95% interval and the page says what market the
numbers were measured against: a backtest against simulated makers is not live trading.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from research.figures import Summary, summarize
from research.rows import PARAM_PREFIX as PARAM
from research.rows import Row
from research.runs import RunSpec
from research.walk_forward import (
    DEFAULT_METRIC,
    METRICS,
    Params,
    WalkForward,
    WalkForwardInputError,
    score,
    select,
    selection_dsr,
)

TOP = 10
STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}.note{color:#555}
.assume{background:#fff6dd;border:1px solid #e5c76b;padding:.6em 1em}"""


def configs_of_rows(rows: Sequence[Row]) -> dict[Params, list[Row]]:
    """Rows grouped by their configuration (every ``param.`` column), in first-seen order."""
    grouped: dict[Params, list[Row]] = {}
    for row in rows:
        params = tuple(
            sorted(
                (k[len(PARAM) :], str(v))
                for k, v in row.items()
                if k.startswith(PARAM) and v not in (None, "")
            )
        )
        grouped.setdefault(params, []).append(row)
    return grouped


def swept_keys(rows: Sequence[Row]) -> list[str]:
    """Parameter keys that take more than one value, in column order."""
    keys = [k[len(PARAM) :] for k in (rows[0] if rows else {}) if k.startswith(PARAM)]
    return [k for k in keys if len({str(r.get(PARAM + k, "")) for r in rows}) > 1]


def heatmap_keys(rows: Sequence[Row], chosen: str | None) -> tuple[str, ...]:
    """``--heatmap KEY1,KEY2`` checked against the swept keys; default: the first two."""
    return _checked(chosen, swept_keys(rows))


def check_heatmap(runs: Sequence[RunSpec], chosen: str | None) -> None:
    """The same check on the plan, so a typo is refused before any run starts."""
    values: dict[str, set[str]] = {}
    for run in runs:
        for key, value in run.params:
            values.setdefault(key, set()).add(value)
    check_heatmap_keys([k for k, v in values.items() if len(v) > 1], chosen)


def _checked(chosen: str | None, swept: Sequence[str]) -> tuple[str, ...]:
    if chosen is None:
        return tuple(swept[:2])
    keys = tuple(k.strip() for k in chosen.split(","))
    if len(keys) != 2 or keys[0] == keys[1]:
        raise WalkForwardInputError(f"--heatmap {chosen!r}: give two different keys, KEY1,KEY2")
    for key in keys:
        if key not in swept:
            raise WalkForwardInputError(
                f"--heatmap {key!r} is not a swept parameter; swept: {', '.join(swept) or 'none'}"
            )
    return keys


def market_assumptions(rows: Sequence[Row]) -> str:
    """The honest label: which makers the numbers were measured against."""
    presets = sorted({str(r.get(PARAM + "market.preset") or "sharp") for r in rows}) or ["sharp"]
    names = " and ".join(f"simulated {p} makers" for p in presets)
    return (
        f"Measured against {names} (the backtest's market model, docs/market-model.md), "
        "not against a live order book. P&L is after fees on a fresh bankroll per run; "
        "intervals are 95%, resampling whole 15-minute windows (P&L, edge) or days "
        "(Sharpe, daily ×√365). Edge is realized cents per contract; below the cost floor "
        "it does not pay for spread and fees."
    )


def _value(row: Row, column: str) -> float | None:
    value = row.get(column)
    return None if value in (None, "") else float(value)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    _pyplot().close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def _ordered(values: set[str]) -> list[str]:
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)


def heatmap_html(rows: Sequence[Row], keys: tuple[str, ...], metric: str) -> str:
    """Mean of ``metric`` over seeds (and spans) for each pair of the two keys' values."""
    if len(keys) < 2:
        return "<p class=note>No heat map: fewer than two parameters were swept.</p>"
    ok = [r for r in rows if r.get("status") == "ok"]
    xs = _ordered({str(r.get(PARAM + keys[0], "")) for r in ok})
    ys = _ordered({str(r.get(PARAM + keys[1], "")) for r in ok})
    cells = [[score(_cell(ok, keys, x, y), metric) for x in xs] for y in ys]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * len(xs) + 3, 0.8 * len(ys) + 2))
    grid = [[math.nan if v is None else v for v in line] for line in cells]
    image = ax.imshow(grid, cmap="RdYlGn", aspect="auto", origin="lower", norm=_centred(cells))
    for j, line in enumerate(cells):
        for i, value in enumerate(line):
            ax.text(i, j, "–" if value is None else f"{value:.3g}", ha="center", va="center")
    ax.set_xticks(range(len(xs)), xs)
    ax.set_yticks(range(len(ys)), ys)
    ax.set_xlabel(keys[0])
    ax.set_ylabel(keys[1])
    fig.colorbar(image, label=f"mean {METRICS[metric]} over seeds")
    return _png(fig)


def _centred(cells: Sequence[Sequence[float | None]]) -> Any:
    """Zero in the middle of the colour scale when cells straddle it: red loses, green wins."""
    from matplotlib.colors import TwoSlopeNorm

    values = [v for line in cells for v in line if v is not None]
    if values and min(values) < 0 < max(values):
        return TwoSlopeNorm(vcenter=0.0, vmin=min(values), vmax=max(values))
    return None


def _cell(rows: Sequence[Row], keys: tuple[str, ...], x: str, y: str) -> list[Row]:
    return [
        r
        for r in rows
        if str(r.get(PARAM + keys[0], "")) == x and str(r.get(PARAM + keys[1], "")) == y
    ]


def scatter_html(result: WalkForward) -> str:
    """Each fold's pick: its training Sharpe against its test Sharpe; the diagonal is
    'kept working exactly', below it is decay."""
    points = [
        (f.in_sample.sharpe, f.out_of_sample.sharpe, f.fold.index)
        for f in result.folds
        if f.in_sample
        and f.out_of_sample
        and f.in_sample.sharpe is not None
        and f.out_of_sample.sharpe is not None
    ]
    if not points:
        return "<p class=note>No scatter: no fold has a Sharpe both in and out of sample.</p>"
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    ax.scatter(xs, ys, color="#1f77b4")
    for x, y, index in points:
        ax.annotate(f"fold {index}", (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points")
    low, high = min(xs + ys + [0.0]), max(xs + ys + [0.0])
    ax.plot([low, high], [low, high], color="#999", linewidth=0.8, linestyle="--")
    ax.axhline(0, color="#ccc", linewidth=0.8)
    ax.set_xlabel("in-sample Sharpe (training span, daily ×√365)")
    ax.set_ylabel("out-of-sample Sharpe (next span)")
    return _png(fig)


def _interval(value: Any, low: Any, high: Any, digits: int = 2) -> str:
    def shown(x: Any) -> str:
        if x is None:
            return "–"
        if isinstance(x, Decimal):
            return f"{x:,.2f}"
        return f"{float(x):,.{digits}f}"

    if value is None:
        return "–"
    return f"{shown(value)} [{shown(low)}, {shown(high)}]"


def _params_text(params: Params) -> str:
    return ", ".join(f"{k}={v}" for k, v in params) or "(defaults)"


def _edge_text(s: Summary) -> str:
    floor = "–" if s.cost_floor is None else f"{s.cost_floor:.2f}"
    return f"{_interval(s.edge, s.edge_low, s.edge_high)} vs {floor}"


def _table(head: Sequence[str], lines: Sequence[Sequence[str]], left: int = 1) -> str:
    def cells(tag: str, values: Sequence[str]) -> str:
        return "".join(
            f"<{tag}{' class=l' if i < left else ''}>{html.escape(v)}</{tag}>"
            for i, v in enumerate(values)
        )

    body = "".join(f"<tr>{cells('td', line)}</tr>" for line in lines)
    return f"<table><tr>{cells('th', head)}</tr>{body}</table>"


def best_table(grouped: dict[Params, list[Row]], metric: str) -> tuple[str, list[dict[str, Any]]]:
    """The top configurations by mean ``metric`` over seeds, with every interval."""
    ranked = sorted(
        ((s, p) for p, rows in grouped.items() if (s := score(rows, metric)) is not None),
        key=lambda item: -item[0],
    )[:TOP]
    lines: list[list[str]] = []
    records: list[dict[str, Any]] = []
    for value, params in ranked:
        figures = summarize(grouped[params])
        lines.append(
            [
                _params_text(params),
                f"{value:.4g}",
                _interval(figures.pnl, figures.pnl_low, figures.pnl_high),
                _interval(figures.sharpe, figures.sharpe_low, figures.sharpe_high),
                _edge_text(figures),
                f"{figures.trades or 0:.0f}",
                f"{figures.runs - figures.failed}/{figures.runs}",
            ]
        )
        records.append({"params": dict(params), metric: value} | figures.as_dict())
    head = [
        "configuration",
        f"mean {metric}",
        "P&L $ [95%]",
        "Sharpe [95%]",
        "edge ¢ [95%] vs floor",
        "fills",
        "runs ok",
    ]
    return _table(head, lines), records


def _day(ts: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _dsr_text(value: Any) -> str:
    return "–" if value is None or value.dsr is None else f"{value.dsr:.3f}"


def folds_table(result: WalkForward) -> str:
    """In-sample (training) and out-of-sample (test) figures of each fold's pick, side by side."""
    lines = []
    for f in result.folds:
        fold = f.fold
        span = f"{_day(fold.train_start)} → {_day(fold.test_start)} → {_day(fold.test_end)}"
        if f.chosen is None or f.in_sample is None:
            lines.append([str(fold.index), span, "no configuration finished training", *["–"] * 7])
            continue
        oos = f.out_of_sample or Summary(runs=0, failed=0)
        lines.append(
            [
                str(fold.index),
                span,
                _params_text(f.chosen),
                _interval(f.in_sample.pnl, f.in_sample.pnl_low, f.in_sample.pnl_high),
                _interval(oos.pnl, oos.pnl_low, oos.pnl_high),
                _interval(f.in_sample.sharpe, f.in_sample.sharpe_low, f.in_sample.sharpe_high),
                _interval(oos.sharpe, oos.sharpe_low, oos.sharpe_high),
                _edge_text(f.in_sample),
                _edge_text(oos),
                _dsr_text(f.deflated),
            ]
        )
    head = [
        "fold", "train start → test start → test end (UTC)", "chosen", "IS P&L $", "OOS P&L $",
        "IS Sharpe", "OOS Sharpe", "IS edge ¢ vs floor", "OOS edge ¢ vs floor", "DSR of pick",
    ]  # fmt: skip
    return _table(head, lines, left=3)


def aggregate_table(result: WalkForward) -> str:
    """Every test span together against the picks' training spans, in comparable ratios."""
    lines = []
    for name, s in (
        ("in-sample (picks on their training spans)", result.in_sample),
        ("out-of-sample (every test span)", result.out_of_sample),
    ):
        if s is None:
            lines.append([name, *["–"] * 5])
            continue
        per_day = "–" if s.pnl is None or not s.days else f"{s.pnl / s.days:,.2f}"
        psr = "–" if s.psr is None else f"{s.psr:.3f}"
        lines.append(
            [
                name,
                _interval(s.pnl, s.pnl_low, s.pnl_high),
                per_day,
                _interval(s.sharpe, s.sharpe_low, s.sharpe_high),
                _edge_text(s),
                psr,
            ]
        )
    head = [
        "",
        "P&L $ [95%]",
        "P&L $/day",
        "Sharpe [95%]",
        "edge ¢ [95%] vs floor",
        "P(Sharpe > 0)",
    ]
    return _table(head, lines)


def _page(title: str, sections: Sequence[tuple[str, str]], assumptions: str) -> str:
    body = "".join(f"<h2>{html.escape(h)}</h2>{content}" for h, content in sections)
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p class=assume><b>Market assumptions.</b> {html.escape(assumptions)}</p>{body}</body></html>"
    )


DSR_NOTE = (
    "<p class=note>Deflated Sharpe ratio (Bailey &amp; López de Prado, “The Deflated Sharpe "
    "Ratio”, J. Portfolio Management 40(5), 2014): the probability that the pick's true "
    "Sharpe beats the best Sharpe expected from {n} skill-less configurations, allowing for "
    "the number of days and their skew and kurtosis. Below 0.95 the pick is not "
    "distinguishable from the luck of choosing the best of {n}.</p>"
)


def _write(out_dir: Path, page: str, summary: dict[str, Any]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    (out_dir / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return out_dir / "report.html"


def check_heatmap_keys(swept: Sequence[str], chosen: str | None) -> None:
    """The same check on the keys a search chooses between, before any trial starts."""
    _checked(chosen, list(swept))


def write_sweep_report(
    out_dir: Path,
    rows: Sequence[Row],
    *,
    heatmap: str | None = None,
    metric: str = DEFAULT_METRIC,
    title: str = "Parameter sweep",
    note: str = "",
) -> Path:
    """A sweep's page: heat map, best configurations, and the DSR of the best over the grid
    (``note``: a sentence on which runs the page is about)."""
    keys = heatmap_keys(rows, heatmap)
    grouped = configs_of_rows(rows)
    if all(score(g, metric) is None for g in grouped.values()):
        metric = "pnl"  # e.g. spans under two days have no Sharpe: rank by what there is
    table, best = best_table(grouped, metric)
    # the DSR corrects the best *Sharpe* of N for luck, whatever the table is ranked by
    pick = select(grouped, "sharpe")
    deflated = selection_dsr(grouped, summarize(grouped[pick])) if pick is not None else None
    assumptions = market_assumptions(rows)
    failed = sum(1 for r in rows if r.get("status") != "ok")
    sections = [
        (f"Heat map: {' × '.join(keys) or '–'}", heatmap_html(rows, keys, metric)),
        (f"Best configurations by mean {metric}", table),
        (
            "Deflated Sharpe ratio of the best Sharpe",
            f"<p>{_dsr_text(deflated)}</p>" + DSR_NOTE.format(n=len(grouped)),
        ),
        (
            "Runs",
            f"<p>{len(rows)} runs, {len(grouped)} configurations, {failed} failed.</p>"
            + (f"<p>{html.escape(note)}</p>" if note else ""),
        ),
    ]
    summary = {
        "kind": "sweep",
        "assumptions": assumptions,
        "metric": metric,
        "runs": len(rows),
        "failed": failed,
        "configurations": len(grouped),
        "heatmap": list(keys),
        "best": best,
        "deflated_sharpe": deflated.as_dict() if deflated else None,
    }
    return _write(out_dir, _page(title, sections, assumptions), summary)


def write_walk_forward_report(
    out_dir: Path, result: WalkForward, *, heatmap: str | None = None
) -> Path:
    """A walk-forward's page: folds side by side, the aggregate, the scatter, the heat map
    of every configuration on the training spans, and each pick's DSR."""
    rows = result.training_rows
    keys = heatmap_keys(rows, heatmap)
    assumptions = market_assumptions(rows)
    n = len(result.configs)
    sections = [
        ("In-sample vs out-of-sample, fold by fold", folds_table(result) + DSR_NOTE.format(n=n)),
        ("Every test span together", aggregate_table(result)),
        ("Out-of-sample vs in-sample Sharpe", scatter_html(result)),
        (
            f"Heat map on the training spans: {' × '.join(keys) or '–'}",
            heatmap_html(rows, keys, result.metric),
        ),
        (
            "Best configurations on the training spans",
            best_table(configs_of_rows(rows), result.metric)[0],
        ),
    ]
    title = f"Walk-forward: {len(result.folds)} folds, {n} configurations × {result.seeds} seed(s), chosen by {result.metric}"
    return _write(
        out_dir, _page(title, sections, assumptions), walk_forward_summary(result, assumptions)
    )


def walk_forward_summary(result: WalkForward, assumptions: str) -> dict[str, Any]:
    def fold(f: Any) -> dict[str, Any]:
        return {
            "fold": f.fold.index,
            "train": [_day(f.fold.train_start), _day(f.fold.train_end)],
            "test": [_day(f.fold.test_start), _day(f.fold.test_end)],
            "chosen": dict(f.chosen) if f.chosen is not None else None,
            "in_sample": f.in_sample.as_dict() if f.in_sample else None,
            "out_of_sample": f.out_of_sample.as_dict() if f.out_of_sample else None,
            "deflated_sharpe": f.deflated.as_dict() if f.deflated else None,
        }

    return {
        "kind": "walk-forward",
        "assumptions": assumptions,
        "metric": result.metric,
        "configurations": len(result.configs),
        "seeds": result.seeds,
        "folds": [fold(f) for f in result.folds],
        "out_of_sample": result.out_of_sample.as_dict() if result.out_of_sample else None,
        "in_sample": result.in_sample.as_dict() if result.in_sample else None,
    }
