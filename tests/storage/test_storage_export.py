"""``run.py export``: trades, fills and settlements as CSV or JSON, for taxes and analysis."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import orjson
import pytest

from messages.trading import Fill, OrderIntent, OrderUpdate, Settlement
from messages.vocabulary import OrderStatus
from storage import Database
from storage.export import main
from storage.journal import encode
from storage.writer import LedgerWriter
from tests.storage.backends import Backend, url_with_schema

ROOT = Path(__file__).resolve().parents[2]
DAY1 = 1_779_926_400.0  # 2026-05-28T00:00:00Z
DAY2 = DAY1 + 86_400


def _trade(coid: str, at: float, price: str, count: int) -> list[object]:
    intent = OrderIntent(
        coid, "s-" + coid, "kelly_volatility", "KX-1", "no", "buy", count, D(price),
        "immediate_or_cancel", created_at=at,
    )  # fmt: skip
    fill = Fill(
        "t-" + coid, "o-" + coid, coid, "KX-1", "no", "buy", count, D(price), D("0.07"), True,
        at + 0.5, "kelly_volatility",
    )  # fmt: skip
    done = OrderUpdate(
        coid, "o-" + coid, "KX-1", "no", "buy", OrderStatus.EXECUTED, count, 0, D(price),
        "kelly_volatility", at + 1, fees=D("0.07"),
    )  # fmt: skip
    return [intent, fill, done]


@pytest.fixture
def ledger(database: Database) -> Database:
    events = [
        *_trade("c1", DAY1 + 3600, "0.37", 4),
        *_trade("c2", DAY2 + 60, "0.615", 2),
        Settlement("KX-1", "no", 0, 6, D("6"), DAY2 + 900),
    ]
    LedgerWriter(database).write([e for e in (encode(m, DAY2) for m in events) if e is not None])
    return database


def run(backend: Backend, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--db", url_with_schema(backend), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_holds_trades_fills_and_settlements_with_exact_money(
    backend: Backend, ledger: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(backend, "--since", "2026-05-28", "--format", "json", capsys=capsys)
    assert code == 0
    body = orjson.loads(out)
    assert body["since"] == "2026-05-28T00:00:00Z" and body["until"] is None
    assert [t["client_order_id"] for t in body["trades"]] == ["c1", "c2"]
    assert [(f["trade_id"], f["price"], f["fee"]) for f in body["fills"]] == [
        ("t-c1", "0.3700", "0.0700"),
        ("t-c2", "0.6150", "0.0700"),
    ]
    assert {(f["mode"], f["env"]) for f in body["fills"]} == {("unknown", "unknown")}
    assert body["fills"][0]["time"] == "2026-05-28T01:00:00.500000Z"
    assert body["settlements"] == [
        {
            "time": "2026-05-29T00:15:00Z",
            "ts": DAY2 + 900,
            "ticker": "KX-1",
            "result": "no",
            "yes_contracts": 0,
            "no_contracts": 6,
            "payout": "6.0000",
            "mode": "unknown",
            "env": "unknown",
        }
    ]
    assert body["trades"][1]["status"] == "executed" and body["trades"][1]["fees"] == "0.0700"


def test_since_and_until_pick_the_days(
    backend: Backend, ledger: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        backend, "--since", "2026-05-28", "--until", "2026-05-29", "--format", "json",
        "--table", "fills", capsys=capsys,
    )  # fmt: skip
    assert code == 0
    body = orjson.loads(out)
    assert set(body) == {"since", "until", "mode", "fills"}
    assert [f["trade_id"] for f in body["fills"]] == ["t-c1"]
    code, out, _ = run(
        backend, "--since", "2026-05-29T00:00:30Z", "--format", "json", capsys=capsys
    )
    assert [t["client_order_id"] for t in orjson.loads(out)["trades"]] == ["c2"]


def test_csv_writes_fills_by_default_and_any_one_table_on_request(
    backend: Backend, ledger: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(backend, "--since", "2026-05-01", "--format", "csv", capsys=capsys)
    assert code == 0
    fills = list(csv.DictReader(io.StringIO(out)))
    assert [(f["trade_id"], f["count"], f["price"], f["is_taker"]) for f in fills] == [
        ("t-c1", "4", "0.3700", "True"),
        ("t-c2", "2", "0.6150", "True"),
    ]
    target = tmp_path / "trades.csv"
    code, out, _ = run(
        backend, "--since", "2026-05-01", "--format", "csv", "--table", "trades",
        "--output", str(target), capsys=capsys,
    )  # fmt: skip
    assert code == 0 and out == ""
    trades = list(csv.DictReader(target.open()))
    assert [(t["client_order_id"], t["status"], t["quantity"]) for t in trades] == [
        ("c1", "executed", "4"),
        ("c2", "executed", "2"),
    ]


def test_bad_input_exits_2_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = f"sqlite:///{tmp_path}/none.db"
    assert main(["--db", missing, "--since", "2026-05-28", "--format", "csv"]) == 2
    assert "no ledger at" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    code = main(
        ["--db", missing, "--since", "2026-05-28", "--until", "2026-05-01", "--format", "csv"]
    )
    assert code == 2
    assert "--until must be after --since" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad_date:
        main(["--db", missing, "--since", "yesterday", "--format", "csv"])
    assert bad_date.value.code == 2
    assert "--since: must be Unix seconds, a date" in capsys.readouterr().err
    notes = tmp_path / "notes.db"
    notes.write_text("not a ledger")
    assert main(["--db", f"sqlite:///{notes}", "--since", "2026-05-28", "--format", "json"]) == 2
    assert "not a SQLite database" in capsys.readouterr().err


def test_run_py_export_end_to_end(sqlite_backend: Backend) -> None:
    db = sqlite_backend.prepared()
    try:
        LedgerWriter(db).write(
            [e for e in (encode(m, DAY1) for m in _trade("c1", DAY1 + 60, "0.37", 4)) if e]
        )
    finally:
        db.dispose()
    result = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "export", "--since", "2026-05-28", "--format",
         "csv", "--db", sqlite_backend.url],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("time,ts,trade_id,")
    assert "t-c1" in result.stdout
