"""The limits the RiskEngine enforces, frozen, built from the validated settings.

Money is ``Decimal`` dollars. Settings carry the ▶ environment contract
(``MAX_POSITION_SIZE``, ``MAX_DAILY_LOSS``, ``CIRCUIT_BREAKER_PCT``,
``MAX_CONCURRENT_POSITIONS``, ``MIN_EDGE``, ``MAX_TOTAL_EXPOSURE``,
``MAX_CORRELATED_EXPOSURE`` and the per-series ``SERIES_<TICKER>_MAX_POSITION_SIZE`` /
``SERIES_<TICKER>_MAX_EXPOSURE``); the rest have defaults here and can be overridden by
the caller.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

KILL_SWITCH_PRICE = Decimal("0.50")  # the contract price the order group's cap is sized at


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Every limit the RiskEngine applies (see :mod:`risk.engine` for the rules)."""

    max_position_size: Decimal = Decimal(
        "1000"
    )  # dollars at cost per market, resting buys included
    max_daily_loss: Decimal = Decimal("500")  # dollars, realized + marked-to-market
    circuit_breaker_pct: Decimal = Decimal("0.20")  # drawdown from the day's starting bankroll
    max_concurrent_positions: int = 5  # markets with a position or a resting buy
    min_edge: Decimal = Decimal("0.03")  # dollars per contract after fees, for entries
    max_orders_per_minute: int = 30  # approvals in any trailing 60 s
    max_book_age_seconds: float = 10.0  # an older book is stale
    max_spot_age_seconds: float = 5.0  # an older index print is stale
    max_signal_age_seconds: float = 5.0  # a signal older than this is not acted on
    allow_exits_when_halted: bool = True  # a halt still lets risk-reducing sells out
    # an entry needs a fresh index print; off only where no index exists by design (a
    # backtest of index-free strategies on a market's recorded quotes alone)
    entries_need_index: bool = True
    # dollars at cost (positions + resting buys) across every market; None: no such limit
    max_total_exposure: Decimal | None = None
    # dollars of one direction (YES, or NO) across the markets of every series that close at
    # the same time: correlated coins make those one bet; None: off
    max_correlated_exposure: Decimal | None = None
    # per series (the ticker's prefix, e.g. KXBTC15M): a tighter per-market position limit,
    # and a limit on the series' exposure across its markets; series not named: none
    series_max_position_size: Mapping[str, Decimal] = field(default_factory=dict)
    series_max_exposure: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = [*self._cap_problems(), *self._core_problems()]
        if problems:
            raise ValueError("; ".join(problems))

    def _cap_problems(self) -> list[str]:
        """The optional caps (total, correlated, per series): each off or positive."""
        problems = []
        for name in ("max_total_exposure", "max_correlated_exposure"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                problems.append(f"{name} must be > 0")
        for name in ("series_max_position_size", "series_max_exposure"):
            for series, value in getattr(self, name).items():
                if not value > 0:
                    problems.append(f"{name}[{series}] must be > 0")
        return problems

    def _core_problems(self) -> list[str]:
        """The limits always in force: each within its range, all named at once."""
        problems = []
        if self.max_position_size <= 0:
            problems.append("max_position_size must be > 0")
        if self.max_daily_loss <= 0:
            problems.append("max_daily_loss must be > 0")
        if not 0 < self.circuit_breaker_pct <= 1:
            problems.append("circuit_breaker_pct must be in (0, 1]")
        if self.max_concurrent_positions < 1:
            problems.append("max_concurrent_positions must be >= 1")
        if not 0 <= self.min_edge < 1:
            problems.append("min_edge must be in [0, 1)")
        if self.max_orders_per_minute < 1:
            problems.append("max_orders_per_minute must be >= 1")
        for name in ("max_book_age_seconds", "max_spot_age_seconds", "max_signal_age_seconds"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be > 0")
        return problems

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> RiskLimits:
        """From a :class:`config.settings.Settings` (any object with the same attributes)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if hasattr(settings, f.name):
                values[f.name] = getattr(settings, f.name)
        series = getattr(settings, "series_settings", None)
        if series is not None:
            values["series_max_position_size"] = series.position_limits()
            values["series_max_exposure"] = series.exposure_limits()
        values.update(overrides)
        return cls(**values)

    def position_limit(self, series: str) -> Decimal:
        """The per-market position limit in a market of ``series`` (the tighter one binds)."""
        own = self.series_max_position_size.get(series)
        return self.max_position_size if own is None else min(own, self.max_position_size)

    def kill_switch_contracts(self) -> int:
        """The order group's cap: contracts the session may match in Kalshi's rolling 15 s.

        The most the limits allow at once is ``max_position_size`` in each of
        ``max_concurrent_positions`` markets; at the even-odds price of $0.50 that is this
        many contracts. Building every allowed position at once stays under it (cheaper
        contracts aside); a process that keeps buying past it — a loop, a lost fill stream —
        is stopped by the exchange, even if this process is dead.
        """
        dollars = self.max_position_size * self.max_concurrent_positions
        return max(1, math.ceil(dollars / KILL_SWITCH_PRICE))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (Decimals as floats) for ``risk_metrics``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                out[f.name] = {k: float(v) for k, v in value.items()}
            else:
                out[f.name] = float(value) if isinstance(value, Decimal) else value
        return out
