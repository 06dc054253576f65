"""A snapshot of the supervision tree (what ``/api/actors`` shows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FailureInfo:
    error_type: str
    error: str
    at: float
    during_start: bool


@dataclass(frozen=True, slots=True)
class TreeNode:
    name: str
    kind: str  # "actor" | "supervisor"
    state: str  # starting | running | restarting | stopped | failed
    incarnation: int
    restarts: int
    mailbox: int
    buffered: int
    handled: int
    last_failure: FailureInfo | None = None
    strategy: str | None = None
    children: tuple[TreeNode, ...] = field(default=())

    def walk(self) -> list[TreeNode]:
        """This node and every node below it, depth first."""
        nodes = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return nodes

    def find(self, name: str) -> TreeNode | None:
        return next((node for node in self.walk() if node.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        failure = self.last_failure
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "incarnation": self.incarnation,
            "restarts": self.restarts,
            "mailbox_size": self.mailbox,
            "buffered": self.buffered,
            "messages_handled": self.handled,
            "strategy": self.strategy,
            "last_failure": None
            if failure is None
            else {
                "error_type": failure.error_type,
                "error": failure.error,
                "at": failure.at,
                "during_start": failure.during_start,
            },
            "children": [child.to_dict() for child in self.children],
        }
