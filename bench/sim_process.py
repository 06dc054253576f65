"""Start ``python run.py exchange-sim`` in its own process (so it does not share our GIL)."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_NEEDED = ("KALSHI_API_BASE", "KALSHI_WS_URL", "KALSHI_API_KEY", "KALSHI_PRIVATE_KEY_PATH")


@contextmanager
def exchange_process(data_dir: Path, *args: str, timeout: float = 30.0) -> Iterator[dict[str, str]]:
    """Yield the connection details the simulator prints (KALSHI_API_BASE, …) and its
    process id (SIM_PID); stop it after."""
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "exchange-sim",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            *args,
        ],
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
    try:
        while not set(_NEEDED) <= printed.keys():
            name, _, value = lines.get(timeout=timeout).strip().partition("=")
            printed[name] = value
        printed["SIM_PID"] = str(process.pid)  # for its CPU time (``/proc``)
        yield printed
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
