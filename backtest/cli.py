"""``python run.py backtest``: replay history or recordings through the live strategies and risk rules.

Exit codes: 0 done, 2 bad input (a message names the file, line or parameter).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from backtest.calibration import BUCKETS, SOURCES
from backtest.errors import BacktestInputError
from backtest.grid import ranked, ranking_rows, run_grid
from backtest.market import HISTORY_LEADS
from backtest.params import DEFAULT_STRATEGY, build_configs, valid_keys
from backtest.progress import ProgressBar
from backtest.runner import BacktestResult, run_backtest, source_kind
from backtest.series_data import uses_series

EXIT_OK = 0
EXIT_BAD_INPUT = 2

EPILOG = """\
data:
  1-minute OHLCV CSV (timestamp,open,high,low,close,volume; UTC open times) is expanded to
  1-second index prints by a seeded Brownian bridge and quoted by the simulator's market
  makers; recordings (data/recordings/*.jsonl.gz, written by the bot's recorder in paper or
  live mode) are replayed exactly. Give one kind per run.

parameters (--param KEY=VALUE, or KEY=V1,V2,... for a grid; a bare KEY goes to every
selected strategy that has it; kelly_volatility.bankroll defaults to risk.bankroll, as in
the bot):
  {keys}

examples:
  run.py backtest --data SOLUSDT_1m.csv --report out/
  run.py backtest --data a.csv b.csv --from 2025-03-01 --to 2025-03-07 --param min_edge=0.03,0.05 \\
      --param market.lag_seconds=0,5 --workers 4
  run.py backtest --data data/recordings/2026-11-25.jsonl.gz --strategy kelly_volatility
  run.py backtest --series KXBTC15M,KXETH15M,KXSOL15M --data ../shared/data --report out/
  run.py backtest --series KXBTC15M,KXSOL15M --data BTC=btc.csv SOL=sol/ --from 2025-01-01

series (--series): every series named trades in one session (one bankroll, one set of
limits), each on its own coin's history with its own makers and index; the report has a
section per series and the session's equity curve. Series with history calibration:
  {series}
"""


def parse_date(text: str, *, end: bool) -> int:
    """``YYYY-MM-DD`` (a whole UTC day: ``--to`` includes it) or an ISO time (UTC if naive)."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return int((day + timedelta(days=1 if end else 0)).timestamp())
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        flag = "--to" if end else "--from"
        raise BacktestInputError(
            f"{flag} {text!r}: expected a date (2025-03-01) or a UTC time (2025-03-01T12:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def build_parser(strategies: Sequence[str] = (DEFAULT_STRATEGY,)) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py backtest",
        description="Backtest the live strategies and risk rules on real index history or on the "
        "bot's own recordings; report P&L, drawdown, trades, fees and model calibration.",
        epilog=EPILOG.format(
            keys=valid_keys(strategies, sep="\n  "), series=", ".join(HISTORY_LEADS)
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        nargs="+",
        metavar="FILE",
        help="CSV history or recordings (with --market: the index, where the folder has none); "
        "per coin: COIN=PATH (file or folder), or a folder with btc/, eth/, sol/ subfolders; "
        "a plain FILE is SOL's",
    )
    parser.add_argument(
        "--series",
        metavar="TICKERS",
        help="comma-separated series to backtest on history, e.g. KXBTC15M,KXETH15M,KXSOL15M "
        "(default: KXSOL15M, or the coins --data names); each with its own makers",
    )
    parser.add_argument(
        "--market",
        metavar="kalshi:DIR",
        help="replay Kalshi's own quotes from a folder (run.py history download; format in the "
        "README) instead of the simulated makers",
    )
    parser.add_argument(
        "--strategy",
        action="extend",
        nargs="+",
        metavar="NAME",
        help=f"strategies to run together (default: {DEFAULT_STRATEGY})",
    )
    parser.add_argument("--from", dest="start", metavar="DATE", help="first day (UTC) to trade")
    parser.add_argument(
        "--to", dest="end", metavar="DATE", help="last day (UTC) to trade, included"
    )
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="see below; repeatable"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the bridge and the market model"
    )
    parser.add_argument(
        "--report", type=Path, metavar="DIR", help="write HTML, PNG, JSON and CSV here"
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="parallel processes for a grid"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def _strategy_names(argv: Sequence[str]) -> list[str]:
    """The strategies named on the command line, for the help text's parameter list."""
    names: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--strategy":
            for value in argv[i + 1 :]:
                if value.startswith("-"):
                    break
                names.extend(v for v in value.split(",") if v)
    from strategies.base import available_strategies

    known = available_strategies()
    return [n for n in names if n in known] or [DEFAULT_STRATEGY]


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_strategy_names(args_list))
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse printed the usage and the problem
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        return _run(args)
    except BacktestInputError as exc:
        print(f"run.py backtest: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise BacktestInputError(f"--workers must be at least 1, got {args.workers}")
    names = [n for value in (args.strategy or [DEFAULT_STRATEGY]) for n in value.split(",") if n]
    start = parse_date(args.start, end=False) if args.start else None
    end = parse_date(args.end, end=True) if args.end else None
    if start is not None and end is not None and end <= start:
        raise BacktestInputError(f"--to {args.end} is not after --from {args.start}")
    if not args.data and args.market is None:
        raise BacktestInputError("give --data FILE ... or --market kalshi:DIR")
    if args.market is None and uses_series(args.series, args.data or []):
        return _run_series(args, names, start, end)
    args.data = [Path(p) for p in args.data or []]
    for path in args.data:
        if not path.is_file():
            raise BacktestInputError("cannot read: no such file", path=path)
    if args.market is None:
        source_kind(args.data)
    configs = build_configs(names, args.param, args.seed)
    if args.market is not None:
        from backtest.kalshi_run import run_kalshi_configs

        results = run_kalshi_configs(configs, args.market, args.data or [], start, end)
    elif len(configs) == 1:
        result = _single(configs[0], args.data, start, end)
        results = [result]
    else:
        bar = ProgressBar(f"grid of {len(configs)} runs")
        bar.set_range(0, len(configs))
        bar.delay = 0.0
        try:
            results = run_grid(
                configs, args.data, start=start, end=end, workers=args.workers, on_done=bar
            )
        finally:
            bar.close()
    return _report(results, args)


def _report(results: list[BacktestResult], args: argparse.Namespace) -> int:
    """Print (and with ``--report``, write) one run or a ranked grid."""
    best = ranked(results)[0]
    if args.report is not None:
        from backtest.report import write_report

        page = write_report(best, args.report)
        if len(results) > 1:
            _write_grid(args.report, results)
        print(f"report: {page}", file=sys.stderr)
    if args.json:
        payload: Any = best.summary() if len(results) == 1 else ranking_rows(results)
        print(orjson.dumps(payload, default=str).decode())
    elif len(results) == 1:
        print(render_text(best))
    else:
        print(render_grid(results))
    return EXIT_OK


def _run_series(
    args: argparse.Namespace, names: list[str], start: int | None, end: int | None
) -> int:
    """``--series`` / ``--data COIN=PATH``: each series on its own coin's history."""
    from backtest.series_data import for_series, resolve_data, select_series

    data = resolve_data(select_series(args.series), args.data)
    for paths in data.values():
        if source_kind(paths) != "history":
            raise BacktestInputError("--series runs on 1-minute CSV history, not recordings")
    configs = build_configs(names, args.param, args.seed)
    if len(configs) > 1:
        raise BacktestInputError("--series runs one configuration: no grid (KEY=V1,V2)")
    if len(data) == 1:  # one series: the single-series run and report, on its makers
        ((series, paths),) = data.items()
        return _report([_single(for_series(configs[0], series), paths, start, end)], args)
    from backtest.multi import run_series_session
    from backtest.series_report import render_series_text, series_summary, write_series_report

    bar = ProgressBar("backtest")
    try:
        whole, views = run_series_session(
            configs[0], data, start=start, end=end, progress=bar, on_range=bar.set_range
        )
    finally:
        bar.close()
    if args.report is not None:
        page = write_series_report(whole, views, args.report)
        print(f"report: {page}", file=sys.stderr)
    if args.json:
        print(orjson.dumps(series_summary(whole, views), default=str).decode())
    else:
        print(render_series_text(whole, views))
    return EXIT_OK


def _single(config: Any, paths: list[Path], start: int | None, end: int | None) -> BacktestResult:
    bar = ProgressBar("backtest")
    try:
        return run_backtest(
            config, paths, start=start, end=end, progress=bar, on_range=bar.set_range
        )
    finally:
        bar.close()


def _write_grid(directory: Path, results: Sequence[BacktestResult]) -> None:
    rows = ranking_rows(results)
    (directory / "grid.json").write_bytes(
        orjson.dumps(rows, option=orjson.OPT_INDENT_2, default=str)
    )
    import csv

    with (directory / "grid.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _f(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def render_text(result: BacktestResult) -> str:
    from backtest.report import (
        BRIER_HEADER,
        EDGE_HEADER,
        brier_rows,
        edge_rows,
        pnl_line,
        sharpe_line,
        sharpness_warning,
        text_table,
        verdict_line,
    )

    s = result.summary()
    honesty = result.judged()
    first = datetime.fromtimestamp(result.first_ts or 0, tz=UTC).strftime("%Y-%m-%d %H:%M")
    last = datetime.fromtimestamp(result.last_ts or 0, tz=UTC).strftime("%Y-%m-%d %H:%M")
    lines = [
        f"backtest {result.kind}: {first} → {last} UTC, {s['windows_listed']} markets listed "
        f"({s['market_days']} days of markets), {s['windows_skipped']} skipped (gaps, warm-up)",
        f"  market           {honesty.assumptions.line()}",
        f"  P&L after fees   {pnl_line(result, honesty)}; fees ${Decimal(s['fees']):.2f}",
        f"  verdict          {verdict_line(honesty)}",
        f"  trading          {s['orders']} orders, {s['fills']} fills, {s['contracts']} contracts "
        f"in {s['markets_traded']} markets; win rate {_f(s['win_rate'], 3)}",
        f"  risk             max drawdown ${Decimal(s['max_drawdown']):.2f} "
        f"({s['max_drawdown_pct']:.2%}); Sharpe {sharpe_line(honesty)}; halts {s['halts']}",
        "  decisions        " + ", ".join(f"{k} {v}" for k, v in sorted(s["decisions"].items())),
    ]
    for name, f in s["strategies"].items():
        span = f["pnl_interval"] or {}
        lines.append(
            f"  {name:<16} P&L ${Decimal(f['pnl']):.2f} [{_f(span.get('low'), 2)}, "
            f"{_f(span.get('high'), 2)}], {f['markets_traded']} markets, "
            f"win rate {_f(f['win_rate'], 3)}, fees ${Decimal(f['fees']):.2f}"
        )
    lines += [
        "",
        "realized edge against the cost floor (¢/contract; floor = half the spread + the fee,",
        "from the book each fill met; a fill counts at the horizon nearest its minutes left)",
        *text_table(EDGE_HEADER, edge_rows(honesty.edge)),
        "",
        f"does the model beat the market? Brier, lower is better; market = {honesty.assumptions.market}",
        *text_table(BRIER_HEADER, brier_rows(honesty.brier)),
    ]
    warning = sharpness_warning({"buckets": s["calibration"], "kind": s["kind"]})
    if warning:
        lines.append(f"  note: {warning}")
    lines += ["", *_calibration_lines(s)]
    if s.get("kalshi"):  # --market kalshi:DIR (backtest/kalshi_market.py)
        from backtest.kalshi_market import report_lines

        lines.extend(report_lines(s["kalshi"]))
    lines.append(
        f"  ({s['market_events']} market events in {s['seconds']:.1f} s"
        + (f", {s['events_per_s']:,.0f}/s)" if s["events_per_s"] else ")")
    )
    return "\n".join(lines)


def _calibration_lines(s: dict[str, Any]) -> list[str]:
    """Brier and log-loss of the model, the naive forecast and the market's mid."""
    from backtest.calibration import REAL_MARKET_BRIER

    lines = [
        "calibration (Brier / log-loss; lower is better)",
        "  min left    n   " + "  ".join(f"{src:>15}" for src in SOURCES) + "   real mid Brier",
    ]
    for minutes in BUCKETS:
        row = s["calibration"][str(minutes)]
        cells = [f"{_f(row[src]['brier'])} / {_f(row[src]['log_loss'])}" for src in SOURCES]
        if row["market"]["n"] != row["model"]["n"]:
            cells[-1] += f" (n={row['market']['n']})"
        lines.append(
            f"  {minutes:>8} {row['model']['n']:>5}   "
            + "  ".join(f"{c:>15}" for c in cells)
            + f"   {_f(row.get('real_kalshi_mid_brier_2026', REAL_MARKET_BRIER.get(minutes)), 3):>14}"
        )
    return lines


def render_grid(results: Sequence[BacktestResult]) -> str:
    """Ranked runs, each P&L and realized edge with its 95% interval (Sharpe's is in grid.csv)."""
    rows = ranking_rows(results)
    width = max(len(str(r["params"])) for r in rows)
    cells = [
        (
            f"{r['rank']:>4}",
            f"{r['params']:<{width}}",
            f"{Decimal(r['pnl']):.2f} [{_f(r['pnl_low'], 2)}, {_f(r['pnl_high'], 2)}]",
            f"{_f(r['edge_cents'], 2)} [{_f(r['edge_low'], 2)}, {_f(r['edge_high'], 2)}]",
            f"{r['fills']}",
            f"{_f(r['win_rate'], 3)}",
            f"{Decimal(r['max_drawdown']):.2f}",
            f"{Decimal(r['fees']):.2f}",
        )
        for r in rows
    ]
    header = (
        "rank",
        "params",
        "P&L $ [95%]",
        "edge ¢/contract [95%]",
        "fills",
        "win",
        "max DD $",
        "fees $",
    )
    widths = [max(len(c) for c in col) for col in zip(header, *cells, strict=True)]
    lines = [
        f"market: {results[0].judged().assumptions.line()} (a row's params override)",
        "  ".join(
            h.rjust(w) if i != 1 else h.ljust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        ),
    ]
    lines.append("-" * len(lines[-1]))
    for row in cells:
        lines.append(
            "  ".join(
                c.rjust(w) if i != 1 else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)
