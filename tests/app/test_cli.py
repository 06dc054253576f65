"""The command line as a user runs it: real processes, real signals."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.bot import EXIT_ESCALATED, EXIT_FORCED, EXIT_OK, _Signals, supervise
from app.cli import bot_parser
from kalshi.auth import generate_private_key, private_key_pem
from runtime.restart_policy import Backoff
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.runtime.fixture_actors import FailingStart, Journal, Recorder

ROOT = Path(__file__).resolve().parents[2]
RUN = [sys.executable, str(ROOT / "run.py")]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "MAX_", "MIN_EDGE"))}
    env.update(extra)
    return env


def _wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 30.0) -> str:
    """Read stderr until a line containing ``needle`` appears (bounded by ``timeout``)."""
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} not seen; stderr was:\n{''.join(seen)}")


def test_help_documents_every_option() -> None:
    result = subprocess.run(
        [*RUN, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    for option in (
        "--mode",
        "--host",
        "--port",
        "--duration",
        "--chaos",
        "--db",
        "--live",
        "exchange-sim",
    ):
        assert option in result.stdout
    documented = {a.option_strings[-1] for a in bot_parser()._actions if a.option_strings}
    assert all(option in result.stdout for option in documented)


@pytest.mark.slow
def test_duration_runs_and_exits_zero(tmp_path: Path) -> None:
    result = subprocess.run(
        [*RUN, "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "sim mode" in result.stderr
    assert "shutting down: stop requested" in result.stderr
    assert (tmp_path / "logs" / "sol15.log").exists()


@pytest.mark.slow
def test_sigterm_gives_an_orderly_stop(tmp_path: Path) -> None:
    proc = subprocess.Popen(RUN, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_env())
    try:
        _wait_for_line(proc, "sol15 running")
        proc.send_signal(signal.SIGTERM)
        _wait_for_line(proc, "shutting down: stop requested")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_invalid_settings_exit_2_with_one_line_each(tmp_path: Path) -> None:
    env = _env(MAX_DAILY_LOSS="-5", MIN_EDGE="abc")
    result = subprocess.run(
        RUN, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env, check=False
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "config error: MAX_DAILY_LOSS: must be > 0, got -5",
        "config error: MIN_EDGE: must be a number, got abc",
    ]


def test_live_without_confirmation_is_refused(tmp_path: Path) -> None:
    env = _env(
        KALSHI_API_KEY="kid-secret-1",
        KALSHI_PRIVATE_KEY_PATH=str(tmp_path / "k.pem"),
        DRY_RUN_MODE="false",
    )
    result = subprocess.run(
        RUN, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env, check=False
    )
    assert result.returncode == 2
    assert "pass --live" in result.stderr
    assert "kid-secret-1" not in result.stderr


def test_bad_arguments_are_refused() -> None:
    result = subprocess.run(
        [*RUN, "--port", "99999"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "--port: must be between 0 and 65535" in result.stderr


def test_second_interrupt_forces_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)
    stop = threading.Event()
    handler = _Signals(stop)
    handler._handle(signal.SIGINT, None)
    assert stop.is_set() and exits == []
    handler._handle(signal.SIGINT, None)
    assert exits == [EXIT_FORCED]


def test_supervise_returns_zero_after_an_orderly_stop() -> None:
    stop = threading.Event()
    stop.set()
    spec = SupervisorSpec("root", (ChildSpec.of("a", Recorder, Journal()),))
    assert supervise(ActorSystem(seed=1), spec, stop, duration=None) == EXIT_OK


def test_root_escalation_makes_the_process_exit_non_zero() -> None:
    journal = Journal()
    never = ChildSpec.of("never", FailingStart, journal, [10**6])
    spec = SupervisorSpec(
        "root", (never,), max_restarts=2, within=60.0, backoff=Backoff(0.0, 1.0, 0.0, 0.0)
    )
    code = supervise(ActorSystem(seed=1), spec, threading.Event(), duration=30)
    assert code == EXIT_ESCALATED
    assert journal.of("start") == ["never"] * 3  # first start + the two restarts it was allowed


@pytest.mark.slow
def test_a_sim_session_trades_and_prints_a_summary(tmp_path: Path) -> None:
    """Stopped (as a user would, with Ctrl-C) once it has filled: the session lasts as long
    as its first fill takes, not a fixed minute and more."""
    proc = subprocess.Popen(
        [*RUN, "--duration", "150", "--port", "0", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_env(),
    )
    try:
        _wait_for_line(proc, " - fill ", timeout=150)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-3000:]
    summary = dict(
        line.strip().split(": ", 1) for line in stdout.splitlines() if line.startswith("  ")
    )
    assert int(summary["signals sent to risk"]) > 0
    assert int(summary["fills"]) > 0, stdout
    assert summary["P&L today"].startswith("$")
    assert summary["measured against"] == (
        "our simulated makers (the built-in exchange simulator, preset sharp), not Kalshi"
    )
    assert "95% interval" in summary["settled P&L"] or "no interval" in summary["settled P&L"]
    assert summary["verdict"].startswith("realized edge")


def test_a_busy_port_stops_start_up_with_one_line(tmp_path: Path) -> None:
    """Not a dashboard crash-looping while the bot trades blind: nothing starts at all."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*RUN, "--port", str(port), "--duration", "20"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env=_env(),
            check=False,
        )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"refusing to start: port {port} on 127.0.0.1 is in use")
    assert "--port" in line
    assert not (tmp_path / "data" / "sol15-sim.db").exists()  # nothing ran: no ledger, no exchange


def test_bad_data_and_log_folders_give_one_line_each(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    env = _env(DATA_DIR=str(a_file), LOG_DIR=str(a_file / "logs"))
    result = subprocess.run(
        [*RUN, "--duration", "20"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"config error: DATA_DIR: {a_file} is a file, not a folder: point DATA_DIR at a folder",
        f"config error: LOG_DIR: {a_file / 'logs'} cannot be created ({a_file} is a file)",
    ]
    assert a_file.read_text() == "not a folder"


@pytest.mark.slow
def test_one_bot_per_data_directory_and_a_killed_one_blocks_nothing(tmp_path: Path) -> None:
    first = subprocess.Popen(
        [*RUN, "--port", "0", "--seed", "1"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_env(),
    )
    try:
        _wait_for_line(first, "sol15 running")
        who = f"pid {first.pid} on host {socket.gethostname()}"
        for extra, what in (
            ((), "the ledger"),  # the same ledger (and folder)
            (("--db", f"sqlite:///{tmp_path}/other.db"), "DATA_DIR"),  # another ledger, same folder
        ):
            second = subprocess.run(
                [*RUN, "--port", "0", "--seed", "2", "--duration", "20", *extra],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=tmp_path,
                env=_env(),
                check=False,
            )
            assert second.returncode == 2, second.stderr
            refusal = second.stderr.strip().splitlines()[-1]
            assert refusal.startswith(f"refusing to start: another sol15 is using {what}")
            assert who in refusal
        first.kill()  # SIGKILL: its locks go with it
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    third = subprocess.Popen(
        [*RUN, "--port", "0", "--seed", "3"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_env(),
    )
    try:
        _wait_for_line(third, "sol15 running")
        third.send_signal(signal.SIGTERM)
        assert third.wait(timeout=60) == 0
    finally:
        if third.poll() is None:
            third.kill()


@pytest.mark.slow
def test_paper_without_network_is_degraded_waiting_and_quiet(tmp_path: Path) -> None:
    """Paper mode with no network used to log 3 warnings a second forever while /api/health
    said "ok" and the state said "running"."""
    key = tmp_path / "key.pem"
    key.write_bytes(private_key_pem(generate_private_key()))
    key.chmod(0o600)
    with socket.socket() as closed:  # bound, never listening: every connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        env = _env(
            KALSHI_API_KEY="kid-no-network-1",
            KALSHI_PRIVATE_KEY_PATH=str(key),
            KALSHI_API_BASE=f"http://127.0.0.1:{port}/trade-api/v2",
            KALSHI_WS_URL=f"ws://127.0.0.1:{port}/trade-api/ws/v2",
        )
        proc = subprocess.Popen(
            [*RUN, "--port", "0", "--duration", "20"],
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        try:
            line = _wait_for_line(proc, "hub: dashboard and API at")
            url = line.split(" at ", 1)[1].split()[0]
            _wait_for_line(proc, "market stream down")
            with httpx.Client(base_url=url, timeout=10) as http:
                for _ in range(500):  # bounded: until the hub has heard of it too
                    health = http.get("/api/health").json()
                    if health["status"] != "ok":
                        break
                assert health["status"] == "degraded"
                assert health["reasons"][0].startswith("market data feed down: ")
                status = http.get("/api/status").json()
                assert (status["trading_state"], status["running"]) == ("waiting_for_data", True)
            _, rest = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0
    warnings = [entry for entry in rest.splitlines() if "| WARNING " in entry]
    for repeated in ("kalshi get_market: attempt", "discovery: KXSOL15M-", "market stream down"):
        assert sum(repeated in entry for entry in warnings) <= 1, (repeated, warnings)
    assert len(warnings) < 15, warnings  # 20 s: dozens before
