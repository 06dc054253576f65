"""The RiskEngine: the pure rules behind the RiskActor, the single authority on limits.

``evaluate(signal, now, market)`` applies every rule in a fixed order and either
rejects with the rule's reason or approves a quantity (possibly reduced to fit)
and **reserves** it at once, so signals evaluated back to back — from any
number of strategies — can never together exceed a limit.

Rules, in order (reason strings are stable; the dashboard shows them):

=====================  ==========================================================  =========
reason                 rule                                                        applies to
=====================  ==========================================================  =========
duplicate_order        the order id already holds a reservation (a replay)         all
invalid_signal         side yes|no, action buy|sell, quantity ≥ 1, 0 < price < 1   all
stale_signal           signal older than ``max_signal_age_seconds``                all
no_market_data         no market state for the signal's ticker                     all
exchange_inactive      exchange or trading not active                              all
market_closed          market not active/open, or past its close                   all
stale_book             no book, flagged stale, or older than the limit             all
no_position            a sell of contracts not held (or already being sold)        sells
trading_stopped        the operator stopped trading                                all
halted                 the circuit breaker (or ``halt``) stopped trading           entries*
order_rate             ``max_orders_per_minute`` approvals in the trailing 60 s     all
stale_spot             no index print, flagged stale, or older than the limit      entries**
edge_below_minimum     ``signal.edge < min_edge``                                   entries
daily_loss_limit       day P&L ≤ −max_daily_loss, or nothing left of that budget   entries
concurrent_positions   a new market beyond ``max_concurrent_positions``             entries
position_limit         the market's cost + resting buys would pass the limit       entries
                       (``max_position_size``, or its series' tighter one)
series_exposure_limit  the series' cost + resting buys would pass its limit        entries
total_exposure_limit   cost + resting buys everywhere would pass the limit         entries
correlated_exposure    same-direction cost + resting buys of every series' markets  entries
                       closing with this one would pass the cap
insufficient_funds     cash minus resting buys cannot pay for one contract         entries
=====================  ==========================================================  =========

(*) with ``allow_exits_when_halted`` a halt still lets a sell that reduces a
position out. (**) unless ``entries_need_index`` is off (a backtest on quotes alone). Exits (``action="sell"`` of contracts held) skip the entry-only
rules. An entry's quantity is cut to the largest that fits the position limit,
the remaining daily-loss budget (its whole cost is its worst case, counting
other resting buys) and the available cash; zero means rejection by the
binding rule. Every exposure limit is a sum over the same positions and reservations,
so the one reservation an approval makes counts against all of them at once: a decision
reserves for every limit or for none.

A market's series is its ticker's prefix (``KXBTC15M-…`` → ``KXBTC15M``); its window is
its close time (from the ticker, else from the market state). The correlation cap exists
because BTC, ETH, SOL, XRP and DOGE 15-minute returns correlate 0.83–0.89: YES on all of
them in one window wins or loses together.

Trading states: ``running`` | ``stopped`` (operator) | ``halted`` (circuit
breaker: drawdown from the day's starting equity ≥ ``circuit_breaker_pct``;
stays halted until ``reset_circuit_breaker``). Time always comes from the caller.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any

from loguru import logger

from kalshi.fees import taker_fee_per_contract
from kalshi.tickers import parse_market_ticker, series_of
from kalshi.units import ONE, ZERO
from messages.market_data import BookUpdate, MarketInfo, SpotTick
from messages.trading import Fill, OrderUpdate, RiskDecision, Settlement, Signal
from risk.exposure import ExposureBook, Position, Reservation, order_cost
from risk.limits import RiskLimits

RATE_WINDOW_SECONDS = 60.0


class TradingState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    HALTED = "halted"


class Reason:
    """Every reason string :meth:`RiskEngine.evaluate` can return."""

    APPROVED = "approved"
    INVALID_SIGNAL = "invalid_signal"
    DUPLICATE_ORDER = "duplicate_order"
    STALE_SIGNAL = "stale_signal"
    NO_MARKET_DATA = "no_market_data"
    EXCHANGE_INACTIVE = "exchange_inactive"
    MARKET_CLOSED = "market_closed"
    STALE_BOOK = "stale_book"
    NO_POSITION = "no_position"
    TRADING_STOPPED = "trading_stopped"
    HALTED = "halted"
    ORDER_RATE = "order_rate"
    STALE_SPOT = "stale_spot"
    EDGE_BELOW_MINIMUM = "edge_below_minimum"
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    CONCURRENT_POSITIONS = "concurrent_positions"
    POSITION_LIMIT = "position_limit"
    SERIES_EXPOSURE_LIMIT = "series_exposure_limit"
    TOTAL_EXPOSURE_LIMIT = "total_exposure_limit"
    CORRELATED_EXPOSURE = "correlated_exposure"
    INSUFFICIENT_FUNDS = "insufficient_funds"


_OPEN_STATUSES = frozenset({"active", "open"})


@dataclass(frozen=True, slots=True)
class MarketState:
    """What the RiskActor knows about one market when a signal arrives."""

    ticker: str
    status: str = "active"
    close_time: float | None = None
    exchange_active: bool = True
    trading_active: bool = True
    book_ts: float | None = None
    book_stale: bool = False
    spot_ts: float | None = None
    spot_stale: bool = False
    yes_bid: Decimal | None = None
    yes_ask: Decimal | None = None
    fee_multiplier: Decimal = ONE

    @classmethod
    def from_messages(
        cls,
        info: MarketInfo,
        book: BookUpdate | None,
        spot: SpotTick | None,
        *,
        exchange_active: bool = True,
        trading_active: bool = True,
    ) -> MarketState:
        return cls(
            ticker=info.ticker,
            status=info.status,
            close_time=info.close_time,
            exchange_active=exchange_active,
            trading_active=trading_active,
            book_ts=book.ts if book is not None else None,
            book_stale=book.stale if book is not None else True,
            spot_ts=spot.ts if spot is not None else None,
            spot_stale=spot.stale if spot is not None else True,
            yes_bid=book.yes_bid if book is not None else None,
            yes_ask=book.yes_ask if book is not None else None,
            fee_multiplier=info.fee_multiplier if info.fee_multiplier is not None else ONE,
        )


@dataclass(frozen=True, slots=True)
class RiskAlert:
    """Something the operator should hear about (the actor turns it into an ``alert``)."""

    kind: str  # circuit_breaker | daily_loss_limit | halted | reset
    message: str
    level: str
    ts: float


@dataclass(slots=True)
class RiskState:
    """Everything needed to rebuild a RiskEngine (from the ledger and the exchange)."""

    cash: Decimal  # cash not counting resting orders
    day_start_equity: Decimal
    positions: list[Position] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    realized_pnl: Decimal = ZERO  # today, net of fees
    fees: Decimal = ZERO  # today
    marks: dict[str, Decimal] = field(default_factory=dict)
    trading_state: TradingState = TradingState.RUNNING
    circuit_breaker_triggered: bool = False
    halt_reason: str = ""
    breaker_reference: Decimal | None = None  # equity the drawdown is measured from
    approvals: list[float] = field(default_factory=list)  # recent approval times (order rate)
    stopped_by: str = ""  # who stopped trading (``requested_by`` of the stop); "" when running


def _floor_int(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _max_affordable(price: Decimal, fee_multiplier: Decimal, budget: Decimal, cap: int) -> int:
    """Largest ``n ≤ cap`` with ``order_cost(price, n) ≤ budget``."""
    if budget <= ZERO or cap <= 0:
        return 0
    per = price + taker_fee_per_contract(price, fee_multiplier)
    n = min(cap, _floor_int(budget / per))
    while n > 0 and order_cost(price, n, fee_multiplier) > budget:
        n -= 1
    return max(n, 0)


def _signal_fault(signal: Signal, now: float, limits: RiskLimits) -> str | None:
    """What is wrong with the signal itself (malformed or too old), before any market is read."""
    if (
        signal.direction not in ("yes", "no")
        or signal.action not in ("buy", "sell")
        or signal.quantity < 1
        or not ZERO < signal.market_price < ONE
    ):
        return Reason.INVALID_SIGNAL
    if now - signal.timestamp > limits.max_signal_age_seconds:
        return Reason.STALE_SIGNAL
    return None


def _market_fault(market: MarketState, now: float, limits: RiskLimits) -> str | None:
    """Why the market cannot take an order now: exchange paused, market closed, book stale."""
    if not (market.exchange_active and market.trading_active):
        return Reason.EXCHANGE_INACTIVE
    if market.status not in _OPEN_STATUSES or (
        market.close_time is not None and now >= market.close_time
    ):
        return Reason.MARKET_CLOSED
    if (
        market.book_ts is None
        or market.book_stale
        or now - market.book_ts > limits.max_book_age_seconds
    ):
        return Reason.STALE_BOOK
    return None


class RiskEngine:
    """Limits, exposure and trading state; every method takes the time it runs at."""

    def __init__(
        self,
        limits: RiskLimits,
        bankroll: Decimal,
        *,
        state: TradingState = TradingState.RUNNING,
    ) -> None:
        self.limits = limits
        self.book = ExposureBook(bankroll)
        self.state = state
        self.day_start_equity = bankroll
        self.breaker_reference = bankroll
        self.circuit_breaker_triggered = False
        self.halt_reason = ""
        self.stopped_by = ""
        self._approvals: deque[float] = deque()
        self._rejections: Counter[str] = Counter()
        self._approved_count = 0
        self._alerts: list[RiskAlert] = []
        self._loss_alerted = False
        self._closes: dict[str, float] = {}  # market → close time (the correlation window)

    # --- the decision ---------------------------------------------------------------

    def evaluate(
        self,
        signal: Signal,
        now: float,
        market: MarketState | None,
        *,
        order_id: str | None = None,
    ) -> RiskDecision:
        """Approve (and reserve under ``order_id``, default the signal id) or reject ``signal``."""
        key = order_id or signal.signal_id
        if key in self.book.reservations:
            reason, quantity, fee_multiplier = Reason.DUPLICATE_ORDER, 0, ONE
        else:
            reason, quantity, fee_multiplier = self._check(signal, now, market)
        if reason != Reason.APPROVED:
            self._rejections[reason] += 1
            return RiskDecision(
                signal.signal_id, signal.strategy_name, signal.ticker, False, reason, 0, now
            )
        self.book.reserve(
            Reservation(
                order_id=key,
                ticker=signal.ticker,
                side=signal.direction,
                action=signal.action,
                count=quantity,
                price=signal.market_price,
                fee_multiplier=fee_multiplier,
                strategy_name=signal.strategy_name,
                created_at=now,
            )
        )
        self._approvals.append(now)
        self._approved_count += 1
        return RiskDecision(
            signal.signal_id,
            signal.strategy_name,
            signal.ticker,
            True,
            Reason.APPROVED,
            quantity,
            now,
        )

    def _check(
        self, signal: Signal, now: float, market: MarketState | None
    ) -> tuple[str, int, Decimal]:
        """Every limit in the documented order; the first that fails names the rejection."""
        reason = _signal_fault(signal, now, self.limits)
        if reason is not None:
            return reason, 0, ONE
        if market is None or market.ticker != signal.ticker:
            return Reason.NO_MARKET_DATA, 0, ONE
        fee_multiplier = market.fee_multiplier
        reason = _market_fault(market, now, self.limits)
        if reason is not None:
            return reason, 0, fee_multiplier
        self.book.mark(signal.ticker, market.yes_bid, market.yes_ask)
        self._check_loss(now)
        if market.close_time is not None:
            self._closes[signal.ticker] = market.close_time
        exit_ = signal.action == "sell"
        sellable = self.book.sellable(signal.ticker, signal.direction) if exit_ else 0
        reason = self._trading_fault(exit_, sellable, now)
        if reason is not None:
            return reason, 0, fee_multiplier
        if exit_:
            return Reason.APPROVED, min(signal.quantity, sellable), fee_multiplier
        return self._check_entry(signal, now, market, fee_multiplier)

    def _trading_fault(self, exit_: bool, sellable: int, now: float) -> str | None:
        """Whether this engine may trade now at all: a position to exit, its state, the rate.

        Exits and entries both pass here; a halt still lets exits out when configured.
        """
        limits = self.limits
        if exit_ and sellable <= 0:
            return Reason.NO_POSITION
        if self.state == TradingState.STOPPED:
            return Reason.TRADING_STOPPED
        if self.state == TradingState.HALTED and not (exit_ and limits.allow_exits_when_halted):
            return Reason.HALTED
        approvals = self._approvals
        while approvals and approvals[0] <= now - RATE_WINDOW_SECONDS:
            approvals.popleft()
        if len(approvals) >= limits.max_orders_per_minute:
            return Reason.ORDER_RATE
        return None

    def _check_entry(
        self, signal: Signal, now: float, market: MarketState, fee_multiplier: Decimal
    ) -> tuple[str, int, Decimal]:
        """The limits only new exposure meets: a fresh index, the edge, the loss and size caps."""
        limits = self.limits
        if limits.entries_need_index and (
            market.spot_ts is None
            or market.spot_stale
            or now - market.spot_ts > limits.max_spot_age_seconds
        ):
            return Reason.STALE_SPOT, 0, fee_multiplier
        if signal.edge < limits.min_edge:
            return Reason.EDGE_BELOW_MINIMUM, 0, fee_multiplier
        daily = self.daily_pnl
        if daily <= -limits.max_daily_loss:
            return Reason.DAILY_LOSS_LIMIT, 0, fee_multiplier
        open_markets = self.book.open_markets()
        if (
            signal.ticker not in open_markets
            and len(open_markets) >= limits.max_concurrent_positions
        ):
            return Reason.CONCURRENT_POSITIONS, 0, fee_multiplier
        price = signal.market_price
        quantity = signal.quantity
        for reason, budget in self._entry_budgets(signal, daily):
            quantity = _max_affordable(price, fee_multiplier, budget, quantity)
            if quantity <= 0:
                return reason, 0, fee_multiplier
        return Reason.APPROVED, quantity, fee_multiplier

    def _entry_budgets(self, signal: Signal, daily: Decimal) -> list[tuple[str, Decimal]]:
        """Dollars each applicable limit leaves for this entry, with the reason it rejects by."""
        limits = self.limits
        book = self.book
        ticker = signal.ticker
        series = series_of(ticker)
        budgets = [
            (Reason.POSITION_LIMIT, limits.position_limit(series) - book.market_exposure(ticker))
        ]
        series_cap = limits.series_max_exposure.get(series)
        if series_cap is not None:
            budgets.append(
                (Reason.SERIES_EXPOSURE_LIMIT, series_cap - book.series_exposure(series))
            )
        if limits.max_total_exposure is not None:
            budgets.append(
                (Reason.TOTAL_EXPOSURE_LIMIT, limits.max_total_exposure - book.total_exposure())
            )
        if limits.max_correlated_exposure is not None:
            used = self.correlated_exposure(ticker, signal.direction)
            budgets.append((Reason.CORRELATED_EXPOSURE, limits.max_correlated_exposure - used))
        budgets.append(
            (Reason.DAILY_LOSS_LIMIT, limits.max_daily_loss + daily - book.reserved_cost())
        )
        budgets.append((Reason.INSUFFICIENT_FUNDS, book.available_cash()))
        return budgets

    def window_of(self, ticker: str) -> float | None:
        """The close time of ``ticker``: as its ticker says (known for every market, seen or
        restored), else as its market state gave it (a ticker in another format)."""
        try:
            return parse_market_ticker(ticker).close_time.timestamp()
        except ValueError:
            return self._closes.get(ticker)

    def correlated_exposure(self, ticker: str, side: str) -> Decimal:
        """``side`` cost held plus resting ``side`` buys in every market (any series) closing
        with ``ticker``; a market whose close is unknown is its own window."""
        window = self.window_of(ticker)
        if window is None:
            return self.book.exposure_where(lambda t: t == ticker, side)
        return self.book.exposure_where(lambda t: self.window_of(t) == window, side)

    # --- reservations and the order lifecycle ----------------------------------------

    def reserve(
        self,
        order_id: str,
        *,
        ticker: str,
        side: str,
        action: str,
        count: int,
        price: Decimal,
        now: float,
        strategy_name: str = "",
        fee_multiplier: Decimal = ONE,
    ) -> None:
        """Reserve for an order that did not come through :meth:`evaluate` (e.g. manual)."""
        self.book.reserve(
            Reservation(
                order_id, ticker, side, action, count, price, fee_multiplier, strategy_name, now
            )
        )

    def release(self, order_id: str, count: int | None = None) -> int:
        """Give back a reservation (an intent that was never sent, a cancel)."""
        return self.book.release(order_id, count)

    def on_order_update(self, update: OrderUpdate) -> None:
        self.book.on_order_update(update)

    def on_fill(self, fill: Fill, now: float | None = None) -> None:
        self.book.on_fill(fill)
        self._check_loss(fill.timestamp if now is None else now)

    def on_settlement(self, settlement: Settlement, now: float | None = None) -> Decimal:
        pnl = self.book.on_settlement(settlement)
        self._closes.pop(settlement.ticker, None)
        self._check_loss(settlement.timestamp if now is None else now)
        return pnl

    def update_mark(
        self, ticker: str, yes_bid: Decimal | None, yes_ask: Decimal | None, now: float
    ) -> None:
        """Re-mark a market (from a BookUpdate); may trip the circuit breaker."""
        if ticker in self.book.positions:
            self.book.mark(ticker, yes_bid, yes_ask)
            self._check_loss(now)

    # --- P&L and the circuit breaker -------------------------------------------------

    @property
    def equity(self) -> Decimal:
        return self.book.equity()

    @property
    def daily_pnl(self) -> Decimal:
        """Realized + marked-to-market P&L since the day started."""
        return self.book.equity() - self.day_start_equity

    @property
    def drawdown(self) -> Decimal:
        """Fractional loss from the breaker's reference (the day's starting equity)."""
        return self._drawdown_at(self.book.equity())

    def _drawdown_at(self, equity: Decimal) -> Decimal:
        reference = self.breaker_reference
        if reference <= ZERO:
            return ZERO
        return max((reference - equity) / reference, ZERO)

    def _check_loss(self, now: float) -> None:
        """Trip the breaker or raise the daily-loss alert; runs on every re-mark, so the equity
        (a sum over positions) is computed once here rather than by each property."""
        equity = self.book.equity()
        reference = self.breaker_reference
        limits = self.limits
        # drawdown ≥ pct, as a floor on equity (no division): equity ≤ ref − pct · ref, ref > 0
        if (
            not self.circuit_breaker_triggered
            and reference > ZERO
            and equity <= reference - limits.circuit_breaker_pct * reference
        ):
            drawdown = self._drawdown_at(equity)
            self.circuit_breaker_triggered = True
            self.state = TradingState.HALTED
            self.halt_reason = "circuit_breaker"
            message = (
                f"circuit breaker: drawdown {drawdown:.2%} ≥ "
                f"{self.limits.circuit_breaker_pct:.2%}; trading halted until reset"
            )
            logger.warning("risk: {}", message)
            self._alerts.append(RiskAlert("circuit_breaker", message, "critical", now))
        loss_hit = equity <= self.day_start_equity - limits.max_daily_loss  # P&L ≤ −max loss
        if loss_hit and not self._loss_alerted:
            daily_pnl = equity - self.day_start_equity
            message = f"daily loss limit reached ({daily_pnl:.2f}); no new entries today"
            logger.warning("risk: {}", message)
            self._alerts.append(RiskAlert("daily_loss_limit", message, "warning", now))
        self._loss_alerted = loss_hit

    def drain_alerts(self) -> list[RiskAlert]:
        alerts, self._alerts = self._alerts, []
        return alerts

    # --- trading state --------------------------------------------------------------

    def start(self, now: float = 0.0) -> bool:
        """``stopped`` → ``running``. A halt needs :meth:`reset_circuit_breaker`: returns False."""
        if self.state == TradingState.HALTED:
            return False
        self.state = TradingState.RUNNING
        self.stopped_by = ""
        return True

    def stop(self, now: float = 0.0, by: str = "") -> None:
        """Stop new trading (a halt stays a halt). ``by`` names who stopped it; a second
        stop keeps the first one's name (an operator's stop stays theirs at shutdown)."""
        if self.state == TradingState.HALTED:
            return
        if self.state != TradingState.STOPPED:
            self.stopped_by = by
        self.state = TradingState.STOPPED

    def halt(self, reason: str, now: float = 0.0, message: str = "") -> None:
        """Halt by hand (e.g. too many crashes); cleared like the circuit breaker.
        ``message`` is the alert's text (default: the reason)."""
        self.state = TradingState.HALTED
        self.halt_reason = reason
        text = message or f"trading halted: {reason}"
        self._alerts.append(RiskAlert("halted", text, "critical", now))

    def reset_circuit_breaker(self, now: float = 0.0, *, rebase: bool = True) -> None:
        """Clear a halt and resume. ``rebase`` measures further drawdown from current equity
        (without it a breaker whose loss still stands would trip again at once); the day's
        P&L and the daily-loss limit are unaffected."""
        self.circuit_breaker_triggered = False
        self.halt_reason = ""
        if rebase:
            self.breaker_reference = self.book.equity()
        if self.state == TradingState.HALTED:
            self.state = TradingState.RUNNING
        self._alerts.append(RiskAlert("reset", "circuit breaker reset", "info", now))

    def start_new_day(self, now: float = 0.0) -> None:
        """Roll the day: P&L and the breaker's reference restart from the current equity.
        A halt stays until it is reset."""
        equity = self.book.equity()
        self.day_start_equity = equity
        self.breaker_reference = equity
        self.book.realized_pnl = ZERO
        self.book.fees = ZERO
        self._loss_alerted = False

    # --- persistence and reporting ---------------------------------------------------

    def export_state(self) -> RiskState:
        return RiskState(
            cash=self.book.cash,
            day_start_equity=self.day_start_equity,
            positions=self.book.copy_positions(),
            reservations=self.book.copy_reservations(),
            realized_pnl=self.book.realized_pnl,
            fees=self.book.fees,
            marks=dict(self.book.marks),
            trading_state=self.state,
            circuit_breaker_triggered=self.circuit_breaker_triggered,
            halt_reason=self.halt_reason,
            breaker_reference=self.breaker_reference,
            approvals=list(self._approvals),
            stopped_by=self.stopped_by if self.state is TradingState.STOPPED else "",
        )

    def restore(self, state: RiskState) -> None:
        """Rebuild from positions, resting orders and the day's P&L (after a restart)."""
        book = ExposureBook(state.cash)
        for position in state.positions:
            if position.contracts > 0:
                book.positions[position.ticker] = Position(
                    position.ticker, position.side, position.contracts, position.cost
                )
        for reservation in state.reservations:
            book.reserve(replace(reservation))
        book.marks = dict(state.marks)
        book.realized_pnl = state.realized_pnl
        book.fees = state.fees
        self.book = book
        self.day_start_equity = state.day_start_equity
        self.breaker_reference = (
            state.breaker_reference
            if state.breaker_reference is not None
            else state.day_start_equity
        )
        self.state = TradingState(state.trading_state)
        self.circuit_breaker_triggered = state.circuit_breaker_triggered
        self.halt_reason = state.halt_reason
        self.stopped_by = state.stopped_by if self.state is TradingState.STOPPED else ""
        if self.circuit_breaker_triggered:
            self.state = TradingState.HALTED
        self._approvals = deque(sorted(state.approvals))
        self._loss_alerted = self.daily_pnl <= -self.limits.max_daily_loss

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """``risk_metrics`` for ``/api/status`` (floats: display only)."""
        book = self.book
        if now is not None:
            recent = sum(1 for t in self._approvals if t > now - RATE_WINDOW_SECONDS)
        else:
            recent = len(self._approvals)
        daily = self.daily_pnl
        return {
            "trading_state": self.state.value,
            "circuit_breaker_triggered": self.circuit_breaker_triggered,
            "halt_reason": self.halt_reason,
            "daily_pnl": float(daily),
            "realized_pnl": float(book.realized_pnl),
            "unrealized_pnl": float(book.unrealized_pnl()),
            "fees": float(book.fees),
            "exposure": float(book.total_exposure()),
            "series_exposure": {
                series: float(book.series_exposure(series))
                for series in sorted({series_of(t) for t in book.open_markets()})
            },
            "reserved": float(book.reserved_cost()),
            "open_positions": len(book.positions),
            "open_markets": len(book.open_markets()),
            "resting_orders": len(book.reservations),
            "cash": float(book.cash),
            "equity": float(book.equity()),
            "day_start_equity": float(self.day_start_equity),
            "drawdown": float(self.drawdown),
            "daily_loss_remaining": float(max(self.limits.max_daily_loss + daily, ZERO)),
            "orders_last_minute": recent,
            "approved": self._approved_count,
            "rejections": dict(self._rejections),
            "positions": [
                {
                    "ticker": p.ticker,
                    "side": p.side,
                    "contracts": p.contracts,
                    "avg_price": float(p.avg_price),
                    "cost": float(p.cost),
                    "mark": float(book.mark_value(p) / p.contracts) if p.contracts else None,
                }
                for p in book.positions.values()
            ],
            "limits": self.limits.to_dict(),
        }
