"""Settings: every contract variable with its default; one clear line per bad value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from config.settings import ConfigError, KalshiEnv, load_settings

CONTRACT = (
    "KALSHI_API_KEY",
    "KALSHI_PRIVATE_KEY_PATH",
    "KALSHI_ENV",
    "KALSHI_API_BASE",
    "KALSHI_WS_URL",
    "DRY_RUN_MODE",
    "DATABASE_URL",
    "API_TOKEN",
    "MAX_POSITION_SIZE",
    "MAX_DAILY_LOSS",
    "CIRCUIT_BREAKER_PCT",
    "MAX_CONCURRENT_POSITIONS",
    "MIN_EDGE",
    "LOG_LEVEL",
    "LOG_JSON",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*CONTRACT, "CORS_ORIGINS", "LOG_DIR", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_match_the_contract() -> None:
    s = load_settings(None)
    assert s.kalshi_api_key is None and s.kalshi_private_key_path is None
    assert s.kalshi_env is KalshiEnv.PROD
    assert s.dry_run_mode is True
    assert s.database_url == "sqlite:///data/sol15.db"
    assert s.max_position_size == Decimal(1000)
    assert s.max_daily_loss == Decimal(500)
    assert s.circuit_breaker_pct == Decimal("0.20")
    assert s.max_concurrent_positions == 5
    assert s.min_edge == Decimal("0.03")
    assert s.log_level.value == "INFO" and s.log_json is False
    assert not s.has_credentials


def test_mean_reversion_is_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """It loses in every backtest: only ``kelly_volatility`` runs unless STRATEGIES names it."""
    monkeypatch.delenv("STRATEGIES", raising=False)
    assert load_settings(None).strategy_names == ["kelly_volatility"]
    both = load_settings(None, strategies="kelly_volatility,mean_reversion")
    assert both.strategy_names == ["kelly_volatility", "mean_reversion"]


def test_every_contract_variable_is_a_setting() -> None:
    fields = {name.upper() for name in load_settings(None).model_dump()}
    assert set(CONTRACT) <= fields


def test_env_example_documents_every_setting() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    documented = {
        line.split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    }
    fields = {name.upper() for name in load_settings(None).model_dump()}
    assert fields == documented


def test_environment_overrides_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("MAX_DAILY_LOSS=250\nMIN_EDGE=0.05\n")
    monkeypatch.setenv("MIN_EDGE", "0.04")
    s = load_settings(env_file)
    assert s.max_daily_loss == Decimal(250)
    assert s.min_edge == Decimal("0.04")


def test_money_is_parsed_exactly() -> None:
    s = load_settings(None, max_position_size="0.1", max_daily_loss="0.2")
    assert s.max_position_size + s.max_daily_loss == Decimal("0.3")


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("MAX_DAILY_LOSS", "-5", "MAX_DAILY_LOSS: must be > 0, got -5"),
        ("MAX_POSITION_SIZE", "0", "MAX_POSITION_SIZE: must be > 0, got 0"),
        ("CIRCUIT_BREAKER_PCT", "1.5", "CIRCUIT_BREAKER_PCT: must be <= 1, got 1.5"),
        ("MAX_CONCURRENT_POSITIONS", "0", "MAX_CONCURRENT_POSITIONS: must be >= 1, got 0"),
        (
            "MAX_CONCURRENT_POSITIONS",
            "two",
            "MAX_CONCURRENT_POSITIONS: must be a whole number, got two",
        ),
        ("MIN_EDGE", "abc", "MIN_EDGE: must be a number, got abc"),
        ("MIN_EDGE", "1", "MIN_EDGE: must be < 1, got 1"),
        ("DRY_RUN_MODE", "maybe", "DRY_RUN_MODE: must be true or false, got maybe"),
        ("LOG_JSON", "yes please", "LOG_JSON: must be true or false, got yes please"),
        ("KALSHI_ENV", "staging", "KALSHI_ENV: must be one of 'prod' or 'demo', got staging"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: must be one of"),
        (
            "KALSHI_API_BASE",
            "ftp://x",
            "KALSHI_API_BASE: must start with http:// or https://, got ftp://x",
        ),
        (
            "KALSHI_WS_URL",
            "http://x",
            "KALSHI_WS_URL: must start with ws:// or wss://, got http://x",
        ),
        ("DATABASE_URL", "sol15.db", "DATABASE_URL: must be a URL"),
        ("KALSHI_RATE_TIER", "gold", "KALSHI_RATE_TIER: unknown rate-limit tier 'gold'"),
        ("ORDER_GROUP_CONTRACTS", "0", "ORDER_GROUP_CONTRACTS: must be >= 1, got 0"),
        ("MAX_INTENT_AGE_SECONDS", "0", "MAX_INTENT_AGE_SECONDS: must be > 0.0, got 0"),
        ("MAX_INTENT_AGE_SECONDS", "120", "MAX_INTENT_AGE_SECONDS: must be <= 60.0, got 120"),
        ("MAX_INTENT_AGE_SECONDS", "soon", "MAX_INTENT_AGE_SECONDS: must be a number, got soon"),
        ("SIM_MARKET_PRESET", "blunt", "SIM_MARKET_PRESET: must be one of 'sharp' or 'soft'"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, line: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert len(caught.value.lines) == 1
    assert caught.value.lines[0].startswith(line)


def test_several_bad_values_give_one_line_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_DAILY_LOSS", "-5")
    monkeypatch.setenv("MIN_EDGE", "abc")
    monkeypatch.setenv("LOG_JSON", "maybe")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert [line.split(":")[0] for line in caught.value.lines] == [
        "MAX_DAILY_LOSS",
        "MIN_EDGE",
        "LOG_JSON",
    ]


def test_credentials_come_in_pairs_and_secrets_are_not_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KALSHI_API_KEY", "key-id-very-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert caught.value.lines == ["KALSHI_PRIVATE_KEY_PATH: required when KALSHI_API_KEY is set"]
    assert "very-secret" not in str(caught.value)


def test_secrets_are_hidden_in_repr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KALSHI_API_KEY", "key-id-very-secret")
    monkeypatch.setenv("KALSHI_PRIVATE_KEY_PATH", str(tmp_path / "k.pem"))
    monkeypatch.setenv("API_TOKEN", "token-very-secret")
    s = load_settings(None)
    assert s.has_credentials
    assert "very-secret" not in repr(s) and "very-secret" not in str(s.model_dump())


def test_cors_origins_are_a_comma_separated_list() -> None:
    s = load_settings(None, cors_origins="http://a.example, http://b.example,")
    assert s.cors_origin_list == ["http://a.example", "http://b.example"]
