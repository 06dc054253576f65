"""Read a folder of Kalshi's own history (:mod:`backtest.kalshi_layout`) for a replay.

Only what a replay needs is taken from Kalshi's JSON: each settled market's times,
``floor_strike``, ``expiration_value`` and ``result``; each candlestick's closing YES
bid and ask and its volume; each trade's time, size, price and taker side; each index
print. Bad input never stops the reading: a malformed line, a truncated or malformed
candlestick file, or one for a market missing from ``markets.jsonl`` is reported by
name in ``problems`` and skipped; a market that has not settled is counted apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from backtest.errors import BacktestInputError
from backtest.kalshi_layout import (
    CANDLE_SUFFIX,
    CANDLES_DIR,
    INDEX_FILE,
    MARKETS_FILE,
    STATE_FILE,
    TRADES_FILE,
)
from kalshi.cfbenchmarks import parse_values
from kalshi.errors import ParseError
from kalshi.fields import Fields
from kalshi.units import ONE, ZERO, PriceLevels

TickRanges = tuple[tuple[Decimal, Decimal, Decimal], ...]
MAX_LISTED = 20  # problems of one kind named one by one; the rest counted


@dataclass(frozen=True, slots=True)
class FolderMarket:
    """A settled market, as ``markets.jsonl`` gives it."""

    ticker: str
    event_ticker: str
    open_ts: int
    close_ts: int
    settled_ts: float | None
    floor_strike: Decimal | None
    expiration_value: Decimal | None
    result: str  # yes | no
    tick_ranges: TickRanges


@dataclass(frozen=True, slots=True)
class Quote:
    """One candlestick's close: the book at ``end_ts``. A side Kalshi shows at $0 (no bid)
    or $1 (no ask) is None."""

    end_ts: int
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    volume: Decimal  # contracts traded in the minute ending at ``end_ts``

    @property
    def mid(self) -> float | None:
        if self.yes_bid is None or self.yes_ask is None:
            return None
        return float((self.yes_bid + self.yes_ask) / 2)


@dataclass(frozen=True, slots=True)
class TapeTrade:
    ts: float
    count: Decimal
    yes_price: Decimal
    taker: str  # the outcome the taker bought: yes | no


@dataclass(slots=True)
class KalshiFolder:
    root: Path
    markets: dict[str, FolderMarket] = field(default_factory=dict)
    unsettled: list[str] = field(default_factory=list)
    quotes: dict[str, tuple[Quote, ...]] = field(default_factory=dict)
    trades: dict[str, list[TapeTrade]] | None = None  # None: the folder has no trades.jsonl
    index: dict[int, Decimal] = field(default_factory=dict)  # second → print
    problems: list[str] = field(default_factory=list)
    source: dict[str, str] = field(default_factory=dict)  # as the downloader recorded it

    def origin(self) -> str:
        """Whose market this is, in words (a folder from elsewhere is taken as Kalshi's)."""
        where = self.source.get("api_base")
        if self.source.get("simulator"):
            return f"sol15's exchange-sim at {where} (its simulated makers), not Kalshi"
        return f"Kalshi's recorded market{f' ({where})' if where else ''}, not simulated makers"


def load_folder(root: Path) -> KalshiFolder:
    """Everything usable in ``root``; raises :class:`BacktestInputError` only when the
    folder or its ``markets.jsonl`` is missing."""
    if not root.is_dir():
        raise BacktestInputError(f"--market kalshi:{root}: no such folder")
    if not (root / MARKETS_FILE).is_file():
        raise BacktestInputError(
            f"--market kalshi:{root}: no {MARKETS_FILE} (the folder format is in the README: "
            "Kalshi's own JSON, one Market per line)"
        )
    folder = KalshiFolder(root, source=_source(root))
    _read_markets(folder)
    _read_candles(folder)
    _read_trades(folder)
    _read_index(folder)
    return folder


def _source(root: Path) -> dict[str, str]:
    """Where the downloader says the folder came from (nothing for a folder from elsewhere)."""
    try:
        state = orjson.loads((root / STATE_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    source = state.get("source") if isinstance(state, dict) else None
    if not isinstance(source, dict):
        return {}
    return {str(k): str(v) for k, v in source.items()}


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if line.strip():
            yield number, line


def _why(exc: Exception) -> str:
    return exc.message if isinstance(exc, ParseError) else str(exc)


def _report(folder: KalshiFolder, where: str, problems: list[str]) -> None:
    """Name the first problems of one file; count the rest."""
    folder.problems.extend(problems[:MAX_LISTED])
    if len(problems) > MAX_LISTED:
        folder.problems.append(f"{where}: {len(problems) - MAX_LISTED} more problems like these")


# --- markets.jsonl --------------------------------------------------------------------


def _market(data: Any) -> tuple[FolderMarket | None, str]:
    """The market (None when it has not settled) and its ticker; ParseError if malformed."""
    f = Fields("Market", data)
    ticker = f.text("ticker")
    result = f.opt_text("result") or ""
    if result not in ("yes", "no"):
        return None, ticker
    value = f.opt_text("expiration_value")
    settled = f.opt_time("settlement_ts")
    ranges = PriceLevels.from_wire(f.raw("price_ranges")).ranges
    return (
        FolderMarket(
            ticker=ticker,
            event_ticker=f.opt_text("event_ticker") or "",
            open_ts=int(f.time("open_time").timestamp()),
            close_ts=int(f.time("close_time").timestamp()),
            settled_ts=settled.timestamp() if settled else None,
            floor_strike=f.opt_number("floor_strike"),
            expiration_value=f.convert("expiration_value", value, Decimal) if value else None,
            result=result,
            tick_ranges=tuple((r.start, r.end, r.step) for r in ranges),
        ),
        ticker,
    )


def _read_markets(folder: KalshiFolder) -> None:
    problems = []
    for number, line in _lines(folder.root / MARKETS_FILE):
        where = f"{MARKETS_FILE} line {number}"
        try:
            market, ticker = _market(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON ({exc}) — skipped")
            continue
        except (ParseError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"{where}: {_why(exc)} — skipped")
            continue
        if ticker in folder.markets or ticker in folder.unsettled:
            problems.append(f"{where}: {ticker} listed again — the first kept")
        elif market is None:
            folder.unsettled.append(ticker)
        else:
            folder.markets[ticker] = market
    _report(folder, MARKETS_FILE, problems)


# --- candlesticks/<TICKER>.json -------------------------------------------------------


def _side(candle: Fields, key: str) -> Decimal:
    """The close of ``yes_bid``/``yes_ask``, in either the live or the archive's names."""
    side = Fields(f"{candle.model}.{key}", candle.value(key, True))
    if side.raw("close_dollars") is not None:
        return side.dollars("close_dollars")
    return side.dollars("close")


def _quote(data: Any, position: int) -> Quote:
    f = Fields(f"candlesticks[{position}]", data)
    bid, ask = _side(f, "yes_bid"), _side(f, "yes_ask")
    volume = f.opt_count("volume_fp")
    if volume is None:
        volume = f.opt_count("volume") or ZERO
    return Quote(
        end_ts=f.integer("end_period_ts"),
        yes_bid=bid if bid > ZERO else None,
        yes_ask=ask if ask < ONE else None,
        volume=volume,
    )


def read_candles(path: Path, ticker: str) -> tuple[Quote, ...]:
    """One candlestick file's quotes, oldest first; ValueError/ParseError name the fault."""
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"truncated or malformed JSON ({exc})") from None
    f = Fields("GetMarketCandlesticksResponse", data)
    named = f.opt_text("ticker")
    if named is not None and named != ticker:
        raise ValueError(f"it holds the candlesticks of {named}")
    raw = f.value("candlesticks", True)
    if not isinstance(raw, list):
        raise ParseError("candlesticks is not a list")
    quotes = {q.end_ts: q for q in (_quote(c, i) for i, c in enumerate(raw))}
    return tuple(quotes[t] for t in sorted(quotes))


def _read_candles(folder: KalshiFolder) -> None:
    directory = folder.root / CANDLES_DIR
    if not directory.is_dir():
        return
    problems = []
    for path in sorted(directory.glob(f"*{CANDLE_SUFFIX}")):
        ticker = path.name.removesuffix(CANDLE_SUFFIX)
        where = f"{CANDLES_DIR}/{path.name}"
        if ticker in folder.unsettled:
            continue
        if ticker not in folder.markets:
            problems.append(f"{where}: no market {ticker} in {MARKETS_FILE} — skipped")
            continue
        try:
            folder.quotes[ticker] = read_candles(path, ticker)
        except (ParseError, ValueError) as exc:
            problems.append(f"{where}: {_why(exc)} — skipped")
    _report(folder, CANDLES_DIR, problems)


# --- trades.jsonl and index_values.jsonl ----------------------------------------------


def _trade(data: Any) -> tuple[str, TapeTrade]:
    f = Fields("Trade", data)
    taker = f.opt_text("taker_outcome_side") or f.text("taker_side")
    if taker not in ("yes", "no"):
        raise ParseError(f"Trade.taker_outcome_side: unexpected value {taker!r}")
    trade = TapeTrade(
        f.time("created_time").timestamp(),
        f.count("count_fp"),
        f.dollars("yes_price_dollars"),
        taker,
    )
    return f.text("ticker"), trade


def _read_trades(folder: KalshiFolder) -> None:
    path = folder.root / TRADES_FILE
    if not path.is_file():
        return
    trades: dict[str, list[TapeTrade]] = {}
    problems = []
    for number, line in _lines(path):
        try:
            ticker, trade = _trade(orjson.loads(line))
        except (orjson.JSONDecodeError, ParseError, ValueError) as exc:
            problems.append(f"{TRADES_FILE} line {number}: {_why(exc)} — skipped")
            continue
        if ticker in folder.markets:
            trades.setdefault(ticker, []).append(trade)
    for tape in trades.values():
        tape.sort(key=lambda t: t.ts)
    folder.trades = trades
    _report(folder, TRADES_FILE, problems)


def _read_index(folder: KalshiFolder) -> None:
    path = folder.root / INDEX_FILE
    if not path.is_file():
        return
    problems = []
    for number, line in _lines(path):
        try:
            answer = json.loads(line, parse_float=Decimal)  # CF values keep every digit
            values = parse_values(answer, f"{INDEX_FILE} line {number}")
        except (ValueError, ParseError) as exc:
            problems.append(f"{INDEX_FILE} line {number}: {_why(exc)} — skipped")
            continue
        for value in values:
            folder.index[round(value.ts)] = value.value
    _report(folder, INDEX_FILE, problems)
