"""Reader against hostile input: over-long lines, control characters, CR-only text, truncated compressed
streams, leading blank lines (issue 9, items 8 and 10)."""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma

import pytest
import zstandard

from netsift.errors import InputError
from netsift.ingest.reader import (
    MAX_LINE_BYTES,
    SNIFF_LIMIT_BYTES,
    compression_of,
    decompressed,
    iter_byte_chunks,
    read_head,
    screen_lines,
    text_shape,
)

COMPRESSORS = {
    "gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}


class _Counting(io.RawIOBase):
    """A stream of ``size`` bytes of one over-long line between two short ones, made on the fly."""

    def __init__(self, size: int):
        self._parts = [b"first\n", size, b"\nlast\n"]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._parts:
            part = self._parts[0]
            if isinstance(part, int):
                if part == 0:
                    self._parts.pop(0)
                    continue
                n = min(part, len(buffer))
                buffer[:n] = b"x" * n
                self._parts[0] = part - n
                return n
            n = min(len(part), len(buffer))
            buffer[:n] = part[:n]
            self._parts[0] = part[n:]
            if not self._parts[0]:
                self._parts.pop(0)
            return n
        return 0


def chunks_of(data: bytes, chunk_bytes: int = 1 << 20):
    return [c for c, _ in iter_byte_chunks(io.BytesIO(data), text_shape(data), chunk_bytes=chunk_bytes)]


def aside_rows(chunks) -> list[tuple]:
    return [row for c in chunks if c.set_aside is not None for row in c.set_aside.rows()]


def all_lines(chunks) -> list[str]:
    return [ln for c in chunks for ln in c.lines()["line"].to_list()]


def test_a_line_longer_than_the_limit_is_set_aside_without_being_held_whole():
    size = 5 * MAX_LINE_BYTES
    stream = _Counting(size)
    biggest = 0
    chunks = []
    for chunk, _ in iter_byte_chunks(stream, text_shape(b"first\n"), chunk_bytes=256 * 1024):
        biggest = max(biggest, len(chunk.data))
        chunks.append(chunk)
    assert all_lines(chunks) == ["first", "", "last"]
    [(line_no, reason, text)] = aside_rows(chunks)
    assert line_no == 2 and f"{size + 0:,} bytes" in reason and "longer" in reason
    assert len(text) == 4096 and set(text) == {"x"}
    assert biggest < 256 * 1024 + MAX_LINE_BYTES


def test_an_over_long_last_line_without_newline_is_set_aside():
    data = b"a\n" + b"y" * (2 * MAX_LINE_BYTES)
    chunks = chunks_of(data, chunk_bytes=64 * 1024)
    assert all_lines(chunks) == ["a", ""]
    assert [r[0] for r in aside_rows(chunks)] == [2]


def test_an_over_long_line_inside_one_chunk_is_set_aside():
    data = b"a\n" + b"z" * (MAX_LINE_BYTES + 1) + b"\nb\n" + b"w" * MAX_LINE_BYTES + b"\n"
    chunks = chunks_of(data, chunk_bytes=8 * MAX_LINE_BYTES)
    assert all_lines(chunks) == ["a", "", "b", "w" * MAX_LINE_BYTES]  # exactly the limit is allowed
    assert [r[0] for r in aside_rows(chunks)] == [2]


@pytest.mark.parametrize("line, named", [
    (b"May  9 02:36:02 dnsmasq[1]: query[A]\x00 x.example.com from 10.0.0.1", "0x00 (NUL)"),
    (b"x\x1b]0;owned\x07.example.com", "0x1B (ESC)"),
    (b"\x1b[2J", "0x1B (ESC)"),
    (b"del\x7f", "0x7F (DEL)"),
    ("csi\u009b".encode(), "U+009B"),
])
def test_a_line_with_a_control_character_is_set_aside_and_named(line, named):
    chunks = chunks_of(b"ok\tfine\r\n" + line + b"\nafter\n")
    assert all_lines(chunks) == ["ok\tfine", "", "after"]
    [(line_no, reason, text)] = aside_rows(chunks)
    assert line_no == 2 and named in reason
    assert "\x00" not in text and text.replace("\ufffd", "\x00").encode() == line.replace(b"\x00", b"\x00")


@pytest.mark.parametrize("chunk_bytes", [4, 1 << 20])
def test_an_unterminated_last_line_with_a_control_character_stays_a_line(chunk_bytes):
    chunks = chunks_of(b"ok\nbad\x1b[2J", chunk_bytes)
    assert all_lines(chunks) == ["ok", ""] and [r[0] for r in aside_rows(chunks)] == [2]
    assert sum(c.line_count for c in chunks) == 2 and all(c.line_count == c.lines().height for c in chunks)


def test_a_clean_chunk_is_returned_as_is():
    data = b"a\tb\r\nc d\n" * 1000
    assert screen_lines(data, 1) == (data, [])


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 64, 1 << 20])
def test_cr_only_text_is_split_on_cr(chunk_bytes):
    data = b"one\rtwo\r\rthree\r"
    shape = text_shape(data)
    assert shape.cr_lines and "CR" in shape.note
    assert all_lines(chunks_of(data, chunk_bytes)) == ["one", "two", "", "three"]


@pytest.mark.parametrize("chunk_bytes", [1, 2, 5, 1 << 20])
def test_mixed_line_endings_each_end_a_line(chunk_bytes):
    data = b"a\r\nb\rc\nd\r\n"
    assert all_lines(chunks_of(data, chunk_bytes)) == ["a", "b", "c", "d"]


def test_crlf_text_is_not_taken_for_cr_only_even_when_the_head_cuts_a_crlf():
    head = (b"x" * 9 + b"\r\n") * 6000
    assert not text_shape(head[:65536 + (65536 % 11 == 0)]).cr_lines
    assert not text_shape(b"abc\r\n" * 10 + b"abc\r").cr_lines


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_a_stream_cut_mid_way_raises_eof_after_what_it_had(name):
    data = COMPRESSORS[name](b"".join(b"line %d\n" % i for i in range(200_000)))
    stream = decompressed(io.BytesIO(data[: len(data) // 2]), name)
    with pytest.raises(EOFError):
        while stream.read(65536):
            pass


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
@pytest.mark.parametrize("keep", [6, 12])
def test_a_truncated_compressed_header_is_named(name, keep):
    data = COMPRESSORS[name](b"hello world\n" * 1000)
    cut = data[:keep]
    assert compression_of(cut) == name
    with pytest.raises(InputError, match=f"truncated or corrupt {name} data"):
        read_head(decompressed(io.BytesIO(cut), name), name)


def test_corrupt_zstd_data_is_a_value_error():
    data = COMPRESSORS["zstd"](b"")[:4] + b"\xff" * 100
    with pytest.raises(ValueError, match="corrupt zstd data"):
        decompressed(io.BytesIO(data), "zstd").read()


def test_several_zstd_frames_are_read_in_turn():
    data = COMPRESSORS["zstd"](b"one\n") + COMPRESSORS["zstd"](b"two\n")
    assert decompressed(io.BytesIO(data), "zstd").read() == b"one\ntwo\n"


@pytest.mark.parametrize("blank", [b"\n", b"\r\n", b" \t\n"])
def test_the_head_reads_past_leading_blank_lines(blank):
    data = blank * (200 * 1024 // len(blank)) + b"May  9 02:36:02 dnsmasq[1]: query[A] a.example from 10.0.0.1\n" * 5
    head = read_head(io.BytesIO(data))
    assert b"dnsmasq" in head
    assert text_shape(head).encoding == "utf-8"


def test_the_head_stops_at_the_sniff_limit():
    head = read_head(io.BytesIO(b"\n" * (2 * SNIFF_LIMIT_BYTES)))
    assert len(head) <= SNIFF_LIMIT_BYTES + 65536


def test_leading_blank_lines_do_not_hide_the_encoding():
    text = "\n" * 70_000 + "caf\u00e9 na\u00efve \u00e0 la carte\n" * 50
    assert text_shape(read_head(io.BytesIO(text.encode("cp1252")))).encoding == "cp1252"
    assert text_shape(read_head(io.BytesIO(text.encode("utf-16-le")))).encoding == "utf-16-le"
    assert text_shape(read_head(io.BytesIO(codecs.BOM_UTF16_LE + text.encode("utf-16-le")))).bom == 2
