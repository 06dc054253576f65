"""Checks before anything starts: folders usable, the port free, no other bot on the same state.

Each problem ends start-up with one line naming the setting or option to change,
never a traceback, and before a single actor runs: a dashboard that cannot bind
must not leave the bot trading blind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from config.settings import ConfigError, Settings
from runtime.net import port_problem


class StartupError(Exception):
    """Start-up refused; the message says what to change."""


def check_directory(path: Path, setting: str) -> None:
    """``path`` is a writable folder, or can be made one; else ConfigError naming ``setting``.

    Nothing is created here: a start refused for another reason leaves no folders behind.
    """
    shown = f"{setting}: {path}"
    if path.exists():
        if not path.is_dir():
            raise ConfigError([f"{shown} is a file, not a folder: point {setting} at a folder"])
        _writable(path, shown, "cannot be written")
        return
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError([f"{shown} cannot be created ({ancestor} is a file)"])
    _writable(ancestor, shown, f"cannot be created in {ancestor}")


def _writable(folder: Path, shown: str, problem: str) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError([f"{shown} {problem} (permission denied)"])
    try:  # access() can say yes on a read-only mount; a real file settles it
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ConfigError([f"{shown} {problem} ({exc.strerror or exc})"]) from None


def check_directories(settings: Settings) -> None:
    """DATA_DIR and LOG_DIR, every problem at once (one line each)."""
    lines: list[str] = []
    for setting, path in (("DATA_DIR", settings.data_dir), ("LOG_DIR", settings.log_dir)):
        try:
            check_directory(path, setting)
        except ConfigError as exc:
            lines.extend(exc.lines)
    if lines:
        raise ConfigError(lines)


def check_port(host: str, port: int) -> None:
    """The dashboard's port can be bound now (port 0 always can)."""
    problem = port_problem(host, port)
    if problem is None:
        return
    if problem == "in use":
        raise StartupError(
            f"port {port} on {host} is in use (another sol15, or another program): "
            f"choose another with --port (e.g. --port {port + 1 if port < 65535 else 8000}, "
            "or --port 0 for any free one)"
        )
    raise StartupError(f"cannot listen on {host}:{port} ({problem}): change --host or --port")
