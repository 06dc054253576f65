"""ScoreboardActor: does the model beat the market? Recorded window by window, scored live.

It watches what the bot already says on the bus — markets and their settlement
(``markets``), books (``book``), the model's latest probability per market in its
strategy's status (``status``, once a second) and the bot's fills (``fills``) — and
keeps, per window, the model's probability and the market's mid at 14, 10, 5, 2 and 1
minutes before close, the fills with the book just before each, and the outcome
(:mod:`scoring.scoreboard`). Each window's record goes to the ledger on the
``scoreboard`` topic as it grows, and is read back when the actor (re)starts, so the
score survives restarts. The scores (Brier by minutes left with intervals, realized
edge against the cost floor: :mod:`scoring.scoreboard_summary`) are computed in a child
process at idle priority whenever a window settles (:mod:`scoring.scoreboard_process`),
and the report — what ``GET /api/scoreboard`` answers and the dashboard draws — is
published on the same topic.

In sim mode the market is the simulator's makers, and the report says so
(``market: simulated``): a model that beats them may not beat Kalshi.

Wiring: a child of the root after the strategies (it asks discovery for the live
markets and the ledger for its windows when it starts)::

    ChildSpec.of("scoreboard", ScoreboardActor, market="kalshi", mode="paper", ledger="ledger")
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
import pykka
from loguru import logger

from actors.discovery import known_markets
from hub.state import model_points
from messages.ledger import LoadedScoreboard, LoadScoreboard
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle
from messages.queries import GetReport, GetStats
from messages.scoreboard import ScoreboardReport
from messages.status import StrategyStatus
from messages.timers import ScoreboardTick
from messages.trading import Fill
from runtime.actor import ActorContext
from runtime.address import ActorUnavailable
from runtime.bus import BOOK, FILLS, MARKETS, SCOREBOARD, STATUS
from runtime.dispatch import Dispatch, DispatchedActor
from runtime.log import throttled
from scoring.scoreboard import Scoreboard, Timing, WindowRecord, records_of
from scoring.scoreboard_process import SummaryFailed, SummaryProcess
from scoring.scoreboard_summary import summarize

SCOREBOARD_ADDRESS = "scoreboard"
RECENT = 12  # settled windows listed in the report, newest first
RETRY_AFTER = 60.0  # seconds before a failed summary is tried again
SCORED_AGAINST = {
    "kalshi": "Kalshi's live KXSOL15M book",
    "kalshi-demo": "Kalshi's demo exchange, whose book is not the real market's",
    "simulated": "the simulator's market makers, not Kalshi: a model that beats them "
    "may not beat the real market",
    "custom": "an exchange at a custom address (KALSHI_API_BASE), not known to be Kalshi",
}
Summarizer = Callable[[Sequence[WindowRecord]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Summarized:
    """From the summary thread: the scores of ``windows`` settled windows, or why not."""

    summary: dict[str, Any] | None
    windows: int
    error: str = ""


class ScoreboardActor(DispatchedActor):
    def __init__(
        self,
        context: ActorContext,
        market: str,
        mode: str,
        model: str = "kelly_volatility",
        ledger: str | None = None,
        tick_interval: float = 1.0,
        timing: Timing | None = None,
        summarizer: Summarizer | None = None,
    ) -> None:
        """``market``: kalshi | kalshi-demo | simulated | custom (what the mids are:
        ``app.bot.scored_market``); ``ledger``: the LedgerActor's address (None: the
        scoreboard lives in memory only); ``summarizer``: how the scores are computed (by
        default in a child process, ``SummaryProcess``)."""
        super().__init__(context)
        self.market = market
        self.mode = mode
        self.model = model
        self.ledger = ledger
        self.tick_interval = tick_interval
        self.board = Scoreboard(market, model, timing)
        self.summarizer: Summarizer = summarizer or SummaryProcess()
        self.loaded = ledger is None
        self._unsent: set[str] = set()  # windows changed before the ledger's were read
        self.summary: dict[str, Any] | None = None
        self.summarized = -1  # settled windows the summary covers
        self.summary_error = ""
        self._in_flight = False
        self.summaries_started = 0
        self._retry_at = -math.inf
        self._stopping = False

    def setup(self) -> None:
        self.subscribe(MARKETS, BOOK, STATUS, FILLS, last=True)  # it only watches
        now = self.clock.now()
        for info in known_markets(self.system).values():
            self.board.on_market(info, now)
        self._load()
        self.every(self.tick_interval, ScoreboardTick)
        self._summarize()
        self._report()

    def teardown(self) -> None:
        self._stopping = True
        cancel = getattr(self.summarizer, "cancel", None)
        if cancel is not None:
            cancel()  # a summary being computed is not worth waiting for

    def _on_book(self, book: BookUpdate) -> None:
        self.board.on_book(book)

    def _on_strategy_status(self, status: StrategyStatus) -> None:
        if status.name == self.model:
            for ticker, ts, prob in model_points(status):
                self.board.on_model(ticker, ts, prob)

    def _on_market(self, info: MarketInfo) -> None:
        self.board.on_market(info, self.clock.now())

    def _on_fill(self, fill: Fill) -> None:
        record = self.board.on_fill(fill, self.clock.now())
        if record is not None:
            self._send([record])
            self._report()

    def _get_report(self, _: GetReport) -> dict[str, Any]:
        return self.report()

    def _get_stats(self, _: GetStats) -> dict[str, Any]:
        return {"summaries_started": self.summaries_started, "in_flight": self._in_flight}

    # -- recording --------------------------------------------------------------------------

    def _on_tick(self, _: ScoreboardTick) -> None:
        if not self.loaded:
            self._load()
        changed = self.board.advance(self.clock.now())
        if changed:
            self._send(changed)
            self._report()
        self._summarize()

    def _on_lifecycle(self, event: MarketLifecycle) -> None:
        if event.event_type != "settled" or event.result is None:
            return
        record = self.board.settle(event.ticker, event.result, event.ts)
        if record is not None:
            self._send([record])
            self._summarize()
            self._report()

    def _send(self, records: Sequence[WindowRecord]) -> None:
        """To the ledger; held back until its earlier records were read (not to overwrite
        them with this incarnation's partial ones)."""
        if self.ledger is None:
            return
        for record in records:
            if self.loaded:
                self.publish(SCOREBOARD, record.to_message())
            else:
                self._unsent.add(record.ticker)

    def _load(self) -> None:
        """The windows the ledger holds: asked until it answers (the ledger may be restarting)."""
        if self.ledger is None:
            return
        try:
            loaded: LoadedScoreboard = self.system.ask(
                self.ledger, LoadScoreboard(self.market, self.model), timeout=10
            )
        except (ActorUnavailable, pykka.ActorDeadError, pykka.Timeout) as exc:
            throttled("scoreboard: load").warning("scoreboard: the ledger did not answer ({})", exc)
            return
        if not loaded.known:
            return
        now = self.clock.now()
        self.board.restore(records_of(loaded.windows), now)
        self.loaded = True
        settled = len(self.board.settled)
        logger.info(
            "scoreboard: {} settled windows of {} against the {} market read from the ledger",
            settled,
            self.model,
            self.market,
        )
        unsent, self._unsent = self._unsent, set()
        current = {r.ticker: r for r in self.board.open_records(now)} | self.board.settled
        self._send([current[t] for t in sorted(unsent) if t in current])
        self._report()

    # -- scoring --------------------------------------------------------------------------------

    def _summarize(self) -> None:
        """Start computing the scores when windows settled since the last summary."""
        if not self.loaded or self._in_flight or len(self.board.settled) == self.summarized:
            return
        if self.clock.now() < self._retry_at or self._stopping:
            return
        settled = self.board.settled_records()
        if not settled:  # nothing to resample: no need for another process
            self.summary, self.summarized = summarize([]), 0
            return
        self._in_flight = True
        self.summaries_started += 1
        summarizer, address, windows = self.summarizer, self.address, len(settled)

        def compute() -> None:
            try:
                address.tell(_Summarized(summarizer(settled), windows))
            except SummaryFailed as exc:
                address.tell(_Summarized(None, windows, str(exc)))
            except Exception as exc:  # a bug in scoring must not end the scoreboard
                address.tell(_Summarized(None, windows, repr(exc)))

        # A daemon thread: it waits on the child with the interpreter lock released, and
        # never holds up the process's exit.
        threading.Thread(target=compute, name="scoreboard-summary", daemon=True).start()

    def _on_summary(self, result: _Summarized) -> None:
        self._in_flight = False
        if result.summary is None:
            self.summary_error = result.error
            self._retry_at = self.clock.now() + RETRY_AFTER
            logger.warning("scoreboard: the scores could not be computed: {}", result.error)
        else:
            self.summary, self.summarized, self.summary_error = result.summary, result.windows, ""
        self._report()
        self._summarize()  # more windows may have settled meanwhile

    # -- the report -----------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """What ``/api/scoreboard`` answers (JSON-ready)."""
        now = self.clock.now()
        settled = self.board.settled_records()
        summary = self.summary or summarize([])
        up_to_date = self.loaded and self.summarized == len(settled)
        return {
            "status": "ready" if up_to_date else "computing",
            "mode": self.mode,
            "market": self.market,
            "simulated": self.market == "simulated",
            "real_market": self.market == "kalshi",
            "scored_against": SCORED_AGAINST.get(self.market, self.market),
            "model": self.model,
            "kept_in": "ledger" if self.ledger is not None else "memory only",
            **summary,
            "settled_windows": len(settled),
            "summarized_windows": max(self.summarized, 0),
            "summary_error": self.summary_error or None,
            "recent": [_brief(r) for r in reversed(settled[-RECENT:])],
            "open": [_brief(r) for r in self.board.open_records(now)],
            "updated_at": now,
        }

    def _report(self) -> None:
        body = orjson.dumps(self.report()).decode()
        self.publish(SCOREBOARD, ScoreboardReport(body, self.clock.now()))

    _DISPATCH: ClassVar[Dispatch[ScoreboardActor]] = Dispatch(
        {
            BookUpdate: _on_book,
            StrategyStatus: _on_strategy_status,
            ScoreboardTick: _on_tick,
            MarketInfo: _on_market,
            MarketLifecycle: _on_lifecycle,
            Fill: _on_fill,
            _Summarized: _on_summary,
            GetReport: _get_report,
            GetStats: _get_stats,
        }
    )


def _brief(record: WindowRecord) -> dict[str, Any]:
    """A window for the panel: what each side said at each moment, and the outcome."""
    return {
        "ticker": record.ticker,
        "close_time": record.close_time,
        "outcome": record.outcome,
        "forecasts": [
            {
                "minutes": s.minutes,
                "model_prob": s.model_prob,
                "market_mid": None if s.market_mid is None else str(s.market_mid),
                "missing": list(s.missing),
            }
            for s in record.snapshots
        ],
        "fills": len(record.trades),
    }
