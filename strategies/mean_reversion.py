"""``mean_reversion``: fade moves of the YES mid away from its rolling mean.

z = (mid − rolling mean) / rolling std, the statistics taken over the window
*before* the new mid (so a jump shows in full). Entry, when flat: z ≥ entry_z
(mid far above its mean) → buy NO at the NO ask; z ≤ −entry_z → buy YES at the
YES ask. Exit (``action="sell"`` of the held side at its bid): once z is back
within ``exit_z`` of the mean on the entry's side or beyond it (NO held: z ≤
exit_z; YES held: z ≥ −exit_z), or ``exit_before_close_seconds`` before close.
No entries within ``no_entry_seconds`` of close or on a stale / too-wide book.

The rolling mean stands in for the fair YES probability, so ``model_prob`` is
the mean and an entry's ``edge`` is (mean or 1 − mean) − ask − fee; an exit's
edge is bid − (the held side's fair value) − fee, what selling now gains over
holding at the mean. Sizes are fixed (``contracts``). Positions come from the
strategy's own fills.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from kalshi.fees import taker_fee_per_contract
from kalshi.units import ONE
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.trading import Fill, OrderUpdate, RiskDecision, Settlement, Signal
from messages.vocabulary import TERMINAL
from strategies.base import Strategy, StrategyParams, register
from strategies.positions import Positions
from strategies.rolling import RollingStats

_CLOSED_EVENTS = frozenset({"closed", "deactivated", "determined", "settled", "finalized"})


class MeanReversionParams(StrategyParams):
    window: int = Field(60, ge=2, description="rolling window, in updates or seconds")
    window_unit: Literal["updates", "seconds"] = Field("updates", description="unit of window")
    min_periods: int = Field(20, ge=2, description="values needed before a z-score")
    entry_z: float = Field(2.0, gt=0, description="enter against moves beyond this |z|")
    exit_z: float = Field(0.5, ge=0, description="exit once |z| is back within this")
    contracts: int = Field(5, ge=1, description="contracts per entry")
    exit_before_close_seconds: float = Field(60.0, ge=0, description="flatten this close to close")
    no_entry_seconds: float = Field(120.0, ge=0, description="no new entries this close to close")
    min_std: float = Field(0.005, gt=0, description="no z-score on a flatter mid ($)")
    max_spread: Decimal = Field(Decimal("0.10"), gt=0, le=1, description="widest book to enter")
    min_edge: Decimal = Field(
        Decimal("0.03"), gt=-1, lt=1, description="entry edge vs the mean, $ (as risk's MIN_EDGE)"
    )
    max_book_age_seconds: float = Field(10.0, gt=0, description="older book = stale")
    pending_timeout_seconds: float = Field(30.0, gt=0, description="how long a signal is in flight")

    @model_validator(mode="after")
    def _thresholds(self) -> MeanReversionParams:
        if self.exit_z >= self.entry_z:
            raise ValueError("exit_z must be below entry_z")
        if self.no_entry_seconds < self.exit_before_close_seconds:
            raise ValueError("no_entry_seconds must be >= exit_before_close_seconds")
        return self


@dataclass(slots=True)
class _Pending:
    signal_id: str
    action: str
    side: str
    quantity: int
    ts: float


@dataclass(slots=True)
class _Ticker:
    stats: RollingStats
    info: MarketInfo | None = None
    tradeable: bool = False
    book: BookUpdate | None = None
    pending: _Pending | None = None
    last_z: float | None = None
    last_mean: float | None = None


@dataclass(slots=True)
class _Stats:
    signals: int = 0
    entries: int = 0
    exits: int = 0
    skips: Counter[str] = field(default_factory=Counter)


@register
class MeanReversion(Strategy):
    name = "mean_reversion"
    Params = MeanReversionParams
    description = "z-score of the YES mid vs its rolling mean; fade extremes, exit on reversion"
    needs_index = False  # the YES mid alone

    def __init__(self, params: MeanReversionParams | None = None, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p: MeanReversionParams = self._params  # type: ignore[assignment]
        self.p = p
        self.positions = Positions()
        self._tickers: dict[str, _Ticker] = {}
        self.stats = _Stats()

    def _state(self, ticker: str) -> _Ticker:
        state = self._tickers.get(ticker)
        if state is None:
            stats = RollingStats(self.p.window, by_time=self.p.window_unit == "seconds")
            state = self._tickers[ticker] = _Ticker(stats)
        return state

    # --- inputs ---------------------------------------------------------------------

    def on_market(self, info: MarketInfo) -> None:
        state = self._state(info.ticker)
        state.info = info
        state.tradeable = info.status in ("active", "open")

    def on_lifecycle(self, event: MarketLifecycle) -> None:
        state = self._tickers.get(event.ticker)
        if state is not None and event.event_type in _CLOSED_EVENTS:
            state.tradeable = False

    def on_spot(self, tick: SpotTick) -> list[Signal]:
        return []

    def on_book(self, book: BookUpdate) -> list[Signal]:
        state = self._state(book.ticker)
        now = book.ts
        self._expire(state, now)
        if book.stale:
            state.book = None
            return self._skip("stale_book")
        state.book = book
        mid_dec = book.yes_mid
        if mid_dec is None:
            return self._skip("no_quote")
        mid = float(mid_dec)
        stats = state.stats
        stats.evict(now)
        z = stats.zscore(mid, self.p.min_periods, self.p.min_std)
        mean = stats.mean
        stats.add(now, mid)
        state.last_z = z
        state.last_mean = mean
        if z is None or mean is None:
            return self._exit_before_close(book.ticker, state, now)
        if self.positions.holding(book.ticker) is not None:
            return self._maybe_exit(book.ticker, state, now, z, mean)
        return self._maybe_enter(book.ticker, state, now, z, mean)

    def on_timer(self, now: float) -> list[Signal]:
        signals: list[Signal] = []
        for ticker, state in self._tickers.items():
            self._expire(state, now)
            signals.extend(self._exit_before_close(ticker, state, now))
        return signals

    def on_decision(self, decision: RiskDecision) -> None:
        if decision.reason == "no_position" and decision.strategy_name == self.name:
            # Kalshi nets YES against NO across the account: another strategy's trade closed
            # what we held, so there is nothing left to exit (and asking again is futile).
            self.positions.forget(decision.ticker)
        state = self._tickers.get(decision.ticker)
        pending = state.pending if state is not None else None
        if pending is None or pending.signal_id != decision.signal_id:
            return
        if not decision.approved or decision.quantity <= 0:
            state.pending = None  # type: ignore[union-attr]
        else:
            pending.quantity = min(pending.quantity, decision.quantity)

    def on_order_update(self, update: OrderUpdate) -> None:
        state = self._tickers.get(update.ticker)
        if state is None or state.pending is None or update.status not in TERMINAL:
            return
        pending = state.pending
        if pending.action == update.action and pending.side == update.side:
            state.pending = None

    def on_fill(self, fill: Fill) -> None:
        self.positions.apply_fill(fill)
        state = self._tickers.get(fill.ticker)
        if state is None or state.pending is None:
            return
        pending = state.pending
        if pending.action == fill.action and pending.side == fill.side:
            pending.quantity -= fill.count
            if pending.quantity <= 0:
                state.pending = None

    def on_settlement(self, settlement: Settlement) -> None:
        self.positions.settle(settlement)
        self._tickers.pop(settlement.ticker, None)

    def on_open_order(self, order: OrderUpdate, now: float) -> None:
        if order.remaining > 0:
            state = self._state(order.ticker)
            state.pending = _Pending(
                order.client_order_id, order.action, order.side, order.remaining, now
            )

    # --- decisions ------------------------------------------------------------------

    def _skip(self, reason: str) -> list[Signal]:
        self.stats.skips[reason] += 1
        return []

    def _expire(self, state: _Ticker, now: float) -> None:
        pending = state.pending
        if pending is not None and now - pending.ts > self.p.pending_timeout_seconds:
            state.pending = None

    def _book_fresh(self, state: _Ticker, now: float) -> BookUpdate | None:
        book = state.book
        if book is None or book.stale or now - book.ts > self.p.max_book_age_seconds:
            return None
        return book

    def _maybe_enter(
        self, ticker: str, state: _Ticker, now: float, z: float, mean: float
    ) -> list[Signal]:
        p = self.p
        if abs(z) < p.entry_z:
            return []
        info = state.info
        if info is None or not state.tradeable:
            return self._skip("untradeable")
        if now < info.open_time:
            return self._skip("not_open")
        if info.close_time - now <= p.no_entry_seconds:
            return self._skip("no_entry_window")
        if state.pending is not None:
            return self._skip("pending")
        book = state.book
        assert book is not None
        if (
            book.yes_bid is None
            or book.yes_ask is None
            or book.yes_ask - book.yes_bid > p.max_spread
        ):
            return self._skip("wide_spread")
        fee_mult = info.fee_multiplier if info.fee_multiplier is not None else ONE
        mean_dec = Decimal(f"{mean:.6f}")
        if z >= p.entry_z:
            side, ask, fair = "no", book.no_ask, ONE - mean_dec
        else:
            side, ask, fair = "yes", book.yes_ask, mean_dec
        if ask is None:
            return self._skip("no_depth")
        fee = taker_fee_per_contract(ask, fee_mult)
        edge = fair - ask - fee
        if edge < p.min_edge:
            return self._skip("edge_below_minimum")
        signal = self._signal(
            ticker,
            side=side,
            action="buy",
            price=ask,
            quantity=p.contracts,
            now=now,
            edge=edge,
            model_prob=mean_dec,
            fee=fee,
            z=z,
        )
        state.pending = _Pending(signal.signal_id, "buy", side, p.contracts, now)
        self.stats.entries += 1
        return [signal]

    def _maybe_exit(
        self, ticker: str, state: _Ticker, now: float, z: float, mean: float
    ) -> list[Signal]:
        holding = self.positions.holding(ticker)
        if holding is None:
            return []
        reverted = z <= self.p.exit_z if holding.side == "no" else z >= -self.p.exit_z
        if reverted:
            return self._exit(ticker, state, now, why="reverted", z=z, mean=mean)
        return self._exit_before_close(ticker, state, now)

    def _exit_before_close(self, ticker: str, state: _Ticker, now: float) -> list[Signal]:
        info = state.info
        if info is None or self.positions.holding(ticker) is None:
            return []
        left = info.close_time - now
        if left > self.p.exit_before_close_seconds or left <= 0:
            return []
        return self._exit(
            ticker, state, now, why="before_close", z=state.last_z, mean=state.last_mean
        )

    def _exit(
        self,
        ticker: str,
        state: _Ticker,
        now: float,
        *,
        why: str,
        z: float | None,
        mean: float | None,
    ) -> list[Signal]:
        holding = self.positions.holding(ticker)
        if holding is None:
            return []
        if state.pending is not None:
            return self._skip("pending")
        book = self._book_fresh(state, now)
        if book is None:
            return self._skip("stale_book")
        bid = book.yes_bid if holding.side == "yes" else book.no_bid
        if bid is None or bid <= 0:
            return self._skip("no_bid")
        info = state.info
        fee_mult = info.fee_multiplier if info is not None and info.fee_multiplier else ONE
        mid = book.yes_mid
        fair_yes = Decimal(f"{mean:.6f}") if mean is not None else (mid if mid is not None else bid)
        fair = fair_yes if holding.side == "yes" else ONE - fair_yes
        fee = taker_fee_per_contract(bid, fee_mult)
        edge = bid - fair - fee
        signal = self._signal(
            ticker,
            side=holding.side,
            action="sell",
            price=bid,
            quantity=holding.contracts,
            now=now,
            edge=edge,
            model_prob=fair_yes,
            fee=fee,
            z=z,
            why=why,
        )
        state.pending = _Pending(signal.signal_id, "sell", holding.side, holding.contracts, now)
        self.stats.exits += 1
        return [signal]

    def _signal(
        self,
        ticker: str,
        *,
        side: str,
        action: str,
        price: Decimal,
        quantity: int,
        now: float,
        edge: Decimal,
        model_prob: Decimal,
        fee: Decimal,
        z: float | None,
        why: str = "",
    ) -> Signal:
        self.stats.signals += 1
        zs = "n/a" if z is None else f"{z:+.2f}"
        return Signal(
            signal_id=self.next_signal_id(ticker, now),
            strategy_name=self.name,
            ticker=ticker,
            direction=side,
            edge=edge,
            model_prob=model_prob,
            market_price=price,
            quantity=quantity,
            timestamp=now,
            action=action,
            reason=f"{'entry' if action == 'buy' else 'exit ' + why} z={zs}",
            fee=fee,
            zscore=None if z is None or math.isnan(z) else z,
        )

    # --- outputs --------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        return {
            "signals": self.stats.signals,
            "entries": self.stats.entries,
            "exits": self.stats.exits,
            "skips": dict(self.stats.skips),
            "realized_pnl": float(self.positions.realized_pnl),
            "fees": float(self.positions.fees),
            "positions": self.positions.snapshot(),
            "markets": {
                ticker: {"zscore": s.last_z, "mean": s.last_mean, "samples": len(s.stats)}
                for ticker, s in self._tickers.items()
            },
        }
