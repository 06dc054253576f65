"""The live scoreboard's messages: one window's record for the ledger, the report for the hub.

Both travel on the ``scoreboard`` bus topic (``runtime.bus.SCOREBOARD``): the ledger keeps
``ScoreboardWindow`` (a row per market window, so the scoreboard survives restarts) and
ignores the report; the hub shows ``ScoreboardReport`` and ignores the rows.
"""

from __future__ import annotations

from messages.base import Message, message


@message("scoreboard_window")
class ScoreboardWindow(Message):
    """One market window as the scoreboard has recorded it so far (re-sent as it grows).

    ``snapshots`` and ``trades`` are JSON text (``scoring.scoreboard`` writes and reads
    them): the ledger stores them as they are, one row per window.
    """

    ticker: str
    market: str  # what the mids are: kalshi | kalshi-demo | simulated | custom
    model: str  # the strategy whose probability is scored, e.g. kelly_volatility
    open_time: float | None
    close_time: float | None
    outcome: str | None  # yes | no once settled
    settled_at: float | None
    updated_at: float
    snapshots: str
    trades: str


@message("scoreboard_report")
class ScoreboardReport(Message):
    """What ``GET /api/scoreboard`` answers and the dashboard panel draws (``body``: JSON)."""

    body: str
    ts: float
