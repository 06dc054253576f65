"""Risk limits changed at runtime: checked by the start-up rules, kept as JSON in the ledger.

A change names the settings it changes (``max_daily_loss``, …, as in ``.env`` but lower
case). Each value is validated by the very field of :class:`config.settings.Settings`
that checks it at start-up, and the whole by :class:`risk.limits.RiskLimits`; the first
rule broken is the answer, and nothing is applied. It sits in config, beside the
settings it reads, because the pure risk core must not import the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import TypeAdapter, ValidationError

from config.settings import Settings
from risk.limits import RiskLimits

CONTROL = "risk:limits"  # the ledger's control row holding the overrides
CHANGEABLE: tuple[str, ...] = tuple(
    f.name for f in fields(RiskLimits) if f.name in Settings.model_fields
)


class LimitRejected(ValueError):
    """A change breaks a start-up rule (the API answers 400 with the rule)."""


def _adapter(name: str) -> TypeAdapter[Any]:
    info = Settings.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, *info.metadata])  # type: ignore[arg-type]


_ADAPTERS = {name: _adapter(name) for name in CHANGEABLE}


def validate(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Each value parsed and checked as at start-up (strings and numbers both accepted)."""
    if not changes:
        raise LimitRejected(f"no limit given; changeable: {', '.join(CHANGEABLE)}")
    parsed: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in _ADAPTERS:
            raise LimitRejected(
                f"{name!r} is not a limit that can change at runtime; changeable: "
                + ", ".join(CHANGEABLE)
            )
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise LimitRejected(f"{name.upper()}: give a number or a numeric string")
        try:
            parsed[name] = _ADAPTERS[name].validate_python(
                str(value) if isinstance(value, float) else value
            )
        except ValidationError as exc:
            raise LimitRejected(f"{name.upper()}: {exc.errors()[0]['msg']}") from None
    return parsed


def apply(base: RiskLimits, values: Mapping[str, Any]) -> RiskLimits:
    """``base`` with ``values`` (as :func:`validate` gives them); the limits' own
    cross-checks apply."""
    try:
        return replace(base, **values)
    except ValueError as exc:
        raise LimitRejected(str(exc)) from None


@dataclass(frozen=True, slots=True)
class Saved:
    """The overrides as the ledger keeps them, with who made the last change and when."""

    overrides: dict[str, Any]
    requested_by: str = ""
    at: float | None = None

    def encode(self) -> str:
        """JSON for the ledger: decimals as exact strings."""
        values = {
            k: str(v) if isinstance(v, Decimal) else v for k, v in sorted(self.overrides.items())
        }
        body = {"overrides": values, "requested_by": self.requested_by, "at": self.at}
        return orjson.dumps(body).decode()

    @classmethod
    def decode(cls, text: str) -> Saved:
        """Checked again on the way in: a rule tightened since is not bypassed by the ledger."""
        data = orjson.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("overrides"), dict):
            raise LimitRejected("the saved risk limits are not a JSON object with overrides")
        values = data["overrides"]
        at = data.get("at")
        return cls(
            validate(values) if values else {},
            str(data.get("requested_by") or ""),
            float(at) if isinstance(at, int | float) else None,
        )


def view_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Decimals as fixed-point strings, other values as they are."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def view(limits: RiskLimits) -> dict[str, Any]:
    """The changeable limits as the API shows them (money as fixed-point strings)."""
    return {
        name: str(value) if isinstance(value, Decimal) else value
        for name in CHANGEABLE
        for value in (getattr(limits, name),)
    }
