"""Parameter grids: every combination of ``--param key=v1,v2,…`` in parallel processes, ranked.

Each run is independent and seeded, so a grid point gives the same figures
whatever the worker or the order; runs are ranked by P&L after fees (ties:
smaller drawdown first).
"""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from backtest.params import RunConfig
from backtest.runner import BacktestResult, run_backtest


def _run_one(args: tuple[RunConfig, list[Path], int | None, int | None]) -> BacktestResult:
    config, paths, start, end = args
    return run_backtest(config, paths, start=start, end=end)


def run_grid(
    configs: Sequence[RunConfig],
    paths: Sequence[Path],
    *,
    start: int | None,
    end: int | None,
    workers: int,
    on_done: Callable[[int], None] | None = None,
) -> list[BacktestResult]:
    """Every configuration's result, in the order given."""
    jobs = [(config, list(paths), start, end) for config in configs]
    if workers <= 1 or len(jobs) == 1:
        out = []
        for i, job in enumerate(jobs, 1):
            out.append(_run_one(job))
            if on_done is not None:
                on_done(i)
        return out
    results: list[BacktestResult | None] = [None] * len(jobs)
    # forkserver: workers fork from a clean single-threaded process, never from one whose
    # other threads (loggers, actors) might hold a lock at the moment of the fork
    context = multiprocessing.get_context("forkserver")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_run_one, job): i for i, job in enumerate(jobs)}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            results[futures[future]] = future.result()
            if on_done is not None:
                on_done(done)
    return [r for r in results if r is not None]


def _ranked(results: Sequence[BacktestResult]) -> list[tuple[BacktestResult, dict[str, Any]]]:
    keyed = [(r, r.summary()) for r in results]
    keyed.sort(key=lambda rs: (-rs[0].pnl, Decimal(rs[1]["max_drawdown"]), rs[0].config.label))
    return keyed


def ranked(results: Sequence[BacktestResult]) -> list[BacktestResult]:
    """Best first: highest P&L after fees, then the smaller drawdown."""
    return [r for r, _ in _ranked(results)]


def ranking_rows(results: Sequence[BacktestResult]) -> list[dict[str, Any]]:
    """One flat row per run (grid.csv): every P&L, edge and Sharpe with its 95% interval."""
    rows = []
    for rank, (result, s) in enumerate(_ranked(results), 1):
        honesty = result.judged()
        rows.append(
            {
                "rank": rank,
                "params": result.config.label or "(defaults)",
                "pnl": s["pnl"],
                "pnl_low": _shown(honesty.pnl.low),
                "pnl_high": _shown(honesty.pnl.high),
                "return": s["return"],
                "edge_cents": _shown(honesty.edge.overall.estimate),
                "edge_low": _shown(honesty.edge.overall.low),
                "edge_high": _shown(honesty.edge.overall.high),
                "cost_floor_cents": _shown(honesty.edge.floor.estimate),
                "verdict": honesty.verdict,
                "fills": s["fills"],
                "win_rate": s["win_rate"],
                "max_drawdown": s["max_drawdown"],
                "sharpe": s["sharpe_daily_annualized"],
                "sharpe_low": _shown(honesty.sharpe.low),
                "sharpe_high": _shown(honesty.sharpe.high),
                "fees": s["fees"],
                "brier_model_5m": s["calibration"]["5"]["model"]["brier"],
                "market": honesty.assumptions.line(),
            }
        )
    return rows


def _shown(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)
