"""The one format of numbers and times on every surface: REST, WebSocket, export and ledger.

Money and prices are fixed-point strings at Kalshi's precision: four decimals
(``"0.5600"``, ``"10.3872"``), up to six when the value has them (Kalshi's money
fields carry up to six; a fractional fill's fee is ``"0.00017"``), never the raw
digits of a division (``"10.38720987654320987654320988"``) nor trailing noise
(``"0.03227608000"``). Probabilities and ratios are JSON numbers. Which is which
goes by field name (:data:`MONEY_FIELDS`, :data:`RATIO_FIELDS`), so a value
read back from the ledger or a strategy's metrics is shown like a live one.

``since`` (REST and export alike) is read by :func:`parse_since`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import orjson

from messages.base import _default as exact_default  # Enum, sets, exceptions

MIN_PLACES = 4
MAX_PLACES = 6
_STEP = Decimal(1).scaleb(-MAX_PLACES)

# Dollar amounts and prices, wherever they appear.
MONEY_FIELDS = frozenset(
    {
        "price",
        "fee",
        "fees",
        "fill_fees",
        "fees_paid",
        "avg_fill_price",
        "average_price",
        "market_price",
        "edge",
        "yes_edge",
        "no_edge",
        "cost",
        "market_value",
        "unrealized_pnl",
        "realized_pnl",
        "daily_pnl",
        "exposure",
        "reserved",
        "bankroll",
        "starting_bankroll",
        "day_start_equity",
        "payout",
        "yes_bid",
        "yes_ask",
        "no_bid",
        "no_ask",
        "yes_mid",
        "market_mid",
        "balance",
        "equity",
        "pnl",
        "spot",
        "strike",
        "floor_strike",
        "expiration_value",
    }
)
# Probabilities, fractions and statistics: plain numbers.
RATIO_FIELDS = frozenset(
    {
        "model_prob",
        "kelly_fraction",
        "sigma",
        "zscore",
        "win_rate",
        "brier",
        "log_loss",
        "fee_multiplier",
        "circuit_breaker_pct",
    }
)


def money(value: Decimal | int | float | str) -> str:
    """``value`` in dollars as a fixed-point string with 4 to 6 decimals (half-even beyond 6).

    Raises ``ValueError`` for what is not a finite number. Remembered for the last few
    thousand values (prices repeat: a book frame is five of them, ~0.1 µs each instead of ~2).
    """
    try:
        return _money_cached(value)
    except TypeError:  # unhashable (a signaling NaN): not an amount either
        return _money(value)


def _money(value: Decimal | int | float | str) -> str:
    try:
        exact = value if isinstance(value, Decimal) else Decimal(str(value))
        if not exact.is_finite():
            raise ValueError
        rounded = exact.quantize(_STEP, rounding=ROUND_HALF_EVEN)
    except (InvalidOperation, ValueError):
        raise ValueError(f"not an amount: {value!r}") from None
    if rounded.is_zero():
        rounded = abs(rounded)  # never "-0.0000"
    whole, _, places = f"{rounded:f}".partition(".")
    return f"{whole}.{places.rstrip('0').ljust(MIN_PLACES, '0')}"


# A function of the value alone (0.56 and 0.5600 are one key and one answer).
_money_cached = functools.lru_cache(maxsize=4096)(_money)


def ratio(value: Decimal | int | float | str) -> float:
    """A probability or ratio as a JSON number."""
    return float(value)


_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, bool], ...]:
    """(name, is a ratio) of each field of a dataclass, worked out once per class."""
    found = _FIELDS.get(cls)
    if found is None:
        names = (f.name for f in dataclasses.fields(cls))
        found = _FIELDS[cls] = tuple((name, name in RATIO_FIELDS) for name in names)
    return found


def wire_fields(msg: object, into: dict[str, Any] | None = None) -> dict[str, Any]:
    """A message's (dataclass's) fields, its ratio fields as numbers; other values as they
    are, for :func:`dumps` (whose :func:`json_default` writes the remaining Decimals as money)."""
    out: dict[str, Any] = {} if into is None else into
    for name, is_ratio in _fields(type(msg)):
        value = getattr(msg, name)
        out[name] = _ratio_or_as_is(value) if is_ratio else value
    return out


def ledger_json(msg: Any) -> str:
    """A message as the ledger's journal keeps it: ``{"type", **fields}`` in the one format."""
    return dumps(wire_fields(msg, {"type": msg.type})).decode()


def json_default(value: object) -> object:
    """orjson's ``default``: a Decimal is money (ratios were made numbers by name before);
    a dataclass goes by :func:`wire_fields`; the rest as ``messages.base`` writes it."""
    if isinstance(value, Decimal):
        return money(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return wire_fields(value)
    return exact_default(value)


def dumps(value: object) -> bytes:
    """JSON in the one format (see the module's docstring)."""
    # Dataclasses through ``json_default`` too (orjson would write them itself): their
    # ratio fields become numbers by name.
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS
    return orjson.dumps(value, default=json_default, option=options)


def _money_or_as_is(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    try:
        return money(value)
    except ValueError:  # text that is not a number (a strategy's note): shown as it is
        return value


def _ratio_or_as_is(value: Any) -> Any:
    if isinstance(value, str | Decimal) and not isinstance(value, bool):
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


def normalize(value: Any) -> Any:
    """``value`` (JSON-ready data, nested) with every money field as :func:`money` gives it
    and every ratio field as a number; for data that did not pass through :func:`json_default`
    (rows read back from the ledger, a strategy's metrics)."""
    if isinstance(value, Mapping):
        return normalize_row(value)
    if isinstance(value, list | tuple):
        return [normalize(item) for item in value]
    return value


def normalize_row(row: Mapping[Any, Any]) -> dict[Any, Any]:
    """One mapping, as :func:`normalize` does it."""
    out: dict[Any, Any] = {}
    for key, item in row.items():
        if isinstance(item, Mapping | list | tuple):
            out[key] = normalize(item)
        elif key in MONEY_FIELDS:
            out[key] = _money_or_as_is(item)
        elif key in RATIO_FIELDS:
            out[key] = _ratio_or_as_is(item)
        else:
            out[key] = item
    return out


def status_text(status: str, filled: int, quantity: int) -> str:
    """An order's status as a person reads it: ``status`` is Kalshi's word, and an IOC that
    filled 5 of 22 ends ``canceled`` there; this says "filled 5 of 22" instead."""
    if 0 < filled < quantity:
        done = f"filled {filled} of {quantity}"
        return done if status in ("canceled", "executed") else f"{status}, {done}"
    return status


def parse_since(text: str) -> float:
    """Unix seconds from ``since`` (and the export's ``--until``): Unix seconds
    (``1767225600``), a date (``2026-01-01``: midnight UTC) or a date-time with its zone
    (``2026-01-01T09:30:00Z``, ``…+01:00``). A date-time without a zone is refused: 09:30
    of which clock? Raises ``ValueError`` saying which forms are accepted."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _moment(text)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("must be non-negative Unix seconds, a date or a date-time with a zone")
    return seconds


_FORMS = "Unix seconds, a date (2026-01-01) or a date-time with a zone (2026-01-01T09:30:00Z)"


def _moment(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"must be {_FORMS}, not {text[:40]!r}") from None
    if moment.tzinfo is None:
        if len(text) > len("2026-01-01"):  # a bare date is midnight UTC; a time needs a zone
            raise ValueError(f"needs a time zone, e.g. {text[:40]}Z (must be {_FORMS})")
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
