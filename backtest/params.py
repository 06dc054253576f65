"""Backtest parameters: ``--param key=value`` (or ``key=v1,v2,…`` for a grid), validated up front.

Keys are namespaced: ``market.lag_seconds`` (the market model), ``risk.max_daily_loss``
(any ``RiskLimits`` field, plus ``bankroll`` and ``reset_breaker_daily``),
``exec.latency_seconds`` (execution), ``data.warmup_seconds`` (history), and
``kelly_volatility.min_edge`` (a strategy's own parameter). A bare key
(``min_edge``) is given to every selected strategy that has it. Every error
lists what is valid; the strategies validate their own parameters
(``strategies.base.StrategyConfigError``).
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backtest.errors import BacktestInputError
from backtest.market import MarketParams
from risk.limits import RiskLimits
from strategies.base import Strategy, StrategyConfigError, available_strategies, describe_params

DEFAULT_STRATEGY = "kelly_volatility"
NAMESPACES = ("market", "risk", "exec", "data")
_NONE = frozenset({"none", "null"})


class ExecParams(BaseModel):
    """How orders reach the book (``--param exec.NAME=VALUE``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    latency_seconds: float = Field(
        0.2, ge=0, le=60, description="decision → order at the book, seconds"
    )
    time_in_force: Literal["immediate_or_cancel", "good_till_canceled", "fill_or_kill"] = Field(
        "immediate_or_cancel", description="what the RiskActor sends (live default: IOC)"
    )
    cancel_before_close: float = Field(
        10.0, ge=0, description="resting orders are cancelled this close to close"
    )


class DataParams(BaseModel):
    """How history is prepared (``--param data.NAME=VALUE``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    warmup_seconds: int = Field(
        3600, ge=0, le=86_400, description="prints fed before the first window (volatility warm-up)"
    )
    index: str = Field("SOLUSD_RTI", description="index name on the prints")


@dataclass(frozen=True, slots=True)
class RiskParams:
    """The RiskEngine's limits and bankroll (``--param risk.NAME=VALUE``)."""

    limits: RiskLimits = dataclasses.field(default_factory=RiskLimits)
    bankroll: Decimal = Decimal("1000")
    reset_breaker_daily: bool = True  # an operator resets a tripped breaker each UTC morning

    def describe(self) -> dict[str, Any]:
        return {
            "bankroll": str(self.bankroll),
            "reset_breaker_daily": self.reset_breaker_daily,
            **{
                k: str(v) if isinstance(v, Decimal) else v for k, v in self.limits.to_dict().items()
            },
        }


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything one backtest run depends on (with the data and the seed)."""

    strategies: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]
    market: MarketParams = dataclasses.field(
        default_factory=lambda: MarketParams.model_validate({})
    )
    risk: RiskParams = dataclasses.field(default_factory=RiskParams)
    execution: ExecParams = dataclasses.field(default_factory=lambda: ExecParams.model_validate({}))
    data: DataParams = dataclasses.field(default_factory=lambda: DataParams.model_validate({}))
    seed: int = 0
    label: str = ""  # the grid point, e.g. "min_edge=0.05 market.lag_seconds=2"

    def build_strategies(self) -> list[Strategy]:
        """Fresh strategy objects (kelly sizes against the risk bankroll unless told otherwise)."""
        from strategies.base import create_strategy

        built = []
        for name, params in self.strategies:
            values = dict(params)
            if name == "kelly_volatility" and "bankroll" not in values:
                values["bankroll"] = self.risk.bankroll
            built.append(create_strategy(name, **values))
        return built

    def describe(self) -> dict[str, Any]:
        return {
            "strategies": {
                name: {k: _jsonable(v) for k, v in params} for name, params in self.strategies
            },
            "market": self.market.describe(),
            "risk": self.risk.describe(),
            "exec": self.execution.model_dump(mode="json"),
            "data": self.data.model_dump(mode="json"),
            "seed": self.seed,
        }


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


# --- parsing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParamSpec:
    key: str  # as written
    values: tuple[str, ...]


def parse_specs(texts: Sequence[str]) -> list[ParamSpec]:
    specs: list[ParamSpec] = []
    seen: set[str] = set()
    for text in texts:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BacktestInputError(
                f"--param {text!r}: expected KEY=VALUE (or KEY=V1,V2,… for a grid)"
            )
        values = tuple(v.strip() for v in raw.split(","))
        if any(not v for v in values):
            raise BacktestInputError(f"--param {text!r}: empty value")
        if key in seen:
            raise BacktestInputError(
                f"--param {key} is given twice; list grid values as {key}=V1,V2"
            )
        seen.add(key)
        specs.append(ParamSpec(key, values))
    return specs


def _value(text: str) -> str | None:
    return None if text.lower() in _NONE else text


def _model_help(model: type[BaseModel], prefix: str, sep: str = "; ") -> str:
    parts = []
    for name, info in model.model_fields.items():
        annotation = getattr(info.annotation, "__name__", None) or str(info.annotation)
        parts.append(f"{prefix}.{name} ({annotation}, default {info.default!r})")
    return sep.join(parts)


# RiskLimits' per-series limits: ``risk.series_max_exposure.KXBTC15M=50``
SERIES_LIMITS = ("series_max_position_size", "series_max_exposure")


def _risk_help(sep: str = "; ") -> str:
    hints = typing.get_type_hints(RiskLimits)
    defaults = RiskLimits()
    parts = [
        "risk.bankroll (Decimal, default 1000)",
        "risk.reset_breaker_daily (bool, default True)",
    ]
    for f in dataclasses.fields(RiskLimits):
        default = getattr(defaults, f.name)
        if f.name in SERIES_LIMITS:
            parts.append(f"risk.{f.name}.SERIES (Decimal per series, e.g. KXBTC15M; default none)")
        elif default is None:
            parts.append(f"risk.{f.name} (Decimal, default none)")
        else:
            kind = getattr(hints[f.name], "__name__", str(hints[f.name]))
            parts.append(f"risk.{f.name} ({kind}, default {default!r})")
    return sep.join(parts)


def valid_keys(strategy_names: Sequence[str], sep: str = "; ") -> str:
    """Every key ``--param`` accepts for these strategies, for error messages and ``--help``."""
    classes = available_strategies()
    lines = []
    for name in strategy_names:
        fields = describe_params(classes[name].Params)
        lines.append(sep.join(f"{name}.{k} ({v})" for k, v in fields.items()))
    lines.append(_model_help(MarketParams, "market", sep))
    lines.append(_risk_help(sep))
    lines.append(_model_help(ExecParams, "exec", sep))
    lines.append(_model_help(DataParams, "data", sep))
    return "\n  ".join(lines)


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"must be true or false, got {text!r}")


def _limit_value(kind: Any, text: str) -> Any:
    """A risk limit's value as its field's type says: money exact, switches as words."""
    if kind is Decimal or Decimal in typing.get_args(kind):
        return Decimal(text)
    if kind is bool:
        return _bool(text)
    return kind(text)


def _risk(values: dict[str, str]) -> RiskParams:
    hints = typing.get_type_hints(RiskLimits)
    names = {f.name for f in dataclasses.fields(RiskLimits)}
    limits: dict[str, Any] = {}
    bankroll = Decimal("1000")
    reset = True
    problems = []
    for key, text in values.items():
        try:
            if key == "bankroll":
                bankroll = Decimal(text)
                if not bankroll > 0:
                    raise ValueError("must be > 0")
            elif key == "reset_breaker_daily":
                reset = _bool(text)
            elif key.partition(".")[0] in SERIES_LIMITS and key.partition(".")[2]:
                name, _, series = key.partition(".")
                per_series = limits.setdefault(name, {})
                per_series[series.upper()] = Decimal(text)
            elif key in names and key not in SERIES_LIMITS:
                limits[key] = _limit_value(hints[key], text)
            else:
                problems.append(f"risk.{key}: unknown parameter")
        except InvalidOperation:
            problems.append(f"risk.{key}: not a number, got {text!r}")
        except ValueError as exc:
            problems.append(f"risk.{key}: {exc}, got {text!r}")
    if problems:
        raise BacktestInputError(f"{'; '.join(problems)}. Valid: {_risk_help()}")
    try:
        return RiskParams(RiskLimits(**limits), bankroll, reset)
    except ValueError as exc:
        raise BacktestInputError(f"risk: {exc}") from None


def _model(model: type[Any], prefix: str, values: dict[str, str]) -> Any:
    try:
        return model(**{k: _value(v) for k, v in values.items()})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ())) or "params"
            if error.get("type") == "extra_forbidden":
                problems.append(f"{prefix}.{where}: unknown parameter")
            else:
                msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
                problems.append(f"{prefix}.{where}: {msg}, got {error.get('input')!r}")
        raise BacktestInputError(
            f"{'; '.join(problems)}. Valid: {_model_help(model, prefix)}"
        ) from None


def check_strategies(names: Sequence[str]) -> list[str]:
    """Unique, known strategy names (refused with the list of valid ones)."""
    known = available_strategies()
    out: list[str] = []
    for name in names:
        if name not in known:
            raise BacktestInputError(
                f"unknown strategy {name!r}; available: {', '.join(sorted(known))}"
            )
        if name in out:
            raise BacktestInputError(f"strategy {name!r} is given twice")
        out.append(name)
    return out


def _assign(
    specs: Sequence[ParamSpec], strategy_names: Sequence[str]
) -> list[tuple[ParamSpec, list[tuple[str, str]]]]:
    """Where each key goes: a list of (namespace, field) targets."""
    classes = available_strategies()
    out = []
    for spec in specs:
        head, dot, tail = spec.key.partition(".")
        targets: list[tuple[str, str]]
        if dot and head in NAMESPACES:
            targets = [(head, tail)]
        elif dot and head in classes:
            if head not in strategy_names:
                raise BacktestInputError(
                    f"--param {spec.key}: strategy {head!r} is not selected "
                    f"(selected: {', '.join(strategy_names)})"
                )
            targets = [(head, tail)]
        elif dot:
            raise BacktestInputError(
                f"--param {spec.key}: unknown prefix {head!r}; use a strategy name or one of "
                f"{', '.join(NAMESPACES)}. Valid keys:\n  {valid_keys(strategy_names)}"
            )
        else:
            targets = [
                (name, spec.key)
                for name in strategy_names
                if spec.key in classes[name].Params.model_fields
            ]
            if not targets:
                raise BacktestInputError(
                    f"--param {spec.key}: no selected strategy has this parameter. "
                    f"Valid keys:\n  {valid_keys(strategy_names)}"
                )
        out.append((spec, targets))
    return out


def build_configs(
    strategy_names: Sequence[str], texts: Sequence[str], seed: int
) -> list[RunConfig]:
    """One validated :class:`RunConfig` per grid point (a single one without lists)."""
    names = check_strategies(strategy_names or [DEFAULT_STRATEGY])
    assigned = _assign(parse_specs(texts), names)
    grid = itertools.product(*(spec.values for spec, _ in assigned)) if assigned else [()]
    configs = []
    for point in grid:
        per: dict[str, dict[str, str]] = {}
        label = []
        for (spec, targets), value in zip(assigned, point, strict=True):
            for namespace, field in targets:
                per.setdefault(namespace, {})[field] = value
            if len(spec.values) > 1:
                label.append(f"{spec.key}={value}")
        strategies = tuple(
            (name, tuple((k, _value(v)) for k, v in per.get(name, {}).items())) for name in names
        )
        config = RunConfig(
            strategies=strategies,
            market=_model(MarketParams, "market", per.get("market", {})),
            risk=_risk(per.get("risk", {})),
            execution=_model(ExecParams, "exec", per.get("exec", {})),
            data=_model(DataParams, "data", per.get("data", {})),
            seed=seed,
            label=" ".join(label),
        )
        try:
            config.build_strategies()
        except StrategyConfigError as exc:
            raise BacktestInputError(str(exc)) from None
        configs.append(config)
    return configs
