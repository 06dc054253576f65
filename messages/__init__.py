"""Immutable messages, one module per family. See :mod:`messages.base` for the conventions."""

from messages.base import Message, message, message_types, to_json, to_wire

__all__ = ["Message", "message", "message_types", "to_json", "to_wire"]
