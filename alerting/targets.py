"""``ALERT_URLS`` through apprise: split, validate, label without secrets, and send one.

An apprise URL often carries a token (Telegram's bot token, a Discord webhook's key, a
password), so a destination is never shown by its URL: logs and errors name it by its
position and scheme only (``alert URL 2 (tgram)``).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import apprise
from loguru import logger

# apprise logs through the standard library, sometimes with the URL it posts to: we report
# every failure ourselves, redacted, so its own lines are muted.
logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)
# apprise's PGP support imports the standard library's imghdr (deprecated) on first send
warnings.filterwarnings("ignore", message="'imghdr' is deprecated", category=DeprecationWarning)

NOTIFY_TYPES = {
    "info": apprise.NotifyType.INFO,
    "warning": apprise.NotifyType.WARNING,
    "error": apprise.NotifyType.FAILURE,
    "critical": apprise.NotifyType.FAILURE,
}


@dataclass(frozen=True, slots=True)
class Target:
    """One destination: ``label`` is safe to log, ``plugin`` sends."""

    label: str
    plugin: Any  # an apprise plugin instance (untyped in apprise)


def split_urls(text: str) -> list[str]:
    """``ALERT_URLS``: URLs separated by commas, spaces or new lines."""
    return text.replace(",", " ").split()


def _scheme(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    return scheme.lower() if sep and scheme.isalnum() else "?"


def targets_of(text: str) -> list[Target]:
    """Each URL of ``ALERT_URLS`` as a target; ``ValueError`` names the first bad one by
    position and scheme (never its text)."""
    found = []
    for n, url in enumerate(split_urls(text), start=1):
        label = f"alert URL {n} ({_scheme(url)})"
        plugin = apprise.Apprise.instantiate(url) if "://" in url else None
        if plugin is None:
            raise ValueError(
                f"{label} is not a URL apprise can send to (see "
                "https://github.com/caronc/apprise/wiki for the formats)"
            )
        found.append(Target(label, plugin))
    return found


def deliver(target: Target, title: str, body: str, level: str) -> bool:
    """Send one message; False (logged, without the URL) when the destination failed."""
    try:
        sent = bool(
            target.plugin.notify(
                body=body, title=title, notify_type=NOTIFY_TYPES.get(level, apprise.NotifyType.INFO)
            )
        )
    except Exception as exc:  # a plugin's bug must not reach the caller
        logger.warning("alerts: {} raised {}", target.label, type(exc).__name__)
        return False
    return sent
