"""SERIES and the per-series settings SERIES_<TICKER>_<SETTING>: parsed, and every mistake
stops start-up with a line naming the variable."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from config.series import (
    SeriesConfigError,
    SeriesOverrides,
    known_series,
    parse_series_settings,
)
from config.settings import ConfigError, load_settings
from risk.limits import RiskLimits


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SERIES") or name.upper() in ("STRATEGIES", "MAX_POSITION_SIZE"):
            monkeypatch.delenv(name)


def test_the_default_is_sol_alone_with_no_overrides() -> None:
    s = load_settings(None)
    assert s.series == "KXSOL15M"
    series = s.series_settings
    assert series.tickers == ("KXSOL15M",) and not series.every_series
    assert series.enables("KXSOL15M") and not series.enables("KXBTC15M")
    assert series.strategies_for("KXSOL15M", s.strategy_names) == ["kelly_volatility"]
    limits = RiskLimits.from_settings(s)
    assert limits == RiskLimits()  # the single-series defaults are exactly as before
    assert (limits.max_total_exposure, limits.max_correlated_exposure) == (None, None)


def test_all_enables_every_known_series_and_any_discovery_finds() -> None:
    series = load_settings(None, series="all").series_settings
    assert series.tickers == tuple(known_series()) and series.every_series
    assert {"KXBTC15M", "KXETH15M", "KXSOL15M", "KXXRP15M", "KXDOGE15M"} <= set(series.tickers)
    assert series.enables("KXNEW15M")


def test_per_series_overrides_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERIES", "kxbtc15m, KXSOL15M")
    monkeypatch.setenv("SERIES_KXBTC15M_MAX_POSITION_SIZE", "250")
    monkeypatch.setenv("SERIES_KXBTC15M_MAX_EXPOSURE", "600.50")
    monkeypatch.setenv("SERIES_KXSOL15M_STRATEGIES", "mean_reversion, kelly_volatility")
    monkeypatch.setenv("MAX_CORRELATED_EXPOSURE", "400")
    s = load_settings(None)
    series = s.series_settings
    assert series.tickers == ("KXSOL15M", "KXBTC15M")  # catalog order
    assert series.override("KXBTC15M") == SeriesOverrides(Decimal(250), Decimal("600.50"))
    assert series.strategies_for("KXSOL15M", ["x"]) == ["mean_reversion", "kelly_volatility"]
    assert series.strategies_for("KXBTC15M", s.strategy_names) == ["kelly_volatility"]
    limits = RiskLimits.from_settings(s)
    assert limits.series_max_position_size == {"KXBTC15M": Decimal(250)}
    assert limits.series_max_exposure == {"KXBTC15M": Decimal("600.50")}
    assert limits.max_correlated_exposure == Decimal(400)


def test_the_env_file_carries_overrides_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "SERIES=KXSOL15M,KXETH15M\n"
        "SERIES_KXETH15M_MAX_EXPOSURE=90\n"
        "SERIES_KXSOL15M_MAX_POSITION_SIZE=40\n"
    )
    monkeypatch.setenv("SERIES_KXETH15M_MAX_EXPOSURE", "70")
    series = load_settings(env_file).series_settings
    assert series.exposure_limits() == {"KXETH15M": Decimal(70)}
    assert series.position_limits() == {"KXSOL15M": Decimal(40)}


@pytest.mark.parametrize(
    ("variables", "line"),
    [
        (
            {"SERIES": "KXSOL15M,KXFOO15M"},
            "SERIES: unknown series KXFOO15M (one of KXSOL15M, KXBTC15M",
        ),
        ({"SERIES": ","}, "SERIES: name at least one series (or all)"),
        (
            {"SERIES_KXBTC15M_MAX_EXPOSURE": "50"},
            "SERIES_KXBTC15M_MAX_EXPOSURE: series KXBTC15M is not enabled (SERIES=KXSOL15M)",
        ),
        (
            {"SERIES_KXFOO15M_MAX_EXPOSURE": "50"},
            "SERIES_KXFOO15M_MAX_EXPOSURE: unknown series KXFOO15M",
        ),
        (
            {"SERIES_KXSOL15M_MAX_POSITON_SIZE": "50"},
            "SERIES_KXSOL15M_MAX_POSITON_SIZE: not a per-series setting (one of "
            "SERIES_<TICKER>_MAX_POSITION_SIZE",
        ),
        (
            {"SERIES_KXSOL15M_MAX_POSITION_SIZE": "lots"},
            "SERIES_KXSOL15M_MAX_POSITION_SIZE: must be a number, got lots",
        ),
        (
            {"SERIES_KXSOL15M_MAX_EXPOSURE": "0"},
            "SERIES_KXSOL15M_MAX_EXPOSURE: must be > 0, got 0",
        ),
        (
            {"SERIES_KXSOL15M_MAX_EXPOSURE": "NaN"},
            "SERIES_KXSOL15M_MAX_EXPOSURE: must be > 0, got NaN",
        ),
        (
            {"SERIES_KXSOL15M_STRATEGIES": "kelly_volatility,moonshot"},
            "SERIES_KXSOL15M_STRATEGIES: unknown strategy moonshot (valid: ",
        ),
        ({"MAX_CORRELATED_EXPOSURE": "-5"}, "MAX_CORRELATED_EXPOSURE: must be > 0, got -5"),
        ({"MAX_TOTAL_EXPOSURE": "x"}, "MAX_TOTAL_EXPOSURE: "),
    ],
)
def test_a_bad_series_setting_stops_start_up_naming_it(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], line: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert len(caught.value.lines) == 1
    assert caught.value.lines[0].startswith(line), caught.value.lines


def test_every_bad_per_series_setting_gets_its_own_line() -> None:
    with pytest.raises(SeriesConfigError) as caught:
        parse_series_settings(
            "KXBTC15M",
            {"SERIES_KXETH15M_MAX_EXPOSURE": "5", "SERIES_KXBTC15M_MAX_EXPOSURE": "-1"},
        )
    assert [line.split(":")[0] for line in caught.value.lines] == [
        "SERIES_KXBTC15M_MAX_EXPOSURE",
        "SERIES_KXETH15M_MAX_EXPOSURE",
    ]


def test_with_all_any_known_series_takes_overrides() -> None:
    series = parse_series_settings("all", {"SERIES_KXDOGE15M_MAX_POSITION_SIZE": "5"})
    assert series.position_limits() == {"KXDOGE15M": Decimal(5)}
