"""The ingest driver: paths in, canonical rows in the store, one report per file.

Each file goes through three parts: its **source** is opened (``ingest/source.py``: stdin or a file,
decompressed, its head read and sniffed once), a **plan** is made (``ingest/plan.py``: parser and context,
where to resume, and what to do — new, resume, copy, replace, unchanged, waiting), and the parse results
go to the **writer** (``ingest/writer.py``: batched inserts, the file's record in the same transactions,
clean-up on failure). This module is the loop between them: it reads chunks through the parser (reading,
preparing, parsing and storing overlap in threads), checks the result (a --format that matched nothing, a
duplicate of stdin, a file that is part of another), and reports. Errors about one file (empty, binary,
unknown format, truncated) are reported for that file and the batch goes on; ``strict`` turns the first
rejected line into an error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import io
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO

import polars as pl

from netsift.errors import BadLineError, InputError
from netsift.ingest import bookkeeping
from netsift.ingest.base import ParseContext, Parser, ParseResult, screened
from netsift.ingest.plan import IngestOptions, Plan, check_forced_format, part_of, plan_file
from netsift.ingest.prefetch import prefetch
from netsift.ingest.reader import CHUNK_BYTES, ByteChunk, TextShape, as_stream, iter_byte_chunks
from netsift.ingest.source import CountingReader, Source, open_source
from netsift.ingest.times import StoreTimes, time_warnings
from netsift.ingest.writer import FileRecord, Writer
from netsift.names import refresh_domain_names
from netsift.store import Store

REPORT_REJECTIONS = 5


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
    file_id: int | None = None  # the record its rows went to (ingested, resumed)

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
            found = len(out)
            for root, dirs, files in os.walk(p):
                dirs.sort()
                out.extend(os.path.join(root, f) for f in sorted(files) if not f.startswith("."))
            if len(out) == found:
                out.append(p)  # reported as holding nothing to ingest
        else:
            out.append(p)
    return out


def parse_results(parser: Parser, stream: IO[bytes], shape: TextShape | None, ctx: ParseContext, first_line: int,
                  notes: list[str], chunk_bytes: int = CHUNK_BYTES, *, overlap: bool = True,
                  ) -> Iterator[tuple[ParseResult, int]]:
    """(result, lines consumed) for each chunk of about ``chunk_bytes`` of lines. ``overlap``: read and
    prepare in threads of their own (False for an input of one chunk, where there is nothing to overlap
    and the hand-overs between threads only add their latency: a small file's)."""
    if parser.kind == "binary":
        assert parser.parse_stream is not None
        for result in parser.parse_stream(stream, ctx):
            yield screened(result, table=parser.table, also_writes=parser.also_writes), result.lines_accounted
        return
    assert shape is not None, "a text format needs the text's shape"
    if shape.note:
        notes.append(shape.note)
    if first_line > 1:  # a grown file's tail: its byte order mark was at the start, long read
        shape = dataclasses.replace(shape, bom=0)
    if parser.kind == "document":
        assert parser.parse_document is not None
        data = stream.read()
        text = data[shape.bom:].decode(shape.encoding, errors="replace")
        result = parser.parse_document(text, ctx)
        yield screened(result, table=parser.table, also_writes=parser.also_writes), result.lines_accounted
        return
    # three overlapping stages: the reader thread reads, hashes and cuts whole-line chunks, and cuts them into
    # lines unless the parser takes bytes; a second thread runs the parser's ``prepare`` (the heavy part of
    # Pi-hole's parsing); this thread parses (and a fourth stores). A parser with a byte fast path gets the
    # bytes, and the chunk is cut into lines only if it declines.
    yield from _parsed(parser, _staged(parser, stream, shape, first_line, chunk_bytes, overlap), ctx)


Staged = Iterator[tuple[ByteChunk, pl.DataFrame | None, bool]]


def _staged(parser: Parser, stream: IO[bytes], shape: TextShape, first_line: int, chunk_bytes: int,
            overlap: bool) -> Staged:
    """(chunk, what ``prepare`` made of it or None, is_last) for each chunk of a line format's input."""
    def read(chunk: ByteChunk, is_last: bool) -> tuple[ByteChunk, bool]:
        if parser.parse_bytes is None:
            chunk.lines()
        return chunk, is_last

    ahead = prefetch if overlap else iter
    chunks = ahead(read(*item) for item in iter_byte_chunks(stream, shape, first_line_no=first_line,
                                                            chunk_bytes=chunk_bytes))
    if parser.prepare is not None:
        return ahead((chunk, parser.prepare(chunk), is_last) for chunk, is_last in chunks)
    return ((chunk, None, is_last) for chunk, is_last in chunks)


def _parsed(parser: Parser, staged: Iterable[tuple[ByteChunk, pl.DataFrame | None, bool]],
            ctx: ParseContext) -> Iterator[tuple[ParseResult, int]]:
    parse = parser.parse
    assert parse is not None, f"{parser.name}: a line format without parse"
    for chunk, prepared, is_last in staged:
        ctx.final = is_last
        fast = parser.parse_bytes(chunk, ctx) if parser.parse_bytes is not None else None
        parsed = fast if fast is not None else parse(chunk.lines() if prepared is None else prepared, ctx)
        yield screened(parsed, chunk.set_aside, chunk.lines, parser.table, parser.also_writes), chunk.line_count


@dataclass
class _Prepared:
    """A small plain file read whole and prepared ahead (see :class:`Lookahead`)."""

    path: str
    parser: Parser
    data: bytes
    size: int
    mtime_ns: int
    shape: TextShape
    staged: list[tuple[ByteChunk, pl.DataFrame | None, bool]]


def _prepare_ahead(path: str, parser: Parser) -> _Prepared | None:
    """``path`` read whole and its chunk prepared as the ingest would (None: not a small plain text file)."""
    try:
        src = open_source(path)
    except (InputError, OSError):
        return None
    try:
        if src.compression is not None or src.size is None or src.size > CHUNK_BYTES:
            return None
        shape = src.shape
        src.raw.seek(0)
        data = src.raw.read()
        if len(data) != src.size:
            return None
        mtime_ns = os.stat(path).st_mtime_ns
        staged = list(_staged(parser, io.BytesIO(data), shape, 1, CHUNK_BYTES, overlap=False))
        return _Prepared(path, parser, data, src.size, mtime_ns, shape, staged)
    except (InputError, OSError, ValueError):
        return None
    finally:
        src.close()


class Lookahead:
    """While one file of a batch is parsed, the next one, if it is a small plain file, is read and prepared
    (``Parser.prepare``: Pi-hole's tokenising, ~40 % of its parsing) on a thread of its own, with the
    parser of the file before: many files of one chunk each then overlap reading and preparing with
    parsing, as the chunks of one large file do. What was prepared is used only when the plan reads that
    file new and whole with the same parser, and the file is unchanged since (size, modification time,
    first bytes); otherwise it is dropped and the file read as usual."""

    def __init__(self, paths: list[str]):
        self._next = {path: after for path, after in zip(paths, paths[1:])}
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: Future[_Prepared | None] | None = None

    def after(self, path: str, parser: Parser) -> None:
        """``path``'s plan chose ``parser``: prepare the file that follows it."""
        following = self._next.get(path)
        self._ahead = None
        if following is None or following == "-" or parser.kind != "lines":
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netsift-ahead")
        self._ahead = self._pool.submit(_prepare_ahead, following, parser)

    def take(self, src: Source, plan: Plan) -> _Prepared | None:
        """What was prepared for ``src``, if it may stand for reading it under ``plan``."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return None
        got = ahead.result()
        if (got is None or got.path != src.path or got.parser is not plan.parser or plan.action != "new"
                or plan.prior is not None or plan.resume.offset or plan.limit is not None or plan.skip_units
                or src.compression is not None or src.size != got.size or src.shape != got.shape
                or got.data[:len(src.content_head)] != src.content_head):
            return None
        try:
            if os.stat(src.path).st_mtime_ns != got.mtime_ns:
                return None
        except OSError:
            return None
        return got

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def ingest_file(store: Store, path: str, opts: IngestOptions, on_bytes: Callable[[int], None] | None = None,
                times: StoreTimes | None = None, writer: Writer | None = None,
                lookahead: Lookahead | None = None) -> FileReport:
    """Ingest one file. ``times``: the store's time ranges, kept across a batch (see StoreTimes);
    ``writer``: the batch's writer (one of its own otherwise); ``lookahead``: the batch's (the file after
    this one prepared while this one is parsed)."""
    src = open_source(path, on_bytes)
    try:
        if writer is None:
            with Writer(store) as own:
                return _ingest(store, src, opts, times or StoreTimes(), own, lookahead)
        return _ingest(store, src, opts, times or StoreTimes(), writer, lookahead)
    finally:
        src.progress.up_to(src.size)
        src.close()


def _ingest(store: Store, src: Source, opts: IngestOptions, times: StoreTimes, writer: Writer,
            lookahead: Lookahead | None = None) -> FileReport:
    report = FileReport(path=src.path, status="error")
    plan = plan_file(store, src, opts)
    prepared = lookahead.take(src, plan) if lookahead is not None else None
    if lookahead is not None and plan.parser is not None:
        lookahead.after(src.path, plan.parser)
    if plan.replaces is not None:
        writer.commit()  # forgetting is a transaction of its own
        bookkeeping.forget_file(store, plan.replaces.file_id)
        src.records = None  # read again when needed: one of them is gone
        times.drop(plan.replaces.file_id)
    if plan.action == "unchanged":
        assert plan.prior is not None
        if plan.rotated:
            bookkeeping.rename(store, plan.prior.file_id, src.abs_path)
        return _unchanged(report, plan.prior, src.abs_path, plan.notes)
    if plan.action == "waiting":
        report.status, report.message = "waiting", "; ".join(plan.notes)
        return report
    parser, ctx, resume, notes = plan.parser, plan.ctx, plan.resume, plan.notes
    assert parser is not None and plan.stream is not None
    report.format = parser.name
    src.progress(resume.offset if src.compression is None else 0)
    # plain files are read straight through the counting reader in large pieces (no extra copy)
    counting = CountingReader(plan.stream, resume.hasher, src.progress if src.compression is None else None,
                              plan.limit)
    file_id = plan.prior.file_id if plan.continues and plan.prior is not None else bookkeeping.new_file_id(store)
    head = bookkeeping.head_hash(src.content_head)
    # the record says "in progress" (from the first batch committed, in its transaction) while rows are
    # committed in batches (bounded memory); if the run dies, the next one removes the rows past the
    # record's last complete line
    opening = None if plan.continues else FileRecord(
        file_id, src.abs_path, resume.offset, head, bookkeeping.digest_of(resume.hasher.copy()), resume.offset,
        resume.line, parser.name)
    writer.start(parser.table, file_id, opening=opening, resume_line=resume.line)
    lines = rows = rejected = 0
    shape = None if parser.kind == "binary" else src.shape
    try:
        try:
            results: Iterator[tuple[ParseResult, int]]
            if prepared is not None:  # read and prepared while the file before was parsed
                resume.hasher.update(prepared.data)
                counting.count = len(prepared.data)
                src.progress(len(prepared.data))
                if prepared.shape.note:
                    notes.append(prepared.shape.note)
                results = _parsed(parser, prepared.staged, ctx)
            else:
                # a plain file of one chunk is read, prepared and parsed on this thread
                one_chunk = (src.compression is None and src.size is not None
                             and src.size - resume.offset <= CHUNK_BYTES)
                results = parse_results(parser, as_stream(counting), shape, ctx, plan.first_line, notes,
                                        overlap=not one_chunk)
            for result, consumed in results:
                if plan.skip_units:
                    result = _after(result, plan.skip_units)
                lines += consumed
                rows += result.rows
                rejected += result.rejected.height
                writer.submit(result)
                if result.rejected.height:
                    if opts.strict:
                        first = result.rejected.sort("source_line").row(0)
                        raise BadLineError(src.path, first[0], first[1], first[2] or "")
                    room = REPORT_REJECTIONS - len(report.first_rejections)
                    if room > 0:
                        report.first_rejections += [tuple(r) for r in result.rejected.head(room).rows()]
        except (EOFError, OSError, ValueError) as exc:
            if lines == 0 and rows == 0:
                raise InputError(f"cannot read as {parser.name}: {exc}", src.path) from exc
            # truncated compressed stream / capture: keep what was read, say where it stopped
            reason = f"input truncated or corrupt after line {resume.line + lines}: {exc}"
            notes.append(reason)
            writer.submit(ParseResult(pl.DataFrame(), pl.DataFrame(
                {"source_line": [resume.line + lines + 1], "reason": [reason], "text": [""]})))
            rejected += 1
        writer.drain()
        if opts.format and rows == 0 and lines > 0:
            check_forced_format(parser, src, lines, rejected)
        consumed_bytes = resume.offset + counting.count
        content_hash = bookkeeping.digest_of(resume.hasher)
        if src.is_stdin:
            dup = bookkeeping.same_content(store, content_hash)
            if dup:
                writer.abort()
                report.status, report.message = "duplicate", f"same content as {dup} already ingested"
                return report
        elif plan.prior is None:
            whole = part_of(store, src, content_hash, consumed_bytes)
            if whole:
                writer.abort()
                report.status, report.message = "unchanged", f"already ingested as a part of {whole}; nothing new"
                return report
        known = writer.finish(FileRecord(file_id, src.abs_path, consumed_bytes, head, content_hash, consumed_bytes,
                                         resume.line + lines, parser.name, rows, rejected))
    except BaseException:
        writer.abort()
        raise
    report.status = "resumed" if plan.continues else "ingested"
    report.file_id = file_id
    if plan.skip_units:
        lines -= plan.skip_units
    report.rows, report.rejected, report.lines = rows, rejected, lines
    notes += ctx.notes.values()
    report.year = ctx.assumed_year
    if notes:
        report.message = "; ".join(notes)
    if rows:
        report.warnings = time_warnings(store, file_id, ctx, times, known)
    return report


def _unchanged(report: FileReport, prior: bookkeeping.PriorFile, abs_path: str,
               notes: list[str] | None = None) -> FileReport:
    report.status, report.format = "unchanged", prior.format
    same = "" if prior.path == abs_path else f" (as {prior.path})"
    report.message = "; ".join([f"already ingested{same}; nothing new", *(notes or [])])
    return report


def _after(result: ParseResult, units: int) -> ParseResult:
    """The part of a result beyond the first ``units`` lines/packets (already stored)."""
    return ParseResult(result.records.filter(pl.col("source_line") > units),
                       result.rejected.filter(pl.col("source_line") > units), result.skipped,
                       tables={name: rows.filter(pl.col("source_line") > units) for name, rows in result.tables.items()})


def ingest_paths(store: Store, paths: Iterable[str], opts: IngestOptions | None = None,
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
    lookahead = Lookahead(files)
    with Writer(store, hold_small=True) as writer, contextlib.closing(lookahead):
        for path in files:
            try:
                report = ingest_file(store, path, opts, progress.advance if progress is not None else None, times,
                                     writer, lookahead)
            except BadLineError:
                raise
            except InputError as exc:
                report = FileReport(path=path, status="error", message=str(exc).removeprefix(f"{path}: "))
            summary.files.append(report)
    if progress is not None:
        progress.stop()
    return summary


def ingest(store: Store, paths: Iterable[str], opts: IngestOptions | None = None, progress=None) -> IngestSummary:
    """Ingest ``paths`` (:func:`ingest_paths`), then derive ``domain_names`` for the names of the rows
    stored (the rows of the files this run wrote to, not the whole store: names left behind by an earlier
    run that died are derived by the next analysis): what ``netsift ingest`` and ``pipeline.ingest`` do."""
    summary = ingest_paths(store, paths, opts, progress)
    written = [f.file_id for f in summary.files if f.file_id is not None and f.rows]
    if written:
        refresh_domain_names(store, since_file_id=min(written))
    return summary
