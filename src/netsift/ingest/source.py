"""An input opened for ingest: a file or stdin, decompressed by magic bytes, its head read once.

``open_source(path)`` gives a :class:`Source`: the raw stream and the content stream (a compressed file's
decompressed bytes, seekable: what is hashed, recorded and parsed), the first raw bytes and the first bytes
of the content (``text_head``, what formats are sniffed on), the size and modification time, and a progress
counter. The head is read and sniffed once per file (``Source.sniffed``); nothing here touches the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import itertools
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from netsift.errors import InputError
from netsift.ingest.bookkeeping import PriorFile
from netsift.ingest.reader import (
    HEAD_BYTES,
    TextShape,
    as_stream,
    compression_of,
    decompressed,
    read_head,
    text_shape,
)

SNIFF_LINES = 50
HASH_BLOCK = 4 * 1024 * 1024  # bytes read at a time when seeking forward in decompressed content


class CountingReader(io.RawIOBase):
    """Feeds every byte read to a hash (if any) and a progress callback; gives at most ``limit`` bytes."""

    def __init__(self, raw: IO[bytes], hasher: Any, on_bytes: Callable[[int], None] | None, limit: int | None = None):
        self._raw, self._hasher, self._on_bytes, self.count = raw, hasher, on_bytes, 0
        self._left = limit  # bytes it may still give (None: all)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._left is not None:
            size = self._left if size is None or size < 0 else min(size, self._left)
            if size <= 0:
                return b""
        data = self._raw.read(-1 if size is None else size)
        if self._left is not None:
            self._left -= len(data)
        if self._hasher is not None:
            self._hasher.update(data)
        self.count += len(data)
        if self._on_bytes:
            self._on_bytes(len(data))
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class Prefixed(io.RawIOBase):
    """A head already read from a non-seekable stream, followed by the rest of it."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)




def _decompressed_head(path: str, compression: str | None) -> bytes:
    with open(path, "rb") as fh:
        return read_head(decompressed(fh, compression), compression)


def sniff_lines(head: bytes) -> list[str]:
    try:
        shape = text_shape(head)
    except InputError:
        return []
    text = head[shape.bom:].decode(shape.encoding, errors="replace")
    lines = text.splitlines()
    if len(head) >= HEAD_BYTES and lines:
        lines.pop()  # probably cut
    return list(itertools.islice((ln for ln in lines if ln.strip()), SNIFF_LINES))



@dataclass
class Source:
    """One input opened for reading. ``content`` is what is hashed, recorded and parsed: the file's bytes,
    or a compressed file's decompressed bytes (seekable, see ``Decompressed``)."""

    path: str
    abs_path: str
    raw: IO[bytes]
    content: IO[bytes]
    head: bytes  # the first raw bytes
    text_head: bytes  # the first bytes of the content (b"" for compressed stdin: sniffing it needs --format)
    compression: str | None
    size: int | None  # raw bytes (None: stdin)
    mtime: dt.datetime
    progress: Progress = field(repr=False)
    # the store's file records this input may continue or be a part of (``bookkeeping.candidates``), read
    # once by the plan and used again after the read
    records: list[PriorFile] | None = field(default=None, repr=False)

    @property
    def is_stdin(self) -> bool:
        return self.path == "-"

    @property
    def content_head(self) -> bytes:
        return self.text_head or self.head

    @functools.cached_property
    def sniffed(self) -> list[str]:
        """The first non-empty decoded lines of the content (what formats are sniffed on), read once."""
        return sniff_lines(self.text_head)

    @functools.cached_property
    def shape(self) -> TextShape:
        """Encoding, byte order mark and line ends of the content (raises InputError for binary data)."""
        return text_shape(self.text_head)

    def close(self) -> None:
        if not self.is_stdin:
            self.content.close()
            self.raw.close()


class Progress:
    """Forwards byte counts to the progress callback and remembers their sum (to top up at the end)."""

    def __init__(self, on_bytes: Callable[[int], None] | None):
        self._on_bytes, self.reported = on_bytes, 0

    def __call__(self, n: int) -> None:
        if self._on_bytes is not None and n > 0:
            self._on_bytes(n)
            self.reported += n

    def up_to(self, total: int | None) -> None:
        if total is not None:
            self(total - self.reported)


class Decompressed(io.RawIOBase):
    """A compressed file's content: readable, and seekable (forward by reading on, backward by decompressing
    again from the start). The compressed bytes of the first pass go to ``progress``."""

    def __init__(self, path: str, compression: str, progress: Callable[[int], None] | None):
        self._path, self._compression, self._progress = path, compression, progress
        self._open()

    def _open(self) -> None:
        self._fh = open(self._path, "rb")  # noqa: SIM115 - closed in close()
        self._stream = decompressed(io.BufferedReader(CountingReader(self._fh, None, self._progress),
                                                      1024 * 1024), self._compression)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read(-1 if size is None else size)
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET:
            raise io.UnsupportedOperation("only absolute seeks")
        if pos < self._pos:
            self._close_streams()
            self._progress = None  # counted once
            self._open()
        while self._pos < pos and self.read(min(HASH_BLOCK, pos - self._pos)):
            pass
        return self._pos

    def _close_streams(self) -> None:
        self._stream.close()
        self._fh.close()

    def close(self) -> None:
        if not self.closed:
            self._close_streams()
        super().close()


def open_source(path: str, on_bytes: Callable[[int], None] | None = None) -> Source:
    progress = Progress(on_bytes)
    if path == "-":
        stdin: IO[bytes] = sys.stdin.buffer
        head = stdin.read(HEAD_BYTES)
        if not head:
            raise InputError("empty input", path)
        prefixed = Prefixed(head, stdin)
        raw = as_stream(prefixed)
        compression = compression_of(head)
        content = decompressed(io.BufferedReader(prefixed), compression) if compression else raw
        return Source(path, "-", raw, content, head, b"" if compression else head, compression, None,
                       dt.datetime.now(dt.UTC), progress)
    if not os.path.exists(path):
        raise InputError("no such file", path)
    if os.path.isdir(path):  # expand_paths passes on a folder only when it holds no file
        raise InputError("no files to ingest (a folder without files; hidden ones are skipped)", path)
    st = os.stat(path)
    if st.st_size == 0:
        raise InputError("empty file (0 bytes)", path)
    raw = open(path, "rb")  # noqa: SIM115 - closed by Source.close
    try:
        head = raw.read(HEAD_BYTES)
        raw.seek(0)
        compression = compression_of(head)
        text_head = _decompressed_head(path, compression)
        content = as_stream(Decompressed(path, compression, progress)) if compression else raw
    except BaseException:
        raw.close()
        raise
    return Source(path, os.path.abspath(path), raw, content, head, text_head, compression, st.st_size,
                   dt.datetime.fromtimestamp(st.st_mtime, dt.UTC), progress)


@contextlib.contextmanager
def contents(path: str) -> Iterator[list[IO[bytes]]]:
    """A file's content, to compare with records: a plain file's bytes; a compressed file's decompressed
    bytes, then its compressed bytes (what records made before netsift hashed decompressed content hold)."""
    with open(path, "rb") as fh:
        compression = compression_of(fh.read(HEAD_BYTES))
        fh.seek(0)
        if compression is None:
            yield [fh]
            return
        content = Decompressed(path, compression, None)
        try:
            yield [as_stream(content), fh]
        finally:
            content.close()


def complete_end(fh: IO[bytes], start: int, size: int, shape: TextShape) -> int:
    """The offset just after the last line end in bytes [start, size) of ``fh`` (``start`` when there is
    none). A file with no LF at all (CR-only line ends) counts its last CR."""
    unit = 2 if shape.encoding.startswith("utf-16") else 1
    for newline in ("\n", "\r") if unit == 1 else ("\n",):
        nl = newline.encode(shape.encoding)
        pos = size
        while pos > start:
            lo = max(start, pos - _TAIL_BLOCK)
            fh.seek(lo)
            block = fh.read(pos - lo)
            end = len(block)
            while (i := block.rfind(nl, 0, end)) >= 0:
                if (lo + i - shape.bom) % unit == 0:
                    return lo + i + len(nl)
                end = i + len(nl) - 1
            pos = lo + len(nl) - 1 if lo > start else lo
    return start


_TAIL_BLOCK = 64 * 1024


