"""RiskActor: the single authority on limits. Every signal passes here, one at a time.

It wraps :class:`risk.engine.RiskEngine`; one instance judges every series (the
global, per-series and per-window limits are the engine's), each market against
the prints of its own series' index. Because the actor handles one message
at a time, two strategies that signal at the same instant are decided in turn,
and the exposure reserved for the first counts against the second. On start
(and after a restart) it rebuilds positions, cash and resting orders from the
exchange before it approves anything, and — with a ledger — what only the ledger
remembers: the equity the day started from (so the daily P&L and the daily-loss
limit carry on), the circuit breaker, any halt and an operator's stop. It saves
that state back to the ledger on every change that matters, and approves nothing
while the ledger cannot write (no order may leave without a durable intent). A
saved state that cannot be read is not taken for "none": trading stays halted,
with an alert saying how to resume.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from loguru import logger

from actors.discovery import known_markets
from config import risk_overrides as overrides
from kalshi.connection import ExchangeConnection
from kalshi.errors import KalshiError
from kalshi.rest import FILL_LOOKBACK_SECONDS
from messages.control import (
    CancelAllOrders,
    ControlChanged,
    FlattenPosition,
    GetRiskLimits,
    HaltTrading,
    ResetCircuitBreaker,
    ResetRiskLimits,
    SetRiskLimits,
    StartTrading,
    StopTrading,
)
from messages.ledger import (
    LEDGER,
    LedgerHealth,
    LoadControls,
    LoadedControls,
    LoadedRisk,
    LoadRiskState,
    SaveControl,
    SaveRiskState,
)
from messages.market_data import BookUpdate, ExchangeState, MarketInfo, MarketLifecycle, SpotTick
from messages.queries import GetStatus
from messages.status import Alert, Position, RiskStatus
from messages.timers import StatusTick
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Settlement, Signal
from messages.vocabulary import TERMINAL, OrderStatus, TimeInForce
from risk.engine import MarketState, RiskEngine, RiskState, TradingState
from risk.exposure import Position as HeldPosition
from risk.exposure import Reservation
from risk.halts import LEDGER_UNAVAILABLE, RISK_STATE_UNREADABLE, Halt, TradingHalted, halt_of
from risk.limits import RiskLimits
from risk.orders import intent_for
from runtime.actor import ActorContext
from runtime.address import ActorUnavailable
from runtime.bus import ALERTS, BOOK, FILLS, MARKETS, ORDERS, SIGNALS, SPOT, STATUS
from runtime.dispatch import Dispatch, DispatchedActor, ignore
from storage.risk_state import PAPER_ACCOUNT, SavedRisk, account_of, merge

ORDER = "order"
ZERO = Decimal(0)
ZERO_CENTS = Decimal("0.01")
PRICE_QUANTUM = Decimal("0.0001")  # average prices shown to 1/100 of a cent
# LEDGER_UNAVAILABLE: the rejection reason (and halt reason) while the ledger cannot write;
# RISK_STATE_UNREADABLE: the halt reason when the saved state is bad (both in risk.halts)
__all__ = ["LEDGER_UNAVAILABLE", "RISK_STATE_UNREADABLE", "RiskActor", "spot_of_market"]


def spot_of_market(
    info: MarketInfo, spots: Mapping[str, SpotTick], latest: SpotTick | None
) -> SpotTick | None:
    """The print an entry in ``info``'s market is judged by: the latest of the index its series
    settles on (none yet: no print, so entries wait), so one index going stale stops only its
    own series. A market whose index is not said (one series, one index) takes ``latest``."""
    index = info.index  # discovery names it per series
    return spots.get(index) if index else latest


class RiskActor(DispatchedActor):
    def __init__(
        self,
        context: ActorContext,
        limits: RiskLimits,
        connection: ExchangeConnection | None,
        bankroll: Decimal = Decimal(1000),
        status_interval: float = 1.0,
        taker_time_in_force: TimeInForce = "immediate_or_cancel",
        ledger: str | None = None,
    ) -> None:
        super().__init__(context)
        self.ledger = ledger  # the LedgerActor's address (None: no persistence)
        self.account = (
            account_of(connection.api_base, connection.signer.key_id if connection.signer else None)
            if connection is not None
            else PAPER_ACCOUNT
        )
        self.ledger_down = ""  # why the ledger cannot take new trades ("" = it can)
        self._restored = ledger is None
        self._saved_key: tuple[Any, ...] | None = None
        self.limits = limits
        self.startup_limits = limits  # what the settings gave; runtime changes apply on top
        self.saved_limits = overrides.Saved({})
        self._limits_known = ledger is None  # the operator's changes read from the ledger
        self.owners: dict[str, str] = {}  # ticker → the strategy whose buy opened it
        self.connection = connection
        self.bankroll = bankroll
        self.status_interval = status_interval
        self.taker_time_in_force = taker_time_in_force
        self.engine = RiskEngine(limits, bankroll)
        self.markets: dict[str, MarketInfo] = {}
        self.books: dict[str, BookUpdate] = {}
        self.spot: SpotTick | None = None  # the latest print of any index
        self.spots: dict[str, SpotTick] = {}  # the latest print of each index
        self.exchange = ExchangeState(True, True, 0.0)
        self.day = ""
        self.seen_fills: set[str] = set()  # trade ids already booked (the order actor may resend)
        self._provisional: set[str] = set()  # orders of unknown outcome reserved again
        self._dirty = True

    # -- lifecycle -----------------------------------------------------------------------

    def setup(self) -> None:
        if self.connection is not None:
            self._rebuild_from_exchange()
        self.day = self._day(self.clock.now())
        if self.ledger is not None:
            self._restore_from_ledger()
            self.subscribe(LEDGER)
        self.subscribe(SPOT, BOOK, MARKETS, ORDERS, FILLS)
        self.markets.update(known_markets(self.system))
        self.every(self.status_interval, StatusTick)
        self._after_engine(force=True)  # alerts from the restore (a halt) go out now

    def teardown(self) -> None:
        # Fills and marks since the last status tick: handed over for the next incarnation.
        if self.ledger is not None and self._restored:
            self._persist()

    def _rebuild_from_exchange(self) -> None:
        """Cash, positions and resting orders as the exchange has them (crash-safe state)."""
        assert self.connection is not None
        rest = self.connection.rest()
        try:
            balance = rest.get_balance()
            positions = rest.get_positions().items
            resting = rest.get_orders(status="resting").items
            # Fills already inside these positions; the order actor may report them again.
            since = int(self.clock.now()) - FILL_LOOKBACK_SECONDS
            # every page: a fill left out would be booked twice
            self.seen_fills.update(f.trade_id for f in rest.every_fill(min_ts=since, limit=1000))
        except KalshiError as exc:
            raise RuntimeError(f"cannot rebuild risk state from the exchange: {exc}") from exc
        finally:
            rest.close()
        cash = Decimal(balance.balance_cents) / 100
        held = [
            HeldPosition(
                p.ticker, "yes" if p.position > 0 else "no", int(abs(p.position)), p.market_exposure
            )
            for p in positions
            if p.position != 0
        ]
        reservations = [
            Reservation(
                order_id=o.client_order_id or o.order_id,
                ticker=o.ticker,
                side=o.side,
                action=o.action,
                count=int(o.remaining_count),
                price=o.yes_price if o.side == "yes" else o.no_price,
                fee_multiplier=Decimal(1),
                strategy_name="",
                created_at=self.clock.now(),
            )
            for o in resting
        ]
        # Resting buys hold their cash at the exchange; the engine counts it as reserved instead.
        cash += sum((r.cost for r in reservations), ZERO)
        equity = cash + sum((p.cost for p in held), ZERO)
        self.engine.restore(
            RiskState(cash=cash, day_start_equity=equity, positions=held, reservations=reservations)
        )
        logger.info(
            "risk rebuilt from the exchange: cash ${}, {} positions, {} resting orders",
            cash,
            len(held),
            len(reservations),
        )

    # -- the ledger: what the exchange cannot tell us ---------------------------------------

    def _ask_ledger(self, message: object, what: str) -> Any:
        """The ledger's answer, or None (logged) while it restarts or is stuck."""
        assert self.ledger is not None
        try:
            return self.system.ask(self.ledger, message, timeout=10)
        except Exception as exc:  # the ledger is restarting or stuck
            logger.error("risk: cannot {} the ledger: {}", what, exc)
            return None

    def _restore_from_ledger(self) -> None:
        """Take the day's starting equity, the breaker and any halt from the ledger."""
        loaded: LoadedRisk[SavedRisk] = self._ask_ledger(
            LoadRiskState(self.account), "load its state from"
        ) or LoadedRisk(None, False)
        if not loaded.known:
            self._restored = False
            self.ledger_down = LEDGER_UNAVAILABLE
            logger.error("risk: no new trading until the ledger can be read")
            return
        self._restored = True
        self._load_limits()
        if loaded.unreadable:
            self._halt_unreadable(loaded.unreadable)
        saved = loaded.saved
        if saved is not None:
            current = self.engine.export_state()
            if self.connection is None:  # paper: the ledger is the only record of the account
                current = replace(saved.state, reservations=[])
            # A new process undoes only the bot's own stop (its shutdown); an operator's stays.
            keep_stop = self.context.incarnation > 1
            self.engine.restore(merge(current, saved, self.day, keep_stop=keep_stop))
            logger.info(
                "risk restored from the ledger: day P&L ${} (day started at ${}), trading {}{}",
                self.engine.daily_pnl.quantize(ZERO_CENTS),
                self.engine.day_start_equity,
                self.engine.state.value,
                f" ({self.engine.halt_reason})" if self.engine.halt_reason else "",
            )
        self._persist(urgent=True)

    def _halt_unreadable(self, why: str) -> None:
        """The saved state exists but cannot be read: it may have held a halt and it held
        the equity the day started from, so trading stays halted until a person has looked."""
        message = (
            f"{RISK_STATE_UNREADABLE}: {why}. Trading is halted: the day's starting equity and "
            "any halt or tripped circuit breaker it held are lost (the daily P&L now starts "
            f"from ${self.engine.equity}). Check today's P&L on the exchange and in the ledger "
            "(daily_pnl), then reset the circuit breaker (dashboard, or POST "
            "/api/circuit-breaker/reset) to resume; the next saved state replaces the bad one."
        )
        logger.critical("risk: {}", message)
        self.engine.halt(RISK_STATE_UNREADABLE, self.clock.now(), message)

    def _state_key(self) -> tuple[Any, ...]:
        """What must be on disk before anything else happens when it changes."""
        engine = self.engine
        return (
            engine.state,
            engine.circuit_breaker_triggered,
            engine.halt_reason,
            engine.breaker_reference,
            engine.day_start_equity,
            self.day,
        )

    def _persist(self, urgent: bool = False) -> None:
        """Hand the engine's state to the ledger; ``urgent`` waits until it is written."""
        if self.ledger is None or not self._restored:
            return
        saved = SavedRisk(self.day, self.engine.export_state(), self.clock.now())
        save = SaveRiskState(self.account, saved, urgent)
        self._saved_key = self._state_key()
        if not urgent:
            self.system.tell(self.ledger, save)
            return
        try:
            self.system.ask(self.ledger, save, timeout=5)
        except ActorUnavailable:
            self.system.tell(self.ledger, save)  # held for the ledger's next incarnation
        except Exception as exc:
            logger.warning("risk: the ledger did not confirm the saved state: {}", exc)

    def _persist_if_changed(self) -> None:
        if self._state_key() != self._saved_key:
            self._persist(urgent=True)

    def _on_ledger_health(self, health: LedgerHealth) -> None:
        if health.ok:
            if self.ledger_down:
                logger.info("risk: the ledger is back; new trading allowed again")
            self.ledger_down = ""
            if not self._restored:
                self._restore_from_ledger()
        elif not self.ledger_down:
            logger.error("risk: the ledger cannot write ({}): no new trading", health.reason)
            self.ledger_down = LEDGER_UNAVAILABLE
        self._after_engine(force=True)

    def _on_order_update(self, update: OrderUpdate) -> None:
        coid = update.client_order_id
        if update.status == OrderStatus.UNKNOWN:
            if update.remaining > 0:
                self._reserve_unknown(update)
        elif coid in self._provisional:
            # Known at last: what it has filled is in the positions already (rebuilt from
            # the exchange, or booked as its fills came); only what may still fill is held.
            self._provisional.discard(coid)
            held = self.engine.book.reservations.get(coid)
            if held is not None:
                keep = 0 if update.status in TERMINAL else update.remaining
                self.engine.release(coid, max(held.count - keep, 0))
        self.engine.on_order_update(update)
        self._after_engine()

    def _reserve_unknown(self, update: OrderUpdate) -> None:
        """An order of unknown outcome may still trade: it holds its cost. One this
        incarnation holds nothing for (it restarted after approving it; the exchange could
        not show it; or the order actor recovered it from a ledger that lagged) is reserved
        again, provisionally, until its state is known."""
        if update.client_order_id in self.engine.book.reservations:
            return
        self._provisional.add(update.client_order_id)
        info = self.markets.get(update.ticker)
        fee_multiplier = info.fee_multiplier if info and info.fee_multiplier else Decimal(1)
        self.engine.reserve(
            update.client_order_id,
            ticker=update.ticker,
            side=update.side,
            action=update.action,
            count=update.remaining,
            price=update.price,
            now=self.clock.now(),
            strategy_name=update.strategy_name,
            fee_multiplier=fee_multiplier,
        )
        logger.warning(
            "risk: order {} of unknown outcome reserved again ({} contracts)",
            update.client_order_id,
            update.remaining,
        )

    # -- messages --------------------------------------------------------------------------

    def _on_signal(self, signal: Signal) -> None:
        self._decide(signal)

    def _on_book(self, book: BookUpdate) -> None:
        self.books[book.ticker] = book
        self.engine.update_mark(book.ticker, book.yes_bid, book.yes_ask, book.ts)
        self._after_engine()

    def _on_spot(self, tick: SpotTick) -> None:
        self.spot = tick
        self.spots[tick.index] = tick

    def _on_fill(self, fill: Fill) -> None:
        if fill.trade_id in self.seen_fills:
            return
        self.seen_fills.add(fill.trade_id)
        if fill.action == "buy" and fill.strategy_name:
            self.owners[fill.ticker] = fill.strategy_name
        self.engine.on_fill(fill, self.clock.now())
        self._after_engine()

    def _on_settlement(self, settlement: Settlement) -> None:
        pnl = self.engine.on_settlement(settlement, self.clock.now())
        logger.info("settlement {} {}: P&L ${}", settlement.ticker, settlement.result, pnl)
        self._after_engine()

    def _on_market(self, info: MarketInfo) -> None:
        self.markets[info.ticker] = info

    def _on_lifecycle(self, event: MarketLifecycle) -> None:
        if event.event_type == "settled":
            self.books.pop(event.ticker, None)

    def _on_exchange(self, state: ExchangeState) -> None:
        self.exchange = state

    # -- the operator's controls (each answers the status, limits or flatten it changed) -------

    def _on_start_trading(self, message: StartTrading) -> RiskStatus:
        self._refuse_if_ledger_down()
        if not self.engine.start(self.clock.now()):
            raise TradingHalted(self._halt_or_breaker())
        return self._changed_by(message)

    def _on_stop_trading(self, message: StopTrading) -> RiskStatus:
        self.engine.stop(self.clock.now(), by=message.requested_by)
        stopped = CancelAllOrders(f"trading stopped: {message.reason}", halt=True)
        self.system.tell(ORDER, stopped)
        return self._changed_by(message)

    def _on_halt(self, message: HaltTrading) -> RiskStatus:
        logger.error("trading halted ({}): {}", message.reason, message.message)
        self.engine.halt(message.reason, self.clock.now())
        return self._changed_by(message)

    def _on_reset_breaker(self, message: ResetCircuitBreaker) -> RiskStatus:
        self._refuse_if_ledger_down()
        self.engine.reset_circuit_breaker(self.clock.now())
        return self._changed_by(message)

    def _changed_by(self, message: object) -> RiskStatus:
        logger.info("trading {} ({})", self.engine.state.value, type(message).__name__)
        self._after_engine(force=True)
        return self.status()

    def _get_status(self, _: GetStatus) -> RiskStatus:
        return self.status()

    def _get_limits(self, _: GetRiskLimits) -> dict[str, Any]:
        return self.limits_view()

    def _on_set_limits(self, message: SetRiskLimits) -> dict[str, Any]:
        return self._set_limits(orjson.loads(message.changes), message.requested_by)

    def _on_reset_limits(self, message: ResetRiskLimits) -> dict[str, Any]:
        return self._set_limits(None, message.requested_by)

    def current_halt(self) -> Halt | None:
        """What stops new trading now, and what clears it (None: it runs)."""
        if self.ledger_down:
            return halt_of("halted", self.ledger_down)
        engine = self.engine
        if engine.state is TradingState.STOPPED:
            return halt_of("stopped", engine.stopped_by)
        return halt_of(engine.state.value, engine.halt_reason)

    def _refuse_if_ledger_down(self) -> None:
        if self.ledger_down:
            halt = halt_of("halted", self.ledger_down)
            assert halt is not None
            raise TradingHalted(halt)

    def _halt_or_breaker(self) -> Halt:
        halt = halt_of("halted", self.engine.halt_reason)
        assert halt is not None
        return halt

    # -- risk limits changed at runtime (kept in the ledger until reset) ----------------------

    def _load_limits(self) -> None:
        """The operator's changes, as the ledger kept them (asked again each tick until read)."""
        loaded: LoadedControls | None = self._ask_ledger(
            LoadControls(overrides.CONTROL), "load the runtime limits from"
        )
        if loaded is None or not loaded.known:
            return
        self._limits_known = True
        text = loaded.values.get(overrides.CONTROL)
        if text is None:
            return
        try:
            saved = overrides.Saved.decode(text)
            limits = overrides.apply(self.startup_limits, saved.overrides)
        except (ValueError, TypeError) as exc:
            logger.error("risk: the saved runtime limits are refused ({}); start-up limits", exc)
            return
        self._use_limits(limits, saved)
        if saved.overrides:
            logger.warning(
                "risk: runtime limits from the ledger (set by {}): {}",
                saved.requested_by,
                overrides.view_values(saved.overrides),
            )

    def _set_limits(self, changes: dict[str, Any] | None, requested_by: str) -> dict[str, Any]:
        """Validate (a ``LimitRejected`` changes nothing), save, then apply; None resets."""
        merged: dict[str, Any] = {}
        if changes is not None:
            merged = {**self.saved_limits.overrides, **overrides.validate(changes)}
        limits = overrides.apply(self.startup_limits, merged)
        saved = overrides.Saved(merged, requested_by, self.clock.now())
        if self.ledger is not None:
            change = ControlChanged(overrides.CONTROL, saved.encode(), requested_by, saved.at or 0)
            if self._ask_ledger(SaveControl(change), "save the runtime limits to") is not True:
                raise ValueError("the ledger cannot write the change now: limits not changed")
        before = overrides.view(self.limits)
        self._use_limits(limits, saved)
        after = overrides.view(limits)
        what = ", ".join(f"{k} {before[k]} → {after[k]}" for k in after if before[k] != after[k])
        text = f"risk limits {'reset' if changes is None else 'changed'} by {requested_by}"
        text += f": {what}" if what else " (no change in value)"
        logger.warning("risk: {}", text)
        self.publish(ALERTS, Alert("risk_limits", text, "info", self.clock.now()))
        self._after_engine(force=True)
        return self.limits_view()

    def _use_limits(self, limits: RiskLimits, saved: overrides.Saved) -> None:
        self.limits = limits
        self.engine.limits = limits
        self.saved_limits = saved

    def limits_view(self) -> dict[str, Any]:
        saved = self.saved_limits
        return {
            "limits": overrides.view(self.limits),
            "startup": overrides.view(self.startup_limits),
            "overrides": overrides.view_values(saved.overrides),
            "changed_by": saved.requested_by or None,
            "changed_at": saved.at,
            "changeable": list(overrides.CHANGEABLE),
            "persisted": self.ledger is not None,
        }

    # -- flatten: sell a whole position at the best bid, through the same checks --------------

    def _flatten(self, message: FlattenPosition) -> dict[str, Any]:
        held = self.engine.book.positions.get(message.ticker)
        if held is None or held.contracts <= 0:
            raise LookupError(f"no position in {message.ticker}")
        halt = self.current_halt()
        if halt is not None and halt.state == "halted":
            raise TradingHalted(halt)
        bid, mid = self._exit_quote(message.ticker, held.side)
        if bid is None or mid is None:
            raise ValueError(f"no {held.side} bid in {message.ticker}: nothing to sell into")
        if message.min_price is not None and bid < message.min_price:
            raise ValueError(
                f"price guard: the best bid {bid} is below min_price {message.min_price}"
            )
        if mid - bid > message.max_slippage:
            raise ValueError(
                f"price guard: the best bid {bid} is {mid - bid} under the mid {mid} "
                f"(max_slippage {message.max_slippage})"
            )
        now = self.clock.now()
        yes_mid = mid if held.side == "yes" else 1 - mid
        signal = Signal(
            f"flatten-{uuid.uuid4()}",
            self.owners.get(message.ticker, "operator"),
            message.ticker,
            held.side,
            ZERO,
            yes_mid,
            bid,
            held.contracts,
            now,
            action="sell",
            reason=f"flatten requested by {message.requested_by}",
        )
        self.publish(SIGNALS, signal)  # recorded like a strategy's, before its decision
        decision, intent = self._decide(signal)
        if intent is None:
            raise ValueError(f"risk rejected the flatten: {decision.reason}")
        logger.warning(
            "flatten {} by {}: sell {} {} at {}",
            message.ticker,
            message.requested_by,
            intent.count,
            held.side,
            bid,
        )
        return {
            "ticker": message.ticker,
            "side": held.side,
            "count": intent.count,
            "price": str(bid),
            "client_order_id": intent.client_order_id,
            "signal_id": signal.signal_id,
            "strategy_name": signal.strategy_name,
        }

    def _exit_quote(self, ticker: str, side: str) -> tuple[Decimal | None, Decimal | None]:
        """The best bid for ``side`` and that side's mid (the bid alone without an ask)."""
        book = self.books.get(ticker)
        if book is None:
            return None, None
        bid = book.yes_bid if side == "yes" else book.no_bid
        ask = book.yes_ask if side == "yes" else book.no_ask
        if bid is None:
            return None, None
        return bid, (bid + ask) / 2 if ask is not None else bid

    # -- the hot path: signal -> decision -> intent -------------------------------------------

    def _decide(self, signal: Signal) -> tuple[RiskDecision, OrderIntent | None]:
        now = self.clock.now()
        if self.ledger_down:
            refused = RiskDecision(
                signal.signal_id,
                signal.strategy_name,
                signal.ticker,
                False,
                LEDGER_UNAVAILABLE,
                0,
                now,
            )
            self.publish(SIGNALS, refused)
            return refused, None
        info = self.markets.get(signal.ticker)
        market = (
            MarketState.from_messages(
                info,
                self.books.get(signal.ticker),
                spot_of_market(info, self.spots, self.spot),
                exchange_active=self.exchange.exchange_active,
                trading_active=self.exchange.trading_active,
            )
            if info is not None
            else None
        )
        client_order_id = str(uuid.uuid4())
        decision = self.engine.evaluate(signal, now, market, order_id=client_order_id)
        intent = None
        if decision.approved:
            intent = intent_for(signal, decision, client_order_id, self.taker_time_in_force, now)
            self.system.tell(ORDER, intent)
            self.publish(ORDERS, intent)
        self.publish(SIGNALS, decision)
        self._dirty = True
        return decision, intent

    # -- status and alerts ----------------------------------------------------------------------

    def _after_engine(self, force: bool = False) -> None:
        self._dirty = True
        for alert in self.engine.drain_alerts():
            self.publish(ALERTS, Alert(alert.kind, alert.message, alert.level, alert.ts))
            if self.engine.state is TradingState.HALTED:
                self.system.tell(ORDER, CancelAllOrders(alert.message, halt=True))
        if self.ledger is not None:
            self._persist_if_changed()
        if force:
            self._publish_status()

    def _on_tick(self, _: StatusTick) -> None:
        now = self.clock.now()
        if not self._limits_known and self._restored:
            self._load_limits()
        day = self._day(now)
        if day != self.day:
            self.day = day
            self.engine.start_new_day(now)
            logger.info("a new trading day: daily P&L reset")
            self._dirty = True
        if self._dirty:
            self._publish_status()
            if self.ledger is not None:
                if self._state_key() != self._saved_key:
                    self._persist(urgent=True)
                else:
                    self._persist()

    @staticmethod
    def _day(now: float) -> str:
        return datetime.fromtimestamp(now, tz=UTC).date().isoformat()

    def _publish_status(self) -> None:
        self._dirty = False
        self.publish(STATUS, self.status())

    def status(self) -> RiskStatus:
        engine = self.engine
        book = engine.book
        positions = []
        for held in book.positions.values():
            mark = book.marks.get(held.ticker)
            value = None
            if mark is not None:
                value = held.contracts * (mark if held.side == "yes" else 1 - mark)
            positions.append(
                Position(
                    ticker=held.ticker,
                    side=held.side,
                    contracts=held.contracts,
                    average_price=held.avg_price.quantize(PRICE_QUANTUM),
                    cost=held.cost,
                    market_value=value,
                    unrealized_pnl=None if value is None else value - held.cost,
                    realized_pnl=ZERO,
                )
            )
        trading_state, halt_reason = engine.state.value, engine.halt_reason
        if self.ledger_down and engine.state is TradingState.RUNNING:
            trading_state, halt_reason = TradingState.HALTED.value, self.ledger_down
        return RiskStatus(
            trading_state=trading_state,
            daily_pnl=engine.daily_pnl,
            realized_pnl=book.realized_pnl,
            unrealized_pnl=book.unrealized_pnl(),
            fees_paid=book.fees,
            exposure=book.total_exposure(),
            reserved=book.reserved_cost(),
            open_positions=len(book.positions),
            bankroll=engine.equity,
            starting_bankroll=engine.day_start_equity,
            circuit_breaker_triggered=engine.circuit_breaker_triggered,
            halt_reason=halt_reason,
            positions=tuple(positions),
            timestamp=self.clock.now(),
        )

    # Market data and fills by exact type; the operator's controls by isinstance.
    _DISPATCH: ClassVar[Dispatch[RiskActor]] = Dispatch(
        {
            Signal: _on_signal,
            BookUpdate: _on_book,
            SpotTick: _on_spot,
            OrderUpdate: _on_order_update,
            Fill: _on_fill,
            Settlement: _on_settlement,
            LedgerHealth: _on_ledger_health,
            MarketInfo: _on_market,
            MarketLifecycle: _on_lifecycle,
            ExchangeState: _on_exchange,
            OrderIntent: ignore,  # our own intents, echoed by the bus
            StatusTick: _on_tick,
        },
        inherited={  # matched with isinstance, as the operator's messages always were
            StartTrading: _on_start_trading,
            StopTrading: _on_stop_trading,
            HaltTrading: _on_halt,
            ResetCircuitBreaker: _on_reset_breaker,
            GetStatus: _get_status,
            GetRiskLimits: _get_limits,
            SetRiskLimits: _on_set_limits,
            ResetRiskLimits: _on_reset_limits,
            FlattenPosition: _flatten,
        },
    )
