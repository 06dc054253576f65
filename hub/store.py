"""What the hub knows, kept apart from the actor so it can outlive a hub restart.

A ``HubStore`` passed to the hub's constructor survives a crash of the hub: the
live state and the last status are still there when clients reconnect, and a hub
started on port 0 comes back on the same port. The history endpoints read from
``reader``: the ledger (``storage.history.LedgerHistory``) when the bot has one, else
the bounded in-memory history fed from the bus.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from loguru import logger

from hub.history import MemoryHistory
from hub.state import RUNNING, WAITING_FOR_DATA, LiveState
from hub.wire import envelope
from kalshi.tickers import series_of
from messages.formats import money
from risk.halts import halt_of
from storage.history_api import HistoryReader, OrderCounts


class CountingReader(HistoryReader, Protocol):
    """A reader that also counts every order it holds (the ledger: all sessions, not just this one)."""

    def counts(self) -> OrderCounts: ...


class PerformanceReader(Protocol):
    """``/api/performance``: P&L, equity and the record, read from the ledger (may block)."""

    def report(self) -> dict[str, Any]: ...


class HubStore:
    def __init__(
        self,
        history_limit: int = 5_000,
        reader: CountingReader | None = None,
        performance: PerformanceReader | None = None,
    ) -> None:
        self.performance = performance  # None without a ledger: /api/performance is a 503
        self.state = LiveState()
        self.history = MemoryHistory(history_limit)
        self.reader: HistoryReader = reader if reader is not None else self.history
        self._counting = reader
        self._counts: OrderCounts | None = None  # the reader's, as last refreshed
        self._counts_failing = False
        self.port: int | None = None  # the port the last incarnation bound (reused on restart)
        self._frame_lock = threading.Lock()
        self._frame: tuple[tuple[int, int, int], bytes] | None = None
        self.order_version = 0  # bumped when order counts may have changed

    def status(self, mode: str, now: float, series: str | None = None) -> dict[str, Any]:
        """``/api/status`` and ``status_update.data`` (▶ REST API contract); ``series``: only
        that series' positions and live markets."""
        state = self.state
        trading_state = state.trading_state()
        risk = state.risk_metrics()
        counts = self.order_counts()
        window = state.current_market(now)
        return {
            "running": trading_state in (RUNNING, WAITING_FOR_DATA),  # trading is switched on
            "mode": mode,
            "trading_state": trading_state,
            "risk_metrics": risk,
            "halt": halt_view(trading_state, risk["halt_reason"]),
            "positions": with_series(state.positions(), series),
            "orders": {
                "active": counts.active,
                "filled": counts.filled,
                "canceled": counts.canceled,
                "rejected": counts.rejected,
                "total": counts.total,
            },
            "strategies": state.strategy_list(),
            "market_data": state.market_data(),
            "markets": state.live_markets(now, series),
            "series": state.series_health(now),
            "market": None
            if window is None
            else {
                "ticker": window.ticker,
                "series": window.series or series_of(window.ticker),
                "close_time": window.close_time,
                "floor_strike": None if window.floor_strike is None else money(window.floor_strike),
            },
            "server_time": now,
        }

    def order_counts(self) -> OrderCounts:
        """The status's order counts: the ledger's (refreshed by the hub), else this session's."""
        counts = self._counts
        return counts if counts is not None else self.history.counts()

    def refresh_counts(self) -> None:
        """Re-read the reader's counts (it may block: never on the server's loop)."""
        if self._counting is None:
            return
        try:
            counts = self._counting.counts()
        except Exception as exc:  # the ledger is down: keep showing the last counts
            if not self._counts_failing:
                logger.warning("hub: cannot read order counts from the ledger: {}", exc)
            self._counts_failing = True
            return
        self._counts_failing = False
        if counts != self._counts:
            self._counts = counts
            self.order_version += 1

    def status_frame(self, mode: str, now: float) -> bytes:
        """The encoded ``status_update``, rebuilt when something it shows changed (or each second)."""
        version = (self.state.version, self.order_version, int(now))
        with self._frame_lock:
            cached = self._frame
            if cached is not None and cached[0] == version:
                return cached[1]
        frame = envelope("status_update", self.status(mode, now))
        with self._frame_lock:
            self._frame = (version, frame)
        return frame

    def dashboard(self, now: float, ticker: str | None = None) -> dict[str, Any]:
        """Everything the page draws besides the status: the selected market's window (default:
        the current one) and charts, recent alerts/events."""
        state = self.state
        alerts, events = state.recent()
        return {
            "window": state.window(now, ticker),
            "spot": state.latest_spot(state.selected(now, ticker)),
            "charts": state.charts(now, ticker),
            "alerts": alerts,
            "actor_events": events,
            "market_events": state.recent_market_events(),
            "server_time": now,
        }


def with_series(rows: list[dict[str, Any]], series: str | None = None) -> list[dict[str, Any]]:
    """``rows`` (each with a ``ticker``) with their ``series``; only ``series``' when given."""
    out = [{**row, "series": series_of(str(row.get("ticker") or ""))} for row in rows]
    return out if series is None else [row for row in out if row["series"] == series]


def halt_view(trading_state: str, halt_reason: str) -> dict[str, str] | None:
    """Why trading does not run and what clears it (None while it runs)."""
    halt = halt_of(trading_state, halt_reason if trading_state == "halted" else "")
    return None if halt is None else halt.to_dict()
