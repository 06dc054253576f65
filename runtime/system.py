"""The actor system: one place that owns the clock, the address directory, the bus and dead letters."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pykka
from loguru import logger

from messages.system import ActorCrashed
from runtime.address import Address, DeadLetters
from runtime.bus import Bus
from runtime.clock import Clock, WallClock
from runtime.tree import FailureInfo, TreeNode

if TYPE_CHECKING:
    from runtime.supervisor import SupervisorSpec


class ActorSystem:
    def __init__(
        self,
        clock: Clock | None = None,
        seed: int | None = None,
        restart_buffer: int = 10_000,
    ) -> None:
        self.clock: Clock = clock if clock is not None else WallClock()
        self.rng = random.Random(seed)
        self.dead_letters = DeadLetters()
        self._restart_buffer = restart_buffer
        self._addresses: dict[str, Address] = {}
        self._lock = threading.Lock()
        self.bus = Bus(self.address)
        self._pending_restarts = 0
        self.escalated = threading.Event()
        self.escalation: ActorCrashed | None = None
        self.root: pykka.ActorRef[Any] | None = None
        self.root_spec: SupervisorSpec | None = None
        self.supervisors: set[str] = set()  # names of supervisor actors (never chaos victims)
        self._on_escalation: list[Callable[[ActorCrashed], None]] = []

    def address(self, name: str) -> Address:
        """The stable address for ``name`` (created on first use)."""
        found = self._addresses.get(name)
        if found is not None:
            return found
        with self._lock:
            return self._addresses.setdefault(
                name, Address(name, self.dead_letters, self._restart_buffer)
            )

    def addresses(self) -> list[Address]:
        with self._lock:
            return list(self._addresses.values())

    def tell(self, name: str, message: object) -> None:
        self.address(name).tell(message)

    def ask(
        self, name: str, message: object, timeout: float | None = 5.0, *, probe: bool = False
    ) -> Any:
        return self.address(name).ask(message, timeout=timeout, probe=probe)

    # -- restart bookkeeping (read by quiescence checks) ------------------------

    @property
    def pending_restarts(self) -> int:
        return self._pending_restarts

    def restart_scheduled(self) -> None:
        with self._lock:
            self._pending_restarts += 1

    def restart_settled(self) -> None:
        with self._lock:
            self._pending_restarts -= 1

    # -- the root of the tree --------------------------------------------------

    def start(self, spec: SupervisorSpec) -> pykka.ActorRef[Any]:
        """Start the root supervisor and wait until its children are up."""
        from runtime.supervisor import start_root

        self.root_spec = spec
        self.root = start_root(self, spec)
        return self.root

    def tree(self, timeout: float = 5.0) -> TreeNode:
        """A snapshot of the supervision tree: name, state, restarts, mailbox, last failure."""
        from runtime.supervisor import GetTree

        if self.root_spec is None:
            raise RuntimeError("the system has no root supervisor")
        root, spec = self.root, self.root_spec
        address = self.address(spec.id)
        alive = root is not None and root.is_alive()
        children: tuple[TreeNode, ...] = ()
        if root is not None and alive:
            try:
                children = root.ask(GetTree(), block=True, timeout=timeout)
            except pykka.ActorDeadError:  # the root failed between the check and the answer
                alive = False
        return TreeNode(
            name=spec.id,
            kind="supervisor",
            state="running" if alive else ("failed" if self.escalated.is_set() else "stopped"),
            incarnation=address.incarnation,
            restarts=0,
            mailbox=address.mailbox_size(),
            buffered=address.buffered(),
            handled=address.handled,
            last_failure=None
            if self.escalation is None
            else FailureInfo(
                self.escalation.error_type, self.escalation.error, self.escalation.at, False
            ),
            strategy=spec.strategy.value,
            children=children,
        )

    def on_escalation(self, callback: Callable[[ActorCrashed], None]) -> None:
        self._on_escalation.append(callback)

    def root_failed(self, crash: ActorCrashed) -> None:
        """The root supervisor gave up: the last line is the OS supervisor (exit non-zero)."""
        logger.critical("root supervisor failed: {}: {}", crash.error_type, crash.error)
        self.escalation = crash
        self.escalated.set()
        for callback in self._on_escalation:
            callback(crash)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the tree in reverse start order, then the clock's timer thread."""
        root, self.root = self.root, None
        if root is not None and root.is_alive():
            root.stop(block=True, timeout=timeout)
        for address in self.addresses():
            address.close("system shut down")
        close = getattr(self.clock, "close", None)
        if close is not None:
            close()
