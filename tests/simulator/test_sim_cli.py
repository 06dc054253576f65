"""``exchange-sim``: starts, prints how to connect, serves signed requests, stops on SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from kalshi.auth import Signer, generate_private_key, private_key_pem, public_key_pem
from simulator.catalog import CATALOG
from simulator.cli import build_config, build_parser, main
from simulator.config import SOFT_CALIBRATION, ExchangeConfig

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = "import sys; from simulator.cli import main; sys.exit(main(sys.argv[1:]))"


def start(args: list[str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Run the CLI; return the process and the KEY=value lines it printed."""
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    printed: dict[str, str] = {}
    while "KALSHI_API_KEY" not in printed or (
        "--public-key" not in args and "KALSHI_PRIVATE_KEY_PATH" not in printed
    ):
        try:
            line = lines.get(timeout=20)
        except queue.Empty:
            process.kill()
            pytest.fail("exchange-sim printed no connection details")
        name, _, value = line.strip().partition("=")
        printed[name] = value
    return process, printed


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()


def test_demo_key_and_clean_shutdown(tmp_path: Path) -> None:
    process, printed = start(["--data-dir", str(tmp_path), "--window-seconds", "60", "--seed", "4"])
    try:
        key_path = Path(printed["KALSHI_PRIVATE_KEY_PATH"])
        assert key_path.parent == tmp_path.resolve()
        assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
        signer = Signer.from_file(printed["KALSHI_API_KEY"], key_path)
        base = printed["KALSHI_API_BASE"]
        assert base.endswith("/trade-api/v2") and printed["KALSHI_WS_URL"].endswith(
            "/trade-api/ws/v2"
        )
        headers = signer.headers("GET", "/trade-api/v2/portfolio/balance")
        balance = httpx.get(f"{base}/portfolio/balance", headers=headers, timeout=10)
        assert balance.status_code == 200 and balance.json()["balance"] == 1_000_000
        markets = httpx.get(f"{base}/markets", params={"status": "open"}, timeout=10).json()
        assert markets["markets"][0]["ticker"].startswith("KXSOL15M-")
    finally:
        code = stop(process)
    assert code == 0
    # A second run reuses the same demo key, so a configured client keeps working.
    again, printed_again = start(["--data-dir", str(tmp_path)])
    assert stop(again) == 0
    assert printed_again["KALSHI_API_KEY"] == printed["KALSHI_API_KEY"]


def test_registered_public_key(tmp_path: Path) -> None:
    key = generate_private_key()
    public = tmp_path / "mine.pub.pem"
    public.write_bytes(public_key_pem(key.public_key()))
    (tmp_path / "mine.pem").write_bytes(private_key_pem(key))
    process, printed = start(["--key-id", "my-key", "--public-key", str(public)])
    try:
        assert printed["KALSHI_API_KEY"] == "my-key"
        headers = Signer("my-key", key).headers("GET", "/trade-api/v2/portfolio/balance")
        response = httpx.get(
            f"{printed['KALSHI_API_BASE']}/portfolio/balance", headers=headers, timeout=10
        )
        assert response.status_code == 200
    finally:
        assert stop(process) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["--window-seconds", "30"],
        ["--key-id", "only-the-id"],
        ["--volatility", "-1"],
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--data-dir", str(tmp_path)]) == 2
    assert "exchange-sim:" in capsys.readouterr().err


def test_unreadable_public_key(tmp_path: Path) -> None:
    assert main(["--key-id", "k", "--public-key", str(tmp_path / "missing.pem")]) == 2
    (tmp_path / "junk.pem").write_text("not a key")
    assert main(["--key-id", "k", "--public-key", str(tmp_path / "junk.pem")]) == 2


def test_series_are_chosen_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    default = build_config(parser.parse_args([]))
    assert default == ExchangeConfig()  # KXSOL15M alone, exactly as before
    soft = build_config(parser.parse_args(["--market-preset", "soft"]))
    assert soft == ExchangeConfig(calibration=SOFT_CALIBRATION)
    three = build_config(parser.parse_args(["--series", "KXBTC15M,KXETH15M,KXSOL15M"]))
    assert [s.series.ticker for s in three.listings()] == ["KXSOL15M", "KXBTC15M", "KXETH15M"]
    every = build_config(parser.parse_args(["--series", "all", "--lag-seconds", "2"]))
    assert [s.series.ticker for s in every.listings()] == list(CATALOG)
    assert {s.calibration.fair_value_lag_seconds for s in every.listings()} == {2}
    assert main(["--series", "KXBTC15M,KXFOO15M"]) == 2
    err = capsys.readouterr().err
    assert "--series" in err and "KXFOO15M" in err
