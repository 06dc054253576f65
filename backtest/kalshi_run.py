"""``run.py backtest --market kalshi:DIR``: the live strategies and risk rules on a real
Kalshi market, replayed from a folder of its own history, instead of simulated makers.

Which windows are replayed, and why the others are not (each counted in the report):
a market that has not settled, one without readable candlesticks, one outside
``--from``/``--to``, and — when a selected strategy needs the index — one that neither
the folder's index values nor ``--data`` cover. With none left the run stops and says
why. The market's own Brier score by minutes left comes from every window with quotes;
the model's, where it could run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from backtest.errors import BacktestInputError
from backtest.kalshi_folder import KalshiFolder, load_folder
from backtest.kalshi_index import MAX_GAP, IndexTimeline, data_prints
from backtest.kalshi_market import beside_model, market_forecasts, score
from backtest.kalshi_replay import KalshiFeed, ReplayWindow, depth_by_minute
from backtest.params import RiskParams, RunConfig
from backtest.runner import BacktestResult, collector_for, quiet_libraries
from backtest.session import Session
from strategies.base import Strategy

PREFIX = "kalshi:"
Progress = Callable[[float], None]


def folder_of(spec: str) -> Path:
    """``kalshi:DIR`` → DIR (the only market source there is besides the simulated makers)."""
    if not spec.startswith(PREFIX) or len(spec) == len(PREFIX):
        raise BacktestInputError(f"--market {spec!r}: expected kalshi:DIR")
    return Path(spec[len(PREFIX) :])


def _in_range(open_ts: int, close_ts: int, start: int | None, end: int | None) -> bool:
    return (start is None or open_ts >= start) and (end is None or close_ts <= end)


def _windows(
    folder: KalshiFolder, start: int | None, end: int | None
) -> tuple[list[ReplayWindow], list[dict[str, Any]]]:
    """Settled markets in range with quotes, and the others (ticker, open, reason)."""
    skipped: list[dict[str, Any]] = [
        {"ticker": t, "open_ts": None, "reason": "not settled (no yes/no result)"}
        for t in folder.unsettled
    ]
    windows = []
    for market in folder.markets.values():
        if not _in_range(market.open_ts, market.close_ts, start, end):
            continue
        life = folder.quotes.get(market.ticker, ())
        quotes = tuple(q for q in life if market.open_ts <= q.end_ts < market.close_ts)
        if not quotes:
            reason = "no candlesticks (or none readable) in the market's life"
            skipped.append({"ticker": market.ticker, "open_ts": market.open_ts, "reason": reason})
            continue
        tape = None if folder.trades is None else folder.trades.get(market.ticker, [])
        windows.append(ReplayWindow(market, quotes, depth_by_minute(quotes, tape)))
    return windows, skipped


def _timeline(
    folder: KalshiFolder, windows: Sequence[ReplayWindow], data: Sequence[Path], config: RunConfig
) -> IndexTimeline:
    lo = min(w.market.open_ts for w in windows) - config.data.warmup_seconds
    hi = max(w.market.close_ts for w in windows)
    ts, q = data_prints(data, lo, hi, config.seed)
    return IndexTimeline.build(folder.index, ts, q)


def _no_window(
    folder: KalshiFolder, skipped: Sequence[dict[str, Any]], why: str
) -> BacktestInputError:
    counts = Counter(s["reason"] for s in skipped)
    reasons = "; ".join(f"{n} {r}" for r, n in sorted(counts.items())) or "none"
    named = f" Problems: {'; '.join(folder.problems[:3])}." if folder.problems else ""
    return BacktestInputError(
        f"no usable window in {folder.root}: {why} ({len(folder.markets)} settled markets "
        f"in markets.jsonl; skipped: {reasons}).{named}"
    )


def _sparse_quotes(strategies: Sequence[Strategy], windows: Sequence[ReplayWindow]) -> list[str]:
    """A mean_reversion that can never get its z-score from one quote a minute, said plainly."""
    most = max(len(w.quotes) for w in windows)
    notes = []
    for strategy in strategies:
        params = strategy.params
        periods = getattr(params, "min_periods", None)
        if getattr(params, "window_unit", None) == "updates" and periods and periods > most:
            notes.append(
                f"{strategy.name} needs {periods} book updates in a market before it signals; "
                f"these windows have at most {most} (one quote a minute): lower "
                f"{strategy.name}.min_periods (and window) with --param"
            )
    return notes


def _needing_index(strategies: Sequence[Strategy]) -> list[str]:
    return [s.name for s in strategies if s.needs_index]


def _assumptions(
    config: RunConfig, folder: KalshiFolder, data: Sequence[Path], needs: list[str]
) -> list[str]:
    depth = "trades.jsonl" if folder.trades is not None else "the candle's volume (no trades.jsonl)"
    index = []
    if folder.index:
        index.append("the folder's CF Benchmarks values")
    if data:
        index.append(
            f"--data {', '.join(p.name for p in data)} bridged to 1-second prints (seed {config.seed}; a stand-in for the CF index)"
        )
    return [
        f"quotes: {folder.origin()}; our orders do not move them",
        "fills at the last 1-minute candle's YES ask/bid (at most risk.max_book_age_seconds "
        f"= {config.risk.limits.max_book_age_seconds:g} s old), at most the contracts takers "
        f"traded on that side in that minute ({depth}); Kalshi's taker fee",
        f"orders reach the book {config.execution.latency_seconds:g} s after the decision "
        f"({config.execution.time_in_force})",
        "index: "
        + (" and ".join(index) if index else "none")
        + ("" if needs else "; entries need no index print (quotes alone)"),
    ]


def _covered(
    folder: KalshiFolder,
    candidates: list[ReplayWindow],
    timeline: IndexTimeline,
    needs: list[str],
    skipped: list[dict[str, Any]],
) -> list[ReplayWindow]:
    """The windows the strategies can run on: all, or those the index covers."""
    if not needs:
        return candidates
    reason = f"no index values cover it ({', '.join(needs)} needs the index)"
    windows = []
    for w in candidates:
        if timeline.covers(w.market.open_ts, w.market.close_ts, MAX_GAP):
            windows.append(w)
        else:
            skipped.append(
                {"ticker": w.market.ticker, "open_ts": w.market.open_ts, "reason": reason}
            )
    if not windows:
        raise _no_window(
            folder,
            skipped,
            f"{', '.join(needs)} needs the index and neither the folder's index values nor "
            "--data cover any window with quotes (pass --data with 1-minute history of "
            "those days, or run --strategy mean_reversion on the quotes alone)",
        )
    return windows


def _risk(config: RunConfig, needs: list[str]) -> RiskParams:
    """The configured risk; entries need no index print when no strategy reads one."""
    risk = config.risk
    if needs:
        return risk
    limits = replace(risk.limits, entries_need_index=False)
    return RiskParams(limits, risk.bankroll, risk.reset_breaker_daily)


def run_kalshi_backtest(
    config: RunConfig,
    root: Path,
    data: Sequence[Path] = (),
    *,
    start: int | None = None,
    end: int | None = None,
    progress: Progress | None = None,
    on_range: Callable[[float, float], None] | None = None,
) -> BacktestResult:
    folder = load_folder(root)
    strategies = config.build_strategies()
    needs = _needing_index(strategies)
    candidates, skipped = _windows(folder, start, end)
    if not candidates:
        within = " in --from/--to" if start or end else ""
        raise _no_window(folder, skipped, f"no settled market with quotes{within}")
    candidates.sort(key=lambda w: w.market.open_ts)
    timeline = _timeline(folder, candidates, data, config)
    windows = _covered(folder, candidates, timeline, needs, skipped)
    risk = _risk(config, needs)
    collector = collector_for(strategies)
    fees = config.market.fee_multiplier
    session = Session(
        strategies,
        risk,
        config.execution,
        fee_multiplier=fees,
        calibration=collector,
        keep_signals=False,
    )
    feed = KalshiFeed(
        windows,
        timeline,
        session,
        fee_multiplier=fees,
        index_name=config.data.index,
        warmup=config.data.warmup_seconds,
        progress=progress,
    )
    spans = feed.spans()
    if on_range is not None:
        on_range(float(spans[0][0]), float(spans[-1][1]))
    wall, cpu = time.perf_counter(), time.process_time()
    with quiet_libraries():
        feed.run()
    result = BacktestResult(config, "kalshi", [f"{PREFIX}{root}", *map(str, data)], risk.bankroll)
    result.seconds = time.perf_counter() - wall
    result.cpu_seconds = time.process_time() - cpu
    result.first_ts = float(windows[0].market.open_ts)
    result.last_ts = float(max(w.market.close_ts for w in windows))
    result.windows_listed = len(windows)
    result.skipped = skipped
    result.warnings = list(folder.problems)
    result.counters, result.equity = session.counters, session.equity
    result.markets, result.trades = session.ledger.results(), session.ledger.trades
    result.forecasts = collector.scored()
    result.kalshi = _summary(config, folder, candidates, windows, skipped, result, data, needs)
    return result


def _summary(
    config: RunConfig,
    folder: KalshiFolder,
    candidates: Sequence[ReplayWindow],
    windows: Sequence[ReplayWindow],
    skipped: Sequence[dict[str, Any]],
    result: BacktestResult,
    data: Sequence[Path],
    needs: list[str],
) -> dict[str, Any]:
    forecasts, missing = market_forecasts((w.market for w in candidates), folder.quotes)
    return {
        "folder": str(folder.root),
        "markets_settled": len(folder.markets),
        "windows_with_quotes": len(candidates),
        "windows_replayed": len(windows),
        "market_brier": score(forecasts, config.seed),
        "beside_model": beside_model(forecasts, result.forecasts),
        "skipped": dict(Counter(s["reason"] for s in skipped)),
        "horizons_missing": dict(missing),
        "assumptions": _assumptions(config, folder, data, needs),
        "notes": _sparse_quotes(result.config.build_strategies(), windows),
        "problems": list(folder.problems),
    }


def run_kalshi_configs(
    configs: Sequence[RunConfig],
    spec: str,
    data: Sequence[Path],
    start: int | None,
    end: int | None,
) -> list[BacktestResult]:
    """The command line's runs on one folder, one after another (a grid too), with a bar."""
    from backtest.progress import ProgressBar

    root = folder_of(spec)
    results = []
    for config in configs:
        bar = ProgressBar("backtest kalshi")
        try:
            results.append(
                run_kalshi_backtest(
                    config, root, data, start=start, end=end, progress=bar, on_range=bar.set_range
                )
            )
        finally:
            bar.close()
    return results
