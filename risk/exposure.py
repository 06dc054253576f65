"""Positions, resting-order reservations, cash and P&L: the RiskEngine's book.

Positions are netted the way Kalshi nets them: one side per market; buying the
other side closes contracts (each YES+NO pair pays $1 at once) and selling a
side is the same as buying the other at ``1 − price``. Average cost per market.

Reservations are what makes the limits hold under concurrency: an approved
order reserves its worst case (buys: ``count × limit + fee``; sells: the
contracts they would close) *before* it is sent, so the next signal already
sees it. Sells only ever close contracts held: the OrderActor must send them
``reduce_only`` (a plain sell of contracts no longer held would open the other
side, unreserved), and a fill that nets a position down trims them to match. A reservation shrinks as fills are booked, and is released when the
order ends (canceled, rejected, executed) — except for contracts the exchange
reports filled whose fills have not arrived yet, which stay reserved until they do.

Equity = cash + Σ contracts × mark (a market without a mark is held at cost).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from loguru import logger

from kalshi.fees import taker_fee
from kalshi.tickers import series_of
from kalshi.units import ONE, ZERO
from messages.trading import Fill, OrderUpdate, Settlement
from messages.vocabulary import TERMINAL


def other_side(side: str) -> str:
    return "no" if side == "yes" else "yes"


@dataclass(slots=True)
class Position:
    """Contracts of one side held in one market, at cost (fees excluded)."""

    ticker: str
    side: str  # yes | no
    contracts: int
    cost: Decimal

    @property
    def avg_price(self) -> Decimal:
        return self.cost / self.contracts if self.contracts else ZERO


@dataclass(slots=True)
class Reservation:
    """What an approved, not yet finished order may still consume."""

    order_id: str
    ticker: str
    side: str
    action: str  # buy | sell
    count: int  # contracts still reserved
    price: Decimal  # limit price of ``side``
    fee_multiplier: Decimal
    strategy_name: str
    created_at: float
    booked: int = 0  # contracts of this order whose fills are booked
    terminal: bool = False  # the order ended; only awaited fills keep it

    @property
    def cost(self) -> Decimal:
        """Dollars a buy may still spend (limit × count + the fee, rounded as Kalshi rounds it); 0 for sells."""
        if self.action != "buy" or self.count <= 0:
            return ZERO
        return self.price * self.count + taker_fee(
            self.price, Decimal(self.count), self.fee_multiplier
        )


def order_cost(price: Decimal, count: int, fee_multiplier: Decimal) -> Decimal:
    """Worst-case dollars of a buy: ``count × price`` plus its taker fee, rounded as Kalshi rounds it."""
    if count <= 0:
        return ZERO
    return price * count + taker_fee(price, Decimal(count), fee_multiplier)


class ExposureBook:
    """Cash, positions, reservations and marks; all money exact in Decimal."""

    def __init__(self, cash: Decimal) -> None:
        self.cash = cash
        self.positions: dict[str, Position] = {}
        self.reservations: dict[str, Reservation] = {}
        self.marks: dict[str, Decimal] = {}  # YES mark per ticker
        self.realized_pnl = ZERO  # net of fees
        self.fees = ZERO

    # --- queries --------------------------------------------------------------------

    def held(self, ticker: str, side: str) -> int:
        position = self.positions.get(ticker)
        return position.contracts if position is not None and position.side == side else 0

    def reserved_sells(self, ticker: str, side: str) -> int:
        return sum(
            r.count
            for r in self.reservations.values()
            if r.ticker == ticker and r.side == side and r.action == "sell"
        )

    def sellable(self, ticker: str, side: str) -> int:
        """Contracts held and not already promised to a resting sell."""
        return max(self.held(ticker, side) - self.reserved_sells(ticker, side), 0)

    def position_cost(self, ticker: str) -> Decimal:
        position = self.positions.get(ticker)
        return position.cost if position is not None else ZERO

    def reserved_cost(self, ticker: str | None = None) -> Decimal:
        return sum(
            (r.cost for r in self.reservations.values() if ticker is None or r.ticker == ticker),
            ZERO,
        )

    def market_exposure(self, ticker: str) -> Decimal:
        """Cost of the contracts held plus the worst case of resting buys, in one market."""
        return self.position_cost(ticker) + self.reserved_cost(ticker)

    def exposure_where(self, keep: Callable[[str], bool], side: str | None = None) -> Decimal:
        """Cost held plus resting buys' worst case in the markets ``keep`` accepts; with
        ``side``, only contracts of that side (YES: up; NO: down)."""
        held = sum(
            (
                p.cost
                for p in self.positions.values()
                if keep(p.ticker) and (side is None or p.side == side)
            ),
            ZERO,
        )
        resting = sum(
            (
                r.cost
                for r in self.reservations.values()
                if keep(r.ticker) and (side is None or r.side == side)
            ),
            ZERO,
        )
        return held + resting

    def series_exposure(self, series: str) -> Decimal:
        """:meth:`market_exposure` summed over the markets of ``series``."""
        return self.exposure_where(lambda ticker: series_of(ticker) == series)

    def total_exposure(self) -> Decimal:
        return sum((p.cost for p in self.positions.values()), ZERO) + self.reserved_cost()

    def open_markets(self) -> set[str]:
        """Markets with a position or a resting buy."""
        out = set(self.positions)
        out.update(
            r.ticker for r in self.reservations.values() if r.action == "buy" and r.count > 0
        )
        return out

    def available_cash(self) -> Decimal:
        return self.cash - self.reserved_cost()

    def mark_value(self, position: Position) -> Decimal:
        yes_mark = self.marks.get(position.ticker)
        if yes_mark is None:
            return position.cost
        mark = yes_mark if position.side == "yes" else ONE - yes_mark
        return mark * position.contracts

    def unrealized_pnl(self) -> Decimal:
        return sum((self.mark_value(p) - p.cost for p in self.positions.values()), ZERO)

    def equity(self) -> Decimal:
        """Cash plus every position at its mark (``mark_value``, inlined: runs on every re-mark)."""
        total = self.cash
        marks = self.marks
        for position in self.positions.values():
            yes_mark = marks.get(position.ticker)
            if yes_mark is None:
                total += position.cost
            elif position.side == "yes":
                total += yes_mark * position.contracts
            else:
                total += (ONE - yes_mark) * position.contracts
        return total

    # --- reservations ---------------------------------------------------------------

    def reserve(self, reservation: Reservation) -> None:
        if reservation.order_id in self.reservations:
            raise ValueError(f"order {reservation.order_id!r} already has a reservation")
        if reservation.count > 0:
            self.reservations[reservation.order_id] = reservation

    def release(self, order_id: str, count: int | None = None) -> int:
        """Release ``count`` contracts (all when None); returns how many were released."""
        reservation = self.reservations.get(order_id)
        if reservation is None:
            return 0
        freed = reservation.count if count is None else min(count, reservation.count)
        reservation.count -= freed
        if reservation.count <= 0:
            del self.reservations[order_id]
        return freed

    def release_market(self, ticker: str) -> None:
        for order_id in [k for k, r in self.reservations.items() if r.ticker == ticker]:
            del self.reservations[order_id]

    def on_order_update(self, update: OrderUpdate) -> None:
        """Shrink a reservation to what the order can still consume (never grow it)."""
        reservation = self.reservations.get(update.client_order_id)
        if reservation is None:
            return
        awaited = max(update.filled - reservation.booked, 0)  # reported filled, fill not booked
        if update.status in TERMINAL:
            reservation.terminal = True
            outstanding = awaited
        else:
            outstanding = max(update.remaining, 0) + awaited
        reservation.count = min(reservation.count, outstanding)
        if reservation.count <= 0:
            del self.reservations[update.client_order_id]

    # --- trades ---------------------------------------------------------------------

    def on_fill(self, fill: Fill) -> None:
        """Convert the reservation into a position and book cash, fees and realized P&L."""
        if fill.client_order_id is not None:
            reservation = self.reservations.get(fill.client_order_id)
            if reservation is not None:
                reservation.booked += fill.count
                reservation.count -= fill.count
                if reservation.count <= 0:
                    del self.reservations[fill.client_order_id]
        side: str = fill.side  # a plain string: it may become the other side
        price = fill.price
        if fill.action == "sell":
            side, price = other_side(side), ONE - price
        self._buy(fill.ticker, side, fill.count, price)
        self.cash -= fill.fee
        self.fees += fill.fee
        self.realized_pnl -= fill.fee
        self._trim_sells(fill.ticker)

    def _trim_sells(self, ticker: str) -> None:
        """Resting sells cannot close more than is held (they go out ``reduce_only``).

        A fill of the other side nets contracts away; the exchange then shrinks
        reduce-only sells the same way, newest first.
        """
        for side in ("yes", "no"):
            excess = self.reserved_sells(ticker, side) - self.held(ticker, side)
            if excess <= 0:
                continue
            sells = [
                r
                for r in self.reservations.values()
                if r.ticker == ticker and r.side == side and r.action == "sell"
            ]
            for reservation in sorted(sells, key=lambda r: r.created_at, reverse=True):
                if excess <= 0:
                    break
                excess -= self.release(reservation.order_id, excess)

    def _buy(self, ticker: str, side: str, count: int, price: Decimal) -> None:
        self.cash -= price * count
        position = self.positions.get(ticker)
        if position is not None and position.side != side:
            closing = min(count, position.contracts)
            avg = position.avg_price
            self.cash += closing * ONE  # each YES+NO pair pays $1 at once
            self.realized_pnl += closing * (ONE - price - avg)
            position.cost -= avg * closing
            position.contracts -= closing
            count -= closing
            if position.contracts == 0:
                del self.positions[ticker]
                position = None
        if count <= 0:
            return
        if position is None:
            self.positions[ticker] = Position(ticker, side, count, price * count)
        else:
            position.contracts += count
            position.cost += price * count

    def on_settlement(self, settlement: Settlement) -> Decimal:
        """Close the market: credit the payout, book its P&L, drop its reservations."""
        position = self.positions.pop(settlement.ticker, None)
        expected = ZERO
        cost = ZERO
        if position is not None:
            cost = position.cost
            expected = Decimal(position.contracts) if position.side == settlement.result else ZERO
        if settlement.payout != expected:
            logger.warning(
                "risk: settlement of {} pays {} but our book expected {}; trusting the exchange",
                settlement.ticker,
                settlement.payout,
                expected,
            )
        self.cash += settlement.payout
        pnl = settlement.payout - cost
        self.realized_pnl += pnl
        self.release_market(settlement.ticker)
        self.marks.pop(settlement.ticker, None)
        return pnl

    def mark(self, ticker: str, yes_bid: Decimal | None, yes_ask: Decimal | None) -> None:
        """Mark a market at its YES mid (one side alone when the other is missing)."""
        if yes_bid is not None and yes_ask is not None:
            self.marks[ticker] = (yes_bid + yes_ask) / 2
        elif yes_bid is not None:
            self.marks[ticker] = yes_bid
        elif yes_ask is not None:
            self.marks[ticker] = yes_ask

    def copy_positions(self) -> list[Position]:
        return [replace(p) for p in self.positions.values()]

    def copy_reservations(self) -> list[Reservation]:
        return [replace(r) for r in self.reservations.values()]
