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

import bz2
import lzma
import os
import sys
import threading
import time
import zlib
from collections.abc import Iterable
from typing import Any, BinaryIO, Literal

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
        if st.st_size < self.consumed():
            return "truncated"
        if st.st_size != self.size:
            self.size = st.st_size
            head = self._read_head()
            if head[:len(self.head)] != self.head:
                return "truncated"
            self.head = head
            return "grown"
        return "same"

    def consumed(self) -> int:
        """Bytes of the file read (a file now shorter was truncated)."""
        return self.read_to

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


def _decompressor(compression: str) -> Any:
    """An incremental decompressor of one member (gzip) / stream (bzip2, xz) / frame (zstd):
    ``decompress``, ``eof``, ``unused_data``."""
    if compression == "gzip":
        return zlib.decompressobj(wbits=31)
    if compression == "bzip2":
        return bz2.BZ2Decompressor()
    if compression == "xz":
        return lzma.LZMADecompressor()
    import zstandard  # deferred: an optional dependency the reader imports the same way

    return zstandard.ZstdDecompressor().decompressobj()


class CompressedTail(Tail):
    """A followed compressed file (gzip, bzip2, xz, zstd) that grows: members or frames appended
    (``gzip -c >> log.gz``), or one stream still being written and flushed. The compressed bytes are read as
    they come and decompressed with the decompressor's state kept between polls, so each poll reads only
    what was appended; ``read_to``, the checkpoint and every offset are of the decompressed content (as the
    file records of compressed inputs are). Started at a decompressed ``start`` (a record's end), the
    content before it is decompressed once and skipped. A stream that ends inside a member waits for the
    rest, unless the file is being finished (rotated away): then what decompressed is its content."""

    READ = 1 << 20  # compressed bytes read per step

    def __init__(self, path: str, start: int, compression: str):
        self.compression = compression
        self.zpos = 0  # compressed bytes consumed
        self._z = _decompressor(compression)
        self._out = bytearray()  # decompressed, not read yet
        super().__init__(path, 0)
        skipped = 0
        while skipped < start:  # the content already stored, decompressed once and let go
            if not self._out and not self._pump():
                break
            take = min(start - skipped, len(self._out))
            del self._out[:take]
            skipped += take
        self.read_to = skipped

    def _pump(self) -> bool:
        """Decompress the next compressed bytes into ``_out``; False when there were none."""
        data = os.pread(self.fh.fileno(), self.READ, self.zpos)
        if not data:
            return False
        self.zpos += len(data)
        while data:
            self._out += self._z.decompress(data)
            if not self._z.eof:
                break
            data = self._z.unused_data  # the next member or frame
            self._z = _decompressor(self.compression)
            if data.strip(b"\x00") == b"":
                break  # zero padding after the last member
        return True

    def consumed(self) -> int:
        return self.zpos

    def behind(self) -> int:
        try:
            return max(0, os.fstat(self.fh.fileno()).st_size - self.zpos) + len(self._out)
        except OSError:
            return len(self._out)

    def read(self, limit: int) -> bytes:
        while len(self._out) < limit and self._pump():
            pass
        data = bytes(self._out[:limit])
        self.at_eof = len(self._out) <= limit and self.zpos >= os.fstat(self.fh.fileno()).st_size
        if not data:
            return b""
        if self.at_eof and self.finishing:
            cut = len(data)
        else:
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) >= limit:
                cut = len(data)
        del self._out[:cut]
        self.read_to += cut
        if cut:
            self.last_data = time.monotonic()
        return data[:cut]


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
