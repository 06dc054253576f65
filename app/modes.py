"""Which mode the bot runs in, and the money-safety rules that guard it.

No code path reaches ``live`` unless the operator asked for it three ways:
credentials configured, ``DRY_RUN_MODE=false`` and ``--live`` on the command line.
Flags that contradict each other are refused, never resolved by a guess: the
message names what to change. ``DRY_RUN_MODE`` chooses the default mode (``true``:
paper, or sim without credentials; ``false``: live); an explicit ``--mode`` wins
only in the safe direction (``--mode paper`` or ``--mode sim`` with
``DRY_RUN_MODE=false`` sends nothing real).

In ``sim`` mode orders go to a simulator: the built-in one, or an ``exchange-sim``
named by ``KALSHI_API_BASE``/``KALSHI_WS_URL``. One beyond this machine must say it
is a simulator (``app.exchange`` asks it at start), so a mistyped URL cannot turn a
simulation into real orders.
"""

from __future__ import annotations

from enum import StrEnum

from config.settings import Settings

CREDENTIALS = "set KALSHI_API_KEY and KALSHI_PRIVATE_KEY_PATH"


class Mode(StrEnum):
    SIM = "sim"
    PAPER = "paper"
    LIVE = "live"


class ModeError(Exception):
    """The requested mode is refused; the message says what to change."""


def resolve_mode(requested: str | None, settings: Settings, live_flag: bool) -> Mode:
    """The mode the flags ask for, or :class:`ModeError` saying what contradicts what."""
    _check_url_overrides(settings)
    mode = Mode(requested) if requested else _default_mode(settings, live_flag)
    if mode is Mode.SIM:
        _check_sim(settings, live_flag)
    elif mode is Mode.PAPER:
        _check_paper(settings, live_flag)
    else:
        _check_live(settings, live_flag, explicit=requested is not None)
    return mode


def _default_mode(settings: Settings, live_flag: bool) -> Mode:
    if live_flag:
        return Mode.LIVE  # asked for by --live (or DRY_RUN_MODE=false): checked as live
    return Mode(settings.default_mode)


def _check_url_overrides(settings: Settings) -> None:
    """Half an exchange (the REST API of one, the WebSocket of another) is refused."""
    if (settings.kalshi_api_base is None) != (settings.kalshi_ws_url is None):
        given, missing = (
            ("KALSHI_API_BASE", "KALSHI_WS_URL")
            if settings.kalshi_api_base is not None
            else ("KALSHI_WS_URL", "KALSHI_API_BASE")
        )
        raise ModeError(
            f"{given} is set but {missing} is not: set both to the same exchange, or neither "
            "(Kalshi's own hosts, or the built-in exchange in sim mode)"
        )


def _check_sim(settings: Settings, live_flag: bool) -> None:
    if live_flag:
        raise ModeError(
            "--live asks for real orders, but the mode is sim: drop --live, or use "
            "--mode live with credentials and DRY_RUN_MODE=false"
        )
    if settings.kalshi_api_base is not None and not settings.has_credentials:
        raise ModeError(
            "KALSHI_API_BASE and KALSHI_WS_URL name an exchange, but no credentials are set: "
            f"{CREDENTIALS} to the key exchange-sim printed, or unset both URLs to run the "
            "built-in exchange"
        )


def _check_paper(settings: Settings, live_flag: bool) -> None:
    problems = []
    if not settings.has_credentials:
        problems.append(f"paper mode reads Kalshi's live data: {CREDENTIALS}")
    if live_flag:
        problems.append(
            "--live asks for real orders, but --mode paper sends none: drop --live, or use "
            "--mode live (with DRY_RUN_MODE=false)"
        )
    if problems:
        raise ModeError("; ".join(problems))


def _check_live(settings: Settings, live_flag: bool, explicit: bool) -> None:
    missing = []
    if not settings.has_credentials:
        missing.append(CREDENTIALS)
    if settings.dry_run_mode:
        missing.append("set DRY_RUN_MODE=false")
    if not live_flag:
        missing.append("pass --live to confirm that real orders may be sent")
    if not missing:
        return
    asked_by = "--mode live" if explicit else "--live" if live_flag else "DRY_RUN_MODE=false"
    instead = []
    if not explicit:
        if live_flag:
            instead.append("drop --live")
        if not settings.dry_run_mode:
            instead.append("set DRY_RUN_MODE=true")
    alternative = f"; or, to send nothing real, {' and '.join(instead)}" if instead else ""
    raise ModeError(f"live mode ({asked_by}) refused: {'; '.join(missing)}{alternative}")
