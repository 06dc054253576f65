"""Message conventions: frozen, slotted, typed, orjson-serializable."""

from __future__ import annotations

import dataclasses
import pickle
from decimal import Decimal

import orjson
import pytest

import messages.control
import messages.market_data
import messages.status
import messages.trading  # noqa: F401 - registers every message type for the parametrized test
from messages.base import Message, message, message_types, to_json, to_wire
from messages.system import ActorCrashed, CrashNow, Ping, Tick
from messages.timers import FlushTick, StatusTick


@message("test_price")
class Price(Message):
    ticker: str
    price: Decimal
    tags: tuple[str, ...] = ()


def test_messages_are_frozen_and_slotted() -> None:
    tick = FlushTick(1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tick.scheduled_at = 2.0  # type: ignore[misc]
    assert not hasattr(tick, "__dict__")
    assert tick == FlushTick(1.0) and hash(tick) == hash(FlushTick(1.0))
    assert tick != StatusTick(1.0)  # each timer is its own type


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
    for cls in (Tick, FlushTick, Ping, CrashNow, ActorCrashed):
        assert types[cls.type] is cls
    assert types["test_price"] is Price


def test_a_type_name_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="defined twice"):

        @message("tick")
        class Other(Message):
            x: int


def _by_type() -> list[type[Message]]:
    """Every registered message class, in type-name order."""
    return sorted(message_types().values(), key=lambda c: c.type)


@pytest.mark.parametrize("cls", _by_type())
def test_every_message_builds_like_its_dataclass(cls: type[Message]) -> None:
    # Messages get a faster __init__ than the dataclass's; it must accept and refuse
    # exactly what the dataclass would, and fill every field.
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    values = {f.name: object() for f in fields}
    by_keyword = cls(**values)
    by_position = cls(*values.values())
    for f in fields:
        assert getattr(by_keyword, f.name) is values[f.name]
        assert getattr(by_position, f.name) is values[f.name]
    required = [f.name for f in fields if f.default is dataclasses.MISSING]
    defaulted = cls(**{name: values[name] for name in required})
    for f in fields:
        if f.default is not dataclasses.MISSING:
            assert getattr(defaulted, f.name) == f.default
    if required:
        with pytest.raises(TypeError, match="missing"):
            cls(**{name: values[name] for name in required[1:]})
    with pytest.raises(TypeError, match="unexpected keyword"):
        cls(**values, not_a_field=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        cls(*values.values(), 1)  # type: ignore[call-arg]
    if fields:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(by_keyword, fields[0].name, 1)
    assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"


@pytest.mark.parametrize("cls", _by_type())
def test_every_message_pickles_to_an_equal_one(cls: type[Message]) -> None:
    # The ledger pickles batches of messages to its writer process, and the fields pickle
    # as the message's own __reduce__ lists them.
    values = {f.name: (f.name, 1, Decimal("0.5600")) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    original = cls(**values)
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is cls and copy == original
    assert all(getattr(copy, name) == value for name, value in values.items())


def test_a_pickled_message_carries_its_decimals_as_exact_text() -> None:
    # The ledger pickles each event on the publishing thread: Decimals go as text (cheaper
    # than the Decimal class's own reduce), and come back exactly as they were.
    from messages.trading import Signal

    original = Signal(
        "s1",
        "kelly",
        "KX-1",
        "yes",
        Decimal("0.0500"),
        Decimal("-0.00"),
        Decimal("1E+2"),
        3,
        1.5,
        spot=None,
    )
    data = pickle.dumps(original)
    assert b"decimal" not in data
    copy = pickle.loads(data)
    assert copy == original and type(copy.edge) is Decimal
    assert (str(copy.edge), str(copy.model_prob), str(copy.market_price)) == (
        "0.0500",
        "-0.00",
        "1E+2",
    )
    assert copy.spot is None


def test_a_message_whose_annotations_name_local_types_still_pickles() -> None:
    class Local:
        pass

    @message("test_local_annotations")
    class WithLocal(Message):
        price: Decimal
        thing: Local | None = None

    original = WithLocal(Decimal("0.5600"))
    copy = pickle.loads(pickle.dumps(original))
    assert copy == original and str(copy.price) == "0.5600"
