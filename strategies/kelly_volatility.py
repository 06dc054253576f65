"""``kelly_volatility``: trade the gap between the averaged-digital model and the book.

Each evaluation (on every index print and every book change):

1. σ = EWMA volatility of the index's 1-s log returns (:mod:`strategies.volatility`);
2. q = P(settlement average ≥ floor_strike) by :func:`strategies.pricing.digital_probability`,
   conditioning on the final minute's prints already seen;
3. YES edge = q − YES ask − fee, NO edge = (1 − q) − NO ask − fee (fee per contract,
   unrounded, with the series' multiplier); only a side with edge ≥ ``min_edge`` trades;
4. size by fractional Kelly on ``bankroll`` walking the ask depth
   (:func:`strategies.sizing.plan_buy`), counting what is already held or on its way.

Each market reads the index its series settles on (``MarketInfo.index``): the strategy
keeps a price, σ and recent prints per index, and per-market state by ticker, so one
instance trades every series at once, and an index going stale stops only the markets
that settle on it.

No signal when the market is not tradeable (no strike or fee multiplier: logged
once), before its open, within ``no_entry_seconds`` of close, when the book or
the index is stale, or during the volatility warm-up. A side that just signalled
waits ``cooldown_seconds``; a position at its Kelly target is not added to; a
side is not bought while the other is held (that would only pay fees to net out).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from loguru import logger
from pydantic import Field

from kalshi.fees import TAKER_RATE, taker_fee_per_contract
from kalshi.units import ONE, PriceLevels, PriceRange
from messages.market_data import BookUpdate, Level, MarketInfo, MarketLifecycle, SpotTick
from messages.trading import Fill, OrderUpdate, RiskDecision, Settlement, Signal
from messages.vocabulary import TERMINAL
from strategies.base import Strategy, StrategyParams, register
from strategies.pending import PendingBuys
from strategies.positions import Positions, opposite
from strategies.pricing import DigitalPrice, digital_probability
from strategies.sizing import BuyPlan, kelly_contracts, kelly_contracts_bound, plan_buy
from strategies.volatility import EwmaVolatility

_CLOSED_EVENTS = frozenset({"closed", "deactivated", "determined", "settled", "finalized"})
_Q = Decimal("0.000001")


class KellyVolatilityParams(StrategyParams):
    half_life_seconds: float = Field(300.0, gt=0, description="EWMA half-life of the volatility")
    vol_warmup: int = Field(30, ge=1, description="returns needed before σ is used")
    initial_sigma: float | None = Field(None, gt=0, description="prior σ; trades from the start")
    sigma_floor: float = Field(0.05, ge=0, description="lowest σ used (annualized)")
    max_vol_gap_seconds: float = Field(900.0, gt=0, description="longer index gaps re-anchor")
    min_edge: Decimal = Field(Decimal("0.03"), ge=0, lt=1, description="edge per contract, $")
    kelly_fraction: Decimal = Field(Decimal("0.25"), gt=0, le=1, description="Kelly multiplier")
    bankroll: Decimal = Field(Decimal("100"), gt=0, description="dollars Kelly sizes against")
    max_contracts: int = Field(100, ge=1, description="largest position per market and side")
    no_entry_seconds: float = Field(30.0, ge=0, description="no new entries this close to close")
    max_book_age_seconds: float = Field(10.0, gt=0, description="older book = stale")
    max_spot_age_seconds: float = Field(5.0, gt=0, description="older index print = stale")
    cooldown_seconds: float = Field(5.0, ge=0, description="quiet time per ticker and side")
    pending_timeout_seconds: float = Field(
        30.0, gt=0, description="unfilled signals count this long"
    )
    index: str = Field("", description="only prints of this index ('' = any)")
    settlement_window_seconds: int = Field(60, ge=1, description="averaged final window")


def volatility_for(params: KellyVolatilityParams) -> EwmaVolatility:
    """The volatility estimator ``kelly_volatility`` keeps for these parameters."""
    return EwmaVolatility(
        half_life_seconds=params.half_life_seconds,
        warmup=params.vol_warmup,
        initial_sigma=params.initial_sigma,
        floor_sigma=params.sigma_floor,
        max_gap_seconds=params.max_vol_gap_seconds,
    )


@dataclass(slots=True)
class _Spot:
    """One index as the strategy sees it: its last print, σ and the recent prints."""

    vol: EwmaVolatility
    prints: deque[tuple[int, float]]  # (second, price), one per second
    price: Decimal | None = None
    price_f: float = 0.0
    ts: float = -math.inf
    stale: bool = True

    def update(self, tick: SpotTick) -> bool:
        """Take a print; False when it is not usable (stale, not positive, out of order)."""
        if tick.stale:
            self.stale = True
            return False
        price = float(tick.price)
        if not price > 0.0 or tick.ts < self.ts:
            return False
        self.price = tick.price
        self.price_f = price
        self.ts = tick.ts
        self.stale = False
        self.vol.update(price, tick.ts)
        second = round(tick.ts)
        prints = self.prints
        if prints and prints[-1][0] == second:
            prints[-1] = (second, price)
        else:
            prints.append((second, price))
        return True

    def known_prints(self, close: float, window: int) -> list[float]:
        """The prints of the averaged window before ``close`` seen so far."""
        start = close - window
        out: list[float] = []
        for second, price in reversed(self.prints):
            if second <= start:
                break
            if second <= close:
                out.append(price)
        out.reverse()
        return out


@dataclass(slots=True)
class _Market:
    info: MarketInfo
    spot: _Spot  # the index its series settles on
    tradeable: bool
    strike: Decimal | None
    strike_f: float
    fee_multiplier: Decimal
    fee_rate_f: float  # multiplier × taker rate, for the float edge bound
    price_levels: PriceLevels


class _Book(NamedTuple):
    """A book with its best asks as floats, for the edge bound (made once per book change)."""

    update: BookUpdate
    yes_ask: float | None  # 1 − best NO bid
    no_ask: float | None  # 1 − best YES bid

    @classmethod
    def of(cls, update: BookUpdate) -> _Book:
        no, yes = update.no_bids, update.yes_bids  # the depth the signal would walk
        return cls(
            update,
            1.0 - float(no[0][0]) if no else None,
            1.0 - float(yes[0][0]) if yes else None,
        )


class _Last(NamedTuple):
    """A market's latest evaluation: what metrics() shows, and the model price that a
    book change at the same moment (same spot, σ and market) reuses instead of re-pricing.

    Stored as a plain tuple of these fields (made on every evaluation); metrics()
    makes the named view.
    """

    ts: float
    price: DigitalPrice
    sigma: float
    spot_ts: float
    market: _Market
    book: BookUpdate

    def edge(self, side: str) -> Decimal | None:
        """The exact edge of the best ask on ``side``, as the evaluation computes it."""
        bids = self.book.no_bids if side == "yes" else self.book.yes_bids
        if not bids:
            return None
        q_yes = _model_decimal(self.price.prob)
        return _best_edge(q_yes if side == "yes" else ONE - q_yes, bids, self.market)


def _model_decimal(prob: float) -> Decimal:
    """The model's probability as the Decimal the edge maths uses (6 decimals)."""
    return Decimal(f"{prob:.6f}")


# q is rounded to 6 decimals (±5e-7) and float edges err by ~1e-16: a float edge this far
# from ``min_edge`` is on the same side of it as the exact edge.
_BOUND_MARGIN = 1e-6


def _best_edge(q: Decimal, bids: tuple[Level, ...], market: _Market) -> Decimal:
    """The exact edge of the best ask (1 − the best opposite bid): q − ask − fee."""
    ask = ONE - bids[0][0]
    return q - ask - taker_fee_per_contract(ask, market.fee_multiplier)


@dataclass(slots=True)
class _Stats:
    evaluations: int = 0
    signals: int = 0
    skips: Counter[str] = field(default_factory=Counter)


def _price_levels(info: MarketInfo) -> PriceLevels:
    if not info.tick_ranges:
        return PriceLevels()
    return PriceLevels(tuple(PriceRange(a, b, c) for a, b, c in info.tick_ranges))


@register
class KellyVolatility(Strategy):
    name = "kelly_volatility"
    Params = KellyVolatilityParams
    description = "EWMA σ + averaged-settlement digital; fee-aware fractional Kelly"

    def __init__(self, params: KellyVolatilityParams | None = None, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p: KellyVolatilityParams = self._params  # type: ignore[assignment]
        self.p = p
        self._window = p.settlement_window_seconds
        self._window_f = float(self._window)
        self._first = self._new_spot()  # the first index seen (and markets that name none)
        self._spots: dict[str, _Spot] = {}  # by index id
        self.vol = self._first.vol
        self.positions = Positions()
        self._markets: dict[str, _Market] = {}
        self._books: dict[str, _Book] = {}
        self._edge_below = float(p.min_edge) - _BOUND_MARGIN
        self._edge_above = float(p.min_edge) + _BOUND_MARGIN
        self._bankroll_f = float(p.bankroll)
        self._kelly_fraction_f = float(p.kelly_fraction)
        self._cooldown: dict[tuple[str, str], float] = {}
        self._pending = PendingBuys(p.pending_timeout_seconds)
        self._logged_untradeable: set[str] = set()
        self._last: dict[str, tuple[Any, ...]] = {}  # _Last's fields, by ticker
        self.stats = _Stats()

    def _new_spot(self) -> _Spot:
        return _Spot(volatility_for(self.p), deque(maxlen=self._window + 16))

    def _spot_of(self, index: str) -> _Spot:
        """The state of ``index`` ("": the first index seen, for markets that name none)."""
        if not index:
            return self._first
        spot = self._spots.get(index)
        if spot is None:
            spot = self._spots[index] = self._first if not self._spots else self._new_spot()
        return spot

    # --- inputs ---------------------------------------------------------------------

    def on_market(self, info: MarketInfo) -> None:
        tradeable = info.tradeable
        strike = info.floor_strike
        if not tradeable:
            if info.ticker not in self._logged_untradeable:
                self._logged_untradeable.add(info.ticker)
                logger.info(
                    "kelly_volatility: {} not tradeable (status={}, floor_strike={}, fee_multiplier={})",
                    info.ticker,
                    info.status,
                    info.floor_strike,
                    info.fee_multiplier,
                )
        else:
            self._logged_untradeable.discard(info.ticker)
        fee_multiplier = info.fee_multiplier if info.fee_multiplier is not None else ONE
        self._markets[info.ticker] = _Market(
            info=info,
            spot=self._spot_of(info.index),
            tradeable=tradeable,
            strike=strike,
            strike_f=float(strike) if strike is not None else math.nan,
            fee_multiplier=fee_multiplier,
            fee_rate_f=float(fee_multiplier * TAKER_RATE),
            price_levels=_price_levels(info),
        )

    def on_lifecycle(self, event: MarketLifecycle) -> None:
        market = self._markets.get(event.ticker)
        if market is not None and event.event_type in _CLOSED_EVENTS:
            market.tradeable = False

    def on_spot(self, tick: SpotTick) -> list[Signal]:
        if self.p.index and tick.index != self.p.index:
            return []
        spot = self._spot_of(tick.index)
        if not spot.update(tick):
            return []
        signals: list[Signal] = []
        markets = self._markets
        for ticker in self._books:
            market = markets.get(ticker)
            if market is None or market.spot is spot:  # the markets settling on this index
                signals.extend(self._evaluate(ticker, tick.ts))
        return signals

    def on_book(self, book: BookUpdate) -> list[Signal]:
        self._books[book.ticker] = _Book.of(book)
        return self._evaluate(book.ticker, book.ts)

    def on_decision(self, decision: RiskDecision) -> None:
        self._pending.approved(decision.signal_id, decision.quantity if decision.approved else 0)

    def on_order_update(self, update: OrderUpdate) -> None:
        # A finished order reports nothing remaining; what it never filled is count − filled
        # (an IOC's unfilled rest): no longer on its way, so the cap has room for it again.
        if update.status in TERMINAL and update.action == "buy":
            unfilled = update.count - update.filled
            if unfilled > 0:
                self._pending.reduce(update.ticker, update.side, unfilled)

    def on_fill(self, fill: Fill) -> None:
        self.positions.apply_fill(fill)
        if fill.action == "buy":
            self._pending.reduce(fill.ticker, fill.side, fill.count)

    def on_open_order(self, order: OrderUpdate, now: float) -> None:
        if order.action == "buy" and order.remaining > 0:
            key = f"order:{order.client_order_id}"
            self._pending.add(key, order.ticker, order.side, order.remaining, now)

    def on_settlement(self, settlement: Settlement) -> None:
        self.positions.settle(settlement)
        ticker = settlement.ticker
        self._markets.pop(ticker, None)
        self._books.pop(ticker, None)
        self._last.pop(ticker, None)
        self._logged_untradeable.discard(ticker)
        self._pending.drop_market(ticker)
        for side in ("yes", "no"):
            self._cooldown.pop((ticker, side), None)

    # --- decision -------------------------------------------------------------------

    def _skip(self, reason: str) -> list[Signal]:
        self.stats.skips[reason] += 1
        return []

    def _evaluate(self, ticker: str, now: float) -> list[Signal]:
        """Fresh inputs → the model's price → a cheap float screen of both asks → signals."""
        self.stats.evaluations += 1
        ready = self._inputs(ticker, now)
        if isinstance(ready, str):
            return self._skip(ready)
        market, entry, sigma = ready
        book = entry.update
        spot_ts = market.spot.ts
        last = self._last.get(ticker)
        if (
            last is not None
            and last[0] == now
            and last[3] == spot_ts
            and last[4] is market
            and last[2] == sigma
        ):
            price: DigitalPrice = last[1]  # a book change right after the print: price stands
        else:
            price = self._model_price(market, sigma, now)
        self._last[ticker] = (now, price, sigma, spot_ts, market, book)

        # The best asks' all-in costs (ask + fee) in floats: their edges are within
        # _BOUND_MARGIN of the exact ones, and most evaluations end here, with no edge on
        # either side, before any Decimal is made.
        prob = price.prob
        rate = market.fee_rate_f
        yes_ask, no_ask = entry.yes_ask, entry.no_ask
        yes_cost = None if yes_ask is None else yes_ask + rate * yes_ask * (1.0 - yes_ask)
        no_cost = None if no_ask is None else no_ask + rate * no_ask * (1.0 - no_ask)
        if yes_cost is not None and no_cost is not None:
            below = self._edge_below
            if prob - yes_cost < below and 1.0 - prob - no_cost < below:
                self.stats.skips["edge_below_minimum"] += 2
                return []
        return self._trade_sides(market, ticker, book, price, sigma, now, yes_cost, no_cost)

    def _inputs(self, ticker: str, now: float) -> tuple[_Market, _Book, float] | str:
        """The market, its book and σ when all are fresh enough to price; else the skip reason.

        Checked in the order of the stats' skip counts (cheapest and most common first).
        """
        p = self.p
        market = self._markets.get(ticker)
        if market is None:
            return "unknown_market"
        if not market.tradeable:
            return "untradeable"
        info = market.info
        if now < info.open_time:
            return "not_open"
        if info.close_time - now <= p.no_entry_seconds:
            return "no_entry_window"
        entry = self._books.get(ticker)
        if entry is None:
            return "stale_book"
        book = entry.update
        if book.stale or now - book.ts > p.max_book_age_seconds:
            return "stale_book"
        spot = market.spot
        if spot.price is None or spot.stale or now - spot.ts > p.max_spot_age_seconds:
            return "stale_spot"
        sigma = spot.vol.sigma
        if sigma is None:
            return "vol_warmup"
        return market, entry, sigma

    def _model_price(self, market: _Market, sigma: float, now: float) -> DigitalPrice:
        """The model's price of YES; inside the averaging window the prints already in the
        settlement average are known, not forecast."""
        spot = market.spot
        close_time = market.info.close_time
        seconds_left = close_time - now
        known = spot.known_prints(close_time, self._window) if seconds_left < self._window else ()
        return digital_probability(
            spot.price_f, market.strike_f, sigma, seconds_left, known, window=self._window_f
        )

    def _trade_sides(
        self,
        market: _Market,
        ticker: str,
        book: BookUpdate,
        price: DigitalPrice,
        sigma: float,
        now: float,
        yes_cost: float | None,
        no_cost: float | None,
    ) -> list[Signal]:
        """The signals for either side of one market's book at the model price, given each
        side's best all-in cost in floats (None: no depth)."""
        p = self.p
        prob = price.prob

        # A side's asks are the other side's bids: YES at 1 − (NO bid), NO at 1 − (YES bid).
        # The best ask's edge in floats is within _BOUND_MARGIN of the exact one: below the
        # band there is no signal, above it the edge holds; only inside it is the exact
        # Decimal edge needed.
        skips = self.stats.skips
        signals: list[Signal] = []
        q_yes: Decimal | None = None
        for side, q_f, cost_f, bids in (
            ("yes", prob, yes_cost, book.no_bids),
            ("no", 1.0 - prob, no_cost, book.yes_bids),
        ):
            if cost_f is None:
                skips["no_depth"] += 1
                continue
            edge_f = q_f - cost_f
            if edge_f < self._edge_below:
                skips["edge_below_minimum"] += 1
                continue
            if edge_f < self._edge_above:
                q_yes = q_yes or _model_decimal(prob)
                q = q_yes if side == "yes" else ONE - q_yes
                if _best_edge(q, bids, market) < p.min_edge:
                    skips["edge_below_minimum"] += 1
                    continue
            if now - self._cooldown.get((ticker, side), -math.inf) < p.cooldown_seconds:
                skips["cooldown"] += 1
                continue
            if self.positions.held(ticker, opposite(side)) > 0:
                skips["holding_opposite"] += 1
                continue
            held = self.positions.held(ticker, side) + self._pending.quantity(ticker, side, now)
            if held >= p.max_contracts or held > kelly_contracts_bound(
                q_f, cost_f, self._bankroll_f, self._kelly_fraction_f
            ):
                skips["at_target"] += 1
                continue
            q_yes = q_yes or _model_decimal(prob)
            q = q_yes if side == "yes" else ONE - q_yes
            signal = self._size(market, ticker, side, q, q_yes, bids, held, now, sigma, price)
            if signal is not None:
                signals.append(signal)
        return signals

    def _size(
        self,
        market: _Market,
        ticker: str,
        side: str,
        q: Decimal,
        q_yes: Decimal,
        bids: tuple[Level, ...],
        held: int,
        now: float,
        sigma: float,
        price: DigitalPrice,
    ) -> Signal | None:
        """The signal for a side whose best ask has edge: Kelly-sized over the ask depth,
        counting the ``held`` contracts (and those on their way) against the target."""
        plan = self._plan(market, q, bids, held)
        if plan is None:
            self._skip("at_target")
            return None
        limit = plan.limit_price
        if not market.price_levels.is_valid(limit):
            limit = market.price_levels.round_down(limit)
            if limit <= 0:
                self._skip("invalid_price")
                return None
        signal_id = self.next_signal_id(ticker, now)
        signal = Signal(
            signal_id=signal_id,
            strategy_name=self.name,
            ticker=ticker,
            direction=side,
            edge=plan.edge,
            model_prob=q_yes,
            market_price=limit,
            quantity=plan.count,
            timestamp=now,
            action="buy",
            reason=f"edge {plan.edge.quantize(_Q)} over {plan.walk.levels_used} level(s), "
            f"target {plan.target}, held {held}",
            spot=market.spot.price,
            strike=market.strike,
            sigma=sigma,
            seconds_left=market.info.close_time - now,
            effective_seconds=price.effective_seconds,
            fee=plan.fee,
            kelly_fraction=float(plan.kelly_fraction),
        )
        self._cooldown[(ticker, side)] = now
        self._pending.add(signal_id, ticker, side, plan.count, now)
        self.stats.signals += 1
        return signal

    def _plan(
        self, market: _Market, q: Decimal, bids: tuple[Level, ...], held: int
    ) -> BuyPlan | None:
        """The Kelly buy over the ask depth, or None when ``held`` already meets the target.

        The best ask's target is checked first: most sides stop there, before the asks
        (the other side's bids, flipped) are built.
        """
        p = self.p
        best = ONE - bids[0][0]
        fee_best = taker_fee_per_contract(best, market.fee_multiplier)
        best_target = kelly_contracts(
            q,
            best,
            fee_best,
            p.bankroll,
            multiplier=p.kelly_fraction,
            max_contracts=p.max_contracts,
        )
        if held >= best_target:  # plan_buy would stop at its first level
            return None
        levels = tuple((ONE - bid, size) for bid, size in bids)
        return plan_buy(
            levels,
            q,
            bankroll=p.bankroll,
            kelly_multiplier=p.kelly_fraction,
            min_edge=p.min_edge,
            fee_multiplier=market.fee_multiplier,
            max_contracts=p.max_contracts,
            held=held,
        )

    # --- outputs --------------------------------------------------------------------

    def _index_metrics(self) -> dict[str, Any]:
        """σ per index, when it reads more than one (the top-level σ is the first's)."""
        if len(self._spots) < 2:
            return {}
        return {
            "indices": {
                index: {
                    "sigma": spot.vol.sigma,
                    "vol_samples": spot.vol.count,
                    "ts": spot.ts if spot.price is not None else None,
                }
                for index, spot in self._spots.items()
            }
        }

    def metrics(self) -> dict[str, Any]:
        return {
            "evaluations": self.stats.evaluations,
            "signals": self.stats.signals,
            "skips": dict(self.stats.skips),
            "sigma": self.vol.sigma,
            "vol_samples": self.vol.count,
            "realized_pnl": float(self.positions.realized_pnl),
            "fees": float(self.positions.fees),
            "positions": self.positions.snapshot(),
            "pending": self._pending.total(),
            **self._index_metrics(),
            "markets": {
                ticker: {
                    "model_prob": last.price.prob,
                    "sigma": last.sigma,
                    "seconds_left": last.market.info.close_time - last.ts,
                    "effective_seconds": last.price.effective_seconds,
                    "yes_edge": _float_or_none(last.edge("yes")),
                    "no_edge": _float_or_none(last.edge("no")),
                    "ts": last.ts,
                }
                for ticker, last in ((t, _Last._make(v)) for t, v in self._last.items())
            },
        }


def _float_or_none(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
