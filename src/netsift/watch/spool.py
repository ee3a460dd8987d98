"""Syslog messages survive a kill -9: each is appended to a spool file before it is buffered.

A syslog source (one listener and format: ``udp://127.0.0.1:5514#pihole``) is a stream of bytes (the lines
its messages become) whose file record keeps, like a followed file's, the checkpoint: the stream offset up
to which every line is stored (``last_offset``, committed with the rows). A :class:`SpoolTail` writes every
line it is fed to ``<spool dir>/<source>.spool`` (``os.write``, before the line is buffered: a process killed
right after loses nothing the operating system was handed; ``fsync`` in groups, at most every
``SYNC_SECONDS``, for a machine that loses power), headed by the stream offset of its first byte (``base``).
After each commit the watcher tells the tail the committed offset (:meth:`SpoolTail.committed`): the spool
drops what is stored (truncated when everything is; rewritten and renamed over when more than
``COMPACT_BYTES`` is and some is not). A source's record continues across restarts (the stream is one),
so on start (:func:`replay`) the spool's bytes past its record's checkpoint are fed again: each message
received is stored exactly once, whether the watcher was killed before or after the batch that held it
committed.

The spool's header is ``netsift-spool <base, 20 digits> <source>\\n``; the base is rewritten in place after
the file is truncated (a crash in between leaves an empty spool: nothing to replay, and nothing was).
"""

from __future__ import annotations

import hashlib
import os
import time

from netsift.watch.follow import BufferTail

MAGIC = b"netsift-spool "
SYNC_SECONDS = 0.05  # fsync at most this often per spool (a group of messages each time)
COMPACT_BYTES = 1 << 20  # rewrite a spool when this much of it is stored and some is not


def spool_path(directory: str, source: str) -> str:
    return os.path.join(directory, hashlib.sha256(source.encode()).hexdigest()[:16] + ".spool")


def _header(base: int, source: str) -> bytes:
    return MAGIC + b"%020d" % base + b" " + source.encode() + b"\n"


def read_spool(path: str) -> tuple[str, int, bytes] | None:
    """(source, base, the bytes spooled) of a spool file (None: not one)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    end = data.find(b"\n")
    if not data.startswith(MAGIC) or end < len(MAGIC) + 21:
        return None
    try:
        base = int(data[len(MAGIC):len(MAGIC) + 20])
    except ValueError:
        return None
    return data[len(MAGIC) + 21:end].decode("utf-8", "replace"), base, data[end + 1:]


class SpoolTail(BufferTail):
    """A :class:`BufferTail` whose lines are spooled to a file first (see the module's doc). ``resume``: the
    record this source continues (file id, offset, line), or None for a new one; ``base``: the stream offset
    of the first byte fed (the record's checkpoint)."""

    def __init__(self, path: str, directory: str, resume: tuple[int, int, int] | None, replayed: bytes = b""):
        super().__init__(path)
        self.resume = resume
        self.base = resume[1] if resume is not None else 0
        self.spool = spool_path(directory, path)
        os.makedirs(directory, exist_ok=True)
        tmp = f"{self.spool}.{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:  # the spool as it must be now, in place at once
            fh.write(_header(self.base, path) + replayed)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.spool)
        self._header = len(_header(self.base, path))
        self._fd = os.open(self.spool, os.O_WRONLY | os.O_APPEND)
        self._synced_at = time.monotonic()
        self._dirty = False
        self._buf += replayed

    def feed(self, data: bytes) -> None:
        with self._lock:
            os.write(self._fd, data)
            self._buf += data
            self._dirty = True
            if time.monotonic() - self._synced_at >= SYNC_SECONDS:
                self._sync()

    def _sync(self) -> None:
        os.fsync(self._fd)
        self._dirty, self._synced_at = False, time.monotonic()

    def sync(self) -> None:
        """fsync what was spooled since the last (the watcher's poll calls it)."""
        with self._lock:
            if self._dirty:
                self._sync()

    def committed(self, offset: int) -> None:
        """The stream up to ``offset`` is stored (committed): drop it from the spool."""
        with self._lock:
            done = offset - self.base
            size = os.fstat(self._fd).st_size - self._header
            if done <= 0:
                return
            if done >= size:
                os.ftruncate(self._fd, self._header)  # first: a crash before the new base is an empty spool
                with open(self.spool, "r+b") as fh:  # (the append descriptor writes only at the end)
                    fh.seek(len(MAGIC))
                    fh.write(b"%020d" % offset)
                self.base = offset
                self._sync()
            elif done >= COMPACT_BYTES:
                with open(self.spool, "rb") as fh:
                    fh.seek(self._header + done)
                    rest = fh.read()
                tmp = f"{self.spool}.{os.getpid()}.tmp"
                with open(tmp, "wb") as out:
                    out.write(_header(offset, self.path) + rest)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.spool)
                os.close(self._fd)
                self._fd = os.open(self.spool, os.O_WRONLY | os.O_APPEND)
                self.base = offset
                self._dirty = False

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                if self._dirty:
                    self._sync()
                os.close(self._fd)
                self._fd = -1


def replay(directory: str, source_prefix: str,
           resume_points: dict[str, tuple[int, int, int]]) -> dict[str, tuple[tuple[int, int, int] | None, bytes]]:
    """The spools of the sources whose name starts with ``source_prefix`` (one listener): source -> (the
    record it continues, the bytes past that record's checkpoint: received, never stored)."""
    out: dict[str, tuple[tuple[int, int, int] | None, bytes]] = {}
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    for name in names:
        if not name.endswith(".spool"):
            continue
        found = read_spool(os.path.join(directory, name))
        if found is None or not found[0].startswith(source_prefix):
            continue
        source, base, data = found
        resume = resume_points.get(source)
        stored = resume[1] if resume is not None else 0
        out[source] = (resume, data[max(0, stored - base):])
    return out
