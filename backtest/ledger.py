"""What a backtest did, booked per strategy and per market: trades, fees, expected and realized P&L.

Each strategy's P&L is booked from its own fills and the markets' settlements
with ``strategies.positions.Positions`` — the netting the strategies use
themselves — so a figure here is the sum of what each trade really paid. The
account-level equity comes from the ``RiskEngine``'s book (see ``session``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from kalshi.units import ONE, ZERO
from messages.market_data import BookUpdate
from messages.trading import Fill, Settlement, Signal
from scoring.costs import fill_floor
from strategies.positions import Positions


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill with the forecast behind it; ``expected`` = count × (q − price) − fee for buys."""

    ts: float
    ticker: str
    strategy: str
    side: str
    action: str
    count: int
    price: Decimal
    fee: Decimal
    model_prob: Decimal | None
    expected: Decimal | None
    seconds_left: float | None = None  # before the market's close
    yes_bid: Decimal | None = None  # the book the fill met
    yes_ask: Decimal | None = None
    floor: Decimal | None = None  # cost floor per contract: half that spread + the fee


@dataclass(slots=True)
class MarketResult:
    """One strategy's business in one market."""

    strategy: str
    ticker: str
    contracts_bought: int = 0
    contracts_sold: int = 0
    cost: Decimal = ZERO  # price paid for buys
    fees: Decimal = ZERO
    expected: Decimal = ZERO  # Σ expected profit of the buys at their fills
    pnl: Decimal = ZERO  # realized, net of fees
    settled: bool = False
    result: str | None = None
    opened_at: float = 0.0
    closed_at: float | None = None


@dataclass(slots=True)
class Ledger:
    fee_multiplier: Decimal = ONE  # the series', for the cost floor of each fill
    trades: list[Trade] = field(default_factory=list)
    markets: dict[tuple[str, str], MarketResult] = field(default_factory=dict)
    positions: dict[str, Positions] = field(default_factory=dict)
    _unsettled: dict[str, list[MarketResult]] = field(default_factory=dict)

    def _market(self, strategy: str, ticker: str, ts: float) -> MarketResult:
        key = (strategy, ticker)
        found = self.markets.get(key)
        if found is None:
            found = self.markets[key] = MarketResult(strategy, ticker, opened_at=ts)
            self._unsettled.setdefault(ticker, []).append(found)
        return found

    def on_fill(
        self,
        fill: Fill,
        signal: Signal | None,
        quote: BookUpdate | None = None,
        close_time: float | None = None,
    ) -> Trade:
        """Book a fill; ``quote`` is the order book it met, ``close_time`` its market's close."""
        name = fill.strategy_name
        book = self.positions.setdefault(name, Positions())
        before = book.realized_pnl
        book.apply_fill(fill)
        market = self._market(name, fill.ticker, fill.timestamp)
        market.pnl += book.realized_pnl - before
        market.fees += fill.fee
        model_prob = signal.model_prob if signal is not None else None
        expected: Decimal | None = None
        if fill.action == "buy":
            market.contracts_bought += fill.count
            market.cost += fill.price * fill.count
            if model_prob is not None:
                q = model_prob if fill.side == "yes" else ONE - model_prob
                expected = (q - fill.price) * fill.count - fill.fee
                market.expected += expected
        else:
            market.contracts_sold += fill.count
        trade = Trade(
            fill.timestamp,
            fill.ticker,
            name,
            fill.side,
            fill.action,
            fill.count,
            fill.price,
            fill.fee,
            model_prob,
            expected,
            None if close_time is None else close_time - fill.timestamp,
            None if quote is None else quote.yes_bid,
            None if quote is None else quote.yes_ask,
            None
            if quote is None
            else fill_floor(
                fill.side, fill.action, quote.yes_bid, quote.yes_ask, self.fee_multiplier
            ),
        )
        self.trades.append(trade)
        return trade

    def on_settlement(self, settlement: Settlement) -> None:
        """Settle every strategy that traded the market (held or already flat)."""
        for market in self._unsettled.pop(settlement.ticker, ()):
            book = self.positions.setdefault(market.strategy, Positions())
            before = book.realized_pnl
            book.settle(settlement)
            market.pnl += book.realized_pnl - before
            market.settled = True
            market.result = settlement.result
            market.closed_at = settlement.timestamp

    def results(self) -> list[MarketResult]:
        return list(self.markets.values())
