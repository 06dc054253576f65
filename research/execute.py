"""One sweep run in this process: build its configuration, run the backtest, make its row.

Loading and parsing the history is the part of a short run that does not depend on
its parameters, so it is done once per process (on Ray: shipped once per worker from
the object store, so cluster nodes need no copy of the files) and kept in a small
cache keyed by the data's content.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from research.rows import Row, failed_row, result_row
from research.runs import RunSpec, data_fingerprint

if TYPE_CHECKING:
    from backtest.history import Bars
    from backtest.runner import BacktestResult

PLAIN = ""  # the series key of plain ``--data FILE``: the backtest's default series
CACHE_SIZE = 4  # distinct data sets kept per process (a sweep usually has one)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A run's history, resolved and parsed: picklable, shared by every run on the same data."""

    files: dict[str, list[Path]]  # series → its files
    bars: dict[str, Bars] = field(default_factory=dict)  # empty for recordings


_cache: OrderedDict[str, Loaded] = OrderedDict()
stats = {"fetches": 0}  # data sets this process loaded or fetched (tests: once per worker)


def data_key(run: RunSpec) -> str:
    """What the loaded history depends on: the data's content and the series."""
    payload = [run.series, [data_fingerprint(entry) for entry in run.data]]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]


def resolve(run: RunSpec) -> dict[str, list[Path]]:
    """History files per series, as ``run.py backtest`` resolves ``--series``/``--data``."""
    from backtest.series_data import resolve_data, select_series, uses_series

    if uses_series(run.series, run.data):
        return resolve_data(select_series(run.series), run.data)
    return {PLAIN: [Path(p) for p in run.data]}


def load(run: RunSpec) -> Loaded:
    """Resolve and parse ``run``'s history (recordings are replayed from their files)."""
    from backtest.history import load_bars
    from backtest.runner import source_kind

    files = resolve(run)
    if any(source_kind(paths) != "history" for paths in files.values()):
        return Loaded(files)
    return Loaded(files, {series: load_bars(paths) for series, paths in files.items()})


def cached(key: str, fetch: Callable[[], Loaded]) -> Loaded:
    """This process's copy of ``key``'s history: ``fetch`` is called the first time only."""
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    loaded = fetch()
    stats["fetches"] += 1
    _cache[key] = loaded
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return loaded


def execute_run(run: RunSpec, *, loaded: Loaded | None = None, run_id: str | None = None) -> Row:
    """Run ``run`` here and return its row; any error becomes a failed row, never an exception.

    ``loaded``: its history, already parsed; ``run_id``: already known (on a cluster node
    without the data files, which the id hashes).
    """
    started = time.perf_counter()
    try:
        if loaded is None:
            loaded = cached(data_key(run), lambda: load(run))
        result = backtest(run, loaded)
    except Exception as exc:  # a run's failure is data for the table, not the sweep's end
        seconds = time.perf_counter() - started
        return failed_row(run, describe(exc), seconds=seconds, run_id=run_id)
    return result_row(run, result, time.perf_counter() - started, run_id)


def describe(exc: BaseException) -> str:
    """One line (it is a CSV cell) naming the error."""
    from backtest.errors import BacktestInputError

    text = str(exc) if isinstance(exc, BacktestInputError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def backtest(run: RunSpec, loaded: Loaded) -> BacktestResult:
    """The backtest itself: one series through ``run_backtest``, several in one session."""
    from backtest.multi import run_series_session
    from backtest.params import build_configs
    from backtest.runner import run_backtest
    from backtest.series_data import for_series

    (config,) = build_configs(list(run.strategies), run.param_texts(), run.seed)
    if len(loaded.files) > 1:
        whole, _ = run_series_session(
            config, loaded.files, start=run.start, end=run.end, bars=loaded.bars or None
        )
        return whole
    ((series, paths),) = loaded.files.items()
    if series != PLAIN:
        config = for_series(config, series)
    bars = loaded.bars.get(series)
    return run_backtest(config, paths, start=run.start, end=run.end, bars=bars)
