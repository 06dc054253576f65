"""The live scoreboard's bookkeeping: what the model and the market said at fixed moments.

For every market window the scoreboard takes a snapshot at each horizon of
``scoring.forecasts.HORIZONS`` (14, 10, 5, 2 and 1 minutes before close): the model's
probability of YES and the market's YES mid, each the latest one known *at or before*
that moment. It also keeps the bot's own fills with the book just before each (for the
cost floor), and the outcome once the market settles. These records are what the
ledger keeps (so the score survives restarts) and what ``scoring.scoreboard_summary``
scores.

The rules, by hand:

- A snapshot is final ``grace`` seconds after its moment: observations arrive a little
  late (a strategy reports its latest evaluation once a second), and they are placed by
  their own time stamps, never by when they arrived.
- A model probability older than ``model_max_age`` at the moment is stale; a book is
  stale when the watcher said so, or older than ``book_max_age`` (the watcher's own
  limit). A stale, missing or one-sided book gives no mid. Each absence is recorded
  with its reason (``missing``), never filled in.
- A moment that passed before the scoreboard watched the window (it started, or
  restarted, late) is recorded as ``not_watched``; a horizon longer than the window (a
  5-minute simulator window has no 14-minute moment) is not a snapshot at all.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, NamedTuple

import orjson

from messages.market_data import BookUpdate, MarketInfo
from messages.scoreboard import ScoreboardWindow
from messages.trading import Fill
from scoring.costs import cost_floor
from scoring.forecasts import HORIZONS

ONE = Decimal(1)
NO_MODEL = "no_model"
STALE_MODEL = "stale_model"
NO_BOOK = "no_book"
STALE_BOOK = "stale_book"
ONE_SIDED_BOOK = "one_sided_book"
NOT_WATCHED = "not_watched"
BOOKS_KEPT = 64  # recent books per market, to find the one just before a fill
FORGET_AFTER = 86_400.0  # a window not settled a day after its close is dropped from memory


@dataclass(frozen=True, slots=True)
class Timing:
    """When a snapshot is final and what is too old to count (seconds)."""

    grace: float = 2.0
    model_max_age: float = 10.0  # kelly_volatility's own max_book_age_seconds
    book_max_age: float = 30.0  # the market watcher marks a book stale after 30 s unchanged
    horizons: tuple[int, ...] = HORIZONS


# -- the records ----------------------------------------------------------------------------


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The model and the market at one horizon of one window."""

    minutes: int
    at: float  # the moment: close − 60 × minutes
    model_prob: float | None
    model_ts: float | None
    market_mid: Decimal | None
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    book_ts: float | None
    missing: tuple[str, ...] = ()  # why model_prob or market_mid is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "minutes": self.minutes,
            "at": self.at,
            "model_prob": self.model_prob,
            "model_ts": self.model_ts,
            "market_mid": _text(self.market_mid),
            "yes_bid": _text(self.yes_bid),
            "yes_ask": _text(self.yes_ask),
            "book_ts": self.book_ts,
            "missing": list(self.missing),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Snapshot:
        return cls(
            int(d["minutes"]),
            float(d["at"]),
            None if d.get("model_prob") is None else float(d["model_prob"]),
            d.get("model_ts"),
            _dec(d.get("market_mid")),
            _dec(d.get("yes_bid")),
            _dec(d.get("yes_ask")),
            d.get("book_ts"),
            tuple(d.get("missing", ())),
        )


@dataclass(frozen=True, slots=True)
class TradeMark:
    """One of the bot's fills, with the traded side's best bid and ask just before it."""

    trade_id: str
    strategy: str
    side: str  # yes | no
    action: str  # buy | sell
    count: int
    price: Decimal
    fee: Decimal
    ts: float
    is_taker: bool
    bid: Decimal | None
    ask: Decimal | None
    floor: Decimal | None  # what a taker without edge pays per contract here (scoring.costs)
    seconds_left: float | None

    def edge(self, outcome: str) -> Decimal:
        """Dollars per contract this fill made against the outcome, after its fee."""
        payout = ONE if outcome == self.side else Decimal(0)
        fee = self.fee / self.count
        if self.action == "sell":
            return self.price - fee - payout
        return payout - self.price - fee

    def as_dict(self) -> dict[str, Any]:
        return {
            "trade_id": self.trade_id,
            "strategy": self.strategy,
            "side": self.side,
            "action": self.action,
            "count": self.count,
            "price": str(self.price),
            "fee": str(self.fee),
            "ts": self.ts,
            "is_taker": self.is_taker,
            "bid": _text(self.bid),
            "ask": _text(self.ask),
            "floor": _text(self.floor),
            "seconds_left": self.seconds_left,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TradeMark:
        return cls(
            str(d["trade_id"]),
            str(d["strategy"]),
            str(d["side"]),
            str(d["action"]),
            int(d["count"]),
            Decimal(str(d["price"])),
            Decimal(str(d["fee"])),
            float(d["ts"]),
            bool(d["is_taker"]),
            _dec(d.get("bid")),
            _dec(d.get("ask")),
            _dec(d.get("floor")),
            d.get("seconds_left"),
        )


@dataclass(frozen=True, slots=True)
class WindowRecord:
    """Everything the scoreboard knows about one window (the ledger's row)."""

    ticker: str
    market: str
    model: str
    open_time: float | None
    close_time: float | None
    snapshots: tuple[Snapshot, ...]
    trades: tuple[TradeMark, ...]
    outcome: str | None
    settled_at: float | None
    updated_at: float

    def snapshot(self, minutes: int) -> Snapshot | None:
        return next((s for s in self.snapshots if s.minutes == minutes), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ticker": self.ticker,
            "market": self.market,
            "model": self.model,
            "open_time": self.open_time,
            "close_time": self.close_time,
            "outcome": self.outcome,
            "settled_at": self.settled_at,
            "updated_at": self.updated_at,
            "snapshots": [s.as_dict() for s in self.snapshots],
            "trades": [t.as_dict() for t in self.trades],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WindowRecord:
        return cls(
            str(d["ticker"]),
            str(d["market"]),
            str(d["model"]),
            d.get("open_time"),
            d.get("close_time"),
            tuple(Snapshot.from_dict(s) for s in d.get("snapshots", ())),
            tuple(TradeMark.from_dict(t) for t in d.get("trades", ())),
            d.get("outcome"),
            d.get("settled_at"),
            float(d["updated_at"]),
        )

    def to_message(self) -> ScoreboardWindow:
        return ScoreboardWindow(
            self.ticker,
            self.market,
            self.model,
            self.open_time,
            self.close_time,
            self.outcome,
            self.settled_at,
            self.updated_at,
            orjson.dumps([s.as_dict() for s in self.snapshots]).decode(),
            orjson.dumps([t.as_dict() for t in self.trades]).decode(),
        )

    @classmethod
    def from_message(cls, m: ScoreboardWindow) -> WindowRecord:
        return cls(
            m.ticker,
            m.market,
            m.model,
            m.open_time,
            m.close_time,
            tuple(Snapshot.from_dict(s) for s in orjson.loads(m.snapshots)),
            tuple(TradeMark.from_dict(t) for t in orjson.loads(m.trades)),
            m.outcome,
            m.settled_at,
            m.updated_at,
        )


# -- one window ------------------------------------------------------------------------------


class _Book(NamedTuple):
    ts: float
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    no_bid: Decimal | None
    no_ask: Decimal | None
    stale: bool


@dataclass(slots=True)
class _Horizon:
    """A snapshot still to be taken: the latest observations at or before ``at``."""

    minutes: int
    at: float
    model: tuple[float, float] | None = None  # (ts, P(yes))
    book: _Book | None = None


@dataclass(slots=True)
class WindowTracker:
    """One window's snapshots, fills and outcome as they happen."""

    ticker: str
    timing: Timing
    open_time: float | None = None
    close_time: float | None = None
    fee_multiplier: Decimal = ONE
    outcome: str | None = None
    settled_at: float | None = None
    pending: dict[int, _Horizon] = field(default_factory=dict)
    taken: dict[int, Snapshot] = field(default_factory=dict)
    trades: dict[str, TradeMark] = field(default_factory=dict)
    books: deque[_Book] = field(default_factory=lambda: deque(maxlen=BOOKS_KEPT))

    def schedule(self, open_time: float, close_time: float, now: float) -> None:
        """The window's moments; those already past were not watched."""
        if self.close_time is None or self.open_time is None:
            self.open_time, self.close_time = open_time, close_time
        start, close = self.open_time, self.close_time
        for minutes in self.timing.horizons:
            at = close - 60.0 * minutes
            if at < start or minutes in self.taken or minutes in self.pending:
                continue
            if now > at:
                self.taken[minutes] = _unwatched(minutes, at)
            else:
                self.pending[minutes] = _Horizon(minutes, at)

    def observe_model(self, ts: float, prob: float) -> None:
        for horizon in self.pending.values():
            if ts <= horizon.at and (horizon.model is None or ts >= horizon.model[0]):
                horizon.model = (ts, prob)

    def observe_book(self, book: _Book) -> None:
        self.books.append(book)
        ts = book.ts
        for horizon in self.pending.values():
            if ts <= horizon.at and (horizon.book is None or ts >= horizon.book.ts):
                horizon.book = book

    def advance(self, now: float) -> bool:
        """Take the snapshots whose moment is ``grace`` seconds past; True if any was."""
        due = [h for h in self.pending.values() if now >= h.at + self.timing.grace]
        for horizon in due:
            del self.pending[horizon.minutes]
            self.taken[horizon.minutes] = self._snapshot(horizon)
        return bool(due)

    def add_fill(self, fill: Fill) -> bool:
        if fill.trade_id in self.trades or fill.count <= 0:
            return False
        book = self._book_before(fill.timestamp)
        bid = ask = floor = None
        if book is not None and not book.stale:
            bid, ask = (
                (book.yes_bid, book.yes_ask) if fill.side == "yes" else (book.no_bid, book.no_ask)
            )
            if bid is not None and ask is not None:
                floor = _floor(fill.action, bid, ask, self.fee_multiplier)
        left = None if self.close_time is None else self.close_time - fill.timestamp
        self.trades[fill.trade_id] = TradeMark(
            fill.trade_id,
            fill.strategy_name,
            fill.side,
            fill.action,
            fill.count,
            fill.price,
            fill.fee,
            fill.timestamp,
            fill.is_taker,
            bid,
            ask,
            floor,
            left,
        )
        return True

    def settle(self, outcome: str, ts: float) -> None:
        for horizon in list(self.pending.values()):  # a market settled early: take what is known
            del self.pending[horizon.minutes]
            self.taken[horizon.minutes] = self._snapshot(horizon)
        self.outcome, self.settled_at = outcome, ts

    def restore(self, record: WindowRecord) -> None:
        """What an earlier incarnation recorded: its snapshots win over ones not watched now."""
        if self.close_time is None:
            self.open_time, self.close_time = record.open_time, record.close_time
        for snap in record.snapshots:
            if _replaces(snap, self.taken.get(snap.minutes)):
                self.pending.pop(snap.minutes, None)
                self.taken[snap.minutes] = snap
        for trade in record.trades:
            self.trades.setdefault(trade.trade_id, trade)

    def record(self, market: str, model: str, now: float) -> WindowRecord:
        snapshots = tuple(sorted(self.taken.values(), key=lambda s: -s.minutes))
        trades = tuple(sorted(self.trades.values(), key=lambda t: (t.ts, t.trade_id)))
        return WindowRecord(
            self.ticker,
            market,
            model,
            self.open_time,
            self.close_time,
            snapshots,
            trades,
            self.outcome,
            self.settled_at,
            now,
        )

    def _book_before(self, ts: float) -> _Book | None:
        for book in reversed(self.books):
            if book.ts <= ts:
                return book
        return None

    def _snapshot(self, horizon: _Horizon) -> Snapshot:
        timing = self.timing
        missing: list[str] = []
        prob: float | None = None
        model_ts: float | None = None
        if horizon.model is None:
            missing.append(NO_MODEL)
        else:
            model_ts = horizon.model[0]
            if horizon.at - model_ts > timing.model_max_age:
                missing.append(STALE_MODEL)
            else:
                prob = horizon.model[1]
        book = horizon.book
        bid = ask = mid = None
        book_ts: float | None = None
        if book is None:
            missing.append(NO_BOOK)
        else:
            book_ts, bid, ask = book.ts, book.yes_bid, book.yes_ask
            if book.stale or horizon.at - book.ts > timing.book_max_age:
                missing.append(STALE_BOOK)
            elif bid is None or ask is None:
                missing.append(ONE_SIDED_BOOK)
            else:
                mid = (bid + ask) / 2
        return Snapshot(
            horizon.minutes, horizon.at, prob, model_ts, mid, bid, ask, book_ts, tuple(missing)
        )


def _replaces(earlier: Snapshot, current: Snapshot | None) -> bool:
    """An earlier incarnation's snapshot is kept unless this one watched that moment."""
    return current is None or NOT_WATCHED in current.missing


def merge(kept: WindowRecord, earlier: WindowRecord) -> WindowRecord:
    """One window recorded twice (before and after a restart): ``kept``, with the
    snapshots it did not watch and the fills it did not see taken from ``earlier``."""
    snaps = {s.minutes: s for s in kept.snapshots}
    for snap in earlier.snapshots:
        if _replaces(snap, snaps.get(snap.minutes)):
            snaps[snap.minutes] = snap
    trades = {t.trade_id: t for t in earlier.trades} | {t.trade_id: t for t in kept.trades}
    return replace(
        kept,
        snapshots=tuple(sorted(snaps.values(), key=lambda s: -s.minutes)),
        trades=tuple(sorted(trades.values(), key=lambda t: (t.ts, t.trade_id))),
    )


def _unwatched(minutes: int, at: float) -> Snapshot:
    return Snapshot(minutes, at, None, None, None, None, None, None, (NOT_WATCHED,))


def _floor(action: str, bid: Decimal, ask: Decimal, fee_multiplier: Decimal) -> Decimal:
    """The cost floor of this trade: a buy takes the ask; a sell at the bid is a buy of the
    other side at 1 − bid (same half-spread, and the fee is symmetric in p and 1 − p)."""
    if action == "sell":
        return cost_floor(ONE - ask, ONE - bid, fee_multiplier)
    return cost_floor(bid, ask, fee_multiplier)


# -- every window ----------------------------------------------------------------------------


class Scoreboard:
    """The windows being watched and the ones settled, for one market and one model."""

    def __init__(self, market: str, model: str, timing: Timing | None = None) -> None:
        self.market = market
        self.model = model
        self.timing = timing or Timing()
        self.watching: dict[str, WindowTracker] = {}
        self.settled: dict[str, WindowRecord] = {}
        self._in_order: list[WindowRecord] | None = None  # settled, sorted (made when asked)

    def _tracker(self, ticker: str) -> WindowTracker:
        tracker = self.watching.get(ticker)
        if tracker is None:
            tracker = self.watching[ticker] = WindowTracker(ticker, self.timing)
        return tracker

    def on_market(self, info: MarketInfo, now: float) -> None:
        if info.ticker in self.settled:
            return
        tracker = self._tracker(info.ticker)
        if info.fee_multiplier is not None:
            tracker.fee_multiplier = info.fee_multiplier
        tracker.schedule(info.open_time, info.close_time, now)

    def on_model(self, ticker: str, ts: float, prob: float) -> None:
        tracker = self.watching.get(ticker)
        if tracker is not None and math.isfinite(prob):
            tracker.observe_model(ts, prob)

    def on_book(self, book: BookUpdate) -> None:
        tracker = self.watching.get(book.ticker)
        if tracker is not None:
            tracker.observe_book(
                _Book(book.ts, book.yes_bid, book.yes_ask, book.no_bid, book.no_ask, book.stale)
            )

    def on_fill(self, fill: Fill, now: float) -> WindowRecord | None:
        """The window's record when the fill is new (a fill of a settled market is too late)."""
        if fill.ticker in self.settled:
            return None
        tracker = self._tracker(fill.ticker)
        return tracker.record(self.market, self.model, now) if tracker.add_fill(fill) else None

    def advance(self, now: float) -> list[WindowRecord]:
        """The windows with a snapshot taken now; windows a day past close are forgotten."""
        changed = []
        for ticker, tracker in list(self.watching.items()):
            if tracker.close_time is not None and now - tracker.close_time > FORGET_AFTER:
                del self.watching[ticker]
            elif tracker.advance(now):
                changed.append(tracker.record(self.market, self.model, now))
        return changed

    def settle(self, ticker: str, outcome: str, ts: float) -> WindowRecord | None:
        tracker = self.watching.pop(ticker, None)
        if tracker is None or outcome not in ("yes", "no"):
            return None
        tracker.settle(outcome, ts)
        record = tracker.record(self.market, self.model, ts)
        self.settled[ticker] = record
        self._in_order = None
        return record

    def restore(self, records: Iterable[WindowRecord], now: float) -> None:
        """Records read back from the ledger (this market's and model's only)."""
        self._in_order = None
        for record in records:
            if record.market != self.market or record.model != self.model:
                continue
            if record.outcome is not None:
                self.watching.pop(record.ticker, None)
                known = self.settled.get(record.ticker)
                self.settled[record.ticker] = record if known is None else merge(known, record)
            elif record.ticker not in self.settled:
                tracker = self._tracker(record.ticker)
                tracker.restore(record)
                if record.open_time is not None and record.close_time is not None:
                    tracker.schedule(record.open_time, record.close_time, now)

    def open_records(self, now: float) -> list[WindowRecord]:
        """The windows still being watched, soonest to close first."""
        return [
            t.record(self.market, self.model, now)
            for t in sorted(self.watching.values(), key=_closing)
        ]

    def settled_records(self) -> list[WindowRecord]:
        """Every settled window, in order of close (sorted once per change: the report asks
        for them on every snapshot and fill, and a year of windows is 35,000)."""
        if self._in_order is None:
            self._in_order = sorted(
                self.settled.values(), key=lambda r: (r.close_time or 0.0, r.ticker)
            )
        return list(self._in_order)


def _closing(tracker: WindowTracker) -> float:
    return tracker.close_time if tracker.close_time is not None else math.inf


def records_of(messages: Iterable[ScoreboardWindow]) -> Iterator[WindowRecord]:
    for message in messages:
        yield WindowRecord.from_message(message)
