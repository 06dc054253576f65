"""Message conventions: frozen, slotted, typed, orjson-serializable."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import orjson
import pytest

from messages.base import Message, message, message_types, to_json, to_wire
from messages.system import ActorCrashed, CrashNow, Ping, Tick


@message("test_price")
class Price(Message):
    ticker: str
    price: Decimal
    tags: tuple[str, ...] = ()


def test_messages_are_frozen_and_slotted() -> None:
    tick = Tick("beat", 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tick.timer = "other"  # type: ignore[misc]
    assert not hasattr(tick, "__dict__")
    assert tick == Tick("beat", 1.0) and hash(tick) == hash(Tick("beat", 1.0))


def test_json_has_the_type_and_exact_decimals() -> None:
    price = Price("KXSOL15M-26MAY300015-15", Decimal("0.5600"), ("a",))
    assert orjson.loads(to_json(price)) == {
        "type": "test_price",
        "ticker": "KXSOL15M-26MAY300015-15",
        "price": "0.5600",
        "tags": ["a"],
    }
    assert to_wire(Ping()) == {"type": "ping"}


def test_system_messages_are_registered_by_type_name() -> None:
    types = message_types()
    for cls in (Tick, Ping, CrashNow, ActorCrashed):
        assert types[cls.type] is cls
    assert types["test_price"] is Price


def test_a_type_name_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="defined twice"):

        @message("tick")
        class Other(Message):
            x: int
