"""The write-ahead log's file: order intents appended to a memory-mapped file.

An order's intent must be durable before the order leaves the process, and writing it
sits on the hot path. A database INSERT (even SQLite's, tens of microseconds alone)
lets go of the interpreter lock while the driver works, and the order's thread then
waits for whichever thread took the lock — about 0.15 ms in the running bot. Copying a
record into a mapped page never lets go of the lock and makes no system call. The page
belongs to the kernel's page cache the moment it is written, so the intent survives
the process being killed (SIGKILL, a crash, an OOM kill); like SQLite in WAL mode with
``synchronous=NORMAL``, it is flushed to the disk (``fsync``) off the hot path, every few
seconds (:func:`sync_intent_file`, by the ledger actor), not at every write.

Layout: a 16-byte header (:data:`MAGIC`), then records ``<u32 length><u32 crc32><JSON>``;
a zero length ends the log. A record the process died while writing fails its
checksum and ends the log there (the next record overwrites it). Each segment is
allocated in full when it is made (``posix_fallocate``: a full disk is an error at
rotation, not a SIGBUS later); when one is full it becomes ``<name>.1`` (replacing the
previous one) and a new one starts. Recovery reads both, so it sees at least the last
:data:`SEGMENT_BYTES` of intents — about ten thousand — while the ledger copies every
intent into its ``orders`` table within a second.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from storage.errors import ForeignDatabase, LedgerUnavailable

MAGIC = b"SOL15-INTENTS-1\n"
SEGMENT_BYTES = 4 * 1024 * 1024
_RECORD = struct.Struct("<II")  # payload length, crc32 of the payload


def previous_of(path: Path) -> Path:
    return path.with_name(path.name + ".1")


def check_intent_file(path: Path) -> None:
    """Refuse a file that is not a sol15 write-ahead log (None there is fine)."""
    for candidate in (path, previous_of(path)):
        try:
            with candidate.open("rb") as f:
                head = f.read(len(MAGIC))
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise LedgerUnavailable(f"cannot read the write-ahead log {candidate}: {exc}") from None
        if head != MAGIC:
            raise ForeignDatabase(
                f"{candidate} is not a sol15 write-ahead log (intents); refusing to use it"
            )


def _records(data: bytes | mmap.mmap) -> Iterator[tuple[int, bytes]]:
    """``(end offset, payload)`` of each whole record, in order."""
    if data[: len(MAGIC)] != MAGIC:
        return
    at, size = len(MAGIC), len(data)
    while at + _RECORD.size <= size:
        length, crc = _RECORD.unpack_from(data, at)
        start, end = at + _RECORD.size, at + _RECORD.size + length
        if length == 0 or end > size:
            return
        payload = bytes(data[start:end])
        if zlib.crc32(payload) != crc:
            return
        yield end, payload
        at = end


def read_intent_records(path: Path) -> list[bytes]:
    """Every intact record of the log (the older segment first)."""
    found: list[bytes] = []
    for segment in (previous_of(path), path):
        try:
            data = segment.read_bytes()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise LedgerUnavailable(f"cannot read the write-ahead log {segment}: {exc}") from None
        found.extend(payload for _, payload in _records(data))
    return found


def sync_intent_file(path: Path) -> None:
    """Write the log's dirty pages to the disk. ``fsync`` (not ``mmap.flush``, which holds
    the interpreter lock while the device works) on a descriptor of its own, so any thread
    can do it — never the order's: it waits for the disk."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prefault(mapped: mmap.mmap, start: int) -> None:
    """Write each page after ``start`` once (with the zero it holds), so that appending an
    intent on the order's path never waits for the kernel to bring a page in: about 3 ms
    for a 4 MiB segment, at open, instead of a fault every dozen orders."""
    page = mmap.PAGESIZE
    for at in range((start // page + 1) * page, len(mapped), page):
        mapped[at] = mapped[at]


class IntentFile:
    """The appending end of the log; one writer (one OrderActor incarnation) at a time."""

    def __init__(self, path: Path, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.path = path
        self.segment_bytes = segment_bytes
        self._map: mmap.mmap | None = None
        self._at = 0

    @property
    def is_open(self) -> bool:
        return self._map is not None

    def open(self) -> None:
        """Map the current segment (made if missing) and find its end."""
        if self._map is not None:
            return
        check_intent_file(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                self._create(self.path)
            fd = os.open(self.path, os.O_RDWR)
            try:
                size = os.fstat(fd).st_size
                mapped = mmap.mmap(fd, size)
            finally:
                os.close(fd)
        except (OSError, ValueError) as exc:
            raise LedgerUnavailable(f"cannot open the write-ahead log {self.path}: {exc}") from None
        ends = [end for end, _ in _records(mapped)]
        self._map, self._at = mapped, ends[-1] if ends else len(MAGIC)
        _prefault(mapped, self._at)

    def _create(self, path: Path) -> None:
        """A full-size segment: its blocks reserved now, so writes into it cannot fail later."""
        partial = path.with_name(path.name + ".new")
        fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                os.posix_fallocate(fd, 0, self.segment_bytes)
            except OSError as exc:  # a file system without it: a sparse file will do
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                os.ftruncate(fd, self.segment_bytes)
            os.pwrite(fd, MAGIC, 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, path)

    def append(self, payload: bytes) -> None:
        """Add one record (a memory copy; rotates the segment when it is full)."""
        mapped = self._map
        assert mapped is not None, "open() first"
        at, length = self._at, len(payload)
        end = at + _RECORD.size + length
        if end + _RECORD.size > len(mapped):
            self._rotate(length)
            mapped, at = self._map, self._at
            assert mapped is not None
            end = at + _RECORD.size + length
        # The payload first, its header last: a record is only valid once it is whole.
        mapped[at + _RECORD.size : end] = payload
        _RECORD.pack_into(mapped, at, length, zlib.crc32(payload))
        self._at = end

    def _rotate(self, length: int) -> None:
        if len(MAGIC) + 2 * _RECORD.size + length > self.segment_bytes:
            raise LedgerUnavailable(f"an intent of {length} bytes does not fit the write-ahead log")
        self.close()
        try:
            os.replace(self.path, previous_of(self.path))
        except OSError as exc:
            raise LedgerUnavailable(
                f"cannot rotate the write-ahead log {self.path}: {exc}"
            ) from None
        self.open()

    def close(self) -> None:
        mapped, self._map = self._map, None
        if mapped is not None:
            with contextlib.suppress(OSError, ValueError):
                mapped.flush()
            mapped.close()
