"""The alert policy (pure): which events become a message, and the dedupe with its counts."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from alerting.daily import DailySummary
from alerting.policy import DAY, AlertPolicy, Dedupe, Notice, next_daily
from alerting.rules import DEFAULT_RULES, AlertConfig, Rule, RuleSetting, parse_rules
from messages.market_data import FeedState
from messages.status import Alert
from messages.system import ActorRestarted, Escalated
from messages.trading import Fill, OrderUpdate
from messages.vocabulary import OrderStatus as S

START = 1_779_926_400.0  # 2026-05-28T00:00:00Z


class Clock:
    def __init__(self, now: float = START + 3600) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def policy(clock: Clock, **kwargs: object) -> AlertPolicy:
    return AlertPolicy(AlertConfig(**kwargs), clock)  # type: ignore[arg-type]


def breaker(at: float) -> Alert:
    return Alert("circuit_breaker", "circuit breaker: drawdown 25% ≥ 20%", "critical", at)


def test_rules_default_and_override() -> None:
    rules = parse_rules("")
    assert rules == dict(DEFAULT_RULES)
    assert not rules[Rule.FILL].enabled and rules[Rule.CIRCUIT_BREAKER].enabled
    rules = parse_rules("fill:info, restart_storm:off circuit_breaker:warning daily_loss")
    assert rules[Rule.FILL] == RuleSetting(True, "info")
    assert rules[Rule.RESTART_STORM] == RuleSetting(False, "error")
    assert rules[Rule.CIRCUIT_BREAKER] == RuleSetting(True, "warning")
    with pytest.raises(ValueError, match="unknown rule 'breaker'"):
        parse_rules("breaker")
    with pytest.raises(ValueError, match="on, off or a level"):
        parse_rules("fill:loud")


def test_the_breaker_gives_one_notice_at_its_level_and_unrelated_alerts_none() -> None:
    clock = Clock()
    p = policy(clock)
    [notice] = p.consider(breaker(clock.now))
    assert notice.rule is Rule.CIRCUIT_BREAKER and notice.level == "critical"
    assert notice.title("sol15 paper") == "sol15 paper CRITICAL: circuit breaker"
    assert p.consider(Alert("reset", "circuit breaker reset", "info", clock.now)) == []
    assert p.consider(Alert("order_adopted", "3 adopted", "warning", clock.now)) == []


def test_ten_identical_causes_give_one_notice_then_the_latest_with_the_count() -> None:
    clock = Clock()
    p = policy(clock, dedupe_seconds=600.0)
    sent = [n for _ in range(10) for n in p.consider(breaker(clock.now))]
    assert len(sent) == 1 and sent[0].suppressed == 0
    clock.now += 599
    assert p.on_time() == []  # still inside the window
    clock.now += 1
    [digest] = p.on_time()
    assert digest.suppressed == 9 and digest.cause == "circuit_breaker"
    assert "9 like this were held back in the last 10 min" in digest.text()
    assert p.on_time() == []  # counted once
    clock.now += 600
    [again] = p.consider(breaker(clock.now))  # a new window: sent at once, nothing held
    assert again.suppressed == 0


def test_dedupe_is_per_cause() -> None:
    d = Dedupe(60.0)
    a = Notice(Rule.HALT, "a", "critical", "a", "a", 0.0)
    b = Notice(Rule.HALT, "b", "critical", "b", "b", 1.0)
    assert d.admit(a) == a and d.admit(b) == b


def test_a_disabled_rule_sends_nothing_and_fills_are_off_by_default() -> None:
    clock = Clock()
    fill = Fill("t1", "o1", "c1", "KX-1", "yes", "buy", 3, D("0.55"), D("0.05"), True, clock.now)
    assert policy(clock).consider(fill) == []
    rules = parse_rules("fill:info,circuit_breaker:off")
    p = policy(clock, rules=rules)
    assert p.consider(breaker(clock.now)) == []
    [notice] = p.consider(fill)
    assert notice.body == "buy 3 YES KX-1 at $0.55 (fee $0.05)" and notice.level == "info"


def test_the_feed_is_stale_after_n_seconds_down_and_its_return_is_told() -> None:
    clock = Clock()
    p = policy(clock, feed_stale_seconds=30.0)
    assert p.consider(FeedState(False, "socket closed", clock.now)) == []
    clock.now += 29
    assert p.on_time() == []
    clock.now += 1
    [stale] = p.on_time()
    assert stale.rule is Rule.FEED_STALE and "no market data for 30 s" in stale.body
    assert p.on_time() == []  # once per outage
    clock.now += 10
    [back] = p.consider(FeedState(True, "reconnected", clock.now))
    assert back.cause == "feed_recovered" and "after 40 s" in back.body
    # a short outage says nothing either way
    p.consider(FeedState(False, "blip", clock.now))
    clock.now += 5
    assert p.on_time() == [] and p.consider(FeedState(True, "reconnected", clock.now)) == []


def _rejected(at: float, reason: str) -> OrderUpdate:
    return OrderUpdate(
        "c", None, "KX-1", "yes", "buy", S.REJECTED, 0, 0, D("0.5"), "s", at, reason=reason
    )


def test_an_exchange_error_burst_counts_inside_its_window() -> None:
    clock = Clock()
    p = policy(clock, error_burst=3, burst_window_seconds=60.0)
    assert p.consider(_rejected(clock.now, "insufficient_balance")) == []
    clock.now += 61  # the first one falls out of the window
    assert p.consider(_rejected(clock.now, "market_closed")) == []
    assert p.consider(_rejected(clock.now, "market_closed")) == []
    [burst] = p.consider(_rejected(clock.now, "rate_limited"))
    assert burst.rule is Rule.EXCHANGE_ERRORS and burst.level == "error"
    assert burst.body.startswith("3 orders rejected or failed in the last 60 s")
    assert "market_closed ×2" in burst.body


def test_a_restart_storm_and_an_escalation() -> None:
    clock = Clock()
    p = policy(clock, restart_storm=2)
    assert p.consider(ActorRestarted("order", 2, 1, 0.1, clock.now)) == []
    [storm] = p.consider(ActorRestarted("order", 3, 2, 0.2, clock.now))
    assert storm.rule is Rule.RESTART_STORM and "order ×2" in storm.body
    [gave_up] = p.consider(Escalated("trading", 11, 60.0, clock.now))
    assert gave_up.cause == "escalated:trading"


def test_the_daily_summary_is_due_once_a_day_at_its_time() -> None:
    assert next_daily(START + 10, 90) == START + 5400
    assert next_daily(START + 5400, 90) == START + DAY + 5400
    clock = Clock(START + 5000)
    p = policy(clock, summary_minute=90)
    assert p.summary_due() is None
    clock.now = START + 5405
    assert p.summary_due() == (START + 5400 - DAY, START + 5400)
    assert p.summary_due() is None
    summary = DailySummary(START, START + DAY, 3, 11, D("0.0975"), 2, 1, D("4.5"))
    [notice] = p.summary_notice(summary)
    assert notice.rule is Rule.DAILY_SUMMARY and "realized P&L: $4.5000" in notice.body
    later = Clock(START + 5405)
    off = policy(later, summary_minute=90, rules=parse_rules("daily_summary:off"))
    later.now = START + DAY + 5405
    assert off.summary_due() is None
