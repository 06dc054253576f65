"""The exchange core: index, markets, matching, portfolios and simulated traders.

Pure and single-threaded: no I/O, no clock. One or more series are listed
(``ExchangeConfig.listings``), each with its own index process and makers; with more
than one, the indices share a common factor (``simulator.index.CommonFactor``). Time moves only through
:meth:`Exchange.advance` (and the ``now`` given to each request), one whole
second at a time, so the same seed and the same sequence of calls always give
the same state. Each second: a new index print; market lifecycle (close,
determine, finalize, open, list the next window); expiries; the makers requote;
noise traders trade.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from kalshi.units import ONE, ZERO, PriceLevels
from simulator import errors
from simulator.config import SETTLEMENT_WINDOW_SECONDS, ExchangeConfig, SeriesSetup
from simulator.events import (
    Event,
    EventCreated,
    FastIndexTick,
    IndexTick,
    LifecycleEvent,
    Outbox,
    PositionEvent,
    TickerEvent,
)
from simulator.group_desk import OrderGroupDesk
from simulator.history import MarketHistory
from simulator.ids import IdFactory, stable_id
from simulator.index import TICKS_PER_SECOND, CommonFactor, IndexProcess
from simulator.markets import MarketState, window_open_at_or_before
from simulator.matching import MatchingEngine
from simulator.modify import Amendment, amend, decrease
from simulator.orders import Order, OrderRequest, OrderSnapshot
from simulator.portfolio import Account, Fill, PositionState, SettlementRecord
from simulator.traders import MakerDesk, NoiseTraders

INTERNAL_BALANCE = Decimal(10) ** 12
FAST_TICK_MS = 1000 // TICKS_PER_SECOND
MAKER_USER = stable_id("user:simulated-market-maker")
NOISE_USER = stable_id("user:simulated-noise-traders")


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """Best prices and sizes; an empty side shows bid 0 and ask 1, as Kalshi does."""

    yes_bid: Decimal
    yes_ask: Decimal
    yes_bid_size: Decimal
    yes_ask_size: Decimal

    @property
    def no_bid(self) -> Decimal:
        return ONE - self.yes_ask

    @property
    def no_ask(self) -> Decimal:
        return ONE - self.yes_bid

    @property
    def spread(self) -> Decimal:
        return self.yes_ask - self.yes_bid


@dataclass(slots=True)
class Listing:
    """One listed series at run time: its setup, index process and simulated traders."""

    setup: SeriesSetup
    index: IndexProcess
    makers: MakerDesk
    noise: NoiseTraders

    @property
    def ticker(self) -> str:
        return self.setup.series.ticker

    @property
    def index_id(self) -> str:
        return self.setup.index.index_id


class Exchange:
    """One simulated Kalshi exchange listing one or more series."""

    def __init__(self, config: ExchangeConfig | None = None, *, start: float) -> None:
        self.config = config if config is not None else ExchangeConfig()
        self.config.validate()
        cfg = self.config
        self.window = cfg.window_seconds
        self.levels: PriceLevels = cfg.price_levels
        self.ids = IdFactory(cfg.seed, cfg.id_run)
        self.outbox = Outbox(cfg.record_events)
        start_second = int(start)
        self.accounts: dict[str, Account] = {}
        self.markets: dict[str, MarketState] = {}
        # (series, open) → its market; None: window left unlisted
        self._by_open: dict[tuple[str, int], MarketState | None] = {}
        self._live: list[MarketState] = []  # not yet finalized, oldest first
        self.history = MarketHistory()  # 1-minute quotes and the trade tape (/historical/*)
        self.engine = MatchingEngine(
            self.accounts,
            self.markets,
            self.ids,
            {setup.series.ticker: setup.series for setup in cfg.listings()},
            self.levels,
            self.outbox,
            self.history,
        )
        maker = self._add_account(MAKER_USER, INTERNAL_BALANCE, internal=True)
        noise = self._add_account(NOISE_USER, INTERNAL_BALANCE, internal=True)
        self.order_groups = OrderGroupDesk(self)
        self.listings = self._start_listings(start_second, maker, noise)
        first = next(iter(self.listings.values()))
        # The first series' parts, by their old names (a single-series exchange has no other)
        self.index, self.makers, self.noise = first.index, first.makers, first.noise
        self._ticker_state: dict[str, tuple[Decimal, ...]] = {}
        self._second = start_second
        self._now = float(start)
        self._fast_ms = start_second * 1000  # the last 5-per-second tick sent

        self._list_upcoming(start_second)
        self._trade(start_second)
        self._sample_quotes(start_second)
        self._flush_tickers(start_second)
        self.outbox.drain()  # nobody can be listening yet

    def _start_listings(self, start: int, maker: Account, noise: Account) -> dict[str, Listing]:
        """Each series' index (drawn up to ``start``), makers and noise traders, by ticker.

        The first series' generators are named by the seed alone, the others' also by their
        ticker; the common factor joins only when more than one series runs, so the
        default single-series exchange draws exactly what it always drew.
        """
        cfg = self.config
        warmup = self.window + 2 * SETTLEMENT_WINDOW_SECONDS
        retain = max(cfg.index_retain_seconds, warmup * 2)
        setups = cfg.listings()
        factor = CommonFactor(cfg.seed, start - warmup, warmup) if len(setups) > 1 else None
        listings: dict[str, Listing] = {}
        for n, setup in enumerate(setups):
            stream = f":{setup.series.ticker}" if n else ""
            index = IndexProcess(
                setup.index, cfg.seed, start - warmup, retain, stream=stream, factor=factor
            )
            makers = MakerDesk(
                self.engine,
                maker,
                index=index,
                calibration=setup.calibration,
                levels=self.levels,
                window_seconds=self.window,
                seed=cfg.seed,
                stream=stream,
            )
            takers = NoiseTraders(
                self.engine,
                noise,
                calibration=setup.calibration,
                levels=self.levels,
                window_seconds=self.window,
                seed=cfg.seed,
                stream=stream,
            )
            listings[setup.series.ticker] = Listing(setup, index, makers, takers)
        for listing in listings.values():  # together: the factor is kept only a while back
            listing.index.extend_to(start)
        return listings

    # --- time -----------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The latest time the exchange has seen."""
        return self._now

    def advance(self, now: float) -> None:
        """Process every whole second up to ``now``; earlier times are ignored."""
        if now <= self._now:
            return
        target = int(now)
        while self._second < target:
            self._second += 1
            self._step(self._second)
        self._now = now
        # floor, not round: 464.9998 s must not reach the tick at 465 s before that second is
        # processed (its print does not exist yet)
        self._fast_ticks(min(math.floor(now * 1000), self._second * 1000 + 999))

    def _fast_ticks(self, upto_ms: int) -> None:
        """The 5-per-second index ticks due by ``upto_ms``, each sent once, in order."""
        if not self.outbox.enabled:
            return
        while self._fast_ms + FAST_TICK_MS <= upto_ms:
            self._fast_ms += FAST_TICK_MS
            second, rest = divmod(self._fast_ms, 1000)
            for listing in self.listings.values():
                index = listing.index
                if rest == 0:
                    value = index.value_at(second)
                    assert value is not None
                else:
                    value = index.fast_ticks(second)[rest // FAST_TICK_MS - 1]
                self.outbox.emit(FastIndexTick(listing.index_id, self._fast_ms, value))

    def _step(self, t: int) -> None:
        self._fast_ticks((t - 1) * 1000 + 999)  # the rest of the last second leads up to t
        for listing in self.listings.values():
            index = listing.index
            for new in index.extend_to(t):
                close = -(-new.ts // self.window) * self.window
                self.outbox.emit(
                    IndexTick(
                        listing.index_id,
                        new,
                        index.trailing_average(new.ts),
                        index.final_minute_average(new.ts, close),
                    )
                )
        for market in list(self._live):
            self._lifecycle(market, t)
        self._fast_ticks(t * 1000)
        self._list_upcoming(t)
        self.engine.expire(t)
        self._trade(t)
        self._sample_quotes(t)
        self._flush_tickers(t)

    def _sample_quotes(self, t: int) -> None:
        """Each active market's top of book at the end of second ``t``, for its candles."""
        for market in self._live:
            if market.status == "active":
                top = self.top_of_book(market)
                self.history.sample(t, market, top.yes_bid, top.yes_ask)

    def _lifecycle(self, market: MarketState, t: int) -> None:
        if market.status == "initialized" and t >= market.open_ts:
            self._activate(market, t)
        if market.status == "active" and t >= market.close_ts:
            self._close(market, t)
        if (
            market.status == "closed"
            and t >= market.close_ts + self.config.determination_delay_seconds
        ):
            self._determine(market, t)
        if (
            market.status == "determined"
            and market.determined_ts is not None
            and t >= market.determined_ts + self.config.settlement_timer_seconds
        ):
            self._finalize(market, t)

    def _list_upcoming(self, t: int) -> None:
        """Keep the current window's market and the next one listed."""
        current_open = window_open_at_or_before(t, self.window)
        for series in self.listings:
            for open_ts in (current_open, current_open + self.window):
                if (series, open_ts) not in self._by_open:
                    market = self._list_market(series, open_ts, t)
                    if market is not None and t >= market.open_ts:
                        self._activate(market, t)

    def _trade(self, t: int) -> None:
        for market in self._live:
            if market.status != "active":
                continue
            listing = self.listings[market.series_ticker]
            if self.config.market_makers:
                listing.makers.step(market, t)
            if self.config.noise_traders:
                listing.noise.step(market, t)

    # --- lifecycle ------------------------------------------------------------------

    def _list_market(self, series: str, open_ts: int, t: int) -> MarketState | None:
        market = MarketState.for_window(series, open_ts, self.window, t)
        if market.ticker in self.markets:
            # Two windows named alike (the repeated hour when New York leaves daylight
            # time): the first keeps the name; the second window is not listed.
            self._by_open[series, open_ts] = None
            return None
        self.markets[market.ticker] = market
        self._by_open[series, open_ts] = market
        self._live.append(market)
        self.outbox.emit(EventCreated(market.event_ticker, t))
        self.outbox.emit(LifecycleEvent(market.ticker, "created", t))
        return market

    def _activate(self, market: MarketState, t: int) -> None:
        market.floor_strike = self.index_of(market).settlement_average(market.open_ts)
        market.status = "active"
        market.updated_ts = t
        self.outbox.emit(LifecycleEvent(market.ticker, "activated", t))
        self.outbox.emit(LifecycleEvent(market.ticker, "metadata_updated", t))

    def _close(self, market: MarketState, t: int) -> None:
        self.engine.cancel_all(market, t, "CloseCancel")
        self.listings[market.series_ticker].makers.forget(market.ticker)
        market.status = "closed"
        market.updated_ts = t

    def _determine(self, market: MarketState, t: int) -> None:
        assert market.floor_strike is not None
        value = self.index_of(market).settlement_average(market.close_ts)
        market.expiration_value = value
        market.result = "yes" if value >= market.floor_strike else "no"
        market.status = "determined"
        market.determined_ts = t
        market.updated_ts = t
        self.outbox.emit(LifecycleEvent(market.ticker, "determined", t))

    def _finalize(self, market: MarketState, t: int) -> None:
        assert market.result is not None
        for user_id in sorted(market.participants):
            account = self.accounts[user_id]
            state = account.positions.get(market.ticker)
            if state is None:
                continue
            record = account.settle(state, market.result, t)
            if record is not None and not account.internal:
                account.settlements.append(record)
                self.outbox.emit(
                    PositionEvent(
                        user_id,
                        market.ticker,
                        state.position,
                        state.exposure,
                        state.realized_pnl,
                        state.fees_paid,
                        state.volume,
                    )
                )
        market.open_interest = ZERO
        market.status = "finalized"
        market.settled_ts = t
        market.updated_ts = t
        self._live.remove(market)
        self.outbox.emit(LifecycleEvent(market.ticker, "settled", t))

    def index_of(self, market: MarketState) -> IndexProcess:
        """The index a market settles on: its series' own."""
        return self.listings[market.series_ticker].index

    def listing_by_index(self, index_id: str) -> Listing | None:
        """The series settled on the index ``index_id``, if the exchange runs it."""
        for listing in self.listings.values():
            if listing.index_id == index_id:
                return listing
        return None

    # --- users ----------------------------------------------------------------------

    def _at(self, now: float | None) -> None:
        """Requests carry the time they arrive at; the core catches up to it first."""
        if now is not None:
            self.advance(now)

    def _add_account(self, user_id: str, balance: Decimal, internal: bool = False) -> Account:
        account = Account(user_id, balance, internal=internal, keep_history=not internal)
        self.accounts[user_id] = account
        return account

    def create_user(self, name: str, balance: Decimal | None = None) -> str:
        """Open an account (idempotent by name); returns its user id."""
        user_id = stable_id(f"user:{name}")
        if user_id not in self.accounts:
            start = self.config.starting_balance if balance is None else balance
            self._add_account(user_id, start).updated_ts = self._now
        return user_id

    def account(self, user_id: str) -> Account:
        account = self.accounts.get(user_id)
        if account is None or account.internal:
            raise errors.not_found("unknown user", f"user_id={user_id}")
        return account

    # --- trading --------------------------------------------------------------------

    def place_order(
        self, user_id: str, request: OrderRequest, now: float | None = None
    ) -> OrderSnapshot:
        """Create an order; raises :class:`ExchangeError` when it is refused."""
        self._at(now)
        account = self.account(user_id)
        market = self.markets.get(request.ticker)
        if market is None:
            # CreateOrder declares no 404 in the spec: an unknown ticker is a bad request.
            raise errors.ExchangeError(
                400, errors.MARKET_NOT_FOUND, "market not found", f"ticker={request.ticker}"
            )
        order = self.engine.submit(market, account, request, self._now)
        self._flush_tickers(self._now)
        return order.snapshot()

    def cancel_order(
        self, user_id: str, order_id: str, now: float | None = None, ticker: str | None = None
    ) -> tuple[OrderSnapshot, Decimal]:
        """Cancel a resting order; 404 when it is unknown (in ``ticker``) or no longer resting."""
        self._at(now)
        account = self.account(user_id)
        order = self._order(account, order_id, ticker)
        reduced = self.engine.cancel(self.markets[order.ticker], account, order, self._now)
        self._flush_tickers(self._now)
        return order.snapshot(), reduced

    def cancel_all(self, user_id: str, now: float | None = None) -> int:
        """Cancel every resting order of a user; returns how many there were."""
        self._at(now)
        account = self.account(user_id)
        resting = [order for order in account.order_list if order.on_book]
        for order in resting:
            self.engine.cancel(self.markets[order.ticker], account, order, self._now)
        self._flush_tickers(self._now)
        return len(resting)

    def amend_order(
        self, user_id: str, order_id: str, change: Amendment, now: float | None = None
    ) -> tuple[OrderSnapshot, OrderSnapshot]:
        """Amend a resting order; returns it before and after."""
        self._at(now)
        account = self.account(user_id)
        order = self._order(account, order_id, change.ticker)
        before = order.snapshot()
        amend(self.engine, self.markets[order.ticker], account, order, change, self._now)
        self._flush_tickers(self._now)
        return before, order.snapshot()

    def decrease_order(
        self,
        user_id: str,
        order_id: str,
        *,
        reduce_by: Decimal | None = None,
        reduce_to: Decimal | None = None,
        ticker: str | None = None,
        now: float | None = None,
    ) -> OrderSnapshot:
        """Lower a resting order's remaining count by or to a number of contracts."""
        self._at(now)
        account = self.account(user_id)
        order = self._order(account, order_id, ticker)
        remaining = reduce_to if reduce_to is not None else order.remaining - (reduce_by or ZERO)
        decrease(self.engine, self.markets[order.ticker], account, order, remaining, self._now)
        self._flush_tickers(self._now)
        return order.snapshot()

    @staticmethod
    def _order(account: Account, order_id: str, ticker: str | None) -> Order:
        order = account.orders.get(order_id)
        if order is None or (ticker is not None and order.ticker != ticker):
            raise errors.not_found("order not found", f"order_id={order_id}")
        return order

    def get_order(self, user_id: str, order_id: str) -> OrderSnapshot:
        order = self.account(user_id).orders.get(order_id)
        if order is None:
            raise errors.not_found("order not found", f"order_id={order_id}")
        return order.snapshot()

    def orders(self, user_id: str) -> list[OrderSnapshot]:
        """The user's orders, newest first."""
        return [order.snapshot() for order in reversed(self.account(user_id).order_list)]

    def fills(self, user_id: str) -> list[Fill]:
        """The user's fills, newest first."""
        return list(reversed(self.account(user_id).fills))

    def settlements(self, user_id: str) -> list[SettlementRecord]:
        return list(reversed(self.account(user_id).settlements))

    def positions(self, user_id: str) -> list[PositionState]:
        """The user's positions by ticker (every market traded or with resting orders)."""
        account = self.account(user_id)
        return [account.positions[ticker] for ticker in sorted(account.positions)]

    def balance(self, user_id: str) -> Decimal:
        return self.account(user_id).balance

    def portfolio_value(self, user_id: str) -> Decimal:
        """Held contracts at the bid of their side (what they would sell for now)."""
        total = ZERO
        for state in self.account(user_id).positions.values():
            if state.position == ZERO:
                continue
            market = self.markets[state.ticker]
            top = self.top_of_book(market)
            bid = top.yes_bid if state.position > ZERO else top.no_bid
            total += abs(state.position) * bid
        return total

    # --- market data ----------------------------------------------------------------

    def market(self, ticker: str) -> MarketState:
        market = self.markets.get(ticker)
        if market is None:
            raise errors.not_found("market not found", f"ticker={ticker}")
        return market

    def all_markets(self) -> list[MarketState]:
        """Every market, the latest window first."""
        return sorted(self.markets.values(), key=lambda m: m.close_ts, reverse=True)

    def current_market(self, series: str | None = None) -> MarketState | None:
        """The market of ``series`` (default: the first series) open for trading now, if any."""
        wanted = series if series is not None else self.config.series.ticker
        for market in self._live:
            if market.status == "active" and market.series_ticker == wanted:
                return market
        return None

    def top_of_book(self, market: MarketState) -> TopOfBook:
        yes_best, no_best = market.best_bids()
        return TopOfBook(
            yes_bid=yes_best if yes_best is not None else ZERO,
            yes_ask=ONE - no_best if no_best is not None else ONE,
            yes_bid_size=market.book.yes.size_at(yes_best) if yes_best is not None else ZERO,
            yes_ask_size=market.book.no.size_at(no_best) if no_best is not None else ZERO,
        )

    def orderbook(
        self, ticker: str, depth: int = 0
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """YES and NO bid levels ascending (best last); ``depth`` > 0 keeps the best N."""
        market = self.market(ticker)
        yes = market.book.yes.levels()
        no = market.book.no.levels()
        if depth > 0:
            yes, no = yes[-depth:], no[-depth:]
        return yes, no

    def drain_events(self) -> list[Event]:
        return self.outbox.drain()

    def ticker_event(self, market: MarketState, t: float) -> TickerEvent:
        """The ``ticker`` channel's view of one market now."""
        top = self.top_of_book(market)
        return TickerEvent(
            ticker=market.ticker,
            market_id=market.market_id,
            last_price=market.last_price,
            yes_bid=top.yes_bid,
            yes_ask=top.yes_ask,
            yes_bid_size=top.yes_bid_size,
            yes_ask_size=top.yes_ask_size,
            volume=market.volume,
            open_interest=market.open_interest,
            dollar_volume=int(market.dollar_volume),
            dollar_open_interest=int(market.open_interest * market.last_price),
            last_trade_size=market.last_trade_size,
            ts=t,
        )

    def flush_tickers(self) -> None:
        """Report top-of-book changes now (after an order change outside matching)."""
        self._flush_tickers(self._now)

    def _flush_tickers(self, t: float, markets: Iterable[MarketState] | None = None) -> None:
        if not self.outbox.enabled:
            return
        for market in markets if markets is not None else self._live:
            if market.status not in ("active", "closed"):
                continue
            top = self.top_of_book(market)
            state = (
                top.yes_bid,
                top.yes_ask,
                top.yes_bid_size,
                top.yes_ask_size,
                market.last_price,
                market.volume,
                market.open_interest,
            )
            if self._ticker_state.get(market.ticker) == state:
                continue
            self._ticker_state[market.ticker] = state
            self.outbox.emit(self.ticker_event(market, t))
