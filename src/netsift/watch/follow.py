"""Following files the way ``tail -F`` does, by polling (portable; no inotify needed).

A :class:`Tail` holds one open file and how far it was read. Each poll :func:`Tail.check` stats the path:

- the same file (device and inode) grew: ``grown``;
- the same file is shorter than what was read, or its first bytes changed (``copytruncate``, or a file
  rewritten in place): ``truncated`` — what was read stays, the file is read again from the start as new
  content;
- the path is gone or names another file (rotation by rename, ``rm``): ``rotated`` — the open handle is read
  to its end first (the old file is finished, its last unterminated line included), then the new file at
  the path, if any, is followed from its start.

:func:`watched_paths` expands the arguments again on every poll (directories recursively, globs), so files
that appear later are picked up. ``-`` is stdin, read by a thread (:class:`StdinTail`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable
from typing import BinaryIO, Literal

from netsift.ingest.run import expand_paths

HEAD_CHECK_BYTES = 64  # the first bytes compared on each poll to notice a file rewritten in place
Change = Literal["same", "grown", "truncated", "rotated"]


def watched_paths(args: Iterable[str]) -> list[str]:
    """The files the arguments name now (absolute paths; ``-`` kept), in a stable order."""
    out: list[str] = []
    for p in expand_paths(a for a in args if a != "-"):
        if os.path.isfile(p):
            out.append(os.path.abspath(p))
    return out


def file_ident(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


class Tail:
    """One followed file: the open handle, how far it was read (``read_to``, always after a newline unless
    the file was finished), and what it looked like at the last poll."""

    def __init__(self, path: str, start: int):
        self.path = path
        self.fh: BinaryIO = open(path, "rb")  # noqa: SIM115 - kept open while followed
        st = os.fstat(self.fh.fileno())
        self.ident = file_ident(st)
        self.read_to = start
        self.size = st.st_size
        self.head = self._read_head()
        self.finishing = False  # renamed or removed: read to the end, then done
        self.at_eof = False  # the last read reached the end of the file
        self.last_data = time.monotonic()

    def _read_head(self) -> bytes:
        return os.pread(self.fh.fileno(), HEAD_CHECK_BYTES, 0)

    def check(self) -> Change:
        """What happened to the path since the last poll (see the module docstring)."""
        if self.finishing:
            return "rotated"
        try:
            st = os.stat(self.path)
        except OSError:
            st = None
        if st is None or file_ident(st) != self.ident:
            self.finishing = True
            return "rotated"
        if st.st_size < self.read_to:
            return "truncated"
        if st.st_size != self.size:
            self.size = st.st_size
            head = self._read_head()
            if head[:len(self.head)] != self.head:
                return "truncated"
            self.head = head
            return "grown"
        return "same"

    def behind(self) -> int:
        """Bytes written and not read yet (the lag behind this file)."""
        try:
            return max(0, os.fstat(self.fh.fileno()).st_size - self.read_to)
        except OSError:
            return 0

    def read(self, limit: int) -> bytes:
        """Up to ``limit`` new bytes ending with a newline (a partial last line waits, unless the file is
        being finished: then it is read as it is)."""
        self.fh.seek(self.read_to)
        data = self.fh.read(limit)
        self.at_eof = len(data) < limit
        if not data:
            return b""
        if len(data) < limit and self.finishing:
            cut = len(data)
        else:
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) >= limit:
                cut = len(data)  # a line longer than a whole batch: the reader sets it aside
        self.read_to += cut
        if cut:
            self.last_data = time.monotonic()
        return data[:cut]

    def close(self) -> None:
        self.fh.close()


class BufferTail:
    """Lines handed over in memory (a syslog program's messages; stdin): ``feed`` adds, ``read`` takes the
    complete lines received so far."""

    def __init__(self, path: str):
        self.path = path
        self.resume: tuple[int, int, int] | None = None  # the record it continues (file id, offset, line)
        self._buf = bytearray()
        self._lock = threading.Lock()
        self.ended = False
        self.read_to = 0
        self.finishing = False
        self.at_eof = True
        self.started = self.last_data = time.monotonic()

    def feed(self, data: bytes) -> None:
        with self._lock:
            self._buf += data

    def peek(self) -> bytes:
        with self._lock:
            return bytes(self._buf[:64 * 1024])

    def check(self) -> Change:
        if self.ended:
            self.finishing = True
        return "grown" if self._buf else "same"

    def behind(self) -> int:
        return len(self._buf)

    def read(self, limit: int) -> bytes:
        with self._lock:
            cut = min(len(self._buf), limit) if self.ended else self._buf.rfind(b"\n", 0, limit) + 1
            if cut == 0 and len(self._buf) >= limit:
                cut = limit
            data = bytes(self._buf[:cut])
            del self._buf[:cut]
            self.at_eof = not self._buf
        self.read_to += len(data)
        if data:
            self.last_data = time.monotonic()
        return data

    def close(self) -> None:
        pass


class StdinTail(BufferTail):
    """``-``: stdin, read by a thread."""

    def __init__(self, stream: BinaryIO | None = None):
        super().__init__("-")
        self._stream = stream if stream is not None else sys.stdin.buffer
        threading.Thread(target=self._pump, name="netsift-stdin", daemon=True).start()

    def _pump(self) -> None:
        while True:
            chunk = self._stream.readline()
            if not chunk:
                break
            self.feed(chunk)
        self.ended = True
