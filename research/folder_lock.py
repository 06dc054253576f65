"""One sweep at a time per output folder.

Two sweeps streaming rows into the same ``results.csv`` would interleave their lines and
each rewrite the file at its end, losing the other's runs. A sweep holds an exclusive
``flock`` on ``DIR/.sweep.lock`` from reading the folder to its last write; the kernel
drops it when the process ends, however it ends, so a killed sweep never leaves the
folder locked.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

LOCK_NAME = ".sweep.lock"


class FolderBusy(ValueError):
    """Another sweep is writing the folder: refused before any run."""


class FolderLock:
    """An exclusive hold on a sweep's output folder (created if missing)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / LOCK_NAME
        handle: IO[str] = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise FolderBusy(
                f"{directory} is being written by another sweep (process {holder}); "
                "wait for it to finish or give another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        """Let the next sweep in (closing the file drops the lock); a second call does nothing."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
