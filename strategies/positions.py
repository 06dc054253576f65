"""A strategy's own view of its positions, booked from its fills the way Kalshi nets them.

Kalshi keeps one signed position per market (YES positive, NO negative):
buying the side opposite to what you hold closes contracts (each YES+NO pair
pays $1 at once), and selling a side you do not hold opens the other one at
``1 − price``. Strategies use this to know what they hold (exits, targets) and
to report their own P&L; the RiskActor keeps the authoritative book.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kalshi.units import ONE, ZERO
from messages.trading import Fill, Settlement


@dataclass(slots=True)
class Holding:
    """Contracts of one side held in one market, at an average cost."""

    side: str  # yes | no
    contracts: int
    cost: Decimal  # total price paid for the contracts held (fees excluded)

    @property
    def avg_price(self) -> Decimal:
        return self.cost / self.contracts if self.contracts else ZERO


def opposite(side: str) -> str:
    return "no" if side == "yes" else "yes"


class Positions:
    """Positions per ticker with realized P&L (net of fees) from fills and settlements."""

    __slots__ = ("fees", "holdings", "realized_pnl")

    def __init__(self) -> None:
        self.holdings: dict[str, Holding] = {}
        self.realized_pnl = ZERO
        self.fees = ZERO

    def held(self, ticker: str, side: str) -> int:
        holding = self.holdings.get(ticker)
        return holding.contracts if holding is not None and holding.side == side else 0

    def holding(self, ticker: str) -> Holding | None:
        return self.holdings.get(ticker)

    def apply_fill(self, fill: Fill) -> None:
        """Book a fill: a buy of ``side`` at P, or a sell of ``side`` at P (= a buy of the other at 1 − P)."""
        side: str = fill.side  # a plain string: it may become the other side
        price = fill.price
        if fill.action == "sell":
            side, price = opposite(side), ONE - price
        self._buy(fill.ticker, side, fill.count, price)
        self.fees += fill.fee
        self.realized_pnl -= fill.fee

    def _buy(self, ticker: str, side: str, count: int, price: Decimal) -> None:
        holding = self.holdings.get(ticker)
        if holding is not None and holding.side != side and holding.contracts > 0:
            closing = min(count, holding.contracts)
            avg = holding.avg_price
            # each closed pair pays $1: we paid avg for one leg and price for the other
            self.realized_pnl += closing * (ONE - price - avg)
            holding.cost -= avg * closing
            holding.contracts -= closing
            count -= closing
            if holding.contracts == 0:
                del self.holdings[ticker]
                holding = None
        if count <= 0:
            return
        if holding is None:
            self.holdings[ticker] = Holding(side, count, price * count)
        else:
            holding.contracts += count
            holding.cost += price * count

    def forget(self, ticker: str) -> None:
        """The account holds nothing here any more (another strategy's trades netted it away)."""
        self.holdings.pop(ticker, None)

    def settle(self, settlement: Settlement) -> Decimal:
        """Close the market at its result; returns the P&L booked."""
        holding = self.holdings.pop(settlement.ticker, None)
        if holding is None:
            return ZERO
        payout = Decimal(holding.contracts) if holding.side == settlement.result else ZERO
        pnl = payout - holding.cost
        self.realized_pnl += pnl
        return pnl

    def snapshot(self) -> list[dict[str, object]]:
        return [
            {"ticker": t, "side": h.side, "contracts": h.contracts, "avg_price": str(h.avg_price)}
            for t, h in self.holdings.items()
        ]
