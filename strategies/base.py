"""The interface a strategy implements, its validated parameters, and the registry.

A strategy is pure decision logic: the StrategyActor feeds it market data and
its own fills and forwards the :class:`Signal` s it returns to the RiskActor.
It never reads the wall clock (every message carries its time, so a backtest
drives it with simulated time) and never sends orders.

To add one: subclass :class:`Strategy`, give it a ``name`` and a ``Params``
model (a :class:`StrategyParams`: frozen, unknown fields refused), implement
``on_spot``/``on_book``, and decorate it with :func:`register`.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.trading import Fill, OrderUpdate, RiskDecision, Settlement, Signal


class StrategyParams(BaseModel):
    """Base of every strategy's parameters: immutable, and unknown names are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class StrategyConfigError(ValueError):
    """Bad strategy name or parameters; the message lists what is valid."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def describe_params(model: type[StrategyParams]) -> dict[str, str]:
    """``name → "type, default …"`` for error messages and the API."""
    out: dict[str, str] = {}
    for field_name, info in model.model_fields.items():
        annotation = getattr(info.annotation, "__name__", None) or str(info.annotation)
        out[field_name] = f"{annotation}, default {info.default!r}"
    return out


def _valid_list(model: type[StrategyParams]) -> str:
    return "; ".join(f"{k} ({v})" for k, v in describe_params(model).items())


P = TypeVar("P", bound=StrategyParams)


def parse_params(strategy: str, model: type[P], raw: dict[str, Any]) -> P:
    """Validate ``raw`` against ``model`` or raise :class:`StrategyConfigError` naming every problem."""
    try:
        return model(**raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ())) or "params"
            if error.get("type") == "extra_forbidden":
                problems.append(f"{where}: unknown parameter")
            else:
                msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
                problems.append(f"{where}: {msg}, got {error.get('input')!r}")
        message = f"{strategy}: {'; '.join(problems)}. Valid parameters: {_valid_list(model)}"
        raise StrategyConfigError(message, problems) from None


class Strategy(ABC):
    """Base class of every strategy. Handlers return the signals they want sent (maybe none).

    Hooks with a default do nothing; ``on_spot`` and ``on_book`` are required.
    Time comes only from the messages (``SpotTick.ts``, ``BookUpdate.ts``, the
    ``now`` of ``on_timer``).
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]] = StrategyParams
    description: ClassVar[str] = ""
    # Whether its decisions read the settlement index: a backtest on a market's quotes alone
    # (``--market kalshi:DIR`` without index values) can run only the ones that do not.
    needs_index: ClassVar[bool] = True

    def __init__(self, params: StrategyParams | None = None, **overrides: Any) -> None:
        if params is not None and overrides:
            raise StrategyConfigError(f"{self.name}: pass params or keyword overrides, not both")
        if params is None:
            params = parse_params(self.name, self.Params, overrides)
        elif not isinstance(params, self.Params):
            raise StrategyConfigError(
                f"{self.name}: params must be {self.Params.__name__}, got {type(params).__name__}"
            )
        self._params = params
        self._ids = itertools.count(1)

    @property
    def params(self) -> StrategyParams:
        return self._params

    def next_signal_id(self, ticker: str, ts: float) -> str:
        """Unique and reproducible: strategy, ticker, time in ms and a per-instance counter."""
        return f"{self.name}:{ticker}:{int(ts * 1000)}:{next(self._ids)}"

    # --- inputs ---------------------------------------------------------------------

    def on_market(self, info: MarketInfo) -> None:  # noqa: B027 - optional hook
        """A market was discovered or changed (strike, status, fees)."""

    def on_lifecycle(self, event: MarketLifecycle) -> None:  # noqa: B027 - optional hook
        """A market opened, closed or settled."""

    @abstractmethod
    def on_spot(self, tick: SpotTick) -> list[Signal]:
        """A print of the settlement index."""

    @abstractmethod
    def on_book(self, book: BookUpdate) -> list[Signal]:
        """A market's book changed."""

    def on_timer(self, now: float) -> list[Signal]:
        """Periodic tick (time-based exits when no market data arrives)."""
        return []

    def on_decision(self, decision: RiskDecision) -> None:  # noqa: B027 - optional hook
        """What the RiskActor decided about one of this strategy's signals."""

    def on_order_update(self, update: OrderUpdate) -> None:  # noqa: B027 - optional hook
        """One of this strategy's orders changed state."""

    def on_fill(self, fill: Fill) -> None:  # noqa: B027 - optional hook
        """One of this strategy's orders (partly) filled."""

    def on_settlement(self, settlement: Settlement) -> None:  # noqa: B027 - optional hook
        """A market this strategy traded settled."""

    def on_open_order(self, order: OrderUpdate, now: float) -> None:  # noqa: B027 - optional hook
        """One of this strategy's orders is open though this instance did not signal it (it
        was found after a restart): what it may still fill (``remaining``) is on its way."""

    def restore(
        self, fills: Iterable[Fill], open_orders: Iterable[OrderUpdate], now: float
    ) -> None:
        """After a restart, before the first signal: what this strategy holds (its fills in
        markets still trading) and what is on its way (its open orders), so its caps and
        its choice of side hold as if it had never stopped."""
        for fill in fills:
            self.on_fill(fill)
        for order in open_orders:
            self.on_open_order(order, now)

    # --- outputs --------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        return {}

    def describe(self) -> dict[str, Any]:
        """For ``/api/strategies``: name, description, parameters (JSON-ready) and metrics."""
        return {
            "name": self.name,
            "description": self.description,
            "params": self._params.model_dump(mode="json"),
            "metrics": self.metrics(),
        }


STRATEGIES: dict[str, type[Strategy]] = {}

S = TypeVar("S", bound=type[Strategy])


def register(cls: S) -> S:
    """Class decorator: make a strategy available to :func:`create_strategy` under its name."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no name")
    existing = STRATEGIES.get(cls.name)
    if existing is not None and existing is not cls:
        raise TypeError(f"strategy {cls.name!r} is registered twice")
    STRATEGIES[cls.name] = cls
    return cls


def _load_builtin() -> None:
    import strategies.kelly_volatility
    import strategies.mean_reversion  # noqa: F401


def available_strategies() -> dict[str, type[Strategy]]:
    _load_builtin()
    return dict(STRATEGIES)


def create_strategy(name: str, **params: Any) -> Strategy:
    """A new strategy ``name`` with ``params`` (validated; errors list what is valid)."""
    _load_builtin()
    cls = STRATEGIES.get(name)
    if cls is None:
        raise StrategyConfigError(
            f"unknown strategy {name!r}; available: {', '.join(sorted(STRATEGIES))}"
        )
    return cls(**params)
