"""Opening inputs: decompression, encoding, binary detection, and cutting a byte stream into chunks of
whole lines (as UTF-8 bytes, and as Polars frames when a parser asks for them).

Decompression is chosen by magic bytes, not by file name (.gz, .bz2, .xz, .zst). Text is decoded as
UTF-8 (a UTF-8 BOM is dropped); UTF-16 with a BOM is recognised; a file that is not valid UTF-8 is read
as Windows-1252/Latin-1 and the caller is told so. Undecodable bytes never raise: they become U+FFFD.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TypeVar

import numpy as np
import polars as pl

from netsift.errors import InputError
from netsift.ingest.base import LINES_SCHEMA

T = TypeVar("T")
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])  # control bytes other than tab, LF, VT, FF, CR
CHUNK_BYTES = 8 * 1024 * 1024
HEAD_BYTES = 64 * 1024
READ_BYTES = 64 * 1024

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


def decompressed(raw: IO[bytes], compression: str | None) -> IO[bytes]:
    if compression is None:
        return raw
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if compression == "bzip2":
        return bz2.BZ2File(raw)  # type: ignore[return-value]
    if compression == "xz":
        return lzma.LZMAFile(raw)  # type: ignore[return-value]
    import zstandard

    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[return-value]


@dataclass
class TextShape:
    encoding: str  # utf-8, utf-16-le, utf-16-be, cp1252
    bom: int  # bytes of BOM to skip
    note: str | None = None  # what the user should be told (e.g. "read as Windows-1252")


def text_shape(head: bytes) -> TextShape:
    """Guess how the text is encoded from its first bytes. Raises InputError for binary data."""
    if head.startswith(codecs.BOM_UTF8):
        return TextShape("utf-8", 3)
    if head.startswith(codecs.BOM_UTF16_LE):
        return TextShape("utf-16-le", 2, "UTF-16 (little endian) text")
    if head.startswith(codecs.BOM_UTF16_BE):
        return TextShape("utf-16-be", 2, "UTF-16 (big endian) text")
    sample = head[:8192]
    if head.startswith(b"ElfFile\x00"):
        raise InputError("a Windows event log (EVTX); netsift reads DNS logs and captures, not EVTX (yet)")
    if sample and sample.count(0) > len(sample) // 4:
        # UTF-16 without a BOM has a NUL in every other byte of ASCII text
        odd_nuls = sample[1::2].count(0)
        even_nuls = sample[0::2].count(0)
        if odd_nuls > len(sample) // 2 * 0.9 and even_nuls < len(sample) // 20:
            return TextShape("utf-16-le", 0, "UTF-16 (little endian) text without BOM")
        if even_nuls > len(sample) // 2 * 0.9 and odd_nuls < len(sample) // 20:
            return TextShape("utf-16-be", 0, "UTF-16 (big endian) text without BOM")
        raise InputError("binary data (many NUL bytes), not a text log; if it is a capture, "
                         "only pcap and pcapng are supported")
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
    lines; ``lines()`` builds the (line_no, line) frame when a parser needs it."""

    data: bytes
    first_line_no: int
    line_count: int
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


def iter_byte_chunks(
    stream: IO[bytes], shape: TextShape, *, first_line_no: int = 1, chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[tuple[ByteChunk, bool]]:
    """Yield (chunk, is_last) for whole lines of the stream, as bytes. A read error (a truncated
    compressed stream) ends the iteration: the lines before it are yielded (the last one flagged is_last),
    then the error is raised."""

    def chunk(data: bytes, line_no: int) -> tuple[ByteChunk, int]:
        count = line_count(data)
        return ByteChunk(data, line_no, count), count

    yield from _chunks(stream, shape, first_line_no, chunk_bytes, chunk)


def iter_line_chunks(
    stream: IO[bytes], shape: TextShape, *, first_line_no: int = 1, chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[tuple[pl.DataFrame, bool]]:
    """Like :func:`iter_byte_chunks`, with every chunk cut into a (line_no, line) frame."""

    def frame(data: bytes, line_no: int) -> tuple[pl.DataFrame, int]:
        lines = lines_from_bytes(data, line_no)
        return lines, lines.height

    yield from _chunks(stream, shape, first_line_no, chunk_bytes, frame)


def _chunks(stream: IO[bytes], shape: TextShape, first_line_no: int, chunk_bytes: int,
            build: Callable[[bytes, int], tuple[T, int]]) -> Iterator[tuple[T, bool]]:
    """Cut the stream into chunks of whole UTF-8 lines; ``build(bytes, first line number)`` gives the
    item and its line count. Yields (item, is_last) for every chunk with at least one line."""
    if shape.bom:
        stream.read(shape.bom)
    decoder = None
    if shape.encoding.startswith("utf-16"):
        decoder = codecs.getincrementaldecoder(shape.encoding)(errors="replace")
    carry = b""
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
        # cut after the last newline, copying the bytes once (carry + pieces -> chunk)
        last = next((i for i in range(len(parts) - 1, -1, -1) if b"\n" in parts[i]), None)
        if eof:
            data, carry = b"".join([carry, *parts]), b""
        elif last is None:
            carry = b"".join([carry, *parts])
            continue
        else:
            cut = parts[last].rfind(b"\n") + 1
            data = b"".join([carry, *parts[:last], parts[last][:cut]])
            carry = b"".join([parts[last][cut:], *parts[last + 1:]])
        item, count = build(data, line_no)
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
