"""Opening inputs: decompression, encoding, binary detection, and cutting a byte stream into chunks of
whole lines (as UTF-8 bytes, and as Polars frames when a parser asks for them).

Decompression is chosen by magic bytes, not by file name (.gz, .bz2, .xz, .zst). Text is decoded as
UTF-8 (a UTF-8 BOM is dropped); UTF-16 with a BOM is recognised; a file that is not valid UTF-8 is read
as Windows-1252/Latin-1 and the caller is told so. Undecodable bytes never raise: they become U+FFFD.
Text with CR-only line endings (old Mac) is split on CR.

Hostile lines are set aside here, before any parser sees them, so that every line format gets the same
treatment: a line longer than ``MAX_LINE_BYTES`` is never held in memory whole (its first bytes are kept
for the rejected row, the rest is skipped up to the next newline), and a line holding a control character
(NUL, ESC, ...; tab and CR excepted) is rejected with a reason that names it. Either way the line is
replaced by an empty line in the chunk (line numbers stay exact) and listed in ``ByteChunk.set_aside``;
the driver adds those rows to the parser's rejected lines (``base.screened``).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TypeVar, cast

import numpy as np
import polars as pl

from netsift.errors import InputError
from netsift.ingest.base import LINES_SCHEMA, REJECTED_SCHEMA, REJECTED_TEXT_CHARS

T = TypeVar("T")
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])  # control bytes other than tab, LF, VT, FF, CR
CHUNK_BYTES = 8 * 1024 * 1024
HEAD_BYTES = 64 * 1024
READ_BYTES = 64 * 1024
MAX_LINE_BYTES = 1024 * 1024  # a longer line is rejected without being read whole
SNIFF_LIMIT_BYTES = 4 * 1024 * 1024  # how far past leading blank lines the head is read for sniffing
_BLANK_BYTES = b" \t\r\n\x00"
_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 11: "VT", 12: "FF", 27: "ESC", 127: "DEL"}
_C1_CONTROL = re.compile(rb"\xc2[\x80-\x9f]")

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


def compression_of(head: bytes) -> str | None:
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def as_stream(stream: io.IOBase) -> IO[bytes]:
    """A binary ``io`` object (a ``RawIOBase`` subclass, ``GzipFile``...) as the ``IO[bytes]`` it behaves as:
    typeshed's ``typing.IO`` is a class of its own that ``io``'s classes do not derive from. Typing only."""
    return cast(IO[bytes], stream)


def decompressed(raw: IO[bytes], compression: str | None) -> IO[bytes]:
    if compression is None:
        return raw
    if compression == "gzip":
        return as_stream(gzip.GzipFile(fileobj=raw))
    if compression == "bzip2":
        return bz2.BZ2File(raw)
    if compression == "xz":
        return lzma.LZMAFile(raw)
    return as_stream(_ZstdStream(raw))


class _ZstdStream(io.RawIOBase):
    """zstd frames one after the other, like ``stream_reader(read_across_frames=True)``, but a stream that
    ends inside a frame raises EOFError (zstandard's reader just stops there) and corrupt data raises
    ValueError, as the other decompressors do."""

    def __init__(self, raw: IO[bytes]):
        import zstandard

        self._raw, self._dctx, self._error = raw, zstandard.ZstdDecompressor(), zstandard.ZstdError
        self._obj = self._dctx.decompressobj()
        self._in_frame = False
        self._out, self._pos, self._eof = b"", 0, False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while self._pos >= len(self._out) and not self._eof:
            data = self._raw.read(READ_BYTES)
            if not data:
                self._eof = True
                if self._in_frame:
                    raise EOFError("zstd data ended before the end of its frame")
                return
            out = []
            while data:
                try:
                    out.append(self._obj.decompress(data))
                except self._error as exc:
                    raise ValueError(f"corrupt zstd data: {exc}") from None
                self._in_frame = True
                if not self._obj.eof:
                    break
                data, self._in_frame = self._obj.unused_data, False
                self._obj = self._dctx.decompressobj()
            self._out, self._pos = b"".join(out), 0

    def readinto(self, buffer) -> int:
        self._fill()
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = self._out[self._pos:self._pos + n]
        self._pos += n
        return n


def read_head(stream: IO[bytes], compression: str | None = None) -> bytes:
    """The first ``HEAD_BYTES`` of (decompressed) text for sniffing; past leading blank lines, read on until
    there are ``HEAD_BYTES`` after them (at most ``SNIFF_LIMIT_BYTES``). A compressed stream that cannot
    give a single byte raises InputError (truncated or corrupt data); one cut later gives what it had."""
    data = bytearray()
    try:
        while len(data) < SNIFF_LIMIT_BYTES:
            piece = stream.read(HEAD_BYTES)
            if not piece:
                break
            data += piece
            if len(data) - _blank_prefix(data) >= HEAD_BYTES:
                break
    except (EOFError, OSError, ValueError) as exc:
        if not data:
            what = f"{compression} data" if compression else "data"
            raise InputError(f"truncated or corrupt {what} ({exc})") from None
    return bytes(data)


def _blank_prefix(data: bytes | bytearray, blank: bytes = _BLANK_BYTES) -> int:
    """Bytes of BOM and blank lines (spaces, tabs, CR, LF; by default also NUL, UTF-16's other half) at
    the start."""
    start = next((len(bom) for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
                  if data.startswith(bom)), 0)
    return len(data) - len(data[start:].lstrip(blank))


@dataclass
class TextShape:
    encoding: str  # utf-8, utf-16-le, utf-16-be, cp1252
    bom: int  # bytes of BOM to skip
    note: str | None = None  # what the user should be told (e.g. "read as Windows-1252")
    cr_lines: bool = False  # lines end in a lone CR (old Mac): CR is read as a line end


def text_shape(head: bytes) -> TextShape:
    """Guess how the text is encoded from its first bytes (past leading blank lines). Raises InputError for
    binary data."""
    shape = _encoding_shape(head)
    sample = head[shape.bom:][:65536].decode(shape.encoding, errors="replace").removesuffix("\r")
    if "\r" in sample and sample.count("\r") > sample.count("\r\n"):
        shape.cr_lines = True
        shape.note = "; ".join(filter(None, [shape.note, "CR line endings"]))
    return shape


def _encoding_shape(head: bytes) -> TextShape:
    if head.startswith(codecs.BOM_UTF8):
        return TextShape("utf-8", 3)
    if head.startswith(codecs.BOM_UTF16_LE):
        return TextShape("utf-16-le", 2, "UTF-16 (little endian) text")
    if head.startswith(codecs.BOM_UTF16_BE):
        return TextShape("utf-16-be", 2, "UTF-16 (big endian) text")
    skip = _blank_prefix(head, b" \t\r\n") & ~1  # NULs are not skipped (binary); even: UTF-16 stays aligned
    sample = head[skip:skip + 8192]
    if head.startswith(b"ElfFile\x00"):  # the windows_evtx format reads it; as text it is binary
        raise InputError("a Windows event log (EVTX), binary: read with --format windows_evtx (pip install evtx)")
    if head.startswith(b"SQLite format 3\x00"):  # pihole_db reads Pi-hole's; any other database is not a log
        raise InputError("an SQLite database without Pi-hole's query tables in its first pages; if it is "
                         "pihole-FTL.db, read it with --format pihole_db")
    if sample and sample.count(0) > len(sample) // 4:
        # UTF-16 without a BOM has a NUL in every other byte of ASCII text
        odd_nuls = sample[1::2].count(0)
        even_nuls = sample[0::2].count(0)
        if odd_nuls > len(sample) // 2 * 0.9 and even_nuls < len(sample) // 20:
            return TextShape("utf-16-le", 0, "UTF-16 (little endian) text without BOM")
        if even_nuls > len(sample) // 2 * 0.9 and odd_nuls < len(sample) // 20:
            return TextShape("utf-16-be", 0, "UTF-16 (big endian) text without BOM")
        raise InputError("binary data (many NUL bytes), not a text log; binary inputs read: pcap and pcapng "
                         "captures, EVTX event logs, Pi-hole's pihole-FTL.db")
    control = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if sample and control > len(sample) // 10:
        raise InputError("binary data (control bytes), not a text log")
    try:
        # a multi-byte sequence may be cut at the end of the sample
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:
            return TextShape("cp1252", 0, "not valid UTF-8; read as Windows-1252/Latin-1")
    return TextShape("utf-8", 0)


def _decode_legacy(data: bytes, encoding: str) -> bytes:
    return data.decode(encoding, errors="replace").encode("utf-8")


def lines_from_bytes(data: bytes, first_line_no: int, count: int | None = None) -> pl.DataFrame:
    """A chunk of UTF-8 bytes (whole lines) -> frame (line_no, line). Empty lines are kept as ''.
    ``count``: the number of lines, when the caller knows it already."""
    if not data:
        return pl.DataFrame(schema=LINES_SCHEMA)
    expected = count if count is not None else line_count(data)
    frame = None
    if b"\x00" not in data:
        try:
            frame = pl.read_csv(
                io.BytesIO(data), separator="\x00", has_header=False, quote_char=None,
                new_columns=["line"], schema={"line": pl.String}, encoding="utf8-lossy",
                eol_char="\n", comment_prefix=None, raise_if_empty=False,
            )
        except pl.exceptions.PolarsError:
            frame = None
        if frame is not None and frame.height != expected:
            frame = None
    if frame is None:  # exact but slower path (NUL bytes inside lines, odd cases)
        text = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        parts = text.split("\n")
        if text.endswith("\n"):
            parts.pop()
        frame = pl.DataFrame({"line": parts}, schema={"line": pl.String})
    line = pl.col("line")
    if frame["line"].null_count():
        line = line.fill_null("")  # empty lines
    if b"\r" in data:
        line = line.str.strip_suffix("\r")  # CRLF files
    return frame.select(
        pl.int_range(first_line_no, first_line_no + frame.height, dtype=pl.Int64).alias("line_no"),
        line.alias("line"),
    )


@dataclass
class ByteChunk:
    """Whole lines as UTF-8 bytes (BOM dropped, other encodings already transcoded), not yet cut into
    lines; ``lines()`` builds the (line_no, line) frame when a parser needs it. ``set_aside``: the lines
    the reader rejected itself (too long, control characters), emptied in ``data``."""

    data: bytes
    first_line_no: int
    line_count: int
    set_aside: pl.DataFrame | None = None
    _lines: pl.DataFrame | None = field(default=None, repr=False, compare=False)

    def lines(self) -> pl.DataFrame:
        """The (line_no, line) frame, built on the first call."""
        if self._lines is None:
            self._lines = lines_from_bytes(self.data, self.first_line_no, self.line_count)
        return self._lines


def count_byte(data: bytes, byte: bytes) -> int:
    """Occurrences of one byte value; vectorised (several times faster than ``bytes.count``)."""
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == byte[0]))


def line_count(data: bytes) -> int:
    """How many lines ``lines_from_bytes`` makes of ``data`` (a last line without a newline counts)."""
    if not data:
        return 0
    return count_byte(data, b"\n") + (0 if data.endswith(b"\n") else 1)


def _set_aside_row(line_no: int, reason: str, text: bytes) -> tuple[int, str, str]:
    shown = text[:REJECTED_TEXT_CHARS * 4].decode("utf-8", errors="replace")[:REJECTED_TEXT_CHARS]
    return line_no, reason, shown.replace("\x00", "\ufffd")


def _too_long(line_no: int, length: int, head: bytes) -> tuple[int, str, str]:
    return _set_aside_row(line_no, f"line of {length:,} bytes, longer than the {MAX_LINE_BYTES:,} a line may have; "
                          "not read (first bytes kept)", head)


def _control_reason(line: bytes) -> str:
    code = next((b for b in line if b < 32 and b not in (9, 10, 13) or b == 127), None)
    if code is None:  # a C1 control character (U+0080..U+009F)
        match = _C1_CONTROL.search(line)
        code = match.group()[1] if match else 0  # U+0080..U+009F is C2 80..C2 9F in UTF-8
        return f"control character U+{code:04X} in the line"
    name = _CONTROL_NAMES.get(code)
    return f"control character 0x{code:02X}{f' ({name})' if name else ''} in the line"


def screen_lines(data: bytes, first_line_no: int, newlines: int | None = None) -> tuple[bytes, list[tuple[int, str, str]]]:
    """Set aside the lines of a chunk that no parser should see: longer than ``MAX_LINE_BYTES``, or holding
    a control character. Returns the chunk with those lines emptied and their rejected rows. Vectorised:
    a clean chunk costs one or two passes of numpy over its bytes (three with tabs or CRs).
    ``newlines``: the chunk's count of LF bytes, when the caller has it."""
    arr = np.frombuffer(data, dtype=np.uint8)
    bad_lines: dict[int, str] = {}
    # a line longer than MAX_LINE_BYTES covers a whole aligned block of half that size: only a chunk with a
    # block without a newline (memchr from each block's start) needs the exact line lengths
    block = MAX_LINE_BYTES // 2
    long_possible = any(data.find(b"\n", start, start + block) < 0 for start in range(0, len(data) - block + 1, block))
    ends = None
    if long_possible:
        ends = np.flatnonzero(arr == 10)
        starts = np.concatenate(([0], ends + 1))
        stops = np.concatenate((ends, [len(arr)]))
        for long_index in np.flatnonzero(stops - starts > MAX_LINE_BYTES):
            bad_lines[int(long_index)] = "long"
    # bytes below 32 are newlines in most chunks, tabs and CRs in some; anything else is a control
    low = int(np.count_nonzero(arr < 32))
    if newlines is None:
        newlines = count_byte(data, b"\n")
    if (low != newlines and low != newlines + count_byte(data, b"\t") + count_byte(data, b"\r")) \
            or b"\x7f" in data or (b"\xc2" in data and _C1_CONTROL.search(data)):
        control = (arr < 32) & (arr != 9) & (arr != 10) & (arr != 13) | (arr == 127)
        positions = np.flatnonzero(control)
        positions = np.concatenate((positions, [m.start() for m in _C1_CONTROL.finditer(data)])).astype(np.int64)
        if ends is None:
            ends = np.flatnonzero(arr == 10)
        for control_index in np.unique(np.searchsorted(ends, positions)):
            bad_lines.setdefault(int(control_index), "control")
    if not bad_lines:
        return data, []
    if ends is None:
        ends = np.flatnonzero(arr == 10)
    rows, pieces, at = [], [], 0
    for index in sorted(bad_lines):
        start = int(ends[index - 1]) + 1 if index else 0
        stop = int(ends[index]) if index < len(ends) else len(data)
        line = data[start:stop]
        if bad_lines[index] == "long":
            rows.append(_too_long(first_line_no + index, len(line), line))
        else:
            rows.append(_set_aside_row(first_line_no + index, _control_reason(line), line))
        pieces.append(data[at:start] if index < len(ends) else data[at:start] + b"\n")  # an unterminated line too
        at = stop
    pieces.append(data[at:])
    return b"".join(pieces), rows


def iter_byte_chunks(
    stream: IO[bytes], shape: TextShape, *, first_line_no: int = 1, chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[tuple[ByteChunk, bool]]:
    """Yield (chunk, is_last) for whole lines of the stream, as bytes. A read error (a truncated
    compressed stream) ends the iteration: the lines before it are yielded (the last one flagged is_last),
    then the error is raised."""

    def chunk(data: bytes, line_no: int, set_aside: list[tuple[int, str, str]], count: int) -> tuple[ByteChunk, int]:
        aside = pl.DataFrame(set_aside, schema=REJECTED_SCHEMA, orient="row") if set_aside else None
        return ByteChunk(data, line_no, count, aside), count

    yield from _chunks(stream, shape, first_line_no, chunk_bytes, chunk)


def iter_line_chunks(
    stream: IO[bytes], shape: TextShape, *, first_line_no: int = 1, chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[tuple[pl.DataFrame, bool]]:
    """Like :func:`iter_byte_chunks`, with every chunk cut into a (line_no, line) frame (lines set aside
    by the reader are empty)."""

    def frame(data: bytes, line_no: int, _set_aside: list, _count: int) -> tuple[pl.DataFrame, int]:
        lines = lines_from_bytes(data, line_no)
        return lines, lines.height

    yield from _chunks(stream, shape, first_line_no, chunk_bytes, frame)


def _chunks(stream: IO[bytes], shape: TextShape, first_line_no: int, chunk_bytes: int,
            build: Callable[[bytes, int, list, int], tuple[T, int]]) -> Iterator[tuple[T, bool]]:
    """Cut the stream into chunks of whole UTF-8 lines; ``build(bytes, first line number, set-aside rows,
    line count)`` gives the item and its line count. Yields (item, is_last) for every chunk with at least one line.

    A line that grows past ``MAX_LINE_BYTES`` without a newline is not gathered: its first bytes are kept,
    the rest is dropped up to its newline, and it reaches the chunk as an empty line with a set-aside
    row. Memory stays about ``chunk_bytes + MAX_LINE_BYTES`` whatever the input."""
    if shape.bom:
        stream.read(shape.bom)
    decoder = None
    if shape.encoding.startswith("utf-16"):
        decoder = codecs.getincrementaldecoder(shape.encoding)(errors="replace")
    carry = b""
    cr_held = b""
    long_line: list | None = None  # [line number, first bytes, length] of a line being skipped
    line_no = first_line_no
    pending: T | None = None
    failure: BaseException | None = None
    while True:
        parts, failure = _read_parts(stream, chunk_bytes)
        eof = not parts or failure is not None
        if decoder is not None:
            parts = [decoder.decode(b"".join(parts), final=eof).encode("utf-8")]
        elif shape.encoding != "utf-8" and parts:
            parts = [_decode_legacy(b"".join(parts), shape.encoding)]
        if shape.cr_lines:
            # lone CRs end lines; a CR at the end of the read may be the first half of a CRLF
            text = cr_held + b"".join(parts)
            cr_held = b"\r" if text.endswith(b"\r") and not eof else b""
            text = text[:len(text) - len(cr_held)]
            parts = [text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")] if text else []
        aside: list[tuple[int, str, str]] = []
        if long_line is not None:
            # still inside an over-long line: drop bytes up to its newline
            first = next((i for i, part in enumerate(parts) if b"\n" in part), None)
            if first is None:
                long_line[2] += sum(len(part) for part in parts)
                if not eof:
                    continue
                parts = [b"\n"]
            else:
                cut = parts[first].index(b"\n")
                long_line[2] += sum(len(part) for part in parts[:first]) + cut
                parts = [parts[first][cut:], *parts[first + 1:]]  # the newline stays: an empty line
            aside.append(_too_long(long_line[0], long_line[2], long_line[1]))
            long_line = None
        # cut after the last newline, copying the bytes once (carry + pieces -> chunk)
        last = next((i for i in range(len(parts) - 1, -1, -1) if b"\n" in parts[i]), None)
        if eof:
            data, carry = b"".join([carry, *parts]), b""
        elif last is None:
            carry = b"".join([carry, *parts])
            if len(carry) > MAX_LINE_BYTES:
                long_line, carry = [line_no, carry[:REJECTED_TEXT_CHARS * 4], len(carry)], b""
            continue
        else:
            cut = parts[last].rfind(b"\n") + 1
            data = b"".join([carry, *parts[:last], parts[last][:cut]])
            carry = b"".join([parts[last][cut:], *parts[last + 1:]])
        newlines = count_byte(data, b"\n")
        count = newlines + (0 if not data or data.endswith(b"\n") else 1)  # as line_count(data)
        data, screened = screen_lines(data, line_no, newlines)
        item, count = build(data, line_no, aside + screened, count)
        line_no += count
        if pending is not None:
            yield pending, eof and count == 0
        pending = item if count else None
        if eof:
            break
    if pending is not None:
        yield pending, True
    if failure is not None:
        raise failure


def _read_parts(stream: IO[bytes], size: int) -> tuple[list[bytes], BaseException | None]:
    """Read about ``size`` bytes in pieces, so that a truncated compressed stream still gives back what
    was decompressed before the cut (the error is returned, not raised)."""
    parts: list[bytes] = []
    got = 0
    while got < size:
        try:
            piece = stream.read(min(READ_BYTES, size - got))
        except (EOFError, OSError, ValueError) as exc:
            return parts, exc
        if not piece:
            break
        parts.append(piece)
        got += len(piece)
    return parts, None
