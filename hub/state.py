"""The hub's live picture: latest risk and strategy status, markets, spot, books and chart series.

Written by the hub actor's thread, read by HTTP handlers and the fan-out on the
event loop; one lock guards it and every read returns JSON-ready copies.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import orjson

from hub.wire import book_data, fields_of, plain
from kalshi.tickers import series_of
from messages.formats import money, normalize
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.status import Alert, RiskStatus, StrategyStatus
from messages.trading import RiskDecision, Signal

Point = tuple[float, float]

RUNNING = "running"
WAITING_FOR_DATA = "waiting_for_data"  # running, but the market-data feed is down or stale
MAX_MARKETS = 24  # a day of 15-minute windows is 96; the dashboard needs only the recent ones
SERIES_POINTS = 3_000


class Series:
    """A time series thinned to at most one point per ``step`` seconds (the latest one wins)."""

    def __init__(self, step: float, maxlen: int = SERIES_POINTS) -> None:
        self.step = step
        self.points: deque[Point] = deque(maxlen=maxlen)

    def add(self, ts: float, value: float) -> None:
        points = self.points
        if points and ts == points[-1][0]:
            points[-1] = (ts, value)  # the same moment reported again (a periodic status)
            return
        if points and ts < points[-1][0]:
            self._insert(ts, value)  # late (another source's clock): put it where it belongs
            return
        if len(points) >= 2 and ts - points[-2][0] < self.step:
            points[-1] = (ts, value)  # still inside the last step: keep only the newest
        else:
            points.append((ts, value))

    def _insert(self, ts: float, value: float) -> None:
        points = self.points
        index = len(points)
        while index > 0 and points[index - 1][0] > ts:
            index -= 1
        if len(points) == points.maxlen:
            if index == 0:
                return  # older than everything kept
            points.popleft()
            index -= 1
        points.insert(index, (ts, value))

    def since(self, start: float) -> list[list[float]]:
        return [[t, v] for t, v in self.points if t >= start]


class LiveState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.version = 0  # bumped on every change that ``status_update`` shows
        self.risk: RiskStatus | None = None
        self.strategies: dict[str, StrategyStatus] = {}
        self.markets: dict[str, MarketInfo] = {}
        self.lifecycle: dict[str, MarketLifecycle] = {}
        self.spot: SpotTick | None = None  # the latest print of any index
        self.spots: dict[str, SpotTick] = {}  # the latest print of each index
        # series → the latest close time of its markets heard of (outlives forgotten markets)
        self.series_close: dict[str, float] = {}
        self.series_by_index: dict[str, list[str]] = {}  # index → the series settling on it
        self.books: dict[str, BookUpdate] = {}
        self.index_series: dict[str, Series] = {}  # by index id
        self.mid_series: dict[str, Series] = {}
        self.model_series: dict[str, Series] = {}
        # Approved signals as chart marks: ticker → [ts, model_prob, direction]. A decision may
        # reach the hub before its signal (the strategy tells risk, then publishes), so both
        # halves wait for each other here.
        self.signal_marks: dict[str, deque[list[Any]]] = {}
        self._unmatched_signals: OrderedDict[str, Signal] = OrderedDict()
        self._unmatched_approvals: OrderedDict[str, bool] = OrderedDict()
        self.pnl_series = Series(5.0, maxlen=20_000)
        self.alerts: deque[dict[str, Any]] = deque(maxlen=50)
        self.actor_events: deque[dict[str, Any]] = deque(maxlen=100)
        self.market_events: deque[dict[str, Any]] = deque(maxlen=50)  # lifecycle, connectivity
        self.connectivity: dict[str, dict[str, Any]] = {}  # exchange_state, feed_state
        self.scoreboard: bytes | None = None  # the scoreboard's latest report (JSON)

    # -- updates (hub actor thread) ----------------------------------------------------

    def set_risk(self, status: RiskStatus) -> None:
        with self.lock:
            self.risk = status
            self.pnl_series.add(status.timestamp, float(status.daily_pnl))
            self.version += 1

    def set_strategy(self, status: StrategyStatus) -> None:
        with self.lock:
            self.strategies[status.name] = status
            for ticker, ts, prob in model_points(status):
                self._series(self.model_series, ticker, 1.0).add(ts, prob)
            self.version += 1

    def set_market(self, info: MarketInfo) -> None:
        with self.lock:
            self.markets[info.ticker] = info
            name = info.series or series_of(info.ticker)
            self.series_close[name] = max(self.series_close.get(name, 0.0), info.close_time)
            if info.index and name not in self.series_by_index.get(info.index, ()):
                self.series_by_index[info.index] = sorted(
                    {*self.series_by_index.get(info.index, ()), name}
                )
            if len(self.markets) > MAX_MARKETS:
                oldest = min(self.markets.values(), key=lambda m: m.close_time)
                self._forget(oldest.ticker)
            self.version += 1

    def set_lifecycle(self, event: MarketLifecycle) -> None:
        with self.lock:
            self.lifecycle[event.ticker] = event
            self.market_events.append({"kind": "lifecycle", **plain(event)})
            self.version += 1

    def set_connectivity(self, kind: str, data: dict[str, Any]) -> None:
        with self.lock:
            previous = self.connectivity.get(kind)
            self.connectivity[kind] = data
            if _changed(previous, data):  # worth telling: not the healthy start, not a repeat
                self.market_events.append(orjson.loads(orjson.dumps(data, default=str)))
            self.version += 1

    def set_scoreboard(self, body: bytes) -> None:
        with self.lock:
            self.scoreboard = body

    def scoreboard_report(self) -> bytes | None:
        """``/api/scoreboard``: the report as the scoreboard encoded it (None: none yet)."""
        with self.lock:
            return self.scoreboard

    def market_data(self) -> dict[str, Any]:
        """Is market data flowing? ``None`` where nothing was reported yet."""
        with self.lock:
            feed = self.connectivity.get("feed_state")
            exchange = self.connectivity.get("exchange_state")
            spots = dict(self.spots)
        return {
            "feed_connected": None if feed is None else feed.get("connected"),
            "feed_reason": None if feed is None else feed.get("reason"),
            "exchange_active": None if exchange is None else exchange.get("exchange_active"),
            "trading_active": None if exchange is None else exchange.get("trading_active"),
            # every index stale (one index: that one); each index's own state under "indices"
            "spot_stale": None if not spots else all(t.stale for t in spots.values()),
            "indices": {
                index: {"price": money(t.price), "ts": t.ts, "stale": t.stale}
                for index, t in sorted(spots.items())
            },
        }

    def set_spot(self, tick: SpotTick) -> bool:
        """Keep the latest print of its index; True when that index went stale or fresh
        (the status shows that)."""
        with self.lock:
            last = self.spots.get(tick.index)
            turned = last is None or last.stale != tick.stale
            self.spot = self.spots[tick.index] = tick
            self._series(self.index_series, tick.index, 1.0).add(tick.ts, float(tick.price))
            if turned:
                self.version += 1
            return turned

    def set_book(self, book: BookUpdate) -> None:
        with self.lock:
            self.books[book.ticker] = book
            if len(self.books) > 2 * MAX_MARKETS:
                oldest = min(self.books.values(), key=lambda b: b.ts)
                del self.books[oldest.ticker]
                self.mid_series.pop(oldest.ticker, None)
            mid = book.yes_mid
            if mid is not None:
                self._series(self.mid_series, book.ticker, 1.0).add(book.ts, float(mid))

    def add_signal(self, signal: Signal) -> None:
        # The model line comes from the strategies' status (``model_points``); signals of
        # different strategies carry different models, so they are only marks.
        with self.lock:
            if self._unmatched_approvals.pop(signal.signal_id, None) is not None:
                self._mark(signal)
            else:
                _bounded_put(self._unmatched_signals, signal.signal_id, signal)

    def add_decision(self, decision: RiskDecision) -> None:
        with self.lock:
            signal = self._unmatched_signals.pop(decision.signal_id, None)
            approved = decision.approved and decision.quantity > 0
            if not approved:
                return
            if signal is not None:
                self._mark(signal)
            else:
                _bounded_put(self._unmatched_approvals, decision.signal_id, True)

    def _mark(self, signal: Signal) -> None:
        marks = self.signal_marks.get(signal.ticker)
        if marks is None:
            if len(self.signal_marks) >= 2 * MAX_MARKETS:
                del self.signal_marks[next(iter(self.signal_marks))]
            marks = self.signal_marks[signal.ticker] = deque(maxlen=500)
        marks.append([signal.timestamp, float(signal.model_prob), signal.direction])

    def add_alert(self, alert: Alert) -> None:
        with self.lock:
            self.alerts.append(fields_of(alert))

    def add_actor_event(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.actor_events.append(data)

    def _series(self, table: dict[str, Series], ticker: str, step: float) -> Series:
        series = table.get(ticker)
        if series is None:
            if len(table) >= 2 * MAX_MARKETS:  # forget the ticker that went quiet first
                quiet = min(table, key=lambda t: table[t].points[-1][0] if table[t].points else 0)
                del table[quiet]
            series = table[ticker] = Series(step)
        return series

    def _forget(self, ticker: str) -> None:
        tables: tuple[dict[str, Any], ...] = (
            self.markets,
            self.lifecycle,
            self.books,
            self.mid_series,
            self.model_series,
            self.signal_marks,
        )
        for table in tables:
            table.pop(ticker, None)

    # -- reads (any thread) ----------------------------------------------------------------

    def current_market(self, now: float) -> MarketInfo | None:
        """The open window (latest to open), else the one that closed last."""
        with self.lock:
            markets = list(self.markets.values())
        live = [m for m in markets if m.open_time <= now < m.close_time]
        if live:
            return max(live, key=lambda m: m.open_time)
        past = [m for m in markets if m.close_time <= now]
        if past:
            return max(past, key=lambda m: m.close_time)
        return min(markets, key=lambda m: m.open_time) if markets else None

    def risk_metrics(self) -> dict[str, Any]:
        with self.lock:
            risk = self.risk
        if risk is None:
            zero = money(0)
            return {
                "daily_pnl": zero,
                "exposure": zero,
                "open_positions": 0,
                "circuit_breaker_triggered": False,
                "realized_pnl": zero,
                "unrealized_pnl": zero,
                "fees_paid": zero,
                "reserved": zero,
                "bankroll": None,
                "starting_bankroll": None,
                "halt_reason": "",
                "updated_at": None,
            }
        body = plain(risk)
        body.pop("positions")
        body.pop("trading_state")
        body["updated_at"] = body.pop("timestamp")
        return body

    def data_problems(self) -> list[str]:
        """Why market data cannot be traded on now (empty: nothing known to be wrong)."""
        data = self.market_data()
        if data["feed_connected"] is False:
            return [f"market data feed down: {data['feed_reason'] or 'disconnected'}"]
        if data["spot_stale"]:
            return ["the index stopped printing (stale)"]
        return []

    def trading_state(self) -> str:
        """The risk actor's state, except that trading switched on without market data is
        ``waiting_for_data``: nothing can trade until the feed is back."""
        with self.lock:
            state = self.risk.trading_state if self.risk is not None else "stopped"
        if state == RUNNING and self.data_problems():
            return WAITING_FOR_DATA
        return state

    def positions(self) -> list[dict[str, Any]]:
        with self.lock:
            risk = self.risk
        return [plain(p) for p in risk.positions] if risk is not None else []

    def strategy_list(self) -> list[dict[str, Any]]:
        with self.lock:
            statuses = sorted(self.strategies.values(), key=lambda s: s.name)
        return [
            {
                "name": s.name,
                "enabled": s.enabled,
                "params": normalize({k: decode_text(v) for k, v in s.params}),
                "metrics": normalize({k: decode_text(v) for k, v in s.metrics}),
                "updated_at": s.timestamp,
            }
            for s in statuses
        ]

    def strategy_names(self) -> set[str]:
        with self.lock:
            return set(self.strategies)

    def selected(self, now: float, ticker: str | None = None) -> MarketInfo | None:
        """The market ``ticker`` names when it is known, else the current one."""
        with self.lock:
            market = self.markets.get(ticker) if ticker else None
        return market if market is not None else self.current_market(now)

    def window(self, now: float, ticker: str | None = None) -> dict[str, Any] | None:
        """The selected (default: current) market with its top of book, for the dashboard."""
        market = self.selected(now, ticker)
        if market is None:
            return None
        with self.lock:
            book = self.books.get(market.ticker)
            lifecycle = self.lifecycle.get(market.ticker)
        return {
            **plain(market),
            "tradeable": market.tradeable,
            "seconds_left": max(0.0, market.close_time - now),
            "book": plain_book(book),
            "last_event": None if lifecycle is None else lifecycle.event_type,
        }

    def charts(self, now: float, ticker: str | None = None) -> dict[str, Any]:
        """Series for the selected (default: current) window, from a minute before it opened,
        its own index's line, and the day's P&L."""
        market = self.selected(now, ticker)
        start = market.open_time - 60 if market is not None else now - 900
        ticker = market.ticker if market is not None else None
        index = self._index_of(market)
        with self.lock:
            spot = self.index_series.get(index) if index else None
            mid = self.mid_series.get(ticker) if ticker else None
            model = self.model_series.get(ticker) if ticker else None
            marks = self.signal_marks.get(ticker, ()) if ticker else ()
            return {
                "spot": spot.since(start) if spot is not None else [],
                "yes_mid": mid.since(start) if mid is not None else [],
                "model": model.since(start) if model is not None else [],
                "signals": [list(m) for m in marks if m[0] >= start],
                "pnl": self.pnl_series.since(now - 86_400),
            }

    def _index_of(self, market: MarketInfo | None) -> str | None:
        """The index ``market`` settles on (not said: the only index, or the latest's)."""
        if market is not None and market.index:
            return market.index
        with self.lock:
            return self.spot.index if self.spot is not None else None

    def latest_spot(self, market: MarketInfo | None = None) -> dict[str, Any] | None:
        """The latest print of ``market``'s index (None: of any index)."""
        with self.lock:
            spot = self.spots.get(market.index) if market is not None else self.spot
            spot = spot if spot is not None else self.spot
        return {"kind": "spot", **plain(spot)} if spot is not None else None

    def series_on(self, index: str) -> list[str] | None:
        """The series settling on ``index`` (None: no market has said so yet)."""
        with self.lock:
            return self.series_by_index.get(index)

    def series_health(self, now: float) -> dict[str, dict[str, Any]]:
        """Each series heard of: how many of its markets are open now and when its last known
        market closes. A series whose markets stop appearing shows ``live_markets`` 0 (and
        ``missing`` true) while the others trade on."""
        with self.lock:
            closes = dict(self.series_close)
            markets = list(self.markets.values())
        out: dict[str, dict[str, Any]] = {}
        for name, close in sorted(closes.items()):
            live = sum(
                1
                for m in markets
                if (m.series or series_of(m.ticker)) == name and m.open_time <= now < m.close_time
            )
            out[name] = {"live_markets": live, "last_close": close, "missing": live == 0}
        return out

    def live_markets(self, now: float, series: str | None = None) -> list[dict[str, Any]]:
        """A compact row per open market (of ``series``): time left, index vs strike, model
        vs market, position, for the dashboard's table and ``/api/status``."""
        with self.lock:
            markets = [m for m in self.markets.values() if m.open_time <= now < m.close_time]
            risk = self.risk
            books = {m.ticker: self.books.get(m.ticker) for m in markets}
            models = {m.ticker: self.model_series.get(m.ticker) for m in markets}
            spots = {m.ticker: self.spots.get(self._index_of(m) or "") for m in markets}
        held = {p.ticker: plain(p) for p in risk.positions} if risk is not None else {}
        rows = []
        for m in sorted(markets, key=lambda m: (m.series or series_of(m.ticker), m.close_time)):
            name = m.series or series_of(m.ticker)
            if series is not None and name != series:
                continue
            book, model, spot = books[m.ticker], models[m.ticker], spots[m.ticker]
            rows.append(
                {
                    "series": name,
                    "ticker": m.ticker,
                    "index": m.index or (spot.index if spot is not None else None),
                    "seconds_left": max(0.0, m.close_time - now),
                    "index_value": None if spot is None else money(spot.price),
                    "index_stale": None if spot is None else spot.stale,
                    "floor_strike": None if m.floor_strike is None else money(m.floor_strike),
                    "model_prob": model.points[-1][1]
                    if model is not None and model.points
                    else None,
                    "yes_mid": None
                    if book is None or book.yes_mid is None
                    else money(book.yes_mid),
                    "position": held.get(m.ticker),
                    "tradeable": m.tradeable,
                }
            )
        return rows

    def recent(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with self.lock:
            return list(self.alerts), list(self.actor_events)

    def recent_market_events(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.market_events)


def _bounded_put(table: OrderedDict[str, Any], key: str, value: Any, limit: int = 1_000) -> None:
    table[key] = value
    while len(table) > limit:
        table.popitem(last=False)


def _changed(previous: dict[str, Any] | None, data: dict[str, Any]) -> bool:
    if previous is None:
        return not (data.get("connected", True) and data.get("trading_active", True))
    return {k: v for k, v in previous.items() if k != "ts"} != {
        k: v for k, v in data.items() if k != "ts"
    }


def decode_text(text: str) -> Any:
    """A strategy parameter or metric as JSON: the actor sends every value as text.

    Nested values (per-market figures, skip counts, positions) arrive as JSON
    text and are decoded; ``null``/``true``/``false`` become JSON literals.
    Scalars stay text, so Decimals keep their exact digits.
    """
    if text in ("null", "true", "false") or text[:1] in ("{", "["):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
    return text


def model_points(status: StrategyStatus) -> Iterable[tuple[str, float, float]]:
    """(ticker, ts, P(yes)) from a strategy's status.

    ``kelly_volatility`` publishes ``markets``: ``{ticker: {"model_prob", "ts", ...}}``
    (JSON text) with its latest evaluation per market; a flat ``ticker`` and
    ``model_prob`` pair is understood too. Anything else is not charted.
    """
    metrics = dict(status.metrics)
    found: list[tuple[str, float, float]] = []
    markets = decode_text(metrics.get("markets", ""))
    if isinstance(markets, dict):
        for ticker, figures in markets.items():
            if isinstance(figures, dict):
                point = _point(
                    ticker, figures.get("ts", status.timestamp), figures.get("model_prob")
                )
                if point is not None:
                    found.append(point)
    ticker = metrics.get("ticker")
    if ticker:
        point = _point(ticker, status.timestamp, metrics.get("model_prob"))
        if point is not None:
            found.append(point)
    return found


def _point(ticker: str, ts: Any, prob: Any) -> tuple[str, float, float] | None:
    try:
        when, value = float(ts), float(prob)
    except (TypeError, ValueError):
        return None  # a metric that is not a number is shown as text, not charted
    if not (math.isfinite(when) and 0.0 <= value <= 1.0):
        return None
    return ticker, when, value


def plain_book(book: BookUpdate | None) -> dict[str, Any] | None:
    if book is None:
        return None
    data = book_data(book)
    return {k: (money(v) if isinstance(v, Decimal) else v) for k, v in data.items()}
