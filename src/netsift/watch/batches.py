"""Micro-batches: the new lines of each followed source, parsed and written with their checkpoint.

A followed source (:class:`Followed`) keeps its parser and parse context between batches, so a parser that
joins a question to a later line (Pi-hole replies, BIND and tcpdump responses) holds its last lines back
exactly as during a one-shot ingest (``ctx.final`` is False). The **checkpoint** of a source is the byte
offset and line number up to which every line is accounted for by the parser (``ParseResult.lines_accounted``,
cumulated: records + skipped + rejected); the lines the parser still holds are read again after a restart.

Each batch's rows go through :class:`netsift.ingest.writer.Writer` with the file record (offset, line, content
hash of the bytes up to the checkpoint) in the same transaction; :meth:`Batcher.commit` commits once per poll
for every source. Rows past the checkpoint are rare (a line the reader set aside among the lines a parser
still holds); while the store holds some, the record says ``in_progress``: a watcher killed with -9 leaves
rows past the checkpoint only under such a record, and the next writable open of the store removes them
(``bookkeeping.recover_interrupted``), so the next run reads those lines again: nothing lost, nothing doubled.
Otherwise the record is complete at its checkpoint, so a copy of a followed file (``copytruncate``) is
recognised as one.
A source is *flushed* (``ctx.final``: the parser lets go of what it holds) when it has been quiet for
``hold_seconds``, when lines have waited that long, when it was rotated or truncated, and when the watcher
stops; then its record is complete.

A file is followed from where ``netsift ingest`` would start reading it (``plan_file``: a new file from its
start, a grown or rotated one from its record's end); its backlog is read in batches like any new lines. A
file that is a copy of another or replaces an earlier read is first ingested once (``catch_up``). A
compressed file (gzip, bzip2, xz, zstd) is followed too, its appended members or frames decompressed as
they come (``follow.CompressedTail``). Files the watcher cannot follow line by line (captures, JSON
documents, UTF-16 or CR-only text) are ingested again, the same way, whenever they change and have been
quiet for ``hold_seconds``, or, while they keep changing, at least every ``WHOLE_MAX_WAIT`` holds (or four
times the last re-read's cost, when longer).
"""

from __future__ import annotations

import glob
import io
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from netsift.errors import InputError
from netsift.ingest import bookkeeping
from netsift.ingest.base import ParseContext, Parser, ParseResult, screened
from netsift.ingest.formats import detect_format, parsers
from netsift.ingest.plan import IngestOptions, plan_file, prime
from netsift.ingest.reader import ByteChunk, TextShape, iter_byte_chunks, text_shape
from netsift.ingest.run import FileReport, ingest_file
from netsift.ingest.source import open_source, sniff_lines
from netsift.ingest.writer import FileRecord, Writer
from netsift.store import Store
from netsift.watch.follow import BufferTail, CompressedTail, Tail

BATCH_BYTES = 8 * 1024 * 1024  # at most this much of one source per batch (the reader's chunk size)
HOLD_SECONDS = 1.0  # lines a parser holds back wait at most about this long
WHOLE_MAX_WAIT = 5  # holds a file re-read whole waits at most while it keeps changing


@dataclass
class Batch:
    """What one source gave in one batch."""

    path: str
    lines: int = 0
    rows: int = 0
    rejected: int = 0
    flushed: bool = False


@dataclass
class Followed:
    """A source followed line by line, with its checkpoint (see the module docstring)."""

    tail: Tail | BufferTail
    parser: Parser
    ctx: ParseContext
    shape: TextShape
    file_id: int
    is_new: bool  # its record is not in the store yet
    offset: int  # checkpoint: bytes [0, offset) are accounted for (``hasher`` fed with them)
    line: int  # the last line accounted for
    hasher: Any
    head: bytes  # the content's first bytes (up to the head-hash window) up to the checkpoint
    pending: bytearray = field(default_factory=bytearray)  # read, not accounted for yet (held by the parser)
    pending_lines: int = 0
    held_since: float | None = None
    rows: int = 0
    rejected: int = 0
    lines: int = 0
    stored_to: int = 0  # the highest line number whose rows (of any table) are stored

    @property
    def path(self) -> str:
        return self.tail.path

    def record(self, rows: int, rejected: int) -> FileRecord:
        """The record at the checkpoint; in progress while rows past it are stored."""
        return FileRecord(self.file_id, self.path, self.offset, bookkeeping.head_hash(self.head),
                          bookkeeping.digest_of(self.hasher.copy()), self.offset, self.line, self.parser.name,
                          rows, rejected, in_progress=self.stored_to > self.line)


@dataclass
class Whole:
    """A file ingested again as a whole whenever it changed (see the module docstring)."""

    path: str
    signature: tuple[int, int, int]
    changed_at: float
    done: bool = True
    rows: int = 0
    rejected: int = 0
    waiting_since: float | None = None  # the first change not read yet
    cost: float = 0.0  # seconds the last read took

    def changed(self, sig: tuple[int, int, int], now: float) -> None:
        if sig != self.signature:
            self.signature, self.changed_at, self.done = sig, now, False
            if self.waiting_since is None:
                self.waiting_since = now

    def due(self, now: float, hold_seconds: float) -> bool:
        """Read it again: it changed and has been quiet for ``hold_seconds``, or it keeps changing (a
        capture ``tcpdump -w`` writes every moment) and has waited WHOLE_MAX_WAIT holds, or four times its
        last read's cost when that is longer (so re-reading a large file takes at most a fifth of the time)."""
        if self.done:
            return False
        waited = now - (self.waiting_since if self.waiting_since is not None else now)
        return (now - self.changed_at >= hold_seconds
                or waited >= max(WHOLE_MAX_WAIT * hold_seconds, 4 * self.cost))


def signature(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def catch_up(store: Store, path: str, opts: IngestOptions) -> FileReport:
    """Ingest what a file holds now (its backlog), as ``netsift ingest`` would; an unreadable file is a
    report with status ``error``."""
    try:
        with Writer(store) as writer:
            return ingest_file(store, path, opts, writer=writer)
    except InputError as exc:
        return FileReport(path=path, status="error", message=str(exc).removeprefix(f"{path}: "))


def finish_rotated(store: Store, path: str, opts: IngestOptions) -> list[FileReport]:
    """Before following ``path``: a file rotated away from it while no watcher ran (``path.1``, ``path.1.gz``
    ... in the same directory) whose content continues the record of ``path`` has its rest ingested (the
    record follows it), so the lines written to it before the rotation are not lost."""
    out = []
    wanted = os.path.abspath(path)
    for sibling in sorted(glob.glob(glob.escape(path) + ".*")):
        if not os.path.isfile(sibling):
            continue
        try:
            src = open_source(sibling)
        except InputError:
            continue
        try:
            plan = plan_file(store, src, opts)
            continues = plan.action == "resume" and plan.prior is not None and plan.prior.path == wanted
        except InputError:
            continues = False
        finally:
            src.close()
        if continues:
            out.append(catch_up(store, sibling, opts))
    return out


def copy_of(store: Store, path: str, opts: IngestOptions) -> int | None:
    """The file id of the record whose content this file starts with while that record's file still holds
    it (a copy: ``copytruncate``'s ``pihole.log.1``, a compressed copy), else None."""
    try:
        src = open_source(path)
    except InputError:
        return None
    try:
        plan = plan_file(store, src, opts)
    except InputError:
        return None
    finally:
        src.close()
    if plan.prior is not None and (plan.action == "copy" or plan.action == "unchanged" and not plan.rotated):
        return plan.prior.file_id
    return None


def follow_file(store: Store, path: str, opts: IngestOptions) -> Followed | None:
    """Start following a plain text file where its record ends (a new file: at its start; a rotated one:
    the record follows it), as ``netsift ingest`` would plan it. None when it cannot be followed line by
    line, or when the plan is a copy of another file or replaces an earlier read (then the caller ingests
    it once with ``catch_up``, and follows it from there)."""
    try:
        src = open_source(path)
    except InputError:
        return None
    try:
        shape = text_shape(src.text_head)
        if shape.encoding.startswith("utf-16") or shape.cr_lines:
            return None
        plan = plan_file(store, src, opts)
        prior, resume = plan.prior, plan.resume
        if plan.replaces is not None or plan.action == "copy":
            return None
        parser = plan.parser or (parsers().get(prior.format) if prior is not None and prior.format else None)
        if parser is None or parser.kind != "lines":
            return None
        if plan.rotated and prior is not None:
            bookkeeping.rename(store, prior.file_id, src.abs_path)
        ctx = plan.ctx
        if plan.parser is None:  # unchanged: the plan made no context
            ctx = ParseContext(path=path, year=opts.year, mtime=src.mtime, tz=opts.tz, columns=dict(opts.columns))
            if resume.offset > 0:
                prime(parser, ctx, src.text_head)
        ctx.path = path
        file_id = prior.file_id if prior is not None else bookkeeping.new_file_id(store)
        head = src.content_head[:min(resume.offset, bookkeeping.HEAD_HASH_BYTES)]
        tail = Tail(path, resume.offset) if src.compression is None else \
            CompressedTail(path, resume.offset, src.compression)
        return Followed(tail, parser, ctx, shape, file_id, prior is None, resume.offset, resume.line, resume.hasher,
                        head)
    except InputError:
        return None
    finally:
        src.close()


def follow_buffer(store: Store, tail: BufferTail, opts: IngestOptions, fmt: str | None = None) -> Followed | None:
    """Lines handed over in memory (stdin, a syslog program), once the first are there: read with ``fmt``,
    ``--format``, or the format sniffed on them."""
    head = tail.peek()
    if not head:
        return None
    if fmt or opts.format:
        parser = parsers()[fmt or opts.format or ""]
    else:
        lines = sniff_lines(head)
        if len(lines) < 5 and not tail.ended and time.monotonic() - tail.started < HOLD_SECONDS * 5:
            return None  # wait for a few lines to sniff on
        found, _ = detect_format(head, lines)
        if found is None:
            raise InputError("format not recognised; give --format", tail.path)
        parser = found
    if parser.kind != "lines":
        raise InputError(f"{parser.name} cannot be followed (not a line format)", tail.path)
    ctx = ParseContext(path=tail.path, year=opts.year, tz=opts.tz, columns=dict(opts.columns))
    if tail.resume is not None:  # a syslog source continues its record (its spool replays past it)
        file_id, offset, line = tail.resume
        return Followed(tail, parser, ctx, text_shape(head), file_id, False, offset, line,
                        bookkeeping.content_hasher(), b"")
    return Followed(tail, parser, ctx, text_shape(head), bookkeeping.new_file_id(store), True, 0, 0,
                    bookkeeping.content_hasher(), b"")


def _line_end(buf: bytes | bytearray, lines: int) -> int:
    """The offset just after the ``lines``-th line of ``buf`` (its end when it has no more newlines)."""
    if lines <= 0:
        return 0
    ends = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == 10)
    return int(ends[lines - 1]) + 1 if lines <= len(ends) else len(buf)


def parse_batch(f: Followed, data: bytes, final: bool) -> list[ParseResult]:
    """Parse ``data`` (whole lines following what ``f`` has read) with ``f``'s parser and context."""
    first_line = f.line + f.pending_lines + 1
    shape = f.shape if first_line == 1 else TextShape(f.shape.encoding, 0, None, f.shape.cr_lines)
    chunks = list(iter_byte_chunks(io.BytesIO(data), shape, first_line_no=first_line)) if data else []
    if not chunks:
        chunks = [(ByteChunk(b"", first_line, 0), True)]
    out = []
    parser = f.parser
    assert parser.parse is not None
    for chunk, is_last in chunks:
        f.ctx.final = final and is_last
        fast = parser.parse_bytes(chunk, f.ctx) if parser.parse_bytes is not None else None
        if fast is None:
            prepared = parser.prepare(chunk) if parser.prepare is not None else None
            fast = parser.parse(chunk.lines() if prepared is None else prepared, f.ctx)
        out.append(screened(fast, chunk.set_aside, chunk.lines, parser.table, parser.also_writes))
    return out


def _last_line(result: ParseResult) -> int:
    """The highest source line among a result's rows (records of every table, rejected lines)."""
    frames = [result.records, result.rejected, *result.tables.values()]
    return max((int(df.select(pl.col("source_line").max()).item() or 0) for df in frames
                if df.height and "source_line" in df.columns), default=0)


class Batcher:
    """Runs the batches of every followed source over one Writer; ``commit`` ends a poll's transaction."""

    def __init__(self, store: Store, hold_seconds: float = HOLD_SECONDS):
        self.store = store
        self.hold_seconds = hold_seconds
        self.writer = Writer(store)

    def step(self, f: Followed, *, flush: bool = False, read: bool = True) -> Batch | None:
        """Read and store what ``f`` has new (None: nothing to do). ``flush``: let the parser go of every
        line it holds (stopping, rotated, truncated); ``read``: False for a truncated file (what it holds
        now is new content, read from its start by a new record)."""
        now = time.monotonic()
        data = f.tail.read(BATCH_BYTES) if read else b""
        at_end = f.tail.at_eof  # everything written so far is read (not: a batch cut at its last newline)
        if f.tail.finishing and at_end:
            flush = True  # the old file of a rotation, or stdin's end: nothing more will come
        quiet = now - f.tail.last_data >= self.hold_seconds
        waited = f.held_since is not None and now - f.held_since >= self.hold_seconds
        final = flush or (at_end and f.pending_lines > 0 and (quiet or waited))
        if not data and not (final and (f.pending_lines or f.is_new and f.offset == 0 and flush)):
            return None
        batch = Batch(f.path, flushed=final)
        new_lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        results = parse_batch(f, data, final)
        accounted = sum(r.lines_accounted for r in results)
        total = f.pending_lines + new_lines
        accounted = min(accounted, total) if not final else total
        buf = f.pending + data if f.pending else data
        cut = _line_end(buf, accounted) if accounted < total else len(buf)
        resume_line = f.line
        f.hasher.update(memoryview(buf)[:cut])
        if len(f.head) < bookkeeping.HEAD_HASH_BYTES:
            f.head += bytes(buf[:bookkeeping.HEAD_HASH_BYTES - len(f.head)])
        f.offset += cut
        f.line += accounted
        f.pending = bytearray(buf[cut:])
        f.pending_lines = total - accounted
        f.held_since = None if not f.pending_lines else (f.held_since or now)
        batch.lines = new_lines
        batch.rows = sum(r.rows for r in results)
        batch.rejected = sum(r.rejected.height for r in results)
        f.rows, f.rejected, f.lines = f.rows + batch.rows, f.rejected + batch.rejected, f.lines + new_lines
        f.stored_to = max(f.stored_to, *(_last_line(r) for r in results))
        opening = f.record(0, 0) if f.is_new else None
        self.writer.start(f.parser.table, f.file_id, opening=opening, resume_line=resume_line)
        try:
            for r in results:
                self.writer.submit(r)
            self.writer.finish(f.record(batch.rows, batch.rejected))
        except BaseException:
            self.writer.abort()
            raise
        f.is_new = False
        return batch

    def complete(self, f: Followed) -> None:
        """Mark ``f``'s record complete (it is no longer followed: rotated away, truncated, or stopping)."""
        self.writer.commit()
        if not f.is_new:
            bookkeeping.discard_after(self.store, f.file_id, f.line, drop_record=False)

    def commit(self) -> None:
        self.writer.commit()

    def close(self) -> None:
        self.writer.close()
