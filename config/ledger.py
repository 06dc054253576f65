"""Which ledger the settings name, for ``run.py export`` when no ``--db`` is given.

It lives in config (the export itself is storage, below the settings) and is passed to
``storage.export.main`` by the command line.
"""

from __future__ import annotations

from config.settings import ConfigError, load_settings
from storage.schema import ALL_MODES


def export_ledger(env_file: str, mode: str | None) -> tuple[str, str]:
    """(URL, mode) to export: the ledger of ``mode`` (default: the mode ``run.py`` starts in)."""
    try:
        settings = load_settings(env_file)
    except ConfigError as exc:
        raise SystemExit("\n".join(f"config error: {line}" for line in exc.lines)) from None
    mode = mode or settings.default_mode
    return settings.ledger_url(settings.default_mode if mode == ALL_MODES else mode), mode
