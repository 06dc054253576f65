"""Start-up with the ledger: a database the bot cannot use stops it at once (exit 2), with a
line naming DATABASE_URL and never its password; a good one is created and the tree gets
its ledger; settings that feed the ledger and the strategies are validated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from loguru import logger

from app.bot import build_tree, open_ledger
from app.modes import Mode
from config.settings import ConfigError, load_settings
from hub.config import HubConfig
from hub.store import HubStore
from kalshi.connection import ExchangeConnection
from storage import Database
from storage.schema import Scope

ROOT = Path(__file__).resolve().parents[2]
RUN = [sys.executable, str(ROOT / "run.py")]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "DATABASE_"))}
    env.update(extra)
    return env


def _start(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RUN, "--duration", "1", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=_env(**env),
        check=False,
    )


def test_an_unreachable_database_stops_start_up_without_showing_its_password(
    tmp_path: Path,
) -> None:
    result = _start(tmp_path, "--db", "postgresql+psycopg://trader:hunter2@127.0.0.1:1/sol15")
    assert result.returncode == 2
    assert (
        "cannot reach the database at DATABASE_URL postgresql+psycopg://trader:***@127.0.0.1:1/sol15"
        in result.stderr
    )
    assert "hunter2" not in result.stderr + result.stdout
    assert not (tmp_path / "data").exists()


def test_a_foreign_file_stops_start_up_and_is_left_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("not a database")
    result = _start(tmp_path, DATABASE_URL=f"sqlite:///{notes}")
    assert result.returncode == 2
    assert "is not a SQLite database" in result.stderr
    assert notes.read_text() == "not a database"


def test_a_bad_database_url_is_a_config_error_without_its_password() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(None, database_url="postgresql:hunter2@nowhere")
    assert raised.value.lines[0].startswith("DATABASE_URL: must be a URL")
    bad = "postgresql+psycopg://u:hunter2@h/db"
    with pytest.raises(ConfigError) as raised:
        load_settings(None, database_url=bad, max_daily_loss="-1")
    assert "hunter2" not in str(raised.value)


def test_strategy_params_are_validated_at_start_up() -> None:
    settings = load_settings(None, strategy_params='{"kelly_volatility": {"min_edge": 0.05}}')
    assert settings.strategy_overrides == {"kelly_volatility": {"min_edge": 0.05}}
    for text, problem in [
        ("{not json", "must be a JSON object"),
        ('{"kelly_volatility": 3}', "must map each strategy name"),
        ('{"nope": {}}', "unknown strategy"),
        ('{"kelly_volatility": {"min_edge": 5}}', "min_edge"),
    ]:
        with pytest.raises(ConfigError) as raised:
            load_settings(None, strategy_params=text)
        assert raised.value.lines[0].startswith("STRATEGY_PARAMS: "), raised.value.lines
        assert problem in raised.value.lines[0]


def test_the_trading_subtree_is_ledger_then_risk_then_order(tmp_path: Path) -> None:
    database: Database = open_ledger(f"sqlite:///{tmp_path}/ledger.db")
    try:
        settings = load_settings(None, database_url=f"sqlite:///{tmp_path}/ledger.db")
        connection = ExchangeConnection("http://127.0.0.1:1/trade-api/v2", "ws://x", None)
        hub = HubConfig.from_settings(settings, "127.0.0.1", 0, "sim")
        spec = build_tree(settings, Mode.SIM, connection, hub, HubStore(), database=database)
        [trading] = [c for c in spec.children if c.id == "trading"]
        assert [c.id for c in trading.children] == ["ledger", "risk", "order"]  # type: ignore[union-attr]
        assert (tmp_path / "ledger.db").is_file()
    finally:
        database.dispose()


def test_the_first_start_on_a_per_mode_ledger_names_the_old_shared_one(tmp_path: Path) -> None:
    """The old default ``data/sol15.db`` is left alone, and the operator told what to do."""
    old = tmp_path / "sol15.db"
    old.write_bytes(b"every mode's history")
    warnings: list[str] = []
    sink = logger.add(lambda m: warnings.append(str(m)), level="WARNING")
    try:
        database = open_ledger(
            f"sqlite:///{tmp_path}/sol15-paper.db",
            tmp_path,
            scope=Scope.of("paper", "demo"),
            legacy=True,
        )
    finally:
        logger.remove(sink)
    try:
        assert database.scope == Scope("paper", "demo")
        assert database.url.database == f"{tmp_path}/sol15-paper.db"
    finally:
        database.dispose()
    [warning] = warnings
    assert f"DATABASE_URL=sqlite:///{old.as_posix()}" in warning
    assert old.read_bytes() == b"every mode's history"
