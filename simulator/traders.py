"""Simulated participants: a market-making desk and uninformed noise traders.

The desk quotes a ladder on both sides around a fair value computed from the
index as it was ``fair_value_lag_seconds`` ago, so a model that reads the index
faster can pick off its stale quotes, and a slower one cannot. Noise traders
send immediate-or-cancel orders at random, which is what makes trades happen
and what a passive strategy can earn from. Both trade through the same
matching engine and are booked like any user.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal

from kalshi.units import ONE, ZERO, PriceLevels
from messages.vocabulary import Side
from simulator.config import MarketCalibration
from simulator.index import IndexProcess
from simulator.markets import MarketState
from simulator.matching import MatchingEngine
from simulator.orders import Order, OrderRequest, other
from simulator.portfolio import Account
from simulator.pricing import settlement_probability, shade_longshot
from simulator.schedule import interpolate
from simulator.ticks import max_price, min_price, round_up, step_down, step_up


def nearest(levels: PriceLevels, price: Decimal) -> Decimal:
    """The valid price closest to ``price`` (the lower one on a tie)."""
    down = levels.round_down(price)
    up = round_up(levels, price)
    return up if up - price < price - down else down


class MakerDesk:
    """Quotes a ladder of YES and NO bids in each active market."""

    def __init__(
        self,
        engine: MatchingEngine,
        account: Account,
        *,
        index: IndexProcess,
        calibration: MarketCalibration,
        levels: PriceLevels,
        window_seconds: int,
        seed: int,
        stream: str = "",
    ) -> None:
        """``stream``: the series' name for its generator beside the seed (see IndexProcess)."""
        self._engine = engine
        self._account = account
        self._index = index
        self._cal = calibration
        self._levels = levels
        self._window = window_seconds
        self._rng = random.Random(f"makers:{seed}{stream}")
        self._quotes: dict[str, dict[tuple[Side, Decimal], Order]] = {}
        self._last_top: dict[str, tuple[Decimal, Decimal]] = {}
        self._min = min_price(levels)
        self._max = max_price(levels)

    def fair_value(self, market: MarketState, t: int) -> float:
        """P(YES) as the desk quotes it at ``t``: :meth:`informed_probability`, shaded
        for the favourite–longshot bias."""
        return shade_longshot(self.informed_probability(market, t), self._cal.longshot_shading)

    def informed_probability(self, market: MarketState, t: int) -> float:
        """P(YES) from the index ``lag`` seconds ago plus the calibrated look-ahead
        (never past the close): what the desk knows at ``t``."""
        assert market.floor_strike is not None
        cal = self._cal
        ahead = cal.lead_seconds(market.close_ts - t, self._window)
        seen = min(t - cal.fair_value_lag_seconds + ahead, market.close_ts)
        seen = max(seen, self._index.first_ts)
        spot = self._index.peek(seen)
        known = self._index.path_between(market.close_ts - 60, seen)
        return settlement_probability(
            spot=float(spot),
            strike=float(market.floor_strike),
            now=seen,
            close=market.close_ts,
            known_window_prints=[float(v) for v in known],
            sigma_per_second=self._index.sigma_per_second,
        )

    def spread(self, market: MarketState, t: int) -> Decimal:
        left = self._cal.scaled_left(market.close_ts - t, self._window)
        return Decimal(repr(round(interpolate(self._cal.spread_schedule, left), 6)))

    def step(self, market: MarketState, t: int) -> None:
        """Requote ``market`` at second ``t``."""
        fair = self.fair_value(market, t) + self._rng.gauss(0.0, self._cal.fair_value_noise)
        bid, ask = self.top(fair, self.spread(market, t))
        target = self._ladder(bid, ask)
        refresh = self._last_top.get(market.ticker) != (bid, ask) or (
            self._rng.random() < self._cal.requote_probability
        )
        self._last_top[market.ticker] = (bid, ask)
        self._sync(market, target, refresh, t)

    def top(self, fair: float, spread: Decimal) -> tuple[Decimal, Decimal]:
        """The best bid and ask the desk quotes for a fair value and a spread."""
        fair_d = Decimal(repr(round(min(max(fair, 0.0), 1.0), 6)))
        bid = nearest(self._levels, fair_d - spread / 2)
        ask = round_up(self._levels, bid + spread)
        bid = max(bid, self._min)
        if ask <= bid:
            ask = step_up(self._levels, bid)
        if ask > self._max:
            ask = self._max
            bid = min(bid, step_down(self._levels, ask))
        return bid, ask

    def _ladder(self, bid: Decimal, ask: Decimal) -> dict[tuple[Side, Decimal], bool]:
        """Target levels → whether each is a best level."""
        target: dict[tuple[Side, Decimal], bool] = {}
        no_bid = ONE - ask
        sides: tuple[tuple[Side, Decimal], ...] = (("yes", bid), ("no", no_bid))
        for side, top in sides:
            price = top if self._levels.is_valid(top) else self._levels.round_down(top)
            for depth in range(self._cal.depth_levels):
                if price <= ZERO:
                    break
                target[(side, price)] = depth == 0
                price = step_down(self._levels, price)
        return target

    def _size(self, best: bool) -> Decimal:
        low, high = self._cal.best_size if best else self._cal.deep_size
        return Decimal(self._rng.randint(low, high))

    def _sync(
        self, market: MarketState, target: dict[tuple[Side, Decimal], bool], refresh: bool, t: int
    ) -> None:
        quotes = self._quotes.setdefault(market.ticker, {})
        for key, order in list(quotes.items()):
            if order.status != "resting":
                del quotes[key]
            elif key not in target:
                self._engine.cancel(market, self._account, order, t)
                del quotes[key]
        # Cancels first, then new orders: the desk must never cross itself.
        for key, best in target.items():
            existing = quotes.get(key)
            if existing is not None:
                # A level that lost more than half its size is replaced on a refresh.
                if existing.remaining * 2 >= existing.initial_count or not refresh:
                    continue
                self._engine.cancel(market, self._account, existing, t)
            side, price = key
            yes_price = price if side == "yes" else ONE - price
            request = OrderRequest(
                ticker=market.ticker,
                side=side,
                action="buy",
                count=self._size(best),
                yes_price=yes_price,
            )
            placed = self._engine.submit(market, self._account, request, t)
            if placed.status == "resting":
                quotes[key] = placed
            else:
                quotes.pop(key, None)

    def forget(self, ticker: str) -> None:
        self._quotes.pop(ticker, None)
        self._last_top.pop(ticker, None)


class NoiseTraders:
    """Uninformed takers: Poisson arrivals, random side, heavy-tailed sizes."""

    def __init__(
        self,
        engine: MatchingEngine,
        account: Account,
        *,
        calibration: MarketCalibration,
        levels: PriceLevels,
        window_seconds: int,
        seed: int,
        stream: str = "",
    ) -> None:
        self._engine = engine
        self._account = account
        self._cal = calibration
        self._levels = levels
        self._window = window_seconds
        self._rng = random.Random(f"takers:{seed}{stream}")
        self._mu = math.log(calibration.trade_size_median)
        ratio = calibration.trade_size_mean / calibration.trade_size_median
        self._sigma = math.sqrt(2.0 * math.log(ratio)) if ratio > 1 else 0.0
        self._max = max_price(levels)

    def _poisson(self, rate: float) -> int:
        threshold = math.exp(-rate)
        count = 0
        product = self._rng.random()
        while product > threshold:
            count += 1
            product *= self._rng.random()
        return count

    def size(self) -> int:
        draw = self._rng.lognormvariate(self._mu, self._sigma)
        return max(1, min(self._cal.trade_size_max, round(draw)))

    def step(self, market: MarketState, t: int) -> None:
        left = self._cal.scaled_left(market.close_ts - t, self._window)
        rate = interpolate(self._cal.taker_orders_per_minute, left) / 60.0
        for _ in range(self._poisson(rate)):
            outcome: Side = "yes" if self._rng.random() < 0.5 else "no"
            size = self.size()
            best = market.book.ladder(other(outcome)).best()
            if best is None:
                continue
            limit = ONE - best
            for _ in range(self._cal.taker_reach_ticks):
                limit = step_up(self._levels, limit)
            limit = min(limit, self._max)
            yes_price = limit if outcome == "yes" else ONE - limit
            request = OrderRequest(
                ticker=market.ticker,
                side=outcome,
                action="buy",
                count=Decimal(size),
                yes_price=yes_price,
                time_in_force="immediate_or_cancel",
            )
            self._engine.submit(market, self._account, request, t)
