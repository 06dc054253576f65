"""Typed queries and timers: an unanswered query is a loud dead letter, a timer its own type."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from loguru import logger

from actors.health_monitor import HealthMonitor, HealthReport
from messages.queries import GetOrders, GetReport
from messages.timers import HealthTick
from runtime.quiescence import quiesce
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from runtime.timers import PeriodicTimer
from tests.runtime.fixture_actors import Add

ROOT = Path(__file__).resolve().parents[2]


def _warnings() -> tuple[list[str], int]:
    said: list[str] = []
    sink = logger.add(
        lambda m: said.append(str(m).rstrip("\n")), level="WARNING", format="{message}"
    )
    return said, sink


def test_a_query_an_actor_does_not_answer_is_a_counted_logged_dead_letter(
    system: ActorSystem,
) -> None:
    system.start(SupervisorSpec("root", (ChildSpec.of("health", HealthMonitor),)))
    said, sink = _warnings()
    try:
        assert system.ask("health", GetOrders(), timeout=10) is None  # the order actor's question
    finally:
        logger.remove(sink)
    assert system.dead_letters.kinds() == [
        {"to": "health", "message": "GetOrders", "reason": "query not answered", "count": 1}
    ]
    assert said == ["health does not answer GetOrders"]
    assert isinstance(system.ask("health", GetReport(), timeout=10), HealthReport)  # still up
    assert system.dead_letters.total == 1


def test_other_messages_an_actor_does_not_handle_are_ignored_quietly(system: ActorSystem) -> None:
    """A topic carries many types and each subscriber takes its own: those are no dead letters."""
    system.start(SupervisorSpec("root", (ChildSpec.of("health", HealthMonitor),)))
    said, sink = _warnings()
    try:
        system.tell("health", Add(1))
        quiesce(system)
    finally:
        logger.remove(sink)
    assert system.dead_letters.total == 0 and said == []


def test_a_timer_is_named_by_its_tick_type(system: ActorSystem) -> None:
    with pytest.raises(ValueError, match="HealthTick: interval must be > 0"):
        PeriodicTimer(system.clock, system.address("x"), HealthTick, 0)


def _string_dispatches(path: Path) -> list[str]:
    """``message == "..."`` comparisons in ``path``: the untyped dispatch this replaced."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Name)
            and node.left.id in ("message", "msg")
            and any(
                isinstance(c, ast.Constant) and isinstance(c.value, str) for c in node.comparators
            )
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_actor_dispatches_on_a_string() -> None:
    """A string query or timer name that no branch matches would be a silent dead letter."""
    modules = [p for d in ("actors", "app", "runtime", "hub") for p in (ROOT / d).rglob("*.py")]
    assert len(modules) > 30
    assert [hit for p in modules for hit in _string_dispatches(p)] == []
