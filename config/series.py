"""``SERIES`` and the per-series settings ``SERIES_<TICKER>_<SETTING>``, parsed and validated.

``SERIES`` is a comma-separated list of 15-minute series tickers (default ``KXSOL15M``) or
``all`` (every series discovery finds). A series may override, through environment
variables (or ``.env``):

- ``SERIES_<TICKER>_MAX_POSITION_SIZE``: dollars at cost per market of that series
  (the global ``MAX_POSITION_SIZE`` still applies: the smaller one binds);
- ``SERIES_<TICKER>_MAX_EXPOSURE``: dollars at cost across all of that series' markets,
  positions plus resting buys;
- ``SERIES_<TICKER>_STRATEGIES``: the strategies that trade it (default ``STRATEGIES``).

A misspelled setting, an unknown series or a setting for a series that is not enabled
stops start-up with a line naming the variable (:class:`SeriesConfigError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

DEFAULT_SERIES = "KXSOL15M"
ALL_SERIES = "all"
PREFIX = "SERIES_"
# the per-series settings, by the suffix of their variable's name
SETTING_NAMES = ("MAX_POSITION_SIZE", "MAX_EXPOSURE", "STRATEGIES")


class SeriesConfigError(ValueError):
    """Invalid per-series settings; ``lines`` holds one ``NAME: problem`` line each."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True, slots=True)
class SeriesOverrides:
    """One series' overrides; ``None``: the global setting applies."""

    max_position_size: Decimal | None = None
    max_exposure: Decimal | None = None
    strategies: tuple[str, ...] | None = None


_NO_OVERRIDES = SeriesOverrides()


@dataclass(frozen=True, slots=True)
class SeriesSettings:
    """The enabled series and their overrides (what ``SERIES`` and ``SERIES_*`` say)."""

    # the series named (every known one for ``all``), in catalog order
    tickers: tuple[str, ...] = (DEFAULT_SERIES,)
    # ``SERIES=all``: any further 15-minute crypto series discovery finds is enabled too
    every_series: bool = False
    overrides: Mapping[str, SeriesOverrides] = field(default_factory=lambda: MappingProxyType({}))

    def enables(self, series: str) -> bool:
        return self.every_series or series in self.tickers

    def override(self, series: str) -> SeriesOverrides:
        return self.overrides.get(series, _NO_OVERRIDES)

    def strategies_for(self, series: str, default: Sequence[str]) -> list[str]:
        """The strategies trading ``series``: its own list, else ``default`` (``STRATEGIES``)."""
        own = self.override(series).strategies
        return list(own) if own is not None else list(default)

    def position_limits(self) -> dict[str, Decimal]:
        """Series → its per-market position limit, for the series that set one."""
        return {
            s: o.max_position_size
            for s, o in self.overrides.items()
            if o.max_position_size is not None
        }

    def exposure_limits(self) -> dict[str, Decimal]:
        """Series → its exposure limit across its markets, for the series that set one."""
        return {s: o.max_exposure for s, o in self.overrides.items() if o.max_exposure is not None}


def known_series() -> list[str]:
    """Every 15-minute crypto series sol15 knows (the simulator's catalog, KALSHI.md's table)."""
    from simulator.catalog import CATALOG

    return list(CATALOG)


def parse_series_list(text: str) -> tuple[tuple[str, ...], bool]:
    """``SERIES`` as (tickers in catalog order, every_series); ``ValueError`` names the bad one."""
    from simulator.catalog import parse_series
    from simulator.config import ConfigError

    try:
        tickers = parse_series(text, "SERIES")
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("SERIES: ")) from None
    return tuple(tickers), text.strip().lower() == ALL_SERIES


def series_variables(*sources: Mapping[str, str | None]) -> dict[str, str]:
    """The non-empty ``SERIES_*`` variables of ``sources`` (names upper-cased; later wins)."""
    out: dict[str, str] = {}
    for source in sources:
        for name, value in source.items():
            upper = name.upper()
            if upper.startswith(PREFIX) and value is not None and value.strip():
                out[upper] = value.strip()
    return out


def _split_name(name: str) -> tuple[str, str] | None:
    """``SERIES_KXBTC15M_MAX_EXPOSURE`` → (``KXBTC15M``, ``MAX_EXPOSURE``); None if no setting."""
    rest = name.removeprefix(PREFIX)
    for setting in SETTING_NAMES:
        if rest.endswith("_" + setting) and len(rest) > len(setting) + 1:
            return rest[: -len(setting) - 1], setting
    return None


def _dollars(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError("must be > 0")
    return amount


def _strategies(value: str) -> tuple[str, ...]:
    from strategies.base import available_strategies

    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    known = available_strategies()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"unknown strategy {', '.join(unknown)} (valid: {', '.join(sorted(known))})"
        )
    return names


def _check_series(ticker: str, tickers: Iterable[str], series_text: str) -> str | None:
    """Why ``ticker`` cannot carry settings (unknown or not enabled), or None."""
    if ticker not in known_series():
        return f"unknown series {ticker} (one of {', '.join(known_series())})"
    if ticker not in tickers:
        return f"series {ticker} is not enabled (SERIES={series_text})"
    return None


def parse_series_settings(
    series_text: str, variables: Mapping[str, str] | None = None
) -> SeriesSettings:
    """``SERIES`` plus the ``SERIES_*`` ``variables`` (see :func:`series_variables`), validated.

    Raises :class:`SeriesConfigError` with one line per bad setting, each naming it.
    """
    try:
        tickers, every = parse_series_list(series_text)
    except ValueError as exc:
        raise SeriesConfigError([f"SERIES: {exc}"]) from None
    problems: list[str] = []
    values: dict[str, dict[str, object]] = {}
    for name, value in sorted((variables or {}).items()):
        parts = _split_name(name)
        if parts is None:
            settings = ", ".join(f"{PREFIX}<TICKER>_{s}" for s in SETTING_NAMES)
            problems.append(f"{name}: not a per-series setting (one of {settings})")
            continue
        ticker, setting = parts
        problem = _check_series(ticker, tickers, series_text)
        if problem is not None:
            problems.append(f"{name}: {problem}")
            continue
        try:
            parsed = _strategies(value) if setting == "STRATEGIES" else _dollars(value)
        except ValueError as exc:
            problems.append(f"{name}: {exc}, got {value}")
            continue
        values.setdefault(ticker, {})[setting.lower()] = parsed
    if problems:
        raise SeriesConfigError(problems)
    overrides = {t: SeriesOverrides(**v) for t, v in values.items()}  # type: ignore[arg-type]
    return SeriesSettings(tickers, every, MappingProxyType(overrides))
