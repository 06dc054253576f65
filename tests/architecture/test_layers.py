"""Imports point down the layers (``tests/architecture/layer_check.py`` holds the table)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.architecture.layer_check import STACK, Violation, build_table, check

ROOT = Path(__file__).resolve().parents[2]


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _said(violations: list[Violation]) -> set[tuple[str, str]]:
    return {(v.module, v.imported) for v in violations}


def test_every_import_in_the_repository_points_down() -> None:
    assert [str(v) for v in check(ROOT)] == []


def test_each_package_sits_in_one_layer() -> None:
    packages = [p for layer in build_table().values() for p in layer.packages]
    assert len(packages) == len(set(packages))
    assert [name for name, _ in STACK][:3] == ["messages", "kalshi", "runtime"]


def test_an_upward_import_added_to_the_repository_fails_the_check(tmp_path: Path) -> None:
    for package in ("storage", "actors", "messages"):
        shutil.copytree(ROOT / package, tmp_path / package)
    schema = tmp_path / "storage" / "schema.py"
    schema.write_text(schema.read_text() + "\n\ndef _late() -> None:\n    import actors.ledger\n")
    found = check(tmp_path)
    assert _said(found) == {("storage.schema", "actors.ledger")}
    assert "layer 'storage' may not import layer 'actors'" in str(found[0])


def test_upward_sideways_lazy_and_type_only_imports_are_all_caught(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "messages/__init__.py": "",
            "messages/a.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from runtime.clock import Clock\n",
            "runtime/clock.py": "import messages.a\n\nclass Clock: ...\n",  # down: fine
            "storage/x.py": "def f():\n    from hub import server\n",
            "hub/server.py": "from storage import x\n",  # down: fine
            "backtest/run.py": "import hub.server\nimport storage.x\n",  # beside app
            "research/sweep.py": "from backtest import run\n",  # may use the backtest
            "app/main.py": "import backtest.run, research.sweep, hub.server\n",
            "storage/y.py": "from .x import f\nfrom ..app import main\n",  # relative
        },
    )
    assert _said(check(root)) == {
        ("messages.a", "runtime.clock"),
        ("storage.x", "hub"),
        ("backtest.run", "hub.server"),
        ("storage.y", "app"),
    }


def test_a_package_in_no_layer_is_reported(tmp_path: Path) -> None:
    root = _write(tmp_path, {"gadgets/tool.py": "import os\n", "messages/m.py": "import gadgets\n"})
    assert [v.why for v in check(root)] == ["its package is in no layer"]
