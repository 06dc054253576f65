"""ALERT_* settings: a malformed alert URL stops start-up naming ALERT_URLS (never echoing
the URL, which may carry a token); ``run.py alerts test`` reports each destination."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.alerts import ALERTER, alert_config
from alerting.rules import Rule, RuleSetting
from app.bot import build_tree, run_bot
from app.cli import bot_parser, main
from app.modes import Mode
from config.settings import ConfigError, load_settings
from hub.config import HubConfig
from hub.store import HubStore
from kalshi.connection import ExchangeConnection
from tests.alerting.receiver import closed_port, webhook

SECRET = "123456789:AAHsecretBotToken"


def test_a_malformed_url_names_alert_urls_and_hides_the_url() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, alert_urls=f"json://127.0.0.1:9/ok, notascheme://{SECRET}")
    [line] = caught.value.lines
    assert line.startswith("ALERT_URLS: alert URL 2 (notascheme) is not a URL apprise can")
    assert SECRET not in line


def test_bad_rules_and_times_name_their_settings() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            None,
            alert_rules="fill:loud",
            alert_daily_summary_at="24:00",
            alert_dedupe_minutes="0",
        )
    names = sorted(line.split(":", 1)[0] for line in caught.value.lines)
    assert names == ["ALERT_DAILY_SUMMARY_AT", "ALERT_DEDUPE_MINUTES", "ALERT_RULES"]


def test_start_up_stops_on_a_malformed_alert_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALERT_URLS", f"tgram://{SECRET}/42 what://{SECRET}")
    args = bot_parser().parse_args(["--env-file", str(tmp_path / "none.env"), "--port", "0"])
    assert run_bot(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: ALERT_URLS: alert URL 2 (what) is not a URL")
    assert SECRET not in err


def test_settings_become_the_policy_config() -> None:
    settings = load_settings(
        None,
        alert_urls="json://127.0.0.1:9/x",
        alert_rules="fill:warning",
        alert_dedupe_minutes="5",
        alert_daily_summary_at="21:30",
    )
    config = alert_config(settings, "sol15 paper")
    assert config.rules[Rule.FILL] == RuleSetting(True, "warning")
    assert config.dedupe_seconds == 300 and config.summary_minute == 21 * 60 + 30
    assert config.source == "sol15 paper"


def test_alerts_test_reports_each_destination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = str(tmp_path / "none.env")
    with webhook() as hook:
        monkeypatch.setenv("ALERT_URLS", f"{hook.url()} json://127.0.0.1:{closed_port()}/x")
        assert main(["alerts", "test", "--env-file", env]) == 1
        assert capsys.readouterr().out.splitlines() == [
            "alert URL 1 (json): sent",
            "alert URL 2 (json): FAILED (the destination did not take it)",
        ]
        [body] = hook.bodies
        assert body["title"] == "sol15 test" and "alerts reach this destination" in body["message"]
        monkeypatch.setenv("ALERT_URLS", hook.url())
        assert main(["alerts", "test", "--env-file", env]) == 0
    monkeypatch.delenv("ALERT_URLS")
    assert main(["alerts", "test", "--env-file", env]) == 2
    assert "ALERT_URLS is empty" in capsys.readouterr().out


def test_the_alert_actor_joins_the_tree_only_with_alert_urls() -> None:
    connection = ExchangeConnection("http://127.0.0.1:1/trade-api/v2", "ws://x", None)
    plain = load_settings(None)
    hub = HubConfig.from_settings(plain, "127.0.0.1", 0, "sim")
    ids = [c.id for c in build_tree(plain, Mode.SIM, connection, hub, HubStore()).children]
    assert ALERTER not in ids
    alerting = load_settings(None, alert_urls="json://127.0.0.1:9/hook")
    ids = [c.id for c in build_tree(alerting, Mode.SIM, connection, hub, HubStore()).children]
    assert ids[-1] == ALERTER
