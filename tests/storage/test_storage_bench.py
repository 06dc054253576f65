"""``bench/tick_to_order.py --ledger URL`` runs the tree with the ledger and the write-ahead
handle attached, and the ledger then holds what the benchmark traded."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_tick_to_order_with_the_ledger_prints_its_figures(tmp_path: Path) -> None:
    path = tmp_path / "bench.db"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "tick_to_order.py"), "--events", "10",
         "--updates", "2000", "--json", "--ledger", f"sqlite:///{path}"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    figures = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert figures["events"] == 10 and figures["ledger"] == f"sqlite:///{path}"
    assert 0 < figures["p50_us"] <= figures["p99_us"]
    with closing(sqlite3.connect(path)) as conn:
        (orders,) = conn.execute("SELECT count(*) FROM orders").fetchone()
        (journaled,) = conn.execute("SELECT count(*) FROM journal").fetchone()
    assert orders >= 10 and journaled > orders
