"""Market-data messages: the settlement indices, market descriptions and order-book updates."""

from __future__ import annotations

from decimal import Decimal

from messages.base import Message, message

Level = tuple[Decimal, Decimal]  # (price in dollars, contracts)


@message("spot_tick")
class SpotTick(Message):
    """One print of a settlement index (``index``: ``SOLUSD_RTI``, ``BRTI``, …), about once a
    second (five times on Kalshi's 5 Hz channel)."""

    index: str
    price: Decimal
    ts: float  # source timestamp, Unix seconds
    avg_60s: Decimal | None = None  # the exchange's trailing 60-second average, when it sends one
    stale: bool = False


@message("index_prints")
class IndexPrints(Message):
    """Prints of an index the spot feed keeps in the ledger for the next start's warm-up
    (one a second, oldest first); ``ts`` is the last one's time."""

    index: str
    prints: tuple[tuple[float, Decimal], ...]
    ts: float


@message("market_info")
class MarketInfo(Message):
    """What discovery learned about one 15-minute market; ``floor_strike`` None = not tradeable yet."""

    ticker: str
    event_ticker: str
    status: str
    open_time: float
    close_time: float
    floor_strike: Decimal | None
    fee_type: str | None
    fee_multiplier: Decimal | None
    tick_ranges: tuple[tuple[Decimal, Decimal, Decimal], ...] = ()  # (start, end, step)
    result: str | None = None
    expiration_value: Decimal | None = None
    series: str = ""  # the series ticker (KXSOL15M); "" when not said
    index: str = ""  # the index its series settles on (SOLUSD_RTI); "" when not said

    @property
    def tradeable(self) -> bool:
        return (
            self.status in ("active", "open")
            and self.floor_strike is not None
            and self.fee_multiplier is not None
        )


@message("book_update")
class BookUpdate(Message):
    """The top and depth of one market's book after a change. Asks are derived from opposite bids."""

    ticker: str
    seq: int
    ts: float
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    no_bid: Decimal | None
    no_ask: Decimal | None
    yes_bids: tuple[Level, ...] = ()  # best first
    no_bids: tuple[Level, ...] = ()  # best first
    stale: bool = False

    @property
    def yes_ask_levels(self) -> tuple[Level, ...]:
        """Depth a YES buyer can take: each NO bid at p is a YES ask at 1 − p (best first)."""
        return tuple((Decimal(1) - price, size) for price, size in self.no_bids)

    @property
    def no_ask_levels(self) -> tuple[Level, ...]:
        return tuple((Decimal(1) - price, size) for price, size in self.yes_bids)

    @property
    def yes_mid(self) -> Decimal | None:
        if self.yes_bid is None or self.yes_ask is None:
            return None
        return (self.yes_bid + self.yes_ask) / 2


@message("market_lifecycle")
class MarketLifecycle(Message):
    """A market changed state (activated, closed, determined, settled)."""

    ticker: str
    event_type: str
    ts: float
    result: str | None = None
    expiration_value: Decimal | None = None


@message("exchange_state")
class ExchangeState(Message):
    """Whether the exchange is up and accepting orders (``GET /exchange/status``)."""

    exchange_active: bool
    trading_active: bool
    ts: float


@message("feed_state")
class FeedState(Message):
    """The market-data WebSocket went down or came back; books and the index follow it."""

    connected: bool
    reason: str
    ts: float


@message("watch_market")
class WatchMarket(Message):
    ticker: str


@message("unwatch_market")
class UnwatchMarket(Message):
    ticker: str


@message("resync_book")
class ResyncBook(Message):
    """A watcher found its book inconsistent and asks the stream for a fresh snapshot."""

    ticker: str
    reason: str
