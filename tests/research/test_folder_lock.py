"""One sweep at a time per output folder: a second is refused by name, and a sweep that
dies (however it dies) leaves the folder free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from research.cli import main
from research.folder_lock import LOCK_NAME, FolderBusy, FolderLock
from research.results import CSV_NAME, ResultStore
from tests.research.sweep_helpers import FIXED, tiny_csv

ROOT = Path(__file__).resolve().parents[2]
HOLD = (
    "import sys; from pathlib import Path; from research.folder_lock import FolderLock; "
    "lock = FolderLock(Path(sys.argv[1])); print('held', flush=True); sys.stdin.read()"
)


def test_a_second_hold_on_the_folder_is_refused_until_the_first_lets_go(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = FolderLock(out)  # creates the folder
    with pytest.raises(FolderBusy, match=f"{out} is being written by another sweep") as busy:
        FolderLock(out)
    assert f"process {os.getpid()}" in str(busy.value)  # who holds it
    first.release()
    first.release()  # a second release does nothing
    FolderLock(out).release()


def test_a_store_holds_the_folder_until_it_closes(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "out")
    with pytest.raises(FolderBusy):
        ResultStore(tmp_path / "out")
    store.begin(())
    store.close()
    ResultStore(tmp_path / "out").close()
    assert ResultStore(None).close() == []  # no folder, nothing to hold


def test_a_sweep_into_a_folder_another_sweep_writes_is_refused_and_a_killed_one_frees_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = tiny_csv(tmp_path / "data"), tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"  # a barrier
        argv = ["sweep", "--data", str(data), "--param", FIXED, "--out", str(out)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"{out} is being written by another sweep (process {holder.pid})" in err
        assert not (out / CSV_NAME).exists()  # refused before any run
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    FolderLock(out).release()  # the kernel dropped the dead sweep's lock
    assert (out / LOCK_NAME).is_file()
