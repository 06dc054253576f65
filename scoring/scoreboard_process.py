"""The scoreboard's scores, computed in a child process at idle CPU priority.

Resampling whole windows is pure Python: 2,000 draws over N windows for each of ~20
figures took 1.1 s of CPU at 100 windows and 10.6 s at 1,000 on the development machine,
and grows with N. In the bot's process that would hold the
interpreter lock the order path needs, every time a window settles — right when the
next one opens. So the records go, as JSON, to ``python -m scoring.scoreboard_process``
(no ``multiprocessing`` spawn, which would re-run the parent's main script), which runs
only when a core would otherwise idle and answers with the summary as JSON.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from scoring.intervals import DRAWS
from scoring.scoreboard import WindowRecord
from scoring.scoreboard_summary import summarize

_ROOT = str(Path(__file__).resolve().parents[1])  # the project: where ``scoring`` is found
TIMEOUT = 900.0  # a window's worth of time: a summary not ready by the next one is stale


class SummaryFailed(RuntimeError):
    """The child could not compute the summary (it died, timed out or raised)."""


def request(records: Sequence[WindowRecord], *, draws: int = DRAWS, seed: int = 0) -> bytes:
    return orjson.dumps({"draws": draws, "seed": seed, "records": [r.as_dict() for r in records]})


def answer(payload: bytes) -> bytes:
    """What the child does with a request (also callable in process, for tests)."""
    asked = orjson.loads(payload)
    records = [WindowRecord.from_dict(d) for d in asked["records"]]
    summary = summarize(records, draws=int(asked["draws"]), seed=int(asked["seed"]))
    return orjson.dumps(summary)


class SummaryProcess:
    """``scoring.scoreboard_summary.summarize`` computed by a child process, one at a time.

    Calling it blocks the calling thread (the interpreter lock is released while it
    waits) and raises :class:`SummaryFailed`; :meth:`cancel` ends the child running now
    (at shutdown: a summary is not worth waiting for)."""

    def __init__(self, *, draws: int = DRAWS, seed: int = 0, timeout: float = TIMEOUT) -> None:
        self.draws = draws
        self.seed = seed
        self.timeout = timeout
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._cancelled = False

    def __call__(self, records: Sequence[WindowRecord]) -> dict[str, Any]:
        payload = request(records, draws=self.draws, seed=self.seed)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (_ROOT, os.environ.get("PYTHONPATH")))),
        }
        with self._lock:
            if self._cancelled:
                raise SummaryFailed("the scoreboard is stopping")
            try:
                child = self._child = subprocess.Popen(
                    [sys.executable, "-m", "scoring.scoreboard_process"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                    process_group=0,  # a terminal's Ctrl-C is the parent's to handle
                )
            except OSError as exc:
                raise SummaryFailed(
                    f"cannot start the scoreboard's summary process: {exc}"
                ) from None
        try:
            out, err = child.communicate(payload, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise SummaryFailed(f"no summary in {self.timeout:g} s") from None
        finally:
            with self._lock:
                self._child = None
        if child.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-3:]
            raise SummaryFailed(
                f"the summary process exited {child.returncode}: {' | '.join(tail)}"
            )
        summary: dict[str, Any] = orjson.loads(out)
        return summary

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._child is not None and self._child.poll() is None:
                self._child.kill()


def _idle() -> None:
    """Run only when a core would otherwise idle (Linux SCHED_IDLE; elsewhere nice 19)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(19)


if __name__ == "__main__":
    _idle()
    sys.stdout.buffer.write(answer(sys.stdin.buffer.read()))
