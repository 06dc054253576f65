"""A test strategy with a cap: it buys one side of each market until it holds ``target``
contracts (counting those on their way) and never buys the other side while it holds one.
Deterministic where ``kelly_volatility`` depends on a model: it signals on every book."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field

from messages.market_data import BookUpdate, SpotTick
from messages.trading import Fill, OrderUpdate, RiskDecision, Settlement, Signal
from messages.vocabulary import TERMINAL
from strategies.base import Strategy, StrategyParams, register
from strategies.pending import PendingBuys
from strategies.positions import Positions, opposite

NAME = "test_accumulate"
EDGE, MODEL_PROB = Decimal("0.30"), Decimal("0.9")


class AccumulateParams(StrategyParams):
    target: int = Field(6, ge=1)
    size: int = Field(2, ge=1)
    side: str = "yes"
    discount: Decimal = Field(Decimal(0), ge=0)  # below the ask by this much (to rest)


@register
class Accumulate(Strategy):
    name = NAME
    Params = AccumulateParams
    description = "buys one side up to a cap (tests)"

    def __init__(self, params: AccumulateParams | None = None, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        self.p: AccumulateParams = self._params  # type: ignore[assignment]
        self.positions = Positions()
        self.pending = PendingBuys(timeout=30.0)

    def on_spot(self, tick: SpotTick) -> list[Signal]:
        return []

    def on_book(self, book: BookUpdate) -> list[Signal]:
        side, ticker = self.p.side, book.ticker
        price = book.yes_ask if side == "yes" else book.no_ask
        if book.stale or price is None or self.positions.held(ticker, opposite(side)) > 0:
            return []
        price -= self.p.discount
        held = self.positions.held(ticker, side) + self.pending.quantity(ticker, side, book.ts)
        if held >= self.p.target:
            return []
        quantity = min(self.p.size, self.p.target - held)
        signal_id = self.next_signal_id(ticker, book.ts)
        self.pending.add(signal_id, ticker, side, quantity, book.ts)
        return [Signal(signal_id, NAME, ticker, side, EDGE, MODEL_PROB, price, quantity, book.ts)]

    def on_decision(self, decision: RiskDecision) -> None:
        self.pending.approved(decision.signal_id, decision.quantity if decision.approved else 0)

    def on_order_update(self, update: OrderUpdate) -> None:
        if update.status in TERMINAL and update.action == "buy" and update.count > update.filled:
            self.pending.reduce(update.ticker, update.side, update.count - update.filled)

    def on_fill(self, fill: Fill) -> None:
        self.positions.apply_fill(fill)
        if fill.action == "buy":
            self.pending.reduce(fill.ticker, fill.side, fill.count)

    def on_open_order(self, order: OrderUpdate, now: float) -> None:
        if order.action == "buy" and order.remaining > 0:
            key = f"order:{order.client_order_id}"
            self.pending.add(key, order.ticker, order.side, order.remaining, now)

    def on_settlement(self, settlement: Settlement) -> None:
        self.positions.settle(settlement)
        self.pending.drop_market(settlement.ticker)

    def metrics(self) -> dict[str, Any]:
        held = {t: (h.side, h.contracts) for t, h in self.positions.holdings.items()}
        return {"held": held, "pending": self.pending.total()}
