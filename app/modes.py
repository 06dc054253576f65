"""Which mode the bot runs in, and the money-safety rule that guards ``live``.

No code path reaches ``live`` unless the operator asked for it three ways:
credentials configured, ``DRY_RUN_MODE=false`` and ``--live`` on the command line.
"""

from __future__ import annotations

from enum import StrEnum

from config.settings import Settings


class Mode(StrEnum):
    SIM = "sim"
    PAPER = "paper"
    LIVE = "live"


class ModeError(Exception):
    """The requested mode is refused; the message says what to change."""


def resolve_mode(requested: str | None, settings: Settings, live_flag: bool) -> Mode:
    mode = Mode(requested) if requested else _default_mode(settings)
    if mode is Mode.SIM:
        if live_flag:
            raise ModeError("--live was given, but the mode is sim: refusing to guess; drop --live")
        return mode
    if not settings.has_credentials:
        raise ModeError(
            f"{mode} mode needs Kalshi credentials: set KALSHI_API_KEY and KALSHI_PRIVATE_KEY_PATH"
        )
    if mode is Mode.PAPER:
        return mode
    if settings.dry_run_mode:
        raise ModeError("live mode refused: DRY_RUN_MODE is true (set DRY_RUN_MODE=false)")
    if not live_flag:
        raise ModeError("live mode refused: pass --live to confirm that real orders may be sent")
    return mode


def _default_mode(settings: Settings) -> Mode:
    if not settings.has_credentials:
        return Mode.SIM
    return Mode.PAPER if settings.dry_run_mode else Mode.LIVE
