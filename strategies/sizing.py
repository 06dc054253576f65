"""Fee-aware edge and fractional Kelly sizing for a binary contract, and walking the ask book.

Buying one contract of a side at price ``P`` with taker fee ``f`` costs
``c = P + f``; it pays $1 (net ``1 − c``) with probability ``q`` and loses ``c``
otherwise. The edge is the expected profit per contract, ``q − P − f``.

Kelly. Spending a fraction ``x`` of bankroll ``B`` buys ``xB/c`` contracts, so
wealth becomes ``B(1 + x(1−c)/c)`` on a win and ``B(1 − x)`` on a loss. Maximizing
``q·ln(1 + x(1−c)/c) + (1−q)·ln(1 − x)``:

    q(1−c)/(c + x(1−c)) = (1−q)/(1−x)
    ⇒ x* = (q(1−c) − (1−q)c) / (1−c) = (q − c) / (1 − c)        (fraction of bankroll)

and the growth-optimal number of contracts is ``x*·B/c = B(q(1−c) − (1−q)c)/(c(1−c))``.
(The form ``(q(1−c) − (1−q)c)/(c(1−c))`` is contracts *per dollar* of bankroll;
dividing it by ``c`` once more would over-size by ``1/c``.) Fractional Kelly
scales ``x*`` by a multiplier (0.25 by default in ``kelly_volatility``):

    contracts = floor(multiplier · x* · B / c), capped, never negative.

Everything is ``Decimal``: sizes are compared against hand-computed values and
a float rounding just below an integer would lose a contract.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from kalshi.fees import taker_fee, taker_fee_per_contract
from kalshi.units import ONE, ZERO

Level = tuple[Decimal, Decimal]  # (price of the side bought, contracts), best first


def edge(q: Decimal, price: Decimal, fee: Decimal) -> Decimal:
    """Expected profit per contract after fees: ``q − P − f``."""
    return q - price - fee


def kelly_fraction(q: Decimal, cost: Decimal) -> Decimal:
    """Full-Kelly fraction of bankroll to spend: ``(q − c)/(1 − c)``, 0 without edge."""
    if not ZERO < cost < ONE or q <= cost:
        return ZERO
    return (q - cost) / (ONE - cost)


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def kelly_contracts(
    q: Decimal,
    price: Decimal,
    fee: Decimal,
    bankroll: Decimal,
    *,
    multiplier: Decimal = Decimal("0.25"),
    max_contracts: int | None = None,
    depth: int | None = None,
) -> int:
    """``floor(multiplier · x* · B / (P + f))``, capped by ``max_contracts`` and ``depth``."""
    cost = price + fee
    fraction = kelly_fraction(q, cost)
    if fraction <= ZERO or bankroll <= ZERO or multiplier <= ZERO:
        return 0
    count = _floor(multiplier * fraction * bankroll / cost)
    if max_contracts is not None:
        count = min(count, max_contracts)
    if depth is not None:
        count = min(count, depth)
    return max(count, 0)


def kelly_contracts_bound(q: float, cost: float, bankroll: float, multiplier: float) -> float:
    """An upper bound, in floats, on :func:`kelly_contracts` for the same inputs.

    For a cheap "already at target" test before any ``Decimal`` is made: ``q``
    may differ from the Decimal probability by up to 1e-6 (it is rounded to six
    places) and ``cost`` from price + fee by float error; the bound allows for
    both, so ``held > bound`` proves ``held >= kelly_contracts(...)``. The
    contracts ``B·m·(q − c)/((1 − c)·c)`` rise with ``q`` and fall with ``c``.
    """
    if not 1e-9 < cost < 1.0:
        return math.inf  # no useful bound: decide exactly
    c = cost - 1e-12
    contracts = multiplier * bankroll * (q + 2e-6 - c) / ((1.0 - c) * c)
    return contracts + abs(contracts) * 1e-9 + 1e-9


@dataclass(frozen=True, slots=True)
class BookWalk:
    """What taking ``count`` contracts from the asks costs, level by level."""

    count: int
    cost: Decimal  # Σ price × contracts
    fees: Decimal  # Σ taker fee per level, each rounded up to $0.0001 (one fill per level)
    limit_price: Decimal | None  # the worst level touched: the limit that takes them all
    levels_used: int

    @property
    def avg_price(self) -> Decimal | None:
        return self.cost / self.count if self.count else None

    @property
    def avg_all_in(self) -> Decimal | None:
        """Average price plus fees per contract."""
        return (self.cost + self.fees) / self.count if self.count else None


def walk_book(levels: Sequence[Level], count: int, fee_multiplier: Decimal = ONE) -> BookWalk:
    """Take up to ``count`` contracts best level first (fewer if the book is thinner)."""
    left = count
    cost = ZERO
    fees = ZERO
    limit: Decimal | None = None
    used = 0
    for price, size in levels:
        if left <= 0:
            break
        take = min(left, int(size))
        if take <= 0:
            continue
        cost += price * take
        fees += taker_fee(price, Decimal(take), fee_multiplier)
        limit = price
        left -= take
        used += 1
    return BookWalk(count - left, cost, fees, limit, used)


def max_count_with_edge(
    levels: Sequence[Level], q: Decimal, min_edge: Decimal, fee_multiplier: Decimal = ONE
) -> int:
    """The most contracts such that the marginal (worst) level still has edge ≥ ``min_edge``."""
    total = 0
    for price, size in levels:
        if edge(q, price, taker_fee_per_contract(price, fee_multiplier)) < min_edge:
            break
        total += max(int(size), 0)
    return total


@dataclass(frozen=True, slots=True)
class BuyPlan:
    """A sized buy: ``count`` contracts with limit ``limit_price`` (the marginal level).

    ``edge``, ``fee`` and ``kelly_fraction`` are those of the marginal level, the
    worst contract in the order, so every contract bought has at least that edge.
    """

    count: int
    limit_price: Decimal
    edge: Decimal
    fee: Decimal  # unrounded taker fee per contract at the limit
    kelly_fraction: Decimal  # full-Kelly bankroll fraction at the limit
    target: int  # fractional-Kelly position at the limit, capped
    walk: BookWalk


def plan_buy(
    levels: Sequence[Level],
    q: Decimal,
    *,
    bankroll: Decimal,
    kelly_multiplier: Decimal,
    min_edge: Decimal,
    fee_multiplier: Decimal = ONE,
    max_contracts: int | None = None,
    held: int = 0,
) -> BuyPlan | None:
    """Walk the asks, buying at each level only while it keeps edge and stays under Kelly.

    At level ``i`` the fractional-Kelly target is computed at that level's cost,
    and contracts are taken there only up to ``target_i − held − taken``. Since
    the cost only rises down the book, the target only falls, so the walk stops
    at the first level with no room: a marginal-Kelly rule that never buys a
    contract Kelly would not want at its own price. ``held`` (contracts already
    held or on the way) counts against the target; ``max_contracts`` caps the
    whole position. None when nothing is worth buying.
    """
    taken = 0
    last: tuple[Decimal, Decimal, Decimal, Decimal, int] | None = None
    for price, size in levels:
        fee = taker_fee_per_contract(price, fee_multiplier)
        level_edge = q - price - fee
        if level_edge < min_edge or level_edge <= ZERO:
            break
        cost = price + fee
        fraction = kelly_fraction(q, cost)
        target = kelly_contracts(
            q, price, fee, bankroll, multiplier=kelly_multiplier, max_contracts=max_contracts
        )
        room = target - held - taken
        if room <= 0:
            break
        take = min(room, int(size))
        if take <= 0:
            continue
        taken += take
        last = (price, level_edge, fee, fraction, target)
    if last is None or taken <= 0:
        return None
    price, level_edge, fee, fraction, target = last
    return BuyPlan(
        taken, price, level_edge, fee, fraction, target, walk_book(levels, taken, fee_multiplier)
    )
