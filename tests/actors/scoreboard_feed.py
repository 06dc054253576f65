"""What the bot says on the bus about one window, played on a SimClock for the scoreboard's
tests: the market, a book and the model's status just before each moment, a fill, the
settlement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal as D
from typing import Any

from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle
from messages.status import StrategyStatus
from messages.trading import Fill
from runtime.bus import BOOK, FILLS, MARKETS, STATUS
from runtime.clock import SimClock
from runtime.quiescence import quiesce
from runtime.system import ActorSystem
from scoring.forecasts import HORIZONS
from scoring.scoreboard import WindowRecord
from scoring.scoreboard_summary import summarize

WINDOW = 900.0


def quick(records: Sequence[WindowRecord]) -> dict[str, Any]:
    """The real scores, in process and with fewer draws (the child process has its own test)."""
    return summarize(records, draws=200)


def market(ticker: str, open_time: float) -> MarketInfo:
    return MarketInfo(
        ticker, "KXSOL15M-X", "active", open_time, open_time + WINDOW, D("150"), "quadratic", D(1)
    )


def book(ticker: str, ts: float, bid: str, ask: str) -> BookUpdate:
    return BookUpdate(ticker, 1, ts, D(bid), D(ask), 1 - D(ask), 1 - D(bid))


def status(ticker: str, ts: float, prob: float, model: str = "kelly_volatility") -> StrategyStatus:
    """As the StrategyActor publishes kelly_volatility's, its latest evaluation per market."""
    markets = {ticker: {"model_prob": prob, "ts": ts, "sigma": 0.8}}
    return StrategyStatus(model, True, (), (("markets", json.dumps(markets)),), ts + 0.5)


def fill(ticker: str, ts: float, trade_id: str, price: str = "0.64") -> Fill:
    return Fill(trade_id, "o-1", "c-1", ticker, "yes", "buy", 5, D(price), D("0.08"), True, ts, "k")


class Feed:
    def __init__(self, system: ActorSystem, clock: SimClock) -> None:
        self.system = system
        self.clock = clock

    def publish(self, topic: str, *messages: object) -> None:
        for message in messages:
            self.system.bus.publish(topic, message)
        quiesce(self.system)

    def to(self, moment: float) -> None:
        self.clock.advance_to(moment)
        quiesce(self.system)

    def open(self, ticker: str) -> float:
        """Announce a window opening now; its close time."""
        start = self.clock.now()
        self.publish(MARKETS, market(ticker, start))
        return start + WINDOW

    def moments(
        self,
        ticker: str,
        close: float,
        horizons: Sequence[int] = HORIZONS,
        prob: float = 0.7,
        bid: str = "0.60",
        ask: str = "0.64",
    ) -> None:
        """Before each moment a book and the model; after it, the scoreboard's tick."""
        for minutes in horizons:
            at = close - 60 * minutes
            self.to(at - 1)
            self.publish(BOOK, book(ticker, at - 1, bid, ask))
            self.publish(STATUS, status(ticker, at - 1, prob))
            self.to(at + 3)

    def settle(self, ticker: str, close: float, outcome: str = "yes") -> None:
        self.to(close + 5)
        self.publish(MARKETS, MarketLifecycle(ticker, "settled", close + 5, outcome, D("150.1")))

    def window(self, ticker: str, outcome: str = "yes", trade: bool = True) -> float:
        """A whole window: every moment, a fill 5 minutes before close, the settlement."""
        close = self.open(ticker)
        self.moments(ticker, close, (14, 10, 5))
        if trade:
            self.publish(FILLS, fill(ticker, close - 299, f"{ticker}-t"))
        self.moments(ticker, close, (2, 1))
        self.settle(ticker, close, outcome)
        return close
