"""``python run.py alerts test``: send a test message to every ``ALERT_URLS`` destination.

Each destination is reported by its position and scheme (URLs carry tokens); the exit
code is 0 when every one took the message, 1 when any failed, 2 on a settings error.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from alerting.targets import deliver, targets_of
from config.settings import ConfigError, load_settings

TITLE = "sol15 test"
BODY = "A test message from sol15 (python run.py alerts test): alerts reach this destination."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py alerts", description="Alerts through apprise (ALERT_URLS)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    test = commands.add_parser("test", help="send a test message to every URL of ALERT_URLS")
    test.add_argument(
        "--env-file", default=".env", metavar="FILE", help="settings file to read (default: .env)"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    try:
        settings = load_settings(args.env_file)
    except ConfigError as exc:
        for line in exc.lines:
            print(f"config error: {line}")
        return 2
    if settings.alert_urls is None:
        print("ALERT_URLS is empty: there is nowhere to send alerts (see .env.example)")
        return 2
    failed = 0
    for target in targets_of(settings.alert_urls.get_secret_value()):
        ok = deliver(target, TITLE, BODY, "info")
        failed += not ok
        print(f"{target.label}: {'sent' if ok else 'FAILED (the destination did not take it)'}")
    return 1 if failed else 0
