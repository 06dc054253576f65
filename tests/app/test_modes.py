"""Mode selection and the three-way guard on live trading."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.modes import Mode, ModeError, resolve_mode
from config.settings import Settings


def _settings(credentials: bool, dry_run: bool = True) -> Settings:
    extra = (
        {"kalshi_api_key": "kid", "kalshi_private_key_path": Path("k.pem")} if credentials else {}
    )
    return Settings(_env_file=None, dry_run_mode=dry_run, **extra)  # type: ignore[call-arg,arg-type]


def test_no_credentials_means_sim() -> None:
    assert resolve_mode(None, _settings(False), live_flag=False) is Mode.SIM


def test_credentials_default_to_paper_while_dry_run() -> None:
    assert resolve_mode(None, _settings(True), live_flag=False) is Mode.PAPER


def test_live_needs_credentials_dry_run_off_and_the_flag() -> None:
    assert resolve_mode("live", _settings(True, dry_run=False), live_flag=True) is Mode.LIVE
    assert resolve_mode(None, _settings(True, dry_run=False), live_flag=True) is Mode.LIVE
    with pytest.raises(ModeError, match="pass --live"):
        resolve_mode(None, _settings(True, dry_run=False), live_flag=False)
    with pytest.raises(ModeError, match="DRY_RUN_MODE is true"):
        resolve_mode("live", _settings(True, dry_run=True), live_flag=True)
    with pytest.raises(ModeError, match="needs Kalshi credentials"):
        resolve_mode("live", _settings(False, dry_run=False), live_flag=True)


def test_paper_needs_credentials() -> None:
    with pytest.raises(ModeError, match="needs Kalshi credentials"):
        resolve_mode("paper", _settings(False), live_flag=False)
    assert resolve_mode("paper", _settings(True, dry_run=False), live_flag=False) is Mode.PAPER


def test_sim_refuses_the_live_flag() -> None:
    with pytest.raises(ModeError, match="--live"):
        resolve_mode("sim", _settings(True), live_flag=True)
