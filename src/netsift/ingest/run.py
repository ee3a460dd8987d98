"""The ingest driver: paths in, canonical rows in the store, one report per file.

For each file: skip what is already in the store (``bookkeeping``), pick the format (``--format``, the
format a resumed file had, or sniffing), stream whole-line chunks through the parser, append records and
rejected lines in large batched inserts, and record the file. The file's record is marked in progress
until the end: a failure removes this run's rows, and a run that died is cleaned up when the store is next
opened for writing, so a file is never left half-ingested. Content is hashed after decompression; a plain
file's unterminated last line is held back while the file is recent (``IngestOptions.hold_back_seconds``).
Errors about one file (empty, binary, unknown format, truncated) are reported for that file and the
batch goes on; ``strict`` turns the first rejected line into an error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import glob
import io
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO

import polars as pl
import pyarrow as pa

from netsift.errors import BadLineError, InputError
from netsift.ingest import bookkeeping
from netsift.ingest.base import ParseContext, Parser, ParseResult, screened
from netsift.ingest.formats import detect_format, format_names, parsers
from netsift.ingest.prefetch import prefetch
from netsift.ingest.reader import (
    HEAD_BYTES,
    ByteChunk,
    compression_of,
    decompressed,
    iter_byte_chunks,
    TextShape,
    as_stream,
    lines_from_bytes,
    read_head,
    text_shape,
)
from netsift.store import DuckDBStore
from netsift.store.duckdb import arrow_for_append

SNIFF_LINES = 50
INSERT_ROWS = 500_000  # rows gathered per INSERT (and per transaction) while ingesting one file
ROWS_IN_FLIGHT = INSERT_ROWS  # parsed rows the writer may lag behind by (bounds memory)
REPORT_REJECTIONS = 5


@dataclass
class IngestOptions:
    format: str | None = None
    year: int | None = None
    tz: str = "UTC"
    columns: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    # a plain file changed within this many seconds may still be written: its unterminated last line is
    # held back until complete (read when older, rotated or compressed)
    hold_back_seconds: float = 300.0


@dataclass
class FileReport:
    path: str
    status: str  # ingested, resumed, unchanged, duplicate, waiting (nothing complete yet), error
    format: str | None = None
    rows: int = 0
    rejected: int = 0
    lines: int = 0
    message: str | None = None
    first_rejections: list[tuple[int, str, str]] = field(default_factory=list)
    year: int | None = None  # the year year-less stamps were read as (None: the stamps carry their year)
    warnings: list[str] = field(default_factory=list)  # stamps in the future or far from the rest of the store

    def as_dict(self) -> dict:
        return {"path": self.path, "status": self.status, "format": self.format, "rows": self.rows,
                "rejected": self.rejected, "lines": self.lines, "message": self.message, "year": self.year,
                "warnings": self.warnings}


@dataclass
class IngestSummary:
    files: list[FileReport] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def errors(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "error"]


class _CountingReader(io.RawIOBase):
    """Feeds every byte read to a hash (if any) and a progress callback; gives at most ``limit`` bytes."""

    def __init__(self, raw: IO[bytes], hasher, on_bytes: Callable[[int], None] | None, limit: int | None = None):
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


class _Prefixed(io.RawIOBase):
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


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Files, directories (recursively, sorted), globs, and '-' for stdin."""
    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
        elif any(ch in p for ch in "*?["):
            matches = sorted(glob.glob(p, recursive=True))
            out.extend(m for m in matches if os.path.isfile(m))
            if not matches:
                out.append(p)  # reported as missing
        elif os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                out.extend(os.path.join(root, f) for f in sorted(files) if not f.startswith("."))
        else:
            out.append(p)
    return out


def _decompressed_head(path: str, compression: str | None) -> bytes:
    with open(path, "rb") as fh:
        return read_head(decompressed(fh, compression), compression)


def _sniff_lines(head: bytes) -> list[str]:
    try:
        shape = text_shape(head)
    except InputError:
        return []
    text = head[shape.bom:].decode(shape.encoding, errors="replace")
    lines = text.splitlines()
    if len(head) >= HEAD_BYTES and lines:
        lines.pop()  # probably cut
    return [ln for ln in lines if ln.strip()][:SNIFF_LINES]


def choose_parser(head: bytes, forced: str | None) -> Parser:
    if forced:
        try:
            return parsers()[forced]
        except KeyError:
            raise InputError(f"unknown format {forced!r}; formats: {', '.join(format_names())}") from None
    parser, _ = detect_format(head, _sniff_lines(head))
    if parser is None:
        text_shape(head)  # raises a clearer error for binary data
        lines = _sniff_lines(head)
        seen = repr(lines[0][:80]) if lines else "no text lines"
        raise InputError(f"format not recognised (first line: {seen}); use --format with one of: "
                         f"{', '.join(format_names())}")
    return parser


def _results(parser: Parser, stream: IO[bytes], head: bytes, ctx: ParseContext, first_line: int,
             notes: list[str]) -> Iterator[tuple[ParseResult, int]]:
    """(result, lines consumed) for each chunk."""
    if parser.parse_stream is not None:  # parser.kind == "binary"
        for result in parser.parse_stream(stream, ctx):
            yield screened(result), result.lines_accounted
        return
    shape = text_shape(head)
    if shape.note:
        notes.append(shape.note)
    if first_line > 1:  # a grown file's tail: its byte order mark was at the start, long read
        shape = dataclasses.replace(shape, bom=0)
    if parser.parse_document is not None:  # parser.kind == "document"
        data = stream.read()
        text = data[shape.bom:].decode(shape.encoding, errors="replace")
        result = parser.parse_document(text, ctx)
        yield screened(result), result.lines_accounted
        return
    # three overlapping stages: the reader thread reads, hashes and cuts whole-line chunks, and cuts them into
    # lines unless the parser takes bytes; a second thread runs the parser's ``prepare`` (the heavy part of
    # Pi-hole's parsing); this thread parses (and a fourth stores). A parser with a byte fast path gets the
    # bytes, and the chunk is cut into lines only if it declines.
    def read(chunk: ByteChunk, is_last: bool) -> tuple[ByteChunk, bool]:
        if parser.parse_bytes is None:
            chunk.lines()
        return chunk, is_last

    parse = parser.parse
    assert parse is not None, f"{parser.name}: a line format without parse"
    chunks = prefetch(read(*item) for item in iter_byte_chunks(stream, shape, first_line_no=first_line))
    staged: Iterator[tuple[ByteChunk, pl.DataFrame | None, bool]]
    if parser.prepare is not None:
        staged = prefetch((chunk, parser.prepare(chunk), is_last) for chunk, is_last in chunks)
    else:
        staged = ((chunk, None, is_last) for chunk, is_last in chunks)
    for chunk, prepared, is_last in staged:
        ctx.final = is_last
        fast = parser.parse_bytes(chunk, ctx) if parser.parse_bytes is not None else None
        parsed = fast if fast is not None else parse(chunk.lines() if prepared is None else prepared, ctx)
        yield screened(parsed, chunk.set_aside, chunk.lines), chunk.line_count


@dataclass
class _Source:
    """One input opened for reading. ``content`` is what is hashed, recorded and parsed: the file's bytes,
    or a compressed file's decompressed bytes (seekable, see ``_Decompressed``)."""

    path: str
    abs_path: str
    raw: IO[bytes]
    content: IO[bytes]
    head: bytes  # the first raw bytes
    text_head: bytes  # the first bytes of the content (b"" for compressed stdin: sniffing it needs --format)
    compression: str | None
    size: int | None  # raw bytes (None: stdin)
    mtime: dt.datetime
    progress: _Progress

    @property
    def is_stdin(self) -> bool:
        return self.path == "-"

    @property
    def content_head(self) -> bytes:
        return self.text_head or self.head

    def close(self) -> None:
        if not self.is_stdin:
            self.content.close()
            self.raw.close()


class _Progress:
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


class _Decompressed(io.RawIOBase):
    """A compressed file's content: readable, and seekable (forward by reading on, backward by decompressing
    again from the start). The compressed bytes of the first pass go to ``progress``."""

    def __init__(self, path: str, compression: str, progress: Callable[[int], None] | None):
        self._path, self._compression, self._progress = path, compression, progress
        self._open()

    def _open(self) -> None:
        self._fh = open(self._path, "rb")  # noqa: SIM115 - closed in close()
        self._stream = decompressed(io.BufferedReader(_CountingReader(self._fh, None, self._progress),
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
        while self._pos < pos and self.read(min(bookkeeping.HASH_BLOCK, pos - self._pos)):
            pass
        return self._pos

    def _close_streams(self) -> None:
        self._stream.close()
        self._fh.close()

    def close(self) -> None:
        if not self.closed:
            self._close_streams()
        super().close()


def _open_source(path: str, on_bytes: Callable[[int], None] | None) -> _Source:
    progress = _Progress(on_bytes)
    if path == "-":
        stdin: IO[bytes] = sys.stdin.buffer
        head = stdin.read(HEAD_BYTES)
        if not head:
            raise InputError("empty input", path)
        prefixed = _Prefixed(head, stdin)
        raw = as_stream(prefixed)
        compression = compression_of(head)
        content = decompressed(io.BufferedReader(prefixed), compression) if compression else raw
        return _Source(path, "-", raw, content, head, b"" if compression else head, compression, None,
                       dt.datetime.now(dt.UTC), progress)
    if not os.path.exists(path):
        raise InputError("no such file", path)
    st = os.stat(path)
    if st.st_size == 0:
        raise InputError("empty file (0 bytes)", path)
    raw = open(path, "rb")  # noqa: SIM115 - closed by _Source.close
    try:
        head = raw.read(HEAD_BYTES)
        raw.seek(0)
        compression = compression_of(head)
        text_head = _decompressed_head(path, compression)
        content = as_stream(_Decompressed(path, compression, progress)) if compression else raw
    except BaseException:
        raw.close()
        raise
    return _Source(path, os.path.abspath(path), raw, content, head, text_head, compression, st.st_size,
                   dt.datetime.fromtimestamp(st.st_mtime, dt.UTC), progress)


def _fresh() -> bookkeeping.ResumePoint:
    return bookkeeping.ResumePoint(None, 0, 0, bookkeeping.content_hasher(), False)


def _resume_point(store: DuckDBStore, src: _Source) -> bookkeeping.ResumePoint:
    if src.is_stdin:
        return _fresh()
    if src.compression is None:
        return bookkeeping.find_resume_point(store, src.abs_path, src.raw, src.size, src.head)
    # a record netsift made before it hashed decompressed content holds the hash of the compressed bytes
    legacy = bookkeeping.find_resume_point(store, src.abs_path, src.raw, src.size, src.head)
    if legacy.already_complete:
        return legacy
    try:
        return bookkeeping.find_resume_point(store, src.abs_path, src.content, None, src.text_head)
    except (EOFError, OSError, ValueError):  # cut short: read it as a new file (the read says where it ends)
        src.content.seek(0)
        return _fresh()


@contextlib.contextmanager
def _contents(path: str) -> Iterator[list[IO[bytes]]]:
    """A file's content, to compare with records: a plain file's bytes; a compressed file's decompressed
    bytes, then its compressed bytes (what records made before netsift hashed decompressed content hold)."""
    with open(path, "rb") as fh:
        compression = compression_of(fh.read(HEAD_BYTES))
        fh.seek(0)
        if compression is None:
            yield [fh]
            return
        content = _Decompressed(path, compression, None)
        try:
            yield [as_stream(content), fh]
        finally:
            content.close()


def _still_holds(prior: bookkeeping.PriorFile) -> bool:
    """Whether the file at the record's path still starts with the content the record describes (then a
    file elsewhere with that content is a copy; otherwise the record's file was rotated or renamed)."""
    if prior.path == "-":
        return True  # stdin is never continued by a file
    if not os.path.isfile(prior.path):
        return False
    head_window = prior.last_offset >= bookkeeping.HEAD_HASH_BYTES and prior.head_hash
    try:
        with _contents(prior.path) as streams:
            for stream in streams:
                stream.seek(0)
                if head_window and bookkeeping.head_hash(stream.read(bookkeeping.HEAD_HASH_BYTES)) != prior.head_hash:
                    continue  # cheap: a new file under the old name differs in its first bytes
                if bookkeeping.prefix_hasher(stream, prior) is not None:
                    return True
    except (EOFError, OSError, ValueError):
        pass
    return False


def _part_of(store: DuckDBStore, src: _Source, content_hash: str, length: int) -> str | None:
    """The path of an ingested file (still there, still holding what was ingested) whose content begins
    with all ``length`` bytes of this one (``content_hash``): then this file is a part of it, already
    ingested."""
    for other in bookkeeping.longer_records(store, bookkeeping.head_hash(src.content_head), length, src.abs_path):
        if not other.content_hash.startswith("blake3:") or not os.path.isfile(other.path):
            continue
        mine = bookkeeping.PriorFile(other.file_id, other.path, length, 0, content_hash, None)
        try:
            with _contents(other.path) as streams:
                hasher = bookkeeping.prefix_hasher(streams[0], mine)
                if hasher is not None and bookkeeping.hashes_on_to(streams[0], hasher, length, other):
                    return other.path
        except (EOFError, OSError, ValueError):
            continue
    return None


def _complete_end(fh: IO[bytes], start: int, size: int, shape: TextShape) -> int:
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
HELD_BACK = "last line held back (no newline yet)"


def ingest_file(store: DuckDBStore, path: str, opts: IngestOptions,
                on_bytes: Callable[[int], None] | None = None, times: StoreTimes | None = None) -> FileReport:
    """Ingest one file. ``times``: the store's time ranges, kept across a batch (see StoreTimes)."""
    src = _open_source(path, on_bytes)
    try:
        return _ingest_source(store, src, opts, times)
    finally:
        src.progress.up_to(src.size)
        src.close()


def _ingest_source(store: DuckDBStore, src: _Source, opts: IngestOptions, times: StoreTimes | None) -> FileReport:
    path, abs_path, is_stdin = src.path, src.abs_path, src.is_stdin
    report = FileReport(path=path, status="error")
    resume = _resume_point(store, src)
    notes: list[str] = []
    prior = resume.prior
    if prior is not None and opts.format and prior.format and opts.format != prior.format:
        # read before with another format: what that stored is replaced
        bookkeeping.forget_file(store, prior.file_id)
        if times is not None:
            times.drop(prior.file_id)
        where = "" if prior.path == abs_path else f" from {prior.path}"
        notes.append(f"replaces what was read as {prior.format}{where}")
        src.content.seek(0)
        resume, prior = _fresh(), None
    # a grown file, or one rotated or renamed (its record's path is gone or holds other content now),
    # continues its record; a different file that starts with the content of one still there is a copy
    if prior is not None and opts.year is not None and prior.path == abs_path:
        read_as = _read_as_year(store, prior)
        if read_as is not None and read_as != opts.year:
            # read before with year-less stamps in another year: --year replaces what that stored
            bookkeeping.forget_file(store, prior.file_id)
            if times is not None:
                times.drop(prior.file_id)
            notes.append(f"replaces what was read as {read_as}")
            src.content.seek(0)
            resume, prior = _fresh(), None
    continues = prior is not None and (prior.path == abs_path or not _still_holds(prior))
    rotated = continues and prior is not None and prior.path != abs_path
    peek = b""
    if prior is not None and src.compression and not resume.already_complete:
        peek = src.content.read(1)  # the content's length is unknown: is there more?
    if prior is not None and (resume.already_complete or (src.compression and not peek)):
        if rotated:
            bookkeeping.rename(store, prior.file_id, abs_path)
        return _unchanged(report, prior, abs_path)
    src.progress(resume.offset if src.compression is None else 0)
    text_head = src.text_head
    forced = opts.format or (prior.format if prior else None)
    if src.compression and is_stdin and not forced:
        raise InputError("compressed data on stdin: give --format", path)
    parser = choose_parser(text_head, forced)
    report.format = parser.name
    ctx = ParseContext(path=path, year=opts.year, mtime=src.mtime, tz=opts.tz, columns=dict(opts.columns))
    # a plain file still being written may end in half a line: hold it back until it is complete, or the
    # file has not changed for a while, or is seen rotated or compressed (then nothing more will come)
    limit = None
    age = (dt.datetime.now(dt.UTC) - src.mtime).total_seconds()
    if (parser.kind == "lines" and src.compression is None and not is_stdin and not rotated
            and age < opts.hold_back_seconds and src.size is not None):
        end = _complete_end(src.raw, resume.offset, src.size, text_shape(text_head))
        src.raw.seek(resume.offset)
        if end < src.size:
            notes.append(HELD_BACK)
            limit = end - resume.offset
            if limit == 0:
                if prior is not None:
                    return _unchanged(report, prior, abs_path, notes)
                report.status, report.message = "waiting", "; ".join(notes)
                return report
    resumed = resume.offset > 0
    skip_units = 0
    stream: IO[bytes] = src.content
    if resumed and parser.kind != "lines" and not is_stdin:
        # captures and JSON documents cannot start mid-file: read them again from the start and keep
        # only the units (packets, elements) after the ones already stored
        skip_units = resume.line
        src.content.seek(0)
        resume = bookkeeping.ResumePoint(prior, 0, 0, bookkeeping.content_hasher(), False)
    else:
        if resumed:
            _prime(parser, ctx, text_head)
        if peek:
            stream = as_stream(_Prefixed(peek, src.content))
    # plain files are read straight through the counting reader in large pieces (no extra copy)
    counting = _CountingReader(stream, resume.hasher, src.progress if src.compression is None else None, limit)
    if prior is not None and not continues and resumed:
        notes.append(f"its first {resume.line:,} lines are those of {prior.path}, already ingested: "
                     f"read from line {resume.line + 1:,}")
    file_id = prior.file_id if continues and prior is not None else bookkeeping.new_file_id(store)
    head = bookkeeping.head_hash(src.content_head)
    # the record says "in progress" while rows are committed in batches (bounded memory); if the run
    # dies, the next one removes the rows past the record's last complete line
    if continues:
        bookkeeping.mark_in_progress(store, file_id)
    else:
        bookkeeping.record(
            store, file_id=file_id, is_new=True, path=abs_path, size=resume.offset, head=head,
            content_hash=bookkeeping.digest_of(resume.hasher.copy()), last_offset=resume.offset,
            last_line=resume.line, fmt=parser.name, rows=0, rejected=0, in_progress=True)
    batches = _Batches(store, parser, file_id)
    lines = rows = rejected = 0
    try:
        try:
            for result, consumed in _results(parser, as_stream(counting), text_head, ctx, resume.line + 1, notes):
                if skip_units:
                    result = _after(result, skip_units)
                lines += consumed
                rows += result.records.height
                rejected += result.rejected.height
                batches.submit(result)
                if result.rejected.height:
                    if opts.strict:
                        first = result.rejected.sort("source_line").row(0)
                        raise BadLineError(path, first[0], first[1], first[2] or "")
                    room = REPORT_REJECTIONS - len(report.first_rejections)
                    if room > 0:
                        report.first_rejections += [tuple(r) for r in result.rejected.head(room).rows()]
            batches.flush()
        except (EOFError, OSError, ValueError) as exc:
            batches.flush()
            if lines == 0 and rows == 0:
                raise InputError(f"cannot read as {parser.name}: {exc}", path) from exc
            # truncated compressed stream / capture: keep what was read, say where it stopped
            reason = f"input truncated or corrupt after line {resume.line + lines}: {exc}"
            notes.append(reason)
            _store_rejections(store, file_id, pl.DataFrame(
                {"source_line": [resume.line + lines + 1], "reason": [reason], "text": [""]}))
            rejected += 1
        if opts.format and rows == 0 and lines > 0:
            _check_forced_format(parser, text_head, lines, rejected)
        consumed_bytes = resume.offset + counting.count
        content_hash = bookkeeping.digest_of(resume.hasher)
        if is_stdin:
            dup = bookkeeping.same_content(store, content_hash)
            if dup:
                bookkeeping.discard_after(store, file_id, resume.line, drop_record=True)
                report.status, report.message = "duplicate", f"same content as {dup} already ingested"
                return report
        elif prior is None:
            whole = _part_of(store, src, content_hash, consumed_bytes)
            if whole:
                bookkeeping.discard_after(store, file_id, 0, drop_record=True)
                report.status, report.message = "unchanged", f"already ingested as a part of {whole}; nothing new"
                return report
        bookkeeping.record(
            store, file_id=file_id, is_new=False, path=abs_path, size=consumed_bytes, head=head,
            content_hash=content_hash, last_offset=consumed_bytes, last_line=resume.line + lines,
            fmt=parser.name, rows=rows, rejected=rejected,
        )
    except BaseException:
        batches.abort()
        bookkeeping.discard_after(store, file_id, resume.line, drop_record=not continues)
        raise
    report.status = "resumed" if resumed and continues else "ingested"
    if skip_units:
        lines -= skip_units
    report.rows, report.rejected, report.lines = rows, rejected, lines
    notes += ctx.notes.values()
    report.year = ctx.assumed_year
    if notes:
        report.message = "; ".join(notes)
    if rows and parser.table == "dns_queries":
        report.warnings = _time_warnings(store, file_id, ctx, times or StoreTimes())
    return report


# formats whose stamps may lack the year (or the date): --year changes what they store
_YEAR_LESS_FORMATS = ("pihole", "bind", "tcpdump")


def _read_as_year(store: DuckDBStore, prior: bookkeeping.PriorFile) -> int | None:
    """The year a year-less file's first stamp was stored in (None: not such a format, or no rows)."""
    if prior.format not in _YEAR_LESS_FORMATS:
        return None
    return store.scalar("SELECT year(ts) FROM dns_queries WHERE source_file_id = ? AND ts IS NOT NULL "
                        "ORDER BY source_line LIMIT 1", [prior.file_id])


def _check_forced_format(parser: Parser, head: bytes, lines: int, rejected: int) -> None:
    """A --format that gave no record from a file whose lines another format would read is a mistake:
    raise (the file fails, nothing of it is kept) saying what was detected."""
    detected, _ = detect_format(head, _sniff_lines(head))
    if detected is not None and detected.name == parser.name:
        return  # the right format; the file just holds no questions
    unit = "packets" if parser.kind == "binary" else "lines"
    how = f"all {rejected:,} rejected" if rejected == lines else f"{rejected:,} rejected, the rest skipped"
    would = (f"the detected format would be {detected.name} (drop --format, or --format {detected.name})"
             if detected is not None else "no format recognises it either")
    raise InputError(f"--format {parser.name} matched none of its {lines:,} {unit} ({how}); {would}")


FUTURE_SLACK = dt.timedelta(days=1)  # stamps later than now + this are in the future
FAR_GAP = dt.timedelta(days=30)  # a file this far outside the store's time range (not overlapping) is far
FAR_MEDIAN = dt.timedelta(days=180)  # or whose median stamp is this far from the store's


class StoreTimes:
    """The time range of each file's rows in the store (rows, min, max, median), read in one scan the first
    time a file needs comparing and kept up to date through a batch, so that comparing a file with the rest
    of the store costs an aggregate over its own rows only. The store's median is the row-weighted median
    of the files' medians (close enough to tell months from years)."""

    def __init__(self) -> None:
        self._files: dict[int, tuple[int, dt.datetime, dt.datetime, dt.datetime]] | None = None

    def load(self, store: DuckDBStore) -> None:
        if self._files is None:
            self._files = {int(f): (n, lo, hi, mid) for f, n, lo, hi, mid in store.con.execute(
                "SELECT source_file_id, count(*), min(ts), max(ts), quantile_disc(ts, 0.5) FROM dns_queries "
                "WHERE ts IS NOT NULL GROUP BY source_file_id").fetchall()}

    def drop(self, file_id: int) -> None:
        if self._files is not None:
            self._files.pop(file_id, None)

    def update(self, store: DuckDBStore, file_id: int) -> tuple[dt.datetime, dt.datetime, dt.datetime] | None:
        """Read one file's (min, max, median) afresh (after its rows changed) and return it."""
        self.load(store)
        row = store.con.execute(
            "SELECT count(*), min(ts), max(ts), quantile_disc(ts, 0.5) FROM dns_queries WHERE source_file_id = ?",
            [file_id]).fetchone()
        assert row is not None  # an aggregate without GROUP BY has one row
        n, lo, hi, mid = row
        assert self._files is not None
        if lo is None:
            self._files.pop(file_id, None)
            return None
        self._files[file_id] = (n, lo, hi, mid)
        return lo, hi, mid

    def others(self, file_id: int) -> tuple[dt.datetime, dt.datetime, dt.datetime] | None:
        """(min, max, median) of every other file's rows; None when there are none."""
        rest = sorted((mid, n, lo, hi) for f, (n, lo, hi, mid) in (self._files or {}).items() if f != file_id)
        if not rest:
            return None
        half, seen = sum(r[1] for r in rest) / 2, 0
        for mid, n, _, _ in rest:
            seen += n
            if seen >= half:
                break
        return min(r[2] for r in rest), max(r[3] for r in rest), mid


def _time_warnings(store: DuckDBStore, file_id: int, ctx: ParseContext, times: StoreTimes) -> list[str]:
    """One line if the file's stamps fall in the future, or far from the rest of the store (its range does
    not overlap the store's and lies more than FAR_GAP away, or its median is more than FAR_MEDIAN from the
    store's): the mark of a wrong year given to year-less stamps, or of a wrong clock."""
    mine = times.update(store, file_id)
    if mine is None:
        return []
    lo, hi, mid = mine
    found = []
    shift = 0  # years the stamps seem off by (a hint for --year)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if hi > now + FUTURE_SLACK:
        found.append(f"stamps reach {hi:%Y-%m-%d %H:%M}, {_span(hi - now)} in the future")
        shift = -max(1, round((hi - now).days / 365.25))
    rest = times.others(file_id)
    if rest is not None:
        s_lo, s_hi, s_mid = rest
        gap = s_lo - hi if hi < s_lo else lo - s_hi if lo > s_hi else dt.timedelta(0)
        if gap > FAR_GAP or abs(mid - s_mid) > FAR_MEDIAN:
            where = "before" if mid < s_mid else "after"
            found.append(f"its stamps ({lo:%Y-%m-%d} to {hi:%Y-%m-%d}) lie {_span(abs(mid - s_mid))} {where} "
                         f"the rest of the store ({s_lo:%Y-%m-%d} to {s_hi:%Y-%m-%d})")
            shift = shift or round((s_mid - mid).days / 365.25)
    if not found:
        return []
    if ctx.assumed_year is not None:
        hint = (f"if their year is wrong, ingest it again with --year {ctx.assumed_year + shift}" if shift else
                "if their year is wrong, ingest it again with --year")
        hint += f" (read as {ctx.assumed_year})"
    else:
        hint = "the stamps carry their year: logs of another period, or a wrong clock?"
    return ["; ".join(found) + f": {hint}"]


def _span(delta: dt.timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days / 365.25:.1f} years" if days >= 365 else f"{days:,.0f} days" if days >= 2 else \
        f"{delta.total_seconds() / 3600:,.0f} h"


def _unchanged(report: FileReport, prior: bookkeeping.PriorFile, abs_path: str,
               notes: list[str] | None = None) -> FileReport:
    report.status, report.format = "unchanged", prior.format
    same = "" if prior.path == abs_path else f" (as {prior.path})"
    report.message = "; ".join([f"already ingested{same}; nothing new", *(notes or [])])
    return report


def _prime(parser: Parser, ctx: ParseContext, head: bytes) -> None:
    """Before parsing a grown file's tail, let the parser see the file's first lines (and discard the
    result): a Zeek ``#fields`` header, a CSV header, the first syslog year live there."""
    cut = head.rfind(b"\n") + 1
    if cut == 0:
        return
    try:
        shape = text_shape(head)
    except InputError:
        return
    data = head[shape.bom:cut]
    if shape.encoding != "utf-8":
        data = data.decode(shape.encoding, errors="replace").encode("utf-8")
    ctx.final = True
    assert parser.parse is not None, "only line formats are primed"
    parser.parse(lines_from_bytes(data, 1), ctx)


def _after(result: ParseResult, units: int) -> ParseResult:
    """The part of a result beyond the first ``units`` lines/packets (already stored)."""
    return ParseResult(result.records.filter(pl.col("source_line") > units),
                       result.rejected.filter(pl.col("source_line") > units), result.skipped)


class _Batches:
    """Stores parse results on a writer thread, in large inserts: DuckDB pays ~40 ms per INSERT statement
    (a new row group each time), so records (converted to Arrow on the parsing thread) are gathered until
    ``INSERT_ROWS`` and written in one statement and one transaction. The writer may lag ``ROWS_IN_FLIGHT``
    rows behind, so that an insert does not stall the parser. Memory stays bounded by those buffers
    whatever the file size."""

    def __init__(self, store: DuckDBStore, parser: Parser, file_id: int):
        self._store, self._parser, self._file_id = store, parser, file_id
        # one DuckDB thread for the inserts: the other core is parsing, and a two-thread insert of an Arrow
        # table spends more CPU for no gain in wall time here (reset when the file is done)
        self._threads = store.scalar("SELECT current_setting('threads')")
        store.con.execute("SET threads = 1")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netsift-store")
        self._pending: deque[Future] = deque()
        self._records: list[pa.Table] = []
        self._rejected: list[pl.DataFrame] = []
        self._buffered = 0
        self._pending_rows = 0

    def _gather(self, records: pa.Table | None, rejected: pl.DataFrame) -> int:
        """Buffer one result (writing the buffer when it is full); returns the rows it held."""
        if records is not None:
            self._records.append(records)
        if rejected.height:
            self._rejected.append(rejected)
        rows = (records.num_rows if records is not None else 0) + rejected.height
        self._buffered += rows
        if self._buffered >= INSERT_ROWS:
            self._write()
        return rows

    def _write(self) -> None:
        if not (self._records or self._rejected):
            return
        records = pa.concat_tables(self._records) if self._records else None
        rejected = pl.concat(self._rejected) if self._rejected else None
        self._records, self._rejected, self._buffered = [], [], 0
        self._store.con.execute("BEGIN TRANSACTION")
        try:
            if records is not None:
                self._store.append(self._parser.table, records)
            if rejected is not None:
                _store_rejections(self._store, self._file_id, rejected)
            self._store.con.execute("COMMIT")
        except BaseException:
            self._store.con.execute("ROLLBACK")
            raise

    def submit(self, result: ParseResult) -> None:
        # the writer may fall behind by about one insert's worth of rows, so that the parser fills the next
        # batch while the previous one is written; no more, so memory stays bounded
        rows = result.records.height + result.rejected.height
        while self._pending and self._pending_rows + rows > ROWS_IN_FLIGHT:
            self._pending_rows -= self._pending.popleft().result()
        self._pending_rows += rows
        # the conversion to Arrow happens here, on the parsing thread, to keep the writer (the slower
        # side for a log with one record per line) to the insert itself
        file_id = pl.lit(self._file_id, pl.Int64)
        records = (arrow_for_append(result.records.with_columns(source_file_id=file_id))
                   if result.records.height else None)
        self._pending.append(self._pool.submit(self._gather, records, result.rejected))

    def flush(self) -> None:
        # parsing is over: whatever is still to be written may use every DuckDB thread
        self._pending.append(self._pool.submit(self._restore))
        while self._pending:
            self._pending.popleft().result()
        self._pool.submit(self._write).result()
        self._pool.shutdown(wait=True)

    def _restore(self) -> None:
        self._store.con.execute(f"SET threads = {int(self._threads)}")

    def abort(self) -> None:
        while self._pending:
            self._pending.popleft().exception()
        self._records, self._rejected = [], []
        self._pool.shutdown(wait=True)
        self._restore()


def _store_rejections(store: DuckDBStore, file_id: int, rejected: pl.DataFrame) -> None:
    store.append("rejected_lines", rejected.with_columns(source_file_id=pl.lit(file_id, pl.Int64)))


def ingest_paths(store: DuckDBStore, paths: Iterable[str], opts: IngestOptions | None = None,
                 progress=None) -> IngestSummary:
    """Ingest every path; a problem with one file is reported in its FileReport and the batch goes on
    (except ``strict``, where the first bad line raises BadLineError)."""
    opts = opts or IngestOptions()
    summary = IngestSummary()
    bookkeeping.recover_interrupted(store)
    files = expand_paths(paths)
    times = StoreTimes()
    if progress is not None:
        progress.start(sum(os.path.getsize(p) for p in files if p != "-" and os.path.isfile(p)))
    for path in files:
        try:
            report = ingest_file(store, path, opts, progress.advance if progress is not None else None, times)
        except BadLineError:
            raise
        except InputError as exc:
            report = FileReport(path=path, status="error", message=str(exc).removeprefix(f"{path}: "))
        summary.files.append(report)
    if progress is not None:
        progress.stop()
    return summary
