"""Message conventions: frozen, slotted dataclasses with a ``type`` name, orjson-serializable.

Actors talk only through these values. Being frozen they can be shared between
threads without copies; being slotted they stay small and quick to build on the
hot path; the ``type`` name is what the WebSocket feed and the ledger store.
"""

from __future__ import annotations

import dataclasses
import operator
import typing
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, dataclass_transform

import orjson

_REGISTRY: dict[str, type[Message]] = {}


class Message:
    """Base of every message. Subclasses are made with :func:`message`."""

    __slots__ = ()
    type: ClassVar[str] = "message"


@dataclass_transform(frozen_default=True, kw_only_default=False)
def message(type_name: str) -> Callable[[type[Any]], Any]:
    """Class decorator: a frozen, slotted dataclass registered under ``type_name``."""

    def wrap(cls: type[Any]) -> Any:
        if type_name in _REGISTRY:
            raise ValueError(f"message type {type_name!r} is defined twice")
        made = dataclasses.dataclass(frozen=True, slots=True)(cls)
        if _plain_fields(made):
            _set_slots_directly(made)
            _pickle_by_fields(made)
        made.type = type_name
        _REGISTRY[type_name] = made
        return made

    return wrap


def _plain_fields(cls: type[Any]) -> bool:
    """Every field positional, set by ``__init__``, without a factory; no ``__post_init__``."""
    return not hasattr(cls, "__post_init__") and all(
        f.init and not f.kw_only and f.default_factory is dataclasses.MISSING
        for f in dataclasses.fields(cls)
    )


def _set_slots_directly(cls: type[Any]) -> None:
    """Give a frozen slotted dataclass an ``__init__`` that fills each slot through its own
    descriptor instead of ``object.__setattr__`` by name: same signature, defaults and
    errors, and markedly cheaper (a month's backtest builds millions; ``docs/measurements.md``)."""
    fields = dataclasses.fields(cls)
    namespace: dict[str, Any] = {}
    params: list[str] = []
    body: list[str] = []
    for index, f in enumerate(fields):
        slot = next(c.__dict__[f.name] for c in cls.__mro__ if f.name in c.__dict__)
        namespace[f"_set{index}"] = slot.__set__  # a subclass's fields are its base's slots
        body.append(f"    _set{index}(self, {f.name})")
        if f.default is not dataclasses.MISSING:
            namespace[f"_default{index}"] = f.default
            params.append(f"{f.name}=_default{index}")
        else:
            params.append(f.name)
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"])
    exec(source, namespace)  # the source holds only the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init


def _pickle_by_fields(cls: type[Any]) -> None:
    """Pickle as ``cls(*fields)``, its Decimals as text.

    The ledger pickles every event it keeps, on its own thread but holding the
    interpreter lock that the order path needs, so it must be cheap. The dataclass's own
    ``__getstate__`` calls ``dataclasses.fields`` for every message, and a ``Decimal``
    pickles several times slower than its text (its class is looked up and its
    ``__reduce__`` called); ``docs/measurements.md`` has the figures."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    if len(names) > 1:
        values: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*names)
    else:

        def values(msg: Any) -> tuple[Any, ...]:
            return tuple(getattr(msg, name) for name in names)

    try:
        hints = typing.get_type_hints(cls)
        may_be_decimal = tuple(
            i
            for i, name in enumerate(names)
            if Decimal in (hints[name], *typing.get_args(hints[name]))
        )
    except (NameError, TypeError):  # annotations naming local types: look at every field
        may_be_decimal = tuple(range(len(names)))

    def __reduce__(self: Any) -> tuple[Any, ...]:
        fields = values(self)
        texts = [i for i in may_be_decimal if type(fields[i]) is Decimal]
        if texts:
            listed = list(fields)
            for i in texts:
                listed[i] = str(listed[i])
            fields = tuple(listed)
        return (_unpickle, (cls.type, fields, *texts))

    cls.__reduce__ = __reduce__  # type: ignore[assignment]


def _unpickle(type_name: str, fields: tuple[Any, ...], *texts: int) -> Any:
    """A pickled message: its class by ``type`` name (one lookup fewer for the pickler),
    the fields at positions ``texts`` back from text to Decimal."""
    if texts:
        listed = list(fields)
        for i in texts:
            listed[i] = Decimal(listed[i])
        fields = tuple(listed)
    return _REGISTRY[type_name](*fields)


def message_types() -> dict[str, type[Message]]:
    """Every registered message class by its ``type`` name."""
    return dict(_REGISTRY)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    raise TypeError(f"cannot serialize {type(value).__name__}")


def to_wire(msg: Message) -> dict[str, Any]:
    """The message as a JSON-ready dict with its ``type`` (Decimals become exact strings)."""
    fields: dict[str, Any] = orjson.loads(to_json(msg))
    return fields


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    """A message class's field names, worked out once (``dataclasses.fields`` is slow)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def to_json(msg: Message) -> bytes:
    """``{"type": ..., **fields}`` as JSON bytes; Decimals are written as exact strings."""
    body: dict[str, Any] = {"type": msg.type}
    for name in _field_names(type(msg)):
        body[name] = getattr(msg, name)
    return orjson.dumps(body, default=_default, option=orjson.OPT_NON_STR_KEYS)
