"""The scoreboard's scores: does the model beat the market, and do the bot's trades clear
the cost of trading?

By minutes left, over the settled windows where both the model's probability and the
market's mid were recorded at that moment (the same windows for both, so the
difference is a paired one): the Brier score of each, and of the model minus the
market, each with a 95% interval from resampling whole windows
(``scoring.intervals.by_window``). A negative difference is the model doing better.

The bot's fills, per contract: the realized edge (what each made against the outcome,
after its fee), the cost floor a taker without edge would have paid at that moment
(half the spread plus the fee, ``scoring.costs``), and their sum — the edge before
costs, i.e. what the model knew beyond the mid. Resampled by window, weighted by
contracts. The verdict line is ``scoring.costs.verdict`` on the realized edge — once
there are ``MIN_WINDOWS`` windows: with fewer, resampling them says little (one window
resamples to itself), so no verdict is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scoring.costs import REAL_SOL_COST_FLOOR_CENTS, verdict
from scoring.forecasts import HORIZONS, REAL_SOL_MID_BRIER, Forecast, brier_of
from scoring.intervals import DRAWS, Interval, by_window
from scoring.scoreboard import WindowRecord

Pair = tuple[Forecast, Forecast]  # (model, market) for one window at one horizon
CENTS = Decimal(100)
# Fewer windows than this and resampling them gives an interval too narrow to trust (one
# window gives [x, x]): the figures are shown, but no verdict is drawn from them.
MIN_WINDOWS = 30


def summarize(
    records: Sequence[WindowRecord],
    *,
    horizons: Sequence[int] = HORIZONS,
    draws: int = DRAWS,
    seed: int = 0,
) -> dict[str, Any]:
    """The scores of the settled ``records`` (the others are ignored), JSON-ready."""
    settled = [r for r in records if r.outcome in ("yes", "no")]
    return {
        "settled_windows": len(settled),
        "horizons": [horizon_score(settled, m, draws=draws, seed=seed) for m in horizons],
        "trades": trade_score(settled, draws=draws, seed=seed),
        "method": (
            "Brier = mean((p − outcome)²), lower is better; model and market are scored on "
            "the same windows (both recorded at that moment); 95% intervals from "
            f"{draws} draws resampling whole windows (seed {seed})"
        ),
    }


def _first(pairs: Sequence[Pair]) -> float:
    return brier_of([p[0] for p in pairs])


def _second(pairs: Sequence[Pair]) -> float:
    return brier_of([p[1] for p in pairs])


def _difference(pairs: Sequence[Pair]) -> float:
    return _first(pairs) - _second(pairs)


def _window(pair: Pair) -> str:
    return pair[0].window


def horizon_score(
    settled: Sequence[WindowRecord], minutes: int, *, draws: int = DRAWS, seed: int = 0
) -> dict[str, Any]:
    pairs: list[Pair] = []
    no_model = no_market = not_in_window = 0
    for record in settled:
        snap = record.snapshot(minutes)
        if snap is None:
            not_in_window += 1  # the window is shorter than this horizon
            continue
        no_model += snap.model_prob is None
        no_market += snap.market_mid is None
        if snap.model_prob is not None and snap.market_mid is not None:
            outcome = 1 if record.outcome == "yes" else 0
            pairs.append(
                (
                    Forecast(record.ticker, minutes, snap.model_prob, outcome),
                    Forecast(record.ticker, minutes, float(snap.market_mid), outcome),
                )
            )
    model = by_window(pairs, _window, _first, draws=draws, seed=seed)
    market = by_window(pairs, _window, _second, draws=draws, seed=seed)
    difference = by_window(pairs, _window, _difference, draws=draws, seed=seed)
    return {
        "minutes": minutes,
        "windows": len(pairs),
        "model_brier": model.as_dict(),
        "market_brier": market.as_dict(),
        "difference": difference.as_dict(),
        "verdict": _compare(difference),
        "missing": {"model": no_model, "market": no_market},
        "not_in_window": not_in_window,
        "real_kalshi_mid_brier": REAL_SOL_MID_BRIER.get(minutes),
    }


def _compare(difference: Interval) -> str:
    if difference.windows == 0:
        return "no windows with both forecasts yet"
    if difference.windows < MIN_WINDOWS:
        return f"too few windows to judge ({difference.windows} of at least {MIN_WINDOWS})"
    if math.isnan(difference.low) or difference.contains(0.0):
        return "not distinguishable"
    return "model better" if difference.high < 0 else "market better"


# -- the bot's trades --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _WindowTrades:
    """One window's fills, summed (a window is the resampling unit; fills are weights)."""

    window: str
    contracts: int
    edge: float  # Σ edge × contracts, cents
    floored: int  # contracts whose cost floor is known (the book was there)
    floor: float  # Σ floor × contracts, cents
    before_costs: float  # Σ (edge + floor) × contracts, cents


def _ratio(
    items: Sequence[_WindowTrades],
    top: Callable[[_WindowTrades], float],
    bottom: Callable[[_WindowTrades], int],
) -> float:
    weight = sum(bottom(i) for i in items)
    return math.fsum(top(i) for i in items) / weight if weight else math.nan


def _realized(items: Sequence[_WindowTrades]) -> float:
    return _ratio(items, lambda i: i.edge, lambda i: i.contracts)


def _before_costs(items: Sequence[_WindowTrades]) -> float:
    return _ratio(items, lambda i: i.before_costs, lambda i: i.floored)


def _window_trades(record: WindowRecord, strategy: str | None) -> _WindowTrades | None:
    assert record.outcome is not None
    contracts = floored = 0
    edge = floor = before = Decimal(0)
    for trade in record.trades:
        if strategy is not None and trade.strategy != strategy:
            continue
        each = trade.edge(record.outcome) * CENTS
        contracts += trade.count
        edge += each * trade.count
        if trade.floor is not None:
            floored += trade.count
            floor += trade.floor * CENTS * trade.count
            before += (each + trade.floor * CENTS) * trade.count
    if not contracts:
        return None
    return _WindowTrades(
        record.ticker, contracts, float(edge), floored, float(floor), float(before)
    )


def trade_score(
    settled: Sequence[WindowRecord], *, draws: int = DRAWS, seed: int = 0
) -> dict[str, Any]:
    """Realized edge and cost floor of all the bot's fills, and per strategy."""
    strategies = sorted({t.strategy for r in settled for t in r.trades})
    body = _trades_of(settled, None, draws, seed)
    body["by_strategy"] = {name: _trades_of(settled, name, draws, seed) for name in strategies}
    body["real_cost_floor_cents"] = {str(m): c for m, c in REAL_SOL_COST_FLOOR_CENTS.items()}
    return body


def _trades_of(
    settled: Sequence[WindowRecord], strategy: str | None, draws: int, seed: int
) -> dict[str, Any]:
    items = [w for r in settled if (w := _window_trades(r, strategy)) is not None]
    realized = by_window(items, lambda i: i.window, _realized, draws=draws, seed=seed)
    floored = [i for i in items if i.floored]
    before = by_window(floored, lambda i: i.window, _before_costs, draws=draws, seed=seed)
    floor_weight = sum(i.floored for i in items)
    floor = math.fsum(i.floor for i in items) / floor_weight if floor_weight else math.nan
    fills = sum(1 for r in settled for t in r.trades if strategy is None or t.strategy == strategy)
    return {
        "fills": fills,
        "contracts": sum(i.contracts for i in items),
        "windows": len(items),
        "realized_edge_cents": realized.as_dict(),
        "cost_floor_cents": None if math.isnan(floor) else round(floor, 4),
        "edge_before_costs_cents": before.as_dict(),
        "verdict": _trade_verdict(realized),
    }


def _trade_verdict(realized: Interval) -> str:
    """``scoring.costs.verdict``, once there are enough windows for its interval to mean it."""
    if 0 < realized.windows < MIN_WINDOWS:
        return (
            f"realized edge: too few settled windows to judge ({realized.windows} of at "
            f"least {MIN_WINDOWS}; {realized.estimate:+.2f}¢/contract so far)"
        )
    return verdict(realized)
