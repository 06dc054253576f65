"""The alert actor end to end against local destinations (apprise ``json://127.0.0.1:PORT``):
a real circuit breaker trip, a burst of one cause, a destination that never answers while
orders go through, retries with backoff, and failures logged without the URL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal as D

from loguru import logger

from actors.alerts import ALERTER, AlertActor, Deliveries, Outbox
from actors.risk import RiskActor
from alerting.policy import Notice
from alerting.rules import AlertConfig, Rule, parse_rules
from alerting.targets import Target, targets_of
from messages.status import Alert
from messages.system import CrashNow
from runtime.bus import ALERTS, FILLS, ORDERS, SIGNALS, STATUS
from runtime.clock import SimClock
from runtime.quiescence import quiesce, settle
from runtime.restart_policy import Backoff, Strategy
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.actors.probe import Probe, ProbeLog
from tests.actors.test_pipeline_limits import (
    BREAKER_LIMITS,
    NO_BACKOFF,
    START,
    T1,
    T2,
    Desk,
    FakeOrderActor,
    Rig,
    live_markets,
)
from tests.alerting.receiver import closed_port, silent, webhook

NO_WAIT = Backoff(initial=0.0, maximum=0.0, jitter=0.0)


@dataclass
class AlertRig:
    rig: Rig
    record: Deliveries

    def idle(self) -> None:
        quiesce(self.rig.system)
        assert self.record.wait_idle(5), "the outbox did not finish"


@contextmanager
def trading_with_alerts(
    url: str, config: AlertConfig | None = None, bankroll: str = "100", drain: float = 3.0
) -> Iterator[AlertRig]:
    """Risk and a fake order actor (tests/actors/test_pipeline_limits.py) with the alert actor."""
    clock = SimClock(start=START)
    system = ActorSystem(clock=clock, seed=3)
    desk, log, record = Desk(), ProbeLog(), Deliveries()
    trading = SupervisorSpec(
        "trading",
        (
            ChildSpec.of("risk", RiskActor, BREAKER_LIMITS, None, D(bankroll)),
            ChildSpec.of("order", FakeOrderActor, desk),
        ),
        strategy=Strategy.REST_FOR_ONE,
        backoff=NO_BACKOFF,
    )
    probe = ChildSpec.of("probe", Probe, (SIGNALS, ORDERS, FILLS, ALERTS, STATUS), log)
    alerter = ChildSpec.of(
        ALERTER,
        AlertActor,
        targets_of(url),
        config or AlertConfig(source="sol15 test"),
        record=record,
        backoff=NO_WAIT,
        attempts=2,
        drain_timeout=drain,
    )
    system.start(SupervisorSpec("root", (probe, trading, alerter), backoff=NO_BACKOFF))
    try:
        yield AlertRig(Rig(system, clock, desk, log, BREAKER_LIMITS), record)
    finally:
        system.shutdown()


def test_the_breaker_trips_and_exactly_one_alert_arrives() -> None:
    with webhook() as hook, trading_with_alerts(hook.url()) as a:
        rig = a.rig
        live_markets(rig)
        assert rig.decide(ticker=T1, quantity=100, price="0.50").approved  # $50 of YES
        a.idle()
        assert hook.bodies == []  # a fill is off by default
        rig.book(T1, "0.10", "0.12")  # marked down: more than 20 % of the day gone
        rig.book(T1, "0.05", "0.07")  # and further: the breaker is already tripped
        a.idle()
        assert rig.status().circuit_breaker_triggered
        [body] = hook.wait_for(1)
        a.idle()
        assert len(hook.bodies) == 1
    assert body["path"] == "/hook" and body["type"] == "failure"
    assert body["title"] == "sol15 test CRITICAL: circuit breaker"
    assert body["message"].startswith("circuit breaker: drawdown")


def test_ten_identical_causes_give_one_alert_then_a_suppressed_count() -> None:
    config = AlertConfig(source="sol15 test", dedupe_seconds=600.0)
    with webhook() as hook, trading_with_alerts(hook.url(), config) as a:
        system = a.rig.system
        for n in range(10):
            text = f"the ledger cannot write (attempt {n + 1})"
            system.bus.publish(ALERTS, Alert("ledger_unavailable", text, "critical", START))
        a.idle()
        [first] = hook.wait_for(1)
        assert first["message"] == "the ledger cannot write (attempt 1)"
        a.rig.advance(600)  # the window passes: the alert actor's timer finds what it held
        a.idle()
        bodies = hook.wait_for(2)
        a.idle()
        assert len(hook.bodies) == 2
    assert bodies[1]["title"] == "sol15 test CRITICAL: ledger unavailable"
    assert bodies[1]["message"] == (
        "the ledger cannot write (attempt 10)\n"
        "(9 like this were held back in the last 10 min; this is the latest)"
    )


def test_a_destination_that_never_answers_never_delays_an_order() -> None:
    """Fills are alerted, to a socket that accepts and never answers: while the first alert
    hangs there, a second order is decided and filled as fast as without alerts."""
    config = AlertConfig(rules=parse_rules("fill:info"), source="sol15 test")
    with silent() as dead, trading_with_alerts(dead.url(), config, drain=0.1) as a:
        rig = a.rig
        live_markets(rig)
        assert rig.decide(ticker=T1, quantity=5, price="0.50").approved
        assert dead.accepted.wait(5), "the alert never reached the silent destination"
        began = time.monotonic()
        second = rig.decide(ticker=T2, quantity=5, price="0.50")  # signal → decision → fill
        elapsed = time.monotonic() - began
        assert second.approved and any(f.ticker == T2 for f in rig.desk.fills)
        assert a.record.sent[targets_of(dead.url())[0].label] == 0  # still nothing answered
        # apprise waits 4 s for an answer: an order that waited on the alert would take that
        assert elapsed < 1.0, f"the order took {elapsed:.3f} s"
        # the first fill's alert is still stuck in its request, the second's queued behind it
        assert a.record.pending == 2


def _notice() -> Notice:
    return Notice(Rule.HALT, "halted", "critical", "halted", "trading halted", START)


def _outbox(send: Callable[[Target, str, str, str], bool], attempts: int) -> Outbox:
    return Outbox(targets_of("json://127.0.0.1:9/x"), send, attempts=attempts, backoff=NO_WAIT)


def test_a_failing_destination_is_retried_then_given_up_and_the_worker_lives_on() -> None:
    answers = iter([False, False, True])
    calls: list[str] = []

    def flaky(target: Target, title: str, body: str, level: str) -> bool:
        calls.append(title)
        return next(answers)

    box = _outbox(flaky, attempts=4)
    box.put(_notice())
    assert box.record.wait_idle(5)
    assert calls == ["sol15 CRITICAL: halted"] * 3
    label = box.targets[0].label
    assert box.record.sent[label] == 1 and box.record.failed[label] == 0

    def broken(target: Target, title: str, body: str, level: str) -> bool:
        raise RuntimeError("plugin bug")

    box.send = broken
    box.put(_notice())
    box.put(_notice())
    assert box.record.wait_idle(5)
    assert box.record.failed[label] == 2 and box.record.attempts[label] == 3 + 2 * 4  # bounded
    box.close(1.0)


def test_a_full_queue_drops_and_counts_instead_of_blocking() -> None:
    box = Outbox(targets_of("json://127.0.0.1:9/x"), lambda *_: True, capacity=1)
    box.close(1.0)  # no worker left: the queue fills
    box.put(_notice())
    box.put(_notice())
    assert box.record.dropped[box.targets[0].label] >= 1


def test_a_dead_destination_is_logged_without_its_url() -> None:
    lines: list[str] = []
    sink = logger.add(lines.append, level="WARNING", format="{message}")
    try:
        port = closed_port()
        secret = "s3cr3t-t0ken"
        box = Outbox(
            targets_of(f"json://bot:{secret}@127.0.0.1:{port}/hook/{secret}"),
            attempts=2,
            backoff=NO_WAIT,
        )
        box.put(_notice())
        assert box.record.wait_idle(10)
        box.close(1.0)
    finally:
        logger.remove(sink)
    assert box.record.failed["alert URL 1 (json)"] == 1
    assert any("alert URL 1 (json) did not take the halted alert" in x for x in lines)
    assert any("gave up on the halted alert after 2 attempts" in x for x in lines)
    assert not any(secret in x or str(port) in x for x in lines)


def test_a_restarted_alert_actor_keeps_sending() -> None:
    with webhook() as hook, trading_with_alerts(hook.url()) as a:
        system = a.rig.system
        system.tell(ALERTER, CrashNow("test"))
        settle(system, a.rig.clock)
        assert system.address(ALERTER).incarnation == 2
        system.bus.publish(ALERTS, Alert("halted", "trading halted: venue", "critical", START))
        a.idle()
        [body] = hook.wait_for(1)
    assert body["title"] == "sol15 test CRITICAL: halted"
