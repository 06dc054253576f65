"""The live trading pipeline, run synchronously on a simulated clock.

It wires the real objects the way the actors do, in one thread:

* ``actors/strategy.py`` — every strategy gets market data, its own decisions,
  order updates and fills, and every settlement;
* ``actors/risk.py`` — each signal is judged by ``risk.engine.RiskEngine`` with a
  ``MarketState`` built from the latest market info, book and index print, and
  an approved one becomes an ``OrderIntent`` (IOC, exposure reserved); books
  re-mark positions; the UTC day rolls at midnight;
* ``actors/order.py`` in paper mode — the same ``execution.tracker.OrderTracker``
  (order states, fills once, netting, settlement) and ``execution.paper.PaperBroker``
  (walks the book with Kalshi's taker fee) the actor drives.

Time is each message's own. An approved order reaches the book
``latency_seconds`` after the decision: before any later market event, after
everything at the same instant. Deviations from the actors, all deliberate:
client order ids are ``bt-N`` (reproducible) instead of UUIDs; nothing is written
ahead to a ledger; and strategies also get a zero-position ``Settlement`` for markets
they never traded, so their per-market state is dropped (live strategies keep it until
restart).
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from backtest.calibration import CalibrationCollector
from backtest.ledger import Ledger
from backtest.params import ExecParams, RiskParams
from execution.broker import BrokerReport
from execution.paper import PaperBroker
from execution.tracker import OrderTracker
from messages.market_data import BookUpdate, ExchangeState, MarketInfo, MarketLifecycle, SpotTick
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Settlement, Signal
from messages.vocabulary import Side, is_side
from risk.engine import MarketState, RiskEngine, TradingState
from risk.orders import intent_for
from strategies.base import Strategy

DAY = 86_400.0
ZERO = Decimal(0)

# Called with the ticker and fills of one order: the market's new book, if our fills changed it.
Impact = Callable[[str, list[Fill], float], BookUpdate | None]


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """Account equity (cash + positions at mid) after a settlement; ``fees`` paid so far."""

    ts: float
    equity: Decimal
    fees: Decimal


@dataclass(slots=True)
class Counters:
    market_events: int = 0  # index prints and book updates processed
    signals: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)  # reason → count
    orders: int = 0
    fills: int = 0
    halts: int = 0
    breaker_resets: int = 0


class Session:
    """Feed it market messages in time order; it trades them as the bot would."""

    def __init__(
        self,
        strategies: Sequence[Strategy],
        risk: RiskParams,
        execution: ExecParams,
        *,
        fee_multiplier: Decimal = Decimal(1),
        calibration: CalibrationCollector | None = None,
        impact: Impact | None = None,
        keep_signals: bool = True,
        indices: Mapping[str, str] | None = None,
    ) -> None:
        """``indices``: series → index id, when several series trade (each market's risk
        check reads its own series' index; else the one index's latest print)."""
        names = [s.name for s in strategies]
        if len(set(names)) != len(names):
            raise ValueError(f"each strategy may run once, got {names}")
        self.strategies = list(strategies)
        self.by_name = {s.name: s for s in strategies}
        self.timed = [s for s in strategies if type(s).on_timer is not Strategy.on_timer]
        self.risk = risk
        self.execution = execution
        self.engine = RiskEngine(risk.limits, risk.bankroll)
        self.tracker = OrderTracker()
        self.books: dict[str, BookUpdate] = {}
        self.broker = PaperBroker(fee_multiplier, self.books)  # it reads the books kept here
        self.calibration = calibration
        self.impact = impact
        self.keep_signals = keep_signals
        self.signals: list[Signal] = []
        self.fees = Decimal(0)
        self.ledger = Ledger(fee_multiplier)
        self.counters = Counters()
        self.equity: list[EquityPoint] = []
        self.markets: dict[str, MarketInfo] = {}
        self.spot: SpotTick | None = None
        self.indices = dict(indices or {})
        self.spots: dict[str, SpotTick] = {}  # index id → its latest print (several series)
        # Several series: each one's decisions, orders and fills (the rest are the session's).
        self.by_series: dict[str, Counters] = {s: Counters() for s in self.indices}
        self.exchange = ExchangeState(True, True, 0.0)
        self.now = 0.0
        self._signal_of: dict[str, Signal] = {}  # client order id → its signal
        self._queue: list[tuple[float, int, OrderIntent]] = []
        self._seq = itertools.count()
        self._order_ids = itertools.count(1)
        self._next_day = -1.0

    # --- market events (public: each runs what became due, then the event) ----------------

    def spot_tick(self, tick: SpotTick, now: float | None = None) -> None:
        at = tick.ts if now is None else now
        queue = self._queue
        if queue and queue[0][0] < at:
            self._drain(at, inclusive=False)
        self.now = at
        self.counters.market_events += 1
        self.spot = tick
        if self.indices:
            self.spots[tick.index] = tick
        for strategy in self.strategies:
            signals = strategy.on_spot(tick)
            if signals:
                self._decide(signals, at)
        if self.calibration is not None:  # after them: it may read a strategy's σ (runner)
            self.calibration.on_spot(tick)
        if queue:
            self._drain(at)

    def book_update(self, book: BookUpdate, now: float | None = None) -> None:
        at = book.ts if now is None else now
        queue = self._queue
        if queue and queue[0][0] < at:
            self._drain(at, inclusive=False)
        self.now = at
        self._book(book, at)
        if queue:
            self._drain(at)

    def market_info(self, info: MarketInfo, now: float) -> None:
        self._before(now)
        self.markets[info.ticker] = info
        if self.calibration is not None:
            self.calibration.on_market(info)
        for strategy in self.strategies:
            strategy.on_market(info)
        self._drain(now)

    def lifecycle(self, event: MarketLifecycle, now: float) -> None:
        self._before(now)
        for strategy in self.strategies:
            strategy.on_lifecycle(event)
        if event.event_type == "settled":
            if self.calibration is not None:
                self.calibration.on_settled(event.ticker, event.result, event.expiration_value)
            self.books.pop(event.ticker, None)
            self.broker.forget(event.ticker)
            if is_side(event.result):
                self._settle(event.ticker, event.result, now)
        self._drain(now)

    def exchange_state(self, state: ExchangeState, now: float) -> None:
        self._before(now)
        self.exchange = state

    def timer(self, now: float) -> None:
        """The once-a-second ticks of the actors: strategy timers, the risk day, close-watch."""
        if not (self.timed or self.broker.resting or self._queue) and now < self._next_day:
            self.now = now
            return
        self._before(now)
        if now >= self._next_day:
            self._roll_day(now)
        for strategy in self.timed:
            signals = strategy.on_timer(now)
            if signals:
                self._decide(signals, now)
        if self.broker.resting:
            self._close_watch(now)
        self._drain(now)

    def finish(self, now: float) -> None:
        """End of data: orders still in flight reach the book, the last equity is recorded."""
        self._drain(max([now, *(due for due, _, _ in self._queue)]), inclusive=True)
        self.now = max(self.now, now)
        self._mark_equity(self.now)

    # --- internals --------------------------------------------------------------------------

    def _before(self, now: float) -> None:
        if self._queue and self._queue[0][0] < now:
            self._drain(now, inclusive=False)
        self.now = now

    def _book(self, book: BookUpdate, now: float) -> None:
        self.counters.market_events += 1
        self.books[book.ticker] = book
        engine = self.engine
        if book.ticker in engine.book.positions:
            engine.update_mark(book.ticker, book.yes_bid, book.yes_ask, now)
            self._after_engine(now)
        broker = self.broker
        if broker.resting or broker.consumed:  # the broker reads ``self.books`` for the rest
            for report in broker.on_book(book, now):  # resting orders trade first
                self._report(report, now)
        if self.calibration is not None:
            self.calibration.on_book(book)
        for strategy in self.strategies:
            signals = strategy.on_book(book)
            if signals:
                self._decide(signals, now)

    def _decide(self, signals: list[Signal], now: float) -> None:
        """RiskActor._decide, for each signal in turn."""
        exchange = self.exchange
        for signal in signals:
            self.counters.signals[signal.strategy_name] += 1
            if self.keep_signals:
                self.signals.append(signal)
            info = self.markets.get(signal.ticker)
            market = (
                MarketState.from_messages(
                    info,
                    self.books.get(signal.ticker),
                    self._spot_of(signal.ticker),
                    exchange_active=exchange.exchange_active,
                    trading_active=exchange.trading_active,
                )
                if info is not None
                else None
            )
            client_order_id = f"bt-{next(self._order_ids)}"
            decision = self.engine.evaluate(signal, now, market, order_id=client_order_id)
            self.counters.decisions[decision.reason] += 1
            if self.by_series:
                self._of(signal.ticker).decisions[decision.reason] += 1
            if decision.approved:
                intent = intent_for(
                    signal, decision, client_order_id, self.execution.time_in_force, now
                )
                self._signal_of[client_order_id] = signal
                heapq.heappush(
                    self._queue, (now + self.execution.latency_seconds, next(self._seq), intent)
                )
            self._deliver_decision(decision)

    def _spot_of(self, ticker: str) -> SpotTick | None:
        if not self.indices:
            return self.spot
        return self.spots.get(self.indices.get(ticker.partition("-")[0], ""))

    def _of(self, ticker: str) -> Counters:
        """The counters of ``ticker``'s series (several series)."""
        return self.by_series.setdefault(ticker.partition("-")[0], Counters())

    def _deliver_decision(self, decision: RiskDecision) -> None:
        strategy = self.by_name.get(decision.strategy_name)
        if strategy is not None:
            strategy.on_decision(decision)

    def _drain(self, now: float, inclusive: bool = True) -> None:
        """Send every order due before ``now`` (or at it), each at its own time."""
        queue = self._queue
        while queue and (queue[0][0] < now or (inclusive and queue[0][0] <= now)):
            due, _, intent = heapq.heappop(queue)
            self._place(intent, due)

    def _place(self, intent: OrderIntent, now: float) -> None:
        """OrderActor._place in paper mode."""
        self.counters.orders += 1
        if self.by_series:
            self._of(intent.ticker).orders += 1
        self.tracker.open(intent)
        self._report(self.broker.submit(intent, now), now)

    def _report(self, report: BrokerReport, now: float) -> None:
        if report.update is not None:
            self._order_update(report.update)
        fills = report.fills
        for fill in fills:
            self._fill(fill, now)
        if fills and self.impact is not None:
            book = self.impact(fills[0].ticker, list(fills), now)
            if book is not None:
                self._book(book, now)

    def _order_update(self, update: OrderUpdate) -> None:
        """What the tracker takes as news reaches risk and the strategy, once."""
        if self.tracker.apply(update) is None:
            return
        self.engine.on_order_update(update)
        self._after_engine(update.timestamp)
        strategy = self.by_name.get(update.strategy_name)
        if strategy is not None:
            strategy.on_order_update(update)

    def _fill(self, fill: Fill, now: float) -> None:
        if not self.tracker.record_fill(fill):
            return
        self.counters.fills += 1
        if self.by_series:
            self._of(fill.ticker).fills += 1
        self.fees += fill.fee
        self.engine.on_fill(fill, now)
        self._after_engine(now)
        strategy = self.by_name.get(fill.strategy_name)
        if strategy is not None:
            strategy.on_fill(fill)
        signal = self._signal_of.get(fill.client_order_id or "")
        info = self.markets.get(fill.ticker)  # the book it met: our impact comes after
        close = None if info is None else info.close_time
        self.ledger.on_fill(fill, signal, self.books.get(fill.ticker), close)

    def _settle(self, ticker: str, result: Side, now: float) -> None:
        """OrderActor._on_lifecycle: a settled market with a position pays out."""
        booked = self.tracker.settle(ticker, result, now)
        self.tracker.forget(ticker)
        settlement = booked or Settlement(ticker, result, 0, 0, ZERO, now)
        if booked is not None:
            self.engine.on_settlement(settlement, now)
            self._after_engine(now)
        for strategy in self.strategies:
            strategy.on_settlement(settlement)
        self.ledger.on_settlement(settlement)
        for key in [k for k, v in self._signal_of.items() if v.ticker == ticker]:
            del self._signal_of[key]
        if booked is not None:
            self._mark_equity(now)

    def _after_engine(self, now: float) -> None:
        """RiskActor._after_engine: a halt cancels every resting order."""
        for alert in self.engine.drain_alerts():
            if alert.kind == "circuit_breaker":
                self.counters.halts += 1
            if self.engine.state is TradingState.HALTED:
                self._cancel_all(now)

    def _cancel_all(self, now: float) -> None:
        for order in self.tracker.open_orders():
            self._report(self.broker.cancel(order, now), now)

    def _close_watch(self, now: float) -> None:
        for order in self.tracker.resting():
            info = self.markets.get(order.ticker)
            if info is not None and info.close_time - now <= self.execution.cancel_before_close:
                self._report(self.broker.cancel(order, now), now)

    def _roll_day(self, now: float) -> None:
        if self._next_day >= 0:
            self.engine.start_new_day(now)
            if self.risk.reset_breaker_daily and self.engine.circuit_breaker_triggered:
                self.engine.reset_circuit_breaker(now)
                self.engine.drain_alerts()
                self.counters.breaker_resets += 1
        self._next_day = (now // DAY + 1) * DAY

    def _mark_equity(self, now: float) -> None:
        self.equity.append(EquityPoint(now, self.engine.equity, self.fees))
