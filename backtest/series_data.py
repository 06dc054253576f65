"""Which series a backtest trades and where each coin's history is (``--series``, ``--data``).

``--data`` takes ``COIN=PATH`` (a file or a folder of CSV), a folder holding one
subfolder per coin (``../shared/data`` → ``btc/``, ``eth/``, ``sol/``), or plain files,
which are SOL's as before. Every series named must have history, and every coin given
history must be a series named: otherwise the error names it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from backtest.errors import BacktestInputError
from backtest.market import HISTORY_LEADS, MarketParams
from backtest.params import DataParams, RunConfig
from kalshi.tickers import SERIES
from simulator.catalog import CATALOG, parse_series
from simulator.config import ConfigError


def coin_of(series: str) -> str:
    """``KXBTC15M`` → ``BTC``."""
    return CATALOG[series].series.coin


def series_of_coin(coin: str) -> str | None:
    """``btc`` → ``KXBTC15M`` (None: no such coin in the catalog)."""
    wanted = coin.strip().upper()
    return next((t for t, s in CATALOG.items() if s.series.coin == wanted), None)


def select_series(text: str | None) -> list[str] | None:
    """``--series``: known tickers with a history calibration (None when not given)."""
    if text is None:
        return None
    try:
        tickers = parse_series(text)
    except ConfigError as exc:
        raise BacktestInputError(str(exc)) from None
    missing = [t for t in tickers if t not in HISTORY_LEADS]
    if missing:
        raise BacktestInputError(
            f"--series: no history calibration for {', '.join(missing)} "
            f"(backtests on history cover {', '.join(HISTORY_LEADS)})"
        )
    return tickers


def _is_root(path: Path) -> bool:
    """A folder with a subfolder per coin (``btc/``, ``eth/``, ``sol/``)."""
    return path.is_dir() and any((path / s.series.coin.lower()).is_dir() for s in CATALOG.values())


def uses_series(series: str | None, entries: Sequence[str]) -> bool:
    """Whether the command line names coins (else: the single-SOL backtest, as before)."""
    return series is not None or any("=" in e or _is_root(Path(e)) for e in entries)


def _csv_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*.csv") if p.is_file())
    if not path.is_file():
        raise BacktestInputError("cannot read: no such file or folder", path=path)
    return [path]


def resolve_data(series: list[str] | None, entries: Sequence[str]) -> dict[str, list[Path]]:
    """History files per series, in ``series`` order (default: the coins given, else SOL)."""
    given: dict[str, list[Path]] = {}
    folders: list[Path] = []
    for entry in entries:
        coin, sep, rest = entry.partition("=")
        if sep:
            ticker = series_of_coin(coin)
            if ticker is None:
                raise BacktestInputError(f"--data {entry}: unknown coin {coin!r}")
            given.setdefault(ticker, []).extend(_csv_files(Path(rest)))
        elif _is_root(Path(entry)):
            folders.append(Path(entry))
        else:
            given.setdefault(SERIES, []).extend(_csv_files(Path(entry)))
    wanted = series or list(given) or [SERIES]
    extra = [t for t in given if t not in wanted]
    if extra:
        raise BacktestInputError(
            f"--data gives history for {', '.join(extra)}, which --series does not name"
        )
    for folder in folders:
        for ticker in wanted:
            sub = folder / coin_of(ticker).lower()
            if ticker not in given and sub.is_dir():
                given[ticker] = _csv_files(sub)
    empty = [t for t in wanted if not given.get(t)]
    if empty:
        raise BacktestInputError(
            f"no history for {', '.join(empty)}: give --data {coin_of(empty[0])}=PATH "
            "or a folder with a subfolder per coin"
        )
    return {t: given[t] for t in wanted}


def for_series(config: RunConfig, series: str) -> RunConfig:
    """``config`` for ``series``: its makers, its windows' tickers and its index's prints."""
    if series == config.market.series:
        return config
    values = config.market.model_dump(exclude_unset=True)
    market = MarketParams.model_validate({**values, "series": series})
    index = CATALOG[series].index.index_id
    data = DataParams.model_validate({**config.data.model_dump(), "index": index})
    return dataclasses.replace(config, market=market, data=data)
