"""What to do with an opened input: the plan, decided before anything is read or written.

:func:`plan_file` looks at the source (``ingest/source.py``) and the store's file records and returns a
:class:`Plan`: the action (``new``, ``resume`` a grown or rotated file, ``copy`` — a new record that starts
after content another file already holds —, ``replace`` what an earlier read with another format or year
stored, ``unchanged``, or ``waiting`` for a first complete line), the parser (``--format``, the format a
resumed file had, or sniffing), its context, the resume point, and how much to read (a last line still
being written is held back). It reads the store and the input (hashing prefixes, seeking) but writes
nothing: the driver (``ingest/run.py``) carries the plan out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from typing import IO, Literal

from netsift.errors import InputError
from netsift.ingest import bookkeeping
from netsift.ingest.base import ParseContext, Parser
from netsift.ingest.formats import detect_format, format_names, parsers
from netsift.ingest.reader import as_stream, lines_from_bytes, text_shape
from netsift.ingest.source import Prefixed, Source, complete_end, contents, sniff_lines
from netsift.store.base import Store

HELD_BACK = "last line held back (no newline yet)"
Action = Literal["new", "resume", "copy", "replace", "unchanged", "waiting"]


@dataclass
class IngestOptions:
    format: str | None = None
    year: int | None = None
    tz: str = "UTC"
    columns: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    show_secrets: bool = False  # credentials seen in clear are stored in clear (default: masked)
    # a plain file changed within this many seconds may still be written: its unterminated last line is
    # held back until complete (read when older, rotated or compressed)
    hold_back_seconds: float = 300.0


@dataclass
class Plan:
    action: Action
    resume: bookkeeping.ResumePoint  # where reading starts (hasher fed with what comes before)
    prior: bookkeeping.PriorFile | None = None  # the record whose content this file starts with
    replaces: bookkeeping.PriorFile | None = None  # a record to forget first (another format or year)
    parser: Parser | None = None  # None: nothing to read (unchanged, waiting)
    ctx: ParseContext = field(default_factory=ParseContext)
    rotated: bool = False  # the prior record's file was renamed: the record follows this path
    limit: int | None = None  # bytes to read (None: all; less when a last line is held back)
    skip_units: int = 0  # packets / document elements already stored (read again from the start)
    stream: IO[bytes] | None = None  # what to read (the content, or a peeked byte put back in front)
    notes: list[str] = field(default_factory=list)

    @property
    def continues(self) -> bool:
        """This read extends the prior record (a grown, rotated or compressed file)."""
        return self.action == "resume"

    @property
    def first_line(self) -> int:
        return self.resume.line + 1


def fresh() -> bookkeeping.ResumePoint:
    return bookkeeping.ResumePoint(None, 0, 0, bookkeeping.content_hasher(), False)


def resume_point(store: Store, src: Source) -> bookkeeping.ResumePoint:
    if src.is_stdin:
        return fresh()
    src.records = bookkeeping.candidates(store, src.abs_path, src.content_head)
    if src.compression is None:
        return bookkeeping.find_resume_point(store, src.abs_path, src.raw, src.size, src.head, src.records)
    # a record netsift made before it hashed decompressed content holds the hash of the compressed bytes
    legacy = bookkeeping.find_resume_point(store, src.abs_path, src.raw, src.size, src.head)
    if legacy.already_complete:
        return legacy
    try:
        return bookkeeping.find_resume_point(store, src.abs_path, src.content, None, src.text_head, src.records)
    except (EOFError, OSError, ValueError):  # cut short: read it as a new file (the read says where it ends)
        src.content.seek(0)
        return fresh()


def choose_parser(src: Source, forced: str | None) -> Parser:
    if forced:
        try:
            return parsers()[forced]
        except KeyError:
            raise InputError(f"unknown format {forced!r}; formats: {', '.join(format_names())}") from None
    parser, _ = detect_format(src.text_head, src.sniffed)
    if parser is None:
        text_shape(src.text_head)  # raises a clearer error for binary data
        lines = src.sniffed
        seen = repr(lines[0][:80]) if lines else "no text lines"
        raise InputError(f"format not recognised (first line: {seen}); use --format with one of: "
                         f"{', '.join(format_names())}")
    return parser


def plan_file(store: Store, src: Source, opts: IngestOptions) -> Plan:
    """Decide what to do with ``src`` (see the module docstring). Raises InputError for an input that
    cannot be read (unknown format, compressed stdin without --format)."""
    resume = resume_point(store, src)
    notes: list[str] = []
    prior, replaces = resume.prior, None
    if prior is not None and opts.format and prior.format and opts.format != prior.format:
        # read before with another format: what that stored is replaced
        where = "" if prior.path == src.abs_path else f" from {prior.path}"
        notes.append(f"replaces what was read as {prior.format}{where}")
        src.content.seek(0)
        resume, prior, replaces = fresh(), None, prior
    if prior is not None and opts.year is not None and prior.path == src.abs_path:
        read_as = read_as_year(store, prior)
        if read_as is not None and read_as != opts.year:
            # read before with year-less stamps in another year: --year replaces what that stored
            notes.append(f"replaces what was read as {read_as}")
            src.content.seek(0)
            resume, prior, replaces = fresh(), None, prior
    # a grown file, or one rotated or renamed (its record's path is gone or holds other content now),
    # continues its record; a different file that starts with the content of one still there is a copy
    continues = prior is not None and (prior.path == src.abs_path or not still_holds(prior))
    rotated = continues and prior is not None and prior.path != src.abs_path
    peek = b""
    if prior is not None and src.compression and not resume.already_complete:
        peek = src.content.read(1)  # the content's length is unknown: is there more?
    if prior is not None and (resume.already_complete or (src.compression and not peek)):
        return Plan("unchanged", resume, prior, replaces, rotated=rotated, notes=notes)
    forced = opts.format or (prior.format if prior else None)
    if src.compression and src.is_stdin and not forced:
        raise InputError("compressed data on stdin: give --format", src.path)
    parser = choose_parser(src, forced)
    ctx = ParseContext(path=src.path, year=opts.year, mtime=src.mtime, tz=opts.tz, columns=dict(opts.columns),
                       show_secrets=opts.show_secrets)
    # a plain file still being written may end in half a line: hold it back until it is complete, or the
    # file has not changed for a while, or is seen rotated or compressed (then nothing more will come)
    limit = None
    age = (dt.datetime.now(dt.UTC) - src.mtime).total_seconds()
    if (parser.kind == "lines" and src.compression is None and not src.is_stdin and not rotated
            and age < opts.hold_back_seconds and src.size is not None):
        end = complete_end(src.raw, resume.offset, src.size, src.shape)
        src.raw.seek(resume.offset)
        if end < src.size:
            notes.append(HELD_BACK)
            limit = end - resume.offset
            if limit == 0:
                action: Action = "unchanged" if prior is not None else "waiting"
                return Plan(action, resume, prior, replaces, parser, ctx, rotated, notes=notes)
    skip_units = 0
    stream: IO[bytes] = src.content
    if resume.offset > 0 and parser.kind != "lines" and not src.is_stdin:
        # captures and JSON documents cannot start mid-file: read them again from the start and keep
        # only the units (packets, elements) after the ones already stored
        skip_units = resume.line
        src.content.seek(0)
        resume = bookkeeping.ResumePoint(prior, 0, 0, bookkeeping.content_hasher(), False)
    else:
        if resume.offset > 0:
            prime(parser, ctx, src.text_head)
        if peek:
            stream = as_stream(Prefixed(peek, src.content))
    if prior is not None and not continues:
        notes.append(f"its first {resume.line:,} lines are those of {prior.path}, already ingested: "
                     f"read from line {resume.line + 1:,}")
    action = "resume" if continues else "copy" if prior is not None else "replace" if replaces else "new"
    return Plan(action, resume, prior, replaces, parser, ctx, rotated, limit, skip_units, stream, notes)


# formats whose stamps may lack the year (or the date): --year changes what they store
_YEAR_LESS_FORMATS = ("pihole", "bind", "tcpdump", "linux_auth")


def read_as_year(store: Store, prior: bookkeeping.PriorFile) -> int | None:
    """The year a year-less file's first stamp was stored in (None: not such a format, or no rows)."""
    if prior.format not in _YEAR_LESS_FORMATS:
        return None
    table = parsers()[prior.format].table  # a name from the registry, never from input
    return store.scalar(f"SELECT year(ts) FROM {table} WHERE source_file_id = ? AND ts IS NOT NULL "
                        "ORDER BY source_line LIMIT 1", [prior.file_id])


def check_forced_format(parser: Parser, src: Source, lines: int, rejected: int) -> None:
    """A --format that gave no record from a file whose lines another format would read is a mistake:
    raise (the file fails, nothing of it is kept) saying what was detected."""
    detected, _ = detect_format(src.text_head, src.sniffed)
    if detected is not None and detected.name == parser.name:
        return  # the right format; the file just holds no questions
    unit = "packets" if parser.kind == "binary" else "lines"
    how = f"all {rejected:,} rejected" if rejected == lines else f"{rejected:,} rejected, the rest skipped"
    would = (f"the detected format would be {detected.name} (drop --format, or --format {detected.name})"
             if detected is not None else "no format recognises it either")
    raise InputError(f"--format {parser.name} matched none of its {lines:,} {unit} ({how}); {would}")


def still_holds(prior: bookkeeping.PriorFile) -> bool:
    """Whether the file at the record's path still starts with the content the record describes (then a
    file elsewhere with that content is a copy; otherwise the record's file was rotated or renamed)."""
    if prior.path == "-":
        return True  # stdin is never continued by a file
    if not os.path.isfile(prior.path):
        return False
    head_window = prior.last_offset >= bookkeeping.HEAD_HASH_BYTES and prior.head_hash
    try:
        with contents(prior.path) as streams:
            for stream in streams:
                stream.seek(0)
                if head_window and bookkeeping.head_hash(stream.read(bookkeeping.HEAD_HASH_BYTES)) != prior.head_hash:
                    continue  # cheap: a new file under the old name differs in its first bytes
                if bookkeeping.prefix_hasher(stream, prior) is not None:
                    return True
    except (EOFError, OSError, ValueError):
        pass
    return False


def part_of(store: Store, src: Source, content_hash: str, length: int) -> str | None:
    """The path of an ingested file (still there, still holding what was ingested) whose content begins
    with all ``length`` bytes of this one (``content_hash``): then this file is a part of it, already
    ingested."""
    if src.records is None:
        src.records = bookkeeping.candidates(store, src.abs_path, src.content_head)
    for other in bookkeeping.longer_records(src.records, src.content_head, length, src.abs_path):
        if not other.content_hash.startswith("blake3:") or not os.path.isfile(other.path):
            continue
        mine = bookkeeping.PriorFile(other.file_id, other.path, length, 0, content_hash, None)
        try:
            with contents(other.path) as streams:
                hasher = bookkeeping.prefix_hasher(streams[0], mine)
                if hasher is not None and bookkeeping.hashes_on_to(streams[0], hasher, length, other):
                    return other.path
        except (EOFError, OSError, ValueError):
            continue
    return None


def prime(parser: Parser, ctx: ParseContext, head: bytes) -> None:
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


