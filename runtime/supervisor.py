"""Supervisors: start children in order, restart the ones that fail, escalate when failures persist.

A supervisor is itself an actor, so every decision it takes (restart, stop,
escalate) is serialized through its mailbox. Restarts wait for a backoff delay
measured on the system clock; too many restarts inside the intensity window
make the supervisor stop its children in reverse order and fail itself, which
hands the problem to its own supervisor. At the root that ends the process
with a non-zero exit code, so the OS supervisor (systemd) takes over.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pykka
from loguru import logger

from messages.system import ActorCrashed, ActorRestarted, ActorStopped, Escalated, Ping
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import SYSTEM
from runtime.clock import TimerHandle
from runtime.restart_policy import Backoff, Restart, RestartIntensity, RestartWindow, Strategy
from runtime.system import ActorSystem
from runtime.tree import FailureInfo, TreeNode

ActorStarter = Callable[[ActorContext], pykka.ActorRef[Any]]


class SupervisorEscalated(RuntimeError):
    """A supervisor exceeded its restart intensity and gives up."""


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """How to start one child and what to do when it fails."""

    id: str
    start: ActorStarter
    restart: Restart = Restart.PERMANENT
    shutdown_timeout: float = 5.0
    start_timeout: float = 10.0
    kind: str = "actor"
    strategy: str | None = None  # for supervisors: how they restart their own children

    @classmethod
    def of(
        cls,
        id: str,
        actor_class: type[SupervisedActor],
        *args: Any,
        restart: Restart = Restart.PERMANENT,
        shutdown_timeout: float = 5.0,
        **kwargs: Any,
    ) -> ChildSpec:
        def start(context: ActorContext) -> pykka.ActorRef[Any]:
            return actor_class.start(context, *args, **kwargs)

        return cls(id, start, restart, shutdown_timeout)


@dataclass(frozen=True, slots=True)
class SupervisorSpec:
    id: str
    children: tuple[ChildSpec | SupervisorSpec, ...] = ()
    strategy: Strategy = Strategy.ONE_FOR_ONE
    max_restarts: int = 5
    within: float = 30.0
    backoff: Backoff = field(default_factory=Backoff)
    restart: Restart = Restart.PERMANENT
    shutdown_timeout: float = 30.0

    def as_child(self) -> ChildSpec:
        spec = self

        def start(context: ActorContext) -> pykka.ActorRef[Any]:
            return Supervisor.start(context, spec)

        return ChildSpec(
            self.id,
            start,
            self.restart,
            self.shutdown_timeout,
            start_timeout=60.0,
            kind="supervisor",
            strategy=self.strategy.value,
        )


# -- the supervisor's own messages (runtime-internal, never on the wire) -----------


@dataclass(frozen=True, slots=True)
class StartChild:
    """Add a dynamic child. Send with ``tell`` and ``exist_ok=True`` from a child of this
    supervisor: asking it would wait on a supervisor that may be busy starting the asker."""

    spec: ChildSpec | SupervisorSpec
    exist_ok: bool = False


@dataclass(frozen=True, slots=True)
class StopChild:
    id: str
    missing_ok: bool = False


@dataclass(frozen=True, slots=True)
class GetTree:
    pass


@dataclass(frozen=True, slots=True)
class _RestartDue:
    token: int


@dataclass
class _Child:
    spec: ChildSpec
    incarnation: int = 0
    state: str = "starting"
    restarts: int = 0
    ref: pykka.ActorRef[Any] | None = None
    last_failure: FailureInfo | None = None
    window: RestartWindow | None = None


@dataclass
class _PendingRestart:
    ids: list[str]
    delay: float
    handle: TimerHandle


def _as_child(spec: ChildSpec | SupervisorSpec) -> ChildSpec:
    return spec.as_child() if isinstance(spec, SupervisorSpec) else spec


class Supervisor(SupervisedActor):
    def __init__(self, context: ActorContext, spec: SupervisorSpec) -> None:
        super().__init__(context)
        self.spec = spec
        self.children: dict[str, _Child] = {}
        self.intensity = RestartIntensity(spec.max_restarts, spec.within)
        self._pending: dict[int, _PendingRestart] = {}
        self._tokens = itertools.count(1)
        self.system.supervisors.add(self.name)

    def setup(self) -> None:
        for spec in self.spec.children:
            self._start_child(self._add(_as_child(spec)))

    def handle(self, message: Any) -> Any:
        if isinstance(message, ActorCrashed):
            self._on_crash(message)
        elif isinstance(message, _RestartDue):
            self._on_restart_due(message.token)
        elif isinstance(message, GetTree):
            return tuple(self._node(child) for child in self.children.values())
        elif isinstance(message, StartChild):
            spec = _as_child(message.spec)
            existing = self.children.get(spec.id)
            if existing is not None and existing.state != "stopped":
                if message.exist_ok:
                    return None
                raise ValueError(f"{self.name} already has a child {spec.id!r}")
            self._start_child(self._add(spec))
        elif isinstance(message, StopChild):
            child = self.children.get(message.id)
            if child is None:
                if message.missing_ok:
                    return None
                raise KeyError(f"{self.name} has no child {message.id!r}")
            self._stop_child(child, reason="stopped by request")
            del self.children[message.id]
        else:
            return super().handle(message)
        return None

    def teardown(self) -> None:
        for pending in self._pending.values():
            pending.handle.cancel()
            self.system.restart_settled()
        self._pending.clear()
        keep_mail = self.crashed is not None  # failing: a restarted subtree gets its mail back
        for child in reversed(list(self.children.values())):
            self._stop_child(
                child, reason=f"{self.name} stopped", for_restart=keep_mail, announce=False
            )

    # -- starting and stopping -----------------------------------------------------

    def _add(self, spec: ChildSpec) -> _Child:
        child = _Child(spec, window=RestartWindow(self.spec.within))
        self.children[spec.id] = child
        return child

    def _start_child(self, child: _Child) -> None:
        child.incarnation += 1
        child.state = "starting"
        context = ActorContext(child.spec.id, self.system, child.incarnation, self.name)
        try:
            child.ref = child.spec.start(context)
        except Exception as exc:  # the constructor itself failed: treat it like a failed start
            logger.opt(exception=exc).error("{} could not be constructed", child.spec.id)
            self.address.tell(self._crash_of(child, exc))
            return
        try:
            child.ref.ask(Ping(), timeout=child.spec.start_timeout)
        except pykka.ActorDeadError:
            return  # its crash report is already in our mailbox
        except pykka.Timeout:
            logger.warning("{} is slow to start; carrying on", child.spec.id)
        if child.state == "starting":
            child.state = "running"

    def _crash_of(self, child: _Child, exc: Exception) -> ActorCrashed:
        return ActorCrashed(
            child.spec.id, child.incarnation, type(exc).__name__, str(exc), True, self.clock.now()
        )

    def _stop_child(
        self, child: _Child, *, reason: str, for_restart: bool = False, announce: bool = True
    ) -> None:
        address = self.system.address(child.spec.id)
        ref, child.ref = child.ref, None
        if for_restart:
            address.hold_for_restart()
        if ref is not None and ref.is_alive():
            try:
                ref.stop(block=True, timeout=child.spec.shutdown_timeout)
            except pykka.Timeout:
                logger.error(
                    "{} did not stop within {} s; abandoning it",
                    child.spec.id,
                    child.spec.shutdown_timeout,
                )
        if not for_restart:
            address.close(reason)
            child.state = "stopped"
            if announce:
                self.publish(SYSTEM, ActorStopped(child.spec.id, reason, self.clock.now()))

    # -- failures and restarts -----------------------------------------------------

    def _on_crash(self, crash: ActorCrashed) -> None:
        child = self.children.get(crash.name)
        if child is None or crash.incarnation != child.incarnation:
            return  # a report from an incarnation we already replaced
        if child.state not in ("starting", "running"):
            return  # already being restarted or stopped
        child.ref = None
        child.last_failure = FailureInfo(
            crash.error_type, crash.error, crash.at, crash.during_start
        )
        if child.spec.restart is Restart.TEMPORARY:
            self.system.address(child.spec.id).close("temporary child failed")
            child.state = "stopped"
            del self.children[child.spec.id]
            self.publish(SYSTEM, ActorStopped(child.spec.id, "temporary child failed", crash.at))
            return
        now = self.clock.now()
        if not self.intensity.allow(now):
            child.state = "failed"
            restarts = self.intensity.max_restarts
            self.publish(SYSTEM, Escalated(self.name, restarts, self.intensity.within, now))
            raise SupervisorEscalated(
                f"{self.name}: more than {restarts} restarts in {self.intensity.within:g} s "
                f"(last: {crash.name} {crash.error_type}: {crash.error})"
            )
        assert child.window is not None
        attempt = child.window.record(now)
        group = [child]
        if self.spec.strategy is Strategy.REST_FOR_ONE:
            ids = list(self.children)
            later = [self.children[i] for i in ids[ids.index(child.spec.id) + 1 :]]
            for sibling in reversed(later):
                if sibling.state in ("starting", "running"):
                    self._stop_child(sibling, reason="rest_for_one", for_restart=True)
            group.extend(later)
        for member in group:
            self._cancel_pending(member.spec.id)
            member.state = "restarting"
        delay = self.spec.backoff.delay(attempt, self.system.rng)
        token = next(self._tokens)
        address = self.address
        handle = self.clock.call_later(delay, lambda: address.tell(_RestartDue(token)))
        self._pending[token] = _PendingRestart([m.spec.id for m in group], delay, handle)
        self.system.restart_scheduled()

    def _cancel_pending(self, child_id: str) -> None:
        for token, pending in list(self._pending.items()):
            if child_id in pending.ids:
                pending.ids.remove(child_id)
                if not pending.ids:
                    pending.handle.cancel()
                    del self._pending[token]
                    self.system.restart_settled()

    def _on_restart_due(self, token: int) -> None:
        pending = self._pending.pop(token, None)
        if pending is None:
            return
        self.system.restart_settled()
        for child_id in pending.ids:
            child = self.children.get(child_id)
            if child is None or child.state != "restarting":
                continue
            child.restarts += 1
            self._start_child(child)
            restarted = ActorRestarted(
                child_id, child.incarnation, child.restarts, pending.delay, self.clock.now()
            )
            logger.info("restarted {} (restart {})", child_id, child.restarts)
            self.publish(SYSTEM, restarted)

    # -- the tree ------------------------------------------------------------------

    def _node(self, child: _Child) -> TreeNode:
        address = self.system.address(child.spec.id)
        grandchildren: tuple[TreeNode, ...] = ()
        if child.spec.kind == "supervisor" and child.ref is not None and child.state == "running":
            try:
                grandchildren = child.ref.ask(GetTree(), block=True, timeout=2.0)
            except (pykka.ActorDeadError, pykka.Timeout):
                grandchildren = ()
        return TreeNode(
            name=child.spec.id,
            kind=child.spec.kind,
            state=child.state,
            incarnation=child.incarnation,
            restarts=child.restarts,
            mailbox=address.mailbox_size(),
            buffered=address.buffered(),
            handled=address.handled,
            last_failure=child.last_failure,
            strategy=child.spec.strategy,
            children=grandchildren,
        )


def start_root(system: ActorSystem, spec: SupervisorSpec) -> pykka.ActorRef[Any]:
    """Start ``spec`` as the root of the tree; returns once every child has started."""
    context = ActorContext(spec.id, system, 1, supervisor=None)
    ref = Supervisor.start(context, spec)
    try:
        ref.ask(Ping(), timeout=120)
    except pykka.ActorDeadError:
        raise RuntimeError(f"root supervisor {spec.id!r} failed to start") from None
    return ref
