"""The layer table and the check that every import points down it.

Read by ``tests/architecture/test_layers.py`` in CI. Each top-level package of the
repository sits in one layer; a module may import its own layer and the layers its
layer ``sees``, nothing above or beside. Every ``import`` statement counts, also those
inside functions and under ``if TYPE_CHECKING:``: an arrow that only type checking
follows is still an arrow a reader has to follow. A package the table does not name
is an error too, so a new package is placed on purpose.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Bottom first: each layer may import every layer before it.
STACK: tuple[tuple[str, frozenset[str]], ...] = (
    ("messages", frozenset({"messages"})),  # the values actors exchange
    ("kalshi", frozenset({"kalshi"})),  # the exchange's wire: REST, WebSocket, auth
    ("runtime", frozenset({"runtime"})),  # actors, supervision, bus, clocks
    (
        "cores",  # pure logic, testable without threads, shared with backtests
        frozenset(
            {
                "accounting",
                "alerting",
                "execution",
                "marketdata",
                "risk",
                "scoring",
                "simulator",
                "strategies",
            }
        ),
    ),
    ("storage", frozenset({"storage"})),  # the ledger and every file the bot keeps
    ("config", frozenset({"config"})),  # settings, validated against the cores' registries
    ("hub", frozenset({"hub"})),  # the web server's parts
    ("actors", frozenset({"actors"})),
    ("app", frozenset({"app", "bench", "run"})),  # the composition root and its tools
)
# Beside the stack: (packages, the highest stack layer they may import, other side layers).
BESIDE: Mapping[str, tuple[frozenset[str], str, frozenset[str]]] = {
    "backtest": (frozenset({"backtest"}), "config", frozenset()),
    "research": (frozenset({"research"}), "config", frozenset({"backtest"})),
}
APP_SEES_BESIDE = frozenset(BESIDE)  # the top layer starts backtests and studies


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    packages: frozenset[str]
    sees: frozenset[str]  # names of the other layers it may import


@dataclass(frozen=True, slots=True)
class Violation:
    module: str  # the importing module, dotted
    line: int
    imported: str  # the imported module, dotted
    why: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.why}"


def build_table(
    stack: Sequence[tuple[str, frozenset[str]]] = STACK,
    beside: Mapping[str, tuple[frozenset[str], str, frozenset[str]]] = BESIDE,
    top_sees: frozenset[str] = APP_SEES_BESIDE,
) -> dict[str, Layer]:
    """Every layer with the set of layers it sees, from the stack and the side layers."""
    names = [name for name, _ in stack]
    table = {
        name: Layer(
            name,
            packages,
            frozenset(names[:i]) | (top_sees if i == len(stack) - 1 else frozenset()),
        )
        for i, (name, packages) in enumerate(stack)
    }
    for name, (packages, ceiling, others) in beside.items():
        table[name] = Layer(name, packages, frozenset(names[: names.index(ceiling) + 1]) | others)
    return table


def layer_of(table: Mapping[str, Layer]) -> dict[str, Layer]:
    """Top-level package → its layer."""
    return {package: layer for layer in table.values() for package in layer.packages}


def modules(root: Path) -> Iterator[tuple[str, Path]]:
    """(dotted name, file) of every Python module of the repository, tests and venvs aside."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) and d != "tests")
        for file in sorted(f for f in files if f.endswith(".py")):
            parts = (Path(folder) / file).relative_to(root).with_suffix("").parts
            dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield dotted, Path(folder) / file


def imports_of(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every import in the file, relative ones resolved."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            yield node.lineno, ".".join([*base, *([node.module] if node.module else [])])


def check(root: Path, table: Mapping[str, Layer] | None = None) -> list[Violation]:
    """Every import in the repository at ``root`` that points up or sideways."""
    layers = layer_of(build_table() if table is None else table)
    found = [(module, path) for module, path in modules(root)]
    ours = {module.split(".")[0] for module, _ in found}
    violations: list[Violation] = []
    for module, path in found:
        layer = layers.get(module.split(".")[0])
        if layer is None:
            violations.append(Violation(module, 0, module, "its package is in no layer"))
            continue
        for line, imported in imports_of(module, path):
            top = imported.split(".")[0]
            if top not in ours:
                continue  # the standard library or a third-party package
            target = layers.get(top)
            if target is None or target is layer or target.name in layer.sees:
                continue  # a package in no layer is reported once, as the importer above
            why = f"layer {layer.name!r} may not import layer {target.name!r}"
            violations.append(Violation(module, line, imported, why))
    return violations
