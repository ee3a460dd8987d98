"""Reader: compression by magic bytes, encodings, binary detection, whole-line chunking."""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma

import pytest
from hypothesis import given
from hypothesis import strategies as st
import zstandard

from netsift.errors import InputError
from netsift.ingest.reader import (
    compression_of,
    count_byte,
    decompressed,
    iter_byte_chunks,
    iter_line_chunks,
    line_count,
    lines_from_bytes,
    text_shape,
)

TEXT = b"alpha\nbeta\n\ngamma\r\ndelta"


@pytest.mark.parametrize("compress, name", [
    (gzip.compress, "gzip"), (bz2.compress, "bzip2"), (lzma.compress, "xz"),
    (lambda b: zstandard.ZstdCompressor().compress(b), "zstd"), (lambda b: b, None),
])
def test_decompression_by_magic(compress, name):
    data = compress(TEXT)
    assert compression_of(data[:16]) == name
    assert decompressed(io.BytesIO(data), name).read() == TEXT


@pytest.mark.parametrize("data, encoding, note", [
    (b"plain ascii\n", "utf-8", None),
    (codecs.BOM_UTF8 + b"bom\n", "utf-8", None),
    (codecs.BOM_UTF16_LE + "hi\n".encode("utf-16-le"), "utf-16-le", "UTF-16"),
    ("no bom here at all\n".encode("utf-16-le"), "utf-16-le", "without BOM"),
    ("caf\u00e9 na\u00efve \u00e0 la carte\n".encode("cp1252") * 3, "cp1252", "Windows-1252"),
])
def test_text_shape(data, encoding, note):
    shape = text_shape(data)
    assert shape.encoding == encoding
    assert (note is None and shape.note is None) or note in shape.note


@pytest.mark.parametrize("data", [bytes(range(256)) * 4, b"\x00" * 100 + b"\x01\x02" * 50])
def test_binary_is_refused_with_a_clear_error(data):
    with pytest.raises(InputError, match="binary"):
        text_shape(data)


def test_lines_keep_empty_lines_and_strip_cr():
    frame = lines_from_bytes(TEXT, 10)
    assert frame["line"].to_list() == ["alpha", "beta", "", "gamma", "delta"]
    assert frame["line_no"].to_list() == [10, 11, 12, 13, 14]


def test_nul_bytes_inside_a_line_do_not_lose_lines():
    frame = lines_from_bytes(b"a\x00b\nc\n", 1)
    assert frame.height == 2 and frame["line"][1] == "c"


def test_invalid_utf8_is_replaced_not_raised():
    frame = lines_from_bytes(b"ok\n\xff\xfe bad\n", 1)
    assert frame.height == 2 and "\ufffd" in frame["line"][1]


@pytest.mark.parametrize("chunk_bytes", [1, 3, 7, 64, 1 << 20])
def test_chunking_yields_whole_lines_in_order(chunk_bytes):
    data = b"".join(f"line {i}\n".encode() for i in range(200)) + b"last without newline"
    chunks = list(iter_line_chunks(io.BytesIO(data), text_shape(data), chunk_bytes=chunk_bytes))
    lines = [ln for frame, _ in chunks for ln in frame["line"].to_list()]
    numbers = [n for frame, _ in chunks for n in frame["line_no"].to_list()]
    assert lines == [f"line {i}" for i in range(200)] + ["last without newline"]
    assert numbers == list(range(1, 202))
    assert [last for _, last in chunks][-1] is True
    assert not any(last for _, last in chunks[:-1])


def test_utf16_stream_is_decoded_across_chunks():
    data = codecs.BOM_UTF16_LE + "".join(f"z\u00fcrich {i}\n" for i in range(50)).encode("utf-16-le")
    chunks = list(iter_line_chunks(io.BytesIO(data), text_shape(data), chunk_bytes=5))
    lines = [ln for frame, _ in chunks for ln in frame["line"].to_list()]
    assert lines == [f"z\u00fcrich {i}" for i in range(50)]


def test_evtx_is_named():
    with pytest.raises(InputError, match="EVTX"):
        text_shape(b"ElfFile\x00" + bytes(4088))


@pytest.mark.parametrize("chunk_bytes", [1, 5, 64, 1 << 20])
@pytest.mark.parametrize("data", [
    b"".join(f"line {i}\n".encode() for i in range(300)),
    b"a\r\nb\r\n\r\nlast without newline",
    codecs.BOM_UTF8 + "caf\u00e9\n\nna\u00efve\n".encode(),
    codecs.BOM_UTF16_LE + "".join(f"z\u00fcrich {i}\n" for i in range(40)).encode("utf-16-le"),
    "Gr\u00fc\u00dfe\nstra\u00dfe\n".encode("cp1252"),
])
def test_byte_chunks_are_the_line_chunks_before_cutting(data, chunk_bytes):
    shape = text_shape(data)
    as_bytes = list(iter_byte_chunks(io.BytesIO(data), shape, first_line_no=7, chunk_bytes=chunk_bytes))
    as_lines = list(iter_line_chunks(io.BytesIO(data), shape, first_line_no=7, chunk_bytes=chunk_bytes))
    assert [last for _, last in as_bytes] == [last for _, last in as_lines]
    for (chunk, _), (frame, _) in zip(as_bytes, as_lines, strict=True):
        assert chunk.line_count == frame.height == line_count(chunk.data)
        assert chunk.lines().equals(frame)
        assert chunk.first_line_no == frame["line_no"][0]
        chunk.data.decode("utf-8")  # always UTF-8, whatever the input encoding


@given(st.binary(max_size=300), st.sampled_from([b"\n", b"\t", b"\x00", b"a"]))
def test_count_byte_and_line_count_agree_with_python(data, byte):
    assert count_byte(data, byte) == data.count(byte)
    assert line_count(data) == (data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1))
