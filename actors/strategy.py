"""StrategyActor: runs one pure strategy object on market data and sends its signals to risk.

The strategy itself (:mod:`strategies`) never sees threads or the clock; the
actor feeds it messages, forwards what it returns, and routes the risk
decisions, order updates and fills of its own signals back to it. A disabled
strategy keeps learning (its volatility estimate stays warm) but sends nothing.

What it knows outlives it. The operator's switch is kept in the ledger (``ledger``) and
read back on start; a (re)started strategy rebuilds what it holds from its fills in the
ledger and what is on its way from the order actor's open orders — before its first
signal: until it could read both (the ledger or the order actor restarting), it sends
nothing. Fills and orders are counted once each (:class:`strategies.memory.StrategyMemory`):
a restarted order actor reports recent fills again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import orjson
import pykka
from loguru import logger

from actors.discovery import known_markets
from actors.market_stream import SPOT_INDEX
from execution.updates import order_update
from messages.control import (
    ControlChanged,
    ResetStrategyParams,
    SetStrategyEnabled,
    SetStrategyParams,
)
from messages.ledger import (
    LoadControls,
    LoadedControls,
    LoadedFills,
    LoadStrategyFills,
    SaveControl,
)
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.queries import Describe, GetOpenOrders, GetPrints
from messages.status import Alert, StrategyStatus
from messages.timers import StatusTick
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Settlement, Signal
from messages.vocabulary import OrderStatus, is_side
from runtime.actor import ActorContext
from runtime.address import ActorUnavailable, AddressState
from runtime.bus import ALERTS, BOOK, FILLS, MARKETS, ORDERS, SIGNALS, SPOT, STATUS
from runtime.dispatch import Dispatch, DispatchedActor, ignore
from strategies.base import Strategy, StrategyConfigError, create_strategy
from strategies.memory import StrategyMemory

RISK = "risk"
ORDER = "order"
DISABLED = "strategy_disabled"  # the decision a suppressed signal is told
RESTORING = "strategy_restoring"  # not sent: what it holds is not known yet
RESTORE_LOOKBACK_SECONDS = 86_400.0  # fills read back from the ledger after a restart
_UNANSWERED = (ActorUnavailable, pykka.ActorDeadError, pykka.Timeout)


def strategy_address(name: str) -> str:
    return f"strategy:{name}"


def switch_name(strategy_name: str) -> str:
    """The ledger's name for a strategy's on/off switch."""
    return f"strategy:{strategy_name}:enabled"


def params_name(strategy_name: str) -> str:
    """The ledger's name for a strategy's runtime parameter changes."""
    return f"strategy:{strategy_name}:params"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()


class StrategyActor(DispatchedActor):
    def __init__(
        self,
        context: ActorContext,
        strategy_name: str,
        params: dict[str, Any] | None = None,
        enabled: bool = True,
        status_interval: float = 1.0,
        ledger: str | None = None,
        restore_lookback: float = RESTORE_LOOKBACK_SECONDS,
        feeds: Mapping[str, str] | None = None,
        series: Collection[str] | None = None,
    ) -> None:
        """``enabled``: the switch until the operator sets it (then the ledger's, with
        ``ledger``, the LedgerActor's address; None: nothing is kept). ``feeds``: index id
        → its ``SpotFeed``'s address, asked for recent prints at a (re)start (with ``series``,
        the indices it hears). ``series``: the series it trades (None: every one); other
        series' markets and books never reach it."""
        super().__init__(context)
        self.series = frozenset(series) if series is not None else None
        self.other_series: set[str] = set()  # tickers of series it does not trade
        self.feeds = dict(feeds) if feeds else {SPOT_INDEX: "spot"}
        # a strategy limited to some series, given their feeds, hears only those indices
        self.indices = None if series is None or not feeds else frozenset(feeds)
        self.strategy_name = strategy_name
        self.params = params or {}  # as started (settings); runtime changes go on top
        self.overrides: dict[str, Any] = {}
        self.changed_by: tuple[str, float] | None = None  # who changed the params, and when
        self.markets: dict[str, MarketInfo] = {}  # live markets heard of (fed to a rebuild)
        self.enabled = enabled
        self.status_interval = status_interval
        self.ledger = ledger
        self.restore_lookback = restore_lookback
        self.strategy: Strategy = create_strategy(strategy_name, **self.params)
        self.memory = StrategyMemory()
        self.signals = 0
        self.suppressed = 0
        self._risk = self.system.address(RISK)
        self._switch = switch_name(strategy_name)
        self._switch_known = ledger is None
        self._switch_unsaved = False
        self._fills_known = ledger is None
        self._orders_known = False

    def setup(self) -> None:
        self._catch_up()
        self.subscribe(MARKETS, SIGNALS, ORDERS, FILLS)
        # only its own series' books and indices: another strategy's never wake it
        self.subscribe(BOOK, keys=self.series)
        self.subscribe(SPOT, keys=self.indices)
        self._recall()
        self.every(self.status_interval, StatusTick)
        self._publish_status()

    def _catch_up(self) -> None:
        """After a (re)start: learn the live markets and replay each index's recent prints."""
        replay: list[tuple[str, Any]] = []
        for index_id, feed in self.feeds.items():
            # market data may not be up yet: its prints will arrive on the bus
            with contextlib.suppress(ActorUnavailable, pykka.Timeout):
                replay.append((index_id, self.system.ask(feed, GetPrints(), timeout=5)))
        markets = known_markets(self.system)
        for info in markets.values():
            if self._takes(info):
                self.strategy.on_market(info)
        for index_id, prints in replay:
            for ts, price in prints:  # warms volatility; no trading on replay
                self.strategy.on_spot(SpotTick(index_id, price, ts))

    @property
    def ready(self) -> bool:
        """Whether what it holds and its switch are known: it may signal."""
        return self._switch_known and self._fills_known and self._orders_known

    def _on_spot(self, tick: SpotTick) -> None:
        self._send(self.strategy.on_spot(tick))

    def _on_book(self, book: BookUpdate) -> None:
        if book.ticker not in self.other_series:
            self._send(self.strategy.on_book(book))

    def _on_market(self, info: MarketInfo) -> None:
        if not self._takes(info):
            return
        self.markets[info.ticker] = info
        self.strategy.on_market(info)
        self._wake(info.ticker)

    def _on_decision(self, decision: RiskDecision) -> None:
        if decision.strategy_name == self.strategy_name:
            self.memory.decided(decision.signal_id)
            self.strategy.on_decision(decision)

    def _on_order_update(self, update: OrderUpdate) -> None:
        if update.strategy_name == self.strategy_name:
            self.strategy.on_order_update(update)

    def _on_fill(self, fill: Fill) -> None:
        if fill.strategy_name == self.strategy_name and self.memory.first_time(fill):
            self.strategy.on_fill(fill)

    def _on_settlement(self, settlement: Settlement) -> None:
        self.strategy.on_settlement(settlement)

    def _on_enable(self, message: SetStrategyEnabled) -> dict[str, Any]:
        return self._toggle(message.enabled)

    def _on_params(self, message: SetStrategyParams) -> dict[str, Any]:
        return self._set_params(orjson.loads(message.changes), message.requested_by)

    def _on_reset_params(self, message: ResetStrategyParams) -> dict[str, Any]:
        return self._set_params(None, message.requested_by)

    def _on_describe(self, _: Describe) -> dict[str, Any]:
        return self.describe()

    def _takes(self, info: MarketInfo) -> bool:
        """Whether it trades ``info``'s series (remembering the tickers it does not)."""
        if self.series is None or not info.series or info.series in self.series:
            return True
        self.other_series.add(info.ticker)
        return False

    def _on_tick(self, _: StatusTick) -> None:
        now = self.clock.now()
        if not self.ready or self._switch_unsaved:
            self._recall()
        self.memory.prune(now)
        self._send(self.strategy.on_timer(now))
        self._publish_status()

    def _publish_status(self) -> None:
        metrics = {
            **self.strategy.metrics(),
            "signals_sent": self.signals,
            "suppressed": self.suppressed,
        }
        params = self.strategy.params.model_dump(mode="json")
        self.publish(
            STATUS,
            StrategyStatus(
                name=self.strategy_name,
                enabled=self.enabled,
                params=tuple((k, _text(v)) for k, v in params.items()),
                metrics=tuple((k, _text(v)) for k, v in metrics.items()),
                timestamp=self.clock.now(),
            ),
        )

    def _on_lifecycle(self, event: MarketLifecycle) -> None:
        self.strategy.on_lifecycle(event)
        if event.event_type == "settled":
            self.markets.pop(event.ticker, None)
            self.other_series.discard(event.ticker)
        if event.event_type == "settled" and is_side(event.result):
            # Every strategy hears each market end, traded or not, so it can drop the
            # market's state (the OrderActor reports a Settlement only for held positions).
            self.strategy.on_settlement(
                Settlement(event.ticker, event.result, 0, 0, Decimal(0), event.ts)
            )
            self.memory.forget(event.ticker)

    def _on_intent(self, intent: OrderIntent) -> None:
        """An intent of a signal the previous incarnation sent, decided after the restart."""
        if intent.strategy_name == self.strategy_name and self.memory.inherited(intent):
            now = self.clock.now()
            self.strategy.on_open_order(order_update(intent, OrderStatus.PENDING, now), now)

    def _send(self, signals: list[Signal]) -> None:
        if not signals:
            return
        if not (self.enabled and self.ready):
            reason = DISABLED if not self.enabled else RESTORING
            self.suppressed += len(signals)
            for signal in signals:  # tell the strategy nothing will happen, so it does not wait
                self.strategy.on_decision(
                    RiskDecision(
                        signal.signal_id,
                        signal.strategy_name,
                        signal.ticker,
                        False,
                        reason,
                        0,
                        signal.timestamp,
                    )
                )
            return
        for signal in signals:
            self.signals += 1
            self.memory.sent(signal.signal_id, self.clock.now())
            self.publish(SIGNALS, signal)  # first, so every subscriber sees it before its decision
            self._risk.tell(signal)

    # -- what must be known before the first signal -------------------------------------

    def _recall(self) -> None:
        """The switch, the fills and the open orders: each asked until it is known."""
        if not self._switch_known:
            self._load_switch()
        if self._switch_unsaved:
            self._save_switch()
        if not self._fills_known:
            self._restore_fills()
        if not self._orders_known:
            self._restore_orders()

    def _ask(self, address: str, message: object, timeout: float = 5.0) -> Any:
        """The answer, or None when ``address`` cannot answer now (asked again later)."""
        try:
            return self.system.ask(address, message, timeout=timeout)
        except _UNANSWERED as exc:
            logger.warning("strategy {}: {} did not answer ({})", self.strategy_name, address, exc)
            return None

    def _load_switch(self) -> None:
        assert self.ledger is not None
        prefix = f"strategy:{self.strategy_name}:"
        loaded: LoadedControls | None = self._ask(self.ledger, LoadControls(prefix))
        if loaded is None or not loaded.known:
            return
        self._switch_known = True
        self._load_params(loaded.values.get(params_name(self.strategy_name)))
        value = loaded.values.get(self._switch)
        if value is not None:
            self.enabled = orjson.loads(value) is True
            state = "enabled" if self.enabled else "disabled"
            logger.info("strategy {} {} (the operator's switch)", self.strategy_name, state)

    def _save_switch(self) -> None:
        assert self.ledger is not None
        change = ControlChanged(
            self._switch, orjson.dumps(self.enabled).decode(), "api", self.clock.now()
        )
        saved = self._ask(self.ledger, SaveControl(change), timeout=10)
        self._switch_unsaved = saved is not True
        if self._switch_unsaved:
            logger.error(
                "strategy {}: its switch could not be written to the ledger; trying again",
                self.strategy_name,
            )

    def _restore_fills(self) -> None:
        """Its fills in markets not settled: parked, and booked once their market trades."""
        assert self.ledger is not None
        since = self.clock.now() - self.restore_lookback
        query = LoadStrategyFills(self.strategy_name, since)
        loaded: LoadedFills | None = self._ask(self.ledger, query, timeout=10)
        if loaded is None or not loaded.known:
            return
        self._fills_known = True
        self.memory.park(loaded.fills)
        for ticker in known_markets(self.system):
            self._wake(ticker)

    def _wake(self, ticker: str) -> None:
        fills = self.memory.wake(ticker)
        if fills:
            self.strategy.restore(fills, (), self.clock.now())
            logger.info(
                "strategy {}: {} fills in {} restored", self.strategy_name, len(fills), ticker
            )

    def _restore_orders(self) -> None:
        """Its orders the order actor holds open: on their way, counted against its caps."""
        if self.system.address(ORDER).state is AddressState.UNBOUND:
            self._orders_known = True  # no order actor here: nothing can be on its way
            return
        found: list[OrderUpdate] | None = self._ask(ORDER, GetOpenOrders())
        if found is None:
            return
        self._orders_known = True
        mine = [
            order
            for order in found
            if order.strategy_name == self.strategy_name
            and self.memory.new_order(order.ticker, order.client_order_id)
        ]
        if mine:
            self.strategy.restore((), mine, self.clock.now())
            logger.info("strategy {}: {} open orders restored", self.strategy_name, len(mine))

    # -- the operator's switch and the status ----------------------------------------------

    def _toggle(self, enabled: bool) -> dict[str, Any]:
        if enabled != self.enabled:
            self.enabled = enabled
            logger.info("strategy {} {}", self.strategy_name, "enabled" if enabled else "disabled")
        if self.ledger is not None:
            self._switch_known = True  # the operator's word is newer than anything stored
            self._save_switch()
        self._publish_status()
        return self.describe()

    def describe(self) -> dict[str, Any]:
        by, at = self.changed_by or (None, None)
        return {
            **self.strategy.describe(),
            "enabled": self.enabled,
            "signals_sent": self.signals,
            "param_overrides": self.overrides,
            "params_changed_by": by,
            "params_changed_at": at,
        }

    # -- parameters changed at runtime (kept in the ledger until reset) ------------------------

    def _set_params(self, changes: dict[str, Any] | None, requested_by: str) -> dict[str, Any]:
        """Validate by the strategy's own model (a ``StrategyConfigError`` changes nothing),
        save, then rebuild the strategy as a restart would; None resets."""
        if changes is not None and not isinstance(changes, dict):
            raise StrategyConfigError(f"{self.strategy_name}: give the parameters as an object")
        if self.ledger is None:  # what it holds is rebuilt from the ledger's fills
            raise ValueError("parameters change at runtime only with a ledger; restart instead")
        merged = {} if changes is None else {**self.overrides, **changes}
        if changes is not None and not changes:
            raise StrategyConfigError(f"{self.strategy_name}: no parameter given")
        strategy = create_strategy(self.strategy_name, **{**self.params, **merged})
        now = self.clock.now()
        body = {"overrides": merged, "requested_by": requested_by, "at": now}
        change = ControlChanged(
            params_name(self.strategy_name), orjson.dumps(body).decode(), requested_by, now
        )
        if self._ask(self.ledger, SaveControl(change), timeout=10) is not True:
            raise ValueError("the ledger cannot write the change now: parameters not changed")
        self._rebuild(strategy, merged, (requested_by, now))
        text = f"strategy {self.strategy_name} parameters "
        text += f"changed by {requested_by}: {merged}" if merged else f"reset by {requested_by}"
        logger.warning("{}", text)
        self.publish(ALERTS, Alert("strategy_params", text, "info", now))
        return self.describe()

    def _load_params(self, value: str | None) -> None:
        """The operator's changes as the ledger kept them (refused ones: start-up params)."""
        if value is None:
            return
        try:
            body = orjson.loads(value)
            merged = dict(body["overrides"])
            if not merged:  # reset: the start-up parameters it already runs with
                return
            strategy = create_strategy(self.strategy_name, **{**self.params, **merged})
        except (ValueError, TypeError, KeyError) as exc:
            logger.error("strategy {}: saved parameters refused: {}", self.strategy_name, exc)
            return
        at = body.get("at")
        who = (str(body.get("requested_by") or ""), float(at) if at is not None else 0.0)
        self._rebuild(strategy, merged, who)
        logger.warning("strategy {}: runtime parameters {}", self.strategy_name, merged)

    def _rebuild(
        self, strategy: Strategy, overrides: dict[str, Any], by: tuple[str, float] | None
    ) -> None:
        """A fresh strategy object, filled in as after a restart: the live markets and recent
        index prints, then what it holds (fills from the ledger, open orders)."""
        self.strategy = strategy
        self.overrides = overrides
        self.changed_by = by
        self.memory = StrategyMemory()
        self._fills_known = self.ledger is None
        self._orders_known = False
        self._catch_up()
        for info in self.markets.values():
            self.strategy.on_market(info)
        if self._switch_known:
            self._recall()
        for ticker in self.markets:
            self._wake(ticker)
        self._publish_status()

    # The hot path (index prints and books) first; the table is what ``handle`` looks up.
    _DISPATCH: ClassVar[Dispatch[StrategyActor]] = Dispatch(
        {
            SpotTick: _on_spot,
            BookUpdate: _on_book,
            StatusTick: _on_tick,
            MarketInfo: _on_market,
            MarketLifecycle: _on_lifecycle,
            RiskDecision: _on_decision,
            OrderIntent: _on_intent,
            OrderUpdate: _on_order_update,
            Fill: _on_fill,
            Settlement: _on_settlement,
            SetStrategyEnabled: _on_enable,
            SetStrategyParams: _on_params,
            ResetStrategyParams: _on_reset_params,
            Signal: ignore,  # signals (ours and others') echoed by the bus
            Describe: _on_describe,
        }
    )
