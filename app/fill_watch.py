"""The session's fills with the book each one met: the summary's realized edge against the cost floor.

An observer (told after the actors that act on the messages): it keeps the top of
every book, each market's close and fee multiplier, and every fill with the book it
met, and judges the fills when their market settles (``scoring.fills.FillBook``). The
ledger keeps fills but not the books they met, hence this actor. A fill in a market it
has not seen listed (it started after the listing) makes it ask discovery for the
markets it tracks. It lives for the session: a restart forgets what it had seen.
"""

from __future__ import annotations

from typing import Any

from loguru import logger

from actors.market_stream import DISCOVERY
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle
from messages.queries import GetJudged, GetMarkets
from messages.trading import Fill
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import BOOK, FILLS, MARKETS
from scoring.fills import FillBook

FILL_WATCH = "fill-watch"


class FillWatch(SupervisedActor):
    def __init__(self, context: ActorContext) -> None:
        super().__init__(context)
        self.book = FillBook()

    def setup(self) -> None:
        self.subscribe(BOOK, MARKETS, FILLS, last=True)  # a record: no one waits for it

    def handle(self, message: Any) -> Any:
        if isinstance(message, BookUpdate):
            self.book.on_book(message)
        elif isinstance(message, Fill):
            if message.ticker not in self.book.markets:
                self._learn_markets()
            self.book.on_fill(message)
        elif isinstance(message, MarketInfo):
            self.book.on_market(message)
        elif isinstance(message, MarketLifecycle):
            self.book.on_lifecycle(message)
        elif isinstance(message, GetJudged):
            return self.book.judged()
        else:
            return super().handle(message)
        return None

    def _learn_markets(self) -> None:
        """Ask discovery (which never asks us) for the markets it tracks."""
        try:
            markets = self.system.ask(DISCOVERY, GetMarkets(), timeout=2.0)
        except Exception as exc:  # an observer: without the listing a fill has no bucket
            logger.debug("fill watch: discovery unavailable: {}", exc)
            return
        for info in markets.values() if isinstance(markets, dict) else ():
            if isinstance(info, MarketInfo):
                self.book.on_market(info)
