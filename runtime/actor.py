"""The base class of every sol15 actor.

pykka stops an actor whose ``tell`` handler raises and drops its mailbox; it
also skips ``on_failure`` when ``on_start`` raises. ``SupervisedActor`` closes
both gaps: it reports every failure to its supervisor, hands unhandled
messages back to its address for the next incarnation, and cleans up in one
place (``teardown``) whether it stopped or failed.
"""

from __future__ import annotations

import queue
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pykka
from loguru import logger

from messages.queries import Query
from messages.system import ActorCrashed, CrashNow, Ping, Pong, Tick
from runtime.address import AddressState
from runtime.bus import SYSTEM
from runtime.timers import PeriodicTimer

if TYPE_CHECKING:
    from runtime.address import Address
    from runtime.clock import TimerHandle
    from runtime.system import ActorSystem


class InjectedCrash(RuntimeError):
    """Raised by an actor on a ``CrashNow`` message (fault injection)."""


@dataclass(frozen=True, slots=True)
class ActorContext:
    """What an actor is told about its place in the tree when it starts."""

    name: str
    system: ActorSystem
    incarnation: int
    supervisor: str | None  # address name of the supervisor; None for the root

    @property
    def address(self) -> Address:
        return self.system.address(self.name)


class SupervisedActor(pykka.ThreadingActor):
    """Subclasses implement ``setup``, ``handle`` and ``teardown``; they never override pykka hooks."""

    # A hung actor must not keep the process alive after an orderly shutdown gave up on it.
    use_daemon_thread = True

    def __init__(self, context: ActorContext) -> None:
        super().__init__()
        self.context = context
        self.name = context.name
        self.system = context.system
        self.clock = context.system.clock
        self.address = context.address
        self._timers: dict[type[Tick], PeriodicTimer] = {}
        self._one_shots: list[TimerHandle] = []
        self._torn_down = False
        self.crashed: BaseException | None = None  # set before ``teardown`` runs after a failure
        self.ignored = 0

    # -- hooks for subclasses ------------------------------------------------------

    def setup(self) -> None:
        """Build state before the first message (after a restart: rebuild it from its sources)."""

    def handle(self, message: Any) -> Any:
        """Handle one message; the return value answers an ``ask``.

        The default ignores it (and counts it): a topic carries several message
        types and each subscriber handles the ones it needs. A :class:`Query` is
        different: someone waits for its answer, so one this actor does not answer
        is a dead letter, counted and logged (the asker gets ``None``).
        """
        if isinstance(message, Query):
            self.system.dead_letters.record(self.name, message, "query not answered")
            logger.warning("{} does not answer {}", self.name, type(message).__name__)
            return None
        self.ignored += 1
        logger.trace("{} ignored {}", self.name, type(message).__name__)
        return None

    def teardown(self) -> None:
        """Release resources; runs once, after a normal stop or a failure."""

    @property
    def restarting(self) -> bool:
        """Stopped by its supervisor only to be started again (a ``rest_for_one`` restart
        after a sibling failed, or its subtree restarting): the session goes on, so a
        ``teardown`` must not act as on a shutdown."""
        return self.address.state is AddressState.RESTARTING

    # -- helpers for subclasses ----------------------------------------------------

    def every(self, interval: float, tick: type[Tick]) -> PeriodicTimer:
        """Deliver a ``tick`` every ``interval`` seconds, coalescing ticks that pile up."""
        if tick in self._timers:
            self._timers[tick].cancel()
        timer = PeriodicTimer(self.clock, self.address, tick, interval)
        self._timers[tick] = timer
        return timer

    def cancel_timer(self, tick: type[Tick]) -> None:
        timer = self._timers.pop(tick, None)
        if timer is not None:
            timer.cancel()

    def later(self, delay: float, message: object) -> TimerHandle:
        """Send ``message`` to this actor's address after ``delay`` seconds."""
        address = self.address
        handle = self.clock.call_later(delay, lambda: address.tell(message))
        now = self.clock.now()  # forget the ones that have run: an actor may set many
        self._one_shots = [h for h in self._one_shots if h.when > now and not h.cancelled]
        self._one_shots.append(handle)
        return handle

    def publish(self, topic: str, message: object, key: str | None = None) -> None:
        """``key``: what the message is about (a book's series), for keyed subscribers."""
        self.system.bus.publish(topic, message, key)

    def subscribe(
        self, *topics: str, last: bool = False, keys: Iterable[str] | None = None
    ) -> None:
        """``last``: told after the other subscribers; ``keys``: only messages published
        under one of them (see :meth:`runtime.bus.Bus.subscribe`)."""
        for topic in topics:
            self.system.bus.subscribe(topic, self.name, last=last, keys=keys)

    # -- pykka hooks ---------------------------------------------------------------

    def on_start(self) -> None:
        self.address.bind(self.actor_ref, self.context.incarnation)
        try:
            self.setup()
        except Exception as exc:
            self._failed(exc, during_start=True)
            raise

    def on_receive(self, message: Any) -> Any:
        kind = type(message)
        if kind is Ping:
            return Pong(self.name, self.context.incarnation, self.address.handled)
        self.address.handled += 1
        timer = self._timers.get(kind)
        if timer is not None:
            timer.acknowledge()
        elif kind is CrashNow:
            raise InjectedCrash(message.reason)
        return self.handle(message)

    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        error = exception_value if exception_value is not None else RuntimeError("unknown failure")
        self._failed(error, during_start=False)

    def on_stop(self) -> None:
        self._teardown_once()

    # -- failure path --------------------------------------------------------------

    def _failed(self, error: BaseException, *, during_start: bool) -> None:
        self.crashed = error
        self.address.failing = True
        unhandled = self._drain_inbox()
        self.address.reclaim(self.context.incarnation, unhandled)
        crash = ActorCrashed(
            name=self.name,
            incarnation=self.context.incarnation,
            error_type=type(error).__name__,
            error=str(error),
            during_start=during_start,
            at=self.clock.now(),
        )
        # An injected crash is expected: its traceback would only bury real failures.
        shown = None if isinstance(error, InjectedCrash) else error
        logger.opt(exception=shown).error(
            "{} crashed{}: {}: {}",
            self.name,
            " during start" if during_start else "",
            crash.error_type,
            crash.error,
        )
        self._teardown_once()
        self.publish(SYSTEM, crash)
        if self.context.supervisor is None:
            self.system.root_failed(crash)
        else:
            self.system.address(self.context.supervisor).tell(crash)
        self.address.failing = False

    def _drain_inbox(self) -> list[object]:
        """Take every waiting message: tells go back to the address, asks get an error now."""
        unhandled: list[object] = []
        inbox = self.actor_inbox
        while True:
            try:
                envelope = inbox.get_nowait()  # type: ignore[attr-defined]
            except queue.Empty:
                return unhandled
            if isinstance(envelope.message, pykka.messages._ActorStop):
                if envelope.reply_to is not None:
                    envelope.reply_to.set(None)
            elif envelope.reply_to is not None:
                error = pykka.ActorDeadError(f"{self.name} failed before answering")
                envelope.reply_to.set_exception(exc_info=(pykka.ActorDeadError, error, None))
            else:
                unhandled.append(envelope.message)

    def _teardown_once(self) -> None:
        if self._torn_down:
            return
        self._torn_down = True
        for timer in self._timers.values():
            timer.cancel()
        for handle in self._one_shots:
            handle.cancel()
        try:
            self.teardown()
        except Exception:
            logger.opt(exception=sys.exc_info()[1]).error("{} teardown failed", self.name)
