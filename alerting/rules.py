"""Which alert rules are on and at what level: ``ALERT_RULES`` and the other ``ALERT_*`` settings.

Pure parsing, shared by the settings' validation and the alert actor, so a rule list that
starts the bot is exactly the one the actor runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Rule(StrEnum):
    CIRCUIT_BREAKER = "circuit_breaker"
    DAILY_LOSS = "daily_loss"
    LEDGER_HALT = "ledger_halt"
    HALT = "halt"  # any other halt of trading (e.g. a retired exchange endpoint)
    FEED_STALE = "feed_stale"
    EXCHANGE_ERRORS = "exchange_errors"
    RESTART_STORM = "restart_storm"
    FILL = "fill"
    DAILY_SUMMARY = "daily_summary"


LEVELS = ("info", "warning", "error", "critical")


@dataclass(frozen=True, slots=True)
class RuleSetting:
    enabled: bool
    level: str


DEFAULT_RULES: Mapping[Rule, RuleSetting] = MappingProxyType(
    {
        Rule.CIRCUIT_BREAKER: RuleSetting(True, "critical"),
        Rule.DAILY_LOSS: RuleSetting(True, "warning"),
        Rule.LEDGER_HALT: RuleSetting(True, "critical"),
        Rule.HALT: RuleSetting(True, "critical"),
        Rule.FEED_STALE: RuleSetting(True, "warning"),
        Rule.EXCHANGE_ERRORS: RuleSetting(True, "error"),
        Rule.RESTART_STORM: RuleSetting(True, "error"),
        Rule.FILL: RuleSetting(False, "info"),  # a busy day would flood the phone
        Rule.DAILY_SUMMARY: RuleSetting(True, "info"),
    }
)


def parse_rules(text: str) -> dict[Rule, RuleSetting]:
    """``ALERT_RULES``: comma- or space-separated ``name``, ``name:off`` or ``name:LEVEL``
    entries over the defaults (``fill:info`` turns fills on; ``restart_storm:off`` mutes it).
    Raises ``ValueError`` naming the bad entry."""
    rules = dict(DEFAULT_RULES)
    for entry in text.replace(",", " ").split():
        name, _, value = entry.partition(":")
        try:
            rule = Rule(name.strip().lower())
        except ValueError:
            known = ", ".join(r.value for r in Rule)
            raise ValueError(f"unknown rule {name!r} (rules: {known})") from None
        value = value.strip().lower()
        if value in ("", "on"):
            rules[rule] = RuleSetting(True, rules[rule].level)
        elif value == "off":
            rules[rule] = RuleSetting(False, rules[rule].level)
        elif value in LEVELS:
            rules[rule] = RuleSetting(True, value)
        else:
            raise ValueError(
                f"{entry!r}: after the colon put on, off or a level ({', '.join(LEVELS)})"
            )
    return rules


def parse_time_of_day(text: str) -> int:
    """``ALERT_DAILY_SUMMARY_AT``: ``HH:MM`` in UTC, as minutes after midnight."""
    hours, colon, minutes = text.strip().partition(":")
    if not (colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError("must be a UTC time of day as HH:MM, e.g. 00:00 or 21:30")
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError("must be a UTC time of day as HH:MM, e.g. 00:00 or 21:30")
    return h * 60 + m


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Everything the alert policy needs, in plain values (seconds, counts)."""

    rules: Mapping[Rule, RuleSetting] = field(default_factory=lambda: dict(DEFAULT_RULES))
    dedupe_seconds: float = 15 * 60.0
    feed_stale_seconds: float = 60.0
    error_burst: int = 5
    restart_storm: int = 5
    burst_window_seconds: float = 60.0
    summary_minute: int = 0  # minutes after 00:00 UTC
    source: str = "sol15"  # names the bot (and its mode) in every title

    def setting(self, rule: Rule) -> RuleSetting:
        return self.rules.get(rule, DEFAULT_RULES[rule])
