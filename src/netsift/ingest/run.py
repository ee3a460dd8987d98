"""The ingest driver: paths in, canonical rows in the store, one report per file.

For each file: skip what is already in the store (``bookkeeping``), pick the format (``--format``, the
format a resumed file had, or sniffing), stream whole-line chunks through the parser, append records and
rejected lines in large batched inserts, and record the file. The file's record is marked in progress
until the end: a failure removes this run's rows, and a run that died is cleaned up by the next one, so a
file is never left half-ingested.
Errors about one file (empty, binary, unknown format, truncated) are reported for that file and the
batch goes on; ``strict`` turns the first rejected line into an error.
"""

from __future__ import annotations

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
from netsift.ingest.base import ParseContext, Parser, ParseResult
from netsift.ingest.formats import detect_format, format_names, parsers
from netsift.ingest.prefetch import prefetch
from netsift.ingest.reader import (
    HEAD_BYTES,
    ByteChunk,
    compression_of,
    decompressed,
    iter_byte_chunks,
    lines_from_bytes,
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


@dataclass
class FileReport:
    path: str
    status: str  # ingested, resumed, unchanged, duplicate, error
    format: str | None = None
    rows: int = 0
    rejected: int = 0
    lines: int = 0
    message: str | None = None
    first_rejections: list[tuple[int, str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"path": self.path, "status": self.status, "format": self.format, "rows": self.rows,
                "rejected": self.rejected, "lines": self.lines, "message": self.message}


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
    """Feeds every byte read to a hash and a progress callback."""

    def __init__(self, raw: IO[bytes], hasher, on_bytes: Callable[[int], None] | None):
        self._raw, self._hasher, self._on_bytes, self.count = raw, hasher, on_bytes, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
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
        stream = decompressed(fh, compression)
        try:
            return stream.read(HEAD_BYTES)
        except (EOFError, OSError, ValueError):
            return b""


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
    if parser.kind == "binary":
        for result in parser.parse_stream(stream, ctx):
            yield result, result.lines_accounted
        return
    shape = text_shape(head)
    if shape.note:
        notes.append(shape.note)
    if parser.kind == "document":
        data = stream.read()
        text = data[shape.bom:].decode(shape.encoding, errors="replace")
        result = parser.parse_document(text, ctx)
        yield result, result.lines_accounted
        return
    # three overlapping stages: the reader thread reads, hashes and cuts whole-line chunks, and cuts them into
    # lines unless the parser takes bytes; a second thread runs the parser's ``prepare`` (the heavy part of
    # Pi-hole's parsing); this thread parses (and a fourth stores). A parser with a byte fast path gets the
    # bytes, and the chunk is cut into lines only if it declines.
    def read(chunk: ByteChunk, is_last: bool) -> tuple[ByteChunk, bool]:
        if parser.parse_bytes is None:
            chunk.lines()
        return chunk, is_last

    chunks = prefetch(read(*item) for item in iter_byte_chunks(stream, shape, first_line_no=first_line))
    if parser.prepare is not None:
        staged = prefetch((chunk, parser.prepare(chunk), is_last) for chunk, is_last in chunks)
    else:
        staged = ((chunk, None, is_last) for chunk, is_last in chunks)
    for chunk, prepared, is_last in staged:
        ctx.final = is_last
        result = parser.parse_bytes(chunk, ctx) if parser.parse_bytes is not None else None
        if result is None:
            result = parser.parse(chunk.lines() if prepared is None else prepared, ctx)
        yield result, chunk.line_count


def ingest_file(store: DuckDBStore, path: str, opts: IngestOptions,
                on_bytes: Callable[[int], None] | None = None) -> FileReport:
    report = FileReport(path=path, status="error")
    is_stdin = path == "-"
    if is_stdin:
        raw: IO[bytes] = sys.stdin.buffer
        head = raw.read(HEAD_BYTES)
        raw = _Prefixed(head, raw)  # type: ignore[assignment]
        size = None
        mtime = dt.datetime.now(dt.UTC)
        resume = bookkeeping.ResumePoint(None, 0, 0, bookkeeping.content_hasher(), False)
        if not head:
            raise InputError("empty input", path)
    else:
        if not os.path.exists(path):
            raise InputError("no such file", path)
        st = os.stat(path)
        size = st.st_size
        mtime = dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)
        if size == 0:
            raise InputError("empty file (0 bytes)", path)
        raw = open(path, "rb")  # noqa: SIM115 - closed in finally
        head = raw.read(HEAD_BYTES)
        raw.seek(0)
        resume = bookkeeping.find_resume_point(store, os.path.abspath(path), raw, size, head)
        if resume.already_complete:
            raw.close()
            prior = resume.prior
            report.status, report.format = "unchanged", prior.format if prior else None
            same = "" if prior is None or prior.path == path else f" (as {prior.path})"
            report.message = f"already ingested{same}; nothing new"
            if on_bytes:
                on_bytes(size)
            return report
        if on_bytes and resume.offset:
            on_bytes(resume.offset)
    try:
        compression = compression_of(head)
        if compression and not is_stdin:
            text_head = _decompressed_head(path, compression)
        elif compression:
            text_head = b""  # sniffing compressed stdin needs --format
        else:
            text_head = head
        forced = opts.format or (resume.prior.format if resume.prior else None)
        if compression and is_stdin and not forced:
            raise InputError("compressed data on stdin: give --format", path)
        parser = choose_parser(text_head, forced)
        report.format = parser.name
        ctx = ParseContext(path=path, year=opts.year, mtime=mtime, tz=opts.tz, columns=dict(opts.columns))
        resumed = resume.offset > 0
        skip_units = 0
        if resumed and parser.kind != "lines" and not is_stdin:
            # captures and JSON documents cannot start mid-file: read them again from the start and keep
            # only the units (packets, elements) after the ones already stored
            skip_units = resume.line
            raw.seek(0)
            resume = bookkeeping.ResumePoint(resume.prior, 0, 0, bookkeeping.content_hasher(), False)
        elif resumed and parser.kind == "lines":
            _prime(parser, ctx, text_head)
        counting = _CountingReader(raw, resume.hasher, on_bytes)
        # plain files are read straight through the counting reader in large pieces (no extra copy);
        # decompressors want a buffered stream under them
        stream = (decompressed(io.BufferedReader(counting, 1024 * 1024), compression) if compression
                  else counting)
        # a grown file, or a rotated one (its old name is gone), continues its record; a copy that grew
        # gets a record of its own that starts where the shared prefix ends
        continues = resume.prior is not None and (
            resume.prior.path == os.path.abspath(path) or not os.path.exists(resume.prior.path))
        file_id = resume.prior.file_id if continues else bookkeeping.new_file_id(store)
        abs_path = os.path.abspath(path) if not is_stdin else "-"
        # the record says "in progress" while rows are committed in batches (bounded memory); if the run
        # dies, the next one removes the rows past the record's last complete line
        if continues:
            bookkeeping.mark_in_progress(store, file_id)
        else:
            bookkeeping.record(
                store, file_id=file_id, is_new=True, path=abs_path, size=resume.offset,
                head=bookkeeping.head_hash(head), content_hash=bookkeeping.digest_of(resume.hasher.copy()),
                last_offset=resume.offset, last_line=resume.line, fmt=parser.name, rows=0, rejected=0,
                in_progress=True)
        notes: list[str] = []
        batches = _Batches(store, parser, file_id)
        lines = rows = rejected = 0
        try:
            try:
                for result, consumed in _results(parser, stream, text_head, ctx, resume.line + 1, notes):
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
            consumed_bytes = resume.offset + counting.count
            content_hash = bookkeeping.digest_of(resume.hasher)
            if is_stdin:
                dup = bookkeeping.same_content(store, content_hash)
                if dup:
                    bookkeeping.discard_after(store, file_id, resume.line, drop_record=True)
                    report.status, report.message = "duplicate", f"same content as {dup} already ingested"
                    return report
            bookkeeping.record(
                store, file_id=file_id, is_new=False, path=abs_path, size=consumed_bytes,
                head=bookkeeping.head_hash(head), content_hash=content_hash, last_offset=consumed_bytes,
                last_line=resume.line + lines, fmt=parser.name, rows=rows, rejected=rejected,
            )
        except BaseException:
            batches.abort()
            bookkeeping.discard_after(store, file_id, resume.line, drop_record=not continues)
            raise
        report.status = "resumed" if resumed else "ingested"
        if skip_units:
            lines -= skip_units
        report.rows, report.rejected, report.lines = rows, rejected, lines
        if notes:
            report.message = "; ".join(notes)
        return report
    finally:
        if not is_stdin:
            raw.close()


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
    if progress is not None:
        progress.start(sum(os.path.getsize(p) for p in files if p != "-" and os.path.isfile(p)))
    for path in files:
        try:
            report = ingest_file(store, path, opts, progress.advance if progress is not None else None)
        except BadLineError:
            raise
        except InputError as exc:
            report = FileReport(path=path, status="error", message=str(exc).removeprefix(f"{path}: "))
        summary.files.append(report)
    if progress is not None:
        progress.stop()
    return summary
