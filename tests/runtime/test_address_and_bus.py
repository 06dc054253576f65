"""Addresses, dead letters and the topic bus."""

from __future__ import annotations

import pytest

from runtime.address import ActorUnavailable
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import quiesce, settle
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.runtime.fixture_actors import Add, Get, Journal, Recorder


def test_messages_to_an_unknown_name_are_dead_letters(system: ActorSystem) -> None:
    system.tell("nobody", Add(1))
    system.tell("nobody", Add(2))
    assert system.dead_letters.by_name["nobody"] == 2
    assert [d.message_type for d in system.dead_letters.recent] == ["Add", "Add"]
    with pytest.raises(ActorUnavailable):
        system.ask("nobody", Get())
    assert system.dead_letters.total == 3
    assert system.dead_letters.kinds() == [
        {"to": "nobody", "message": "Add", "reason": "unbound", "count": 2},
        {"to": "nobody", "message": "Get", "reason": "unbound", "count": 1},
    ]


def test_a_probe_of_an_actor_not_up_yet_is_no_dead_letter(system: ActorSystem) -> None:
    """Peers ask one another at start-up ("which markets?"): the answer "not up" is expected."""
    with pytest.raises(ActorUnavailable):
        system.ask("discovery", Get(), probe=True)
    assert system.dead_letters.total == 0


def test_messages_after_shutdown_are_dead_letters(system: ActorSystem) -> None:
    system.start(SupervisorSpec("root", (ChildSpec.of("a", Recorder, Journal()),)))
    system.shutdown()
    system.tell("a", Add(1))
    assert system.dead_letters.by_name["a"] == 1


def test_bus_delivers_to_every_subscriber_across_restarts(
    system: ActorSystem, clock: SimClock
) -> None:
    journal = Journal()
    children = tuple(ChildSpec.of(n, Recorder, journal) for n in ("x", "y"))
    system.start(SupervisorSpec("root", children))
    system.bus.subscribe("spot", "x")
    system.bus.subscribe("spot", "y")
    system.bus.subscribe("spot", "y")  # idempotent
    assert system.bus.subscribers("spot") == ("x", "y")
    assert system.bus.publish("spot", Add(1)) == 2
    crash(system, "x")
    system.bus.publish("spot", Add(2))  # x is restarting: held for its next incarnation
    settle(system, clock)
    assert (
        system.ask("x", Get()) == 2
    )  # incarnation 2 got the held message (1 died with incarnation 1)
    assert system.ask("y", Get()) == 3
    system.bus.unsubscribe("spot", "x")
    system.bus.publish("spot", Add(4))
    quiesce(system)
    assert system.ask("x", Get()) == 2
    assert system.ask("y", Get()) == 7
    assert system.bus.publish("nobody-listens", Add(1)) == 0


def test_observers_are_told_after_the_actors_that_act(system: ActorSystem) -> None:
    # The ledger subscribes first (it starts first) but is told last: the risk and order
    # actors never wait while a record of their message is queued.
    bus = system.bus
    bus.subscribe("orders", "ledger", last=True)
    bus.subscribe("orders", "risk")
    bus.subscribe("orders", "hub", last=True)
    bus.subscribe("orders", "order")
    bus.subscribe("orders", "risk")  # idempotent, keeps its place
    assert bus.subscribers("orders") == ("risk", "order", "ledger", "hub")
    bus.unsubscribe("orders", "risk")
    bus.subscribe("orders", "risk")  # back: still before the observers
    assert bus.subscribers("orders") == ("order", "risk", "ledger", "hub")


def test_a_keyed_subscriber_is_told_only_its_keys(system: ActorSystem) -> None:
    # A strategy trading BTC and ETH is not woken for SOL's books; an observer of every
    # book, and a message published without a key, still reach everyone.
    journal = Journal()
    children = tuple(ChildSpec.of(n, Recorder, journal) for n in ("btc-eth", "all"))
    system.start(SupervisorSpec("root", children))
    system.bus.subscribe("book", "btc-eth", keys=("KXBTC15M", "KXETH15M"))
    system.bus.subscribe("book", "all")
    assert system.bus.publish("book", Add(1), "KXSOL15M") == 1
    assert system.bus.publish("book", Add(10), "KXETH15M") == 2
    assert system.bus.publish("book", Add(100)) == 2  # no key: every subscriber
    quiesce(system)
    assert system.ask("btc-eth", Get()) == 110
    assert system.ask("all", Get()) == 111


def test_subscribing_again_replaces_the_keys_in_place(system: ActorSystem) -> None:
    bus = system.bus
    bus.subscribe("book", "strategy", keys=("KXSOL15M",))
    bus.subscribe("book", "risk")
    bus.subscribe("book", "strategy", keys=("KXBTC15M",))  # a restart with other keys
    assert bus.subscribers("book") == ("strategy", "risk")
    assert bus.publish("book", Add(1), "KXSOL15M") == 1  # risk alone
    assert bus.publish("book", Add(1), "KXBTC15M") == 2
    bus.subscribe("book", "strategy")  # every key again
    assert bus.publish("book", Add(1), "KXSOL15M") == 2
