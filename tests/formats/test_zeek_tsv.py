"""Zeek dns.log TSV parser: fixtures by scenario, chunking, a property test, the real samples, sniffing."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, ParseResult, lines_frame
from netsift.ingest.formats import zeek_tsv

DATA = Path(__file__).parent.parent / "data" / "zeek_tsv"
HEADER = (DATA / "valid.log").read_text().splitlines()[:8]


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def parse_lines(lines: list[str], chunk: int | None = None) -> ParseResult:
    """Parse in chunks of ``chunk`` lines (one chunk when None) and merge, checking accounting per chunk."""
    ctx = ParseContext()
    size = chunk or max(len(lines), 1)
    parts = []
    for start in range(0, max(len(lines), 1), size):
        frame = lines_frame(lines[start : start + size], start + 1)
        result = zeek_tsv.parse(frame, ctx)
        assert result.lines_accounted == frame.height
        parts.append(result)
    return ParseResult(
        pl.concat([p.records for p in parts]),
        pl.concat([p.rejected for p in parts]),
        sum(p.skipped for p in parts),
    )


def parse_file(name: str, chunk: int | None = None) -> ParseResult:
    return parse_lines(read_lines(DATA / name), chunk)


def row(result: ParseResult, line_no: int) -> dict:
    return result.records.filter(pl.col("source_line") == line_no).to_dicts()[0]


LONG_NAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 50, "example"])


@pytest.mark.parametrize(
    "line_no, ts, client, name, qtype, rcode, answers",
    [
        (
            9,
            dt.datetime(2024, 5, 1, 10, 0, 0, 1),
            "10.0.0.1",
            "www.example.com",
            "A",
            "NOERROR",
            ["93.184.216.34", "2606:2800::1"],
        ),
        (
            10,
            dt.datetime(2024, 5, 1, 10, 0, 1, 500000),
            "10.0.0.2",
            "nosuch.example.org",
            "AAAA",
            "NXDOMAIN",
            None,
        ),
        (
            11,
            dt.datetime(2024, 5, 1, 10, 0, 2, 250000),
            "10.0.0.3",
            "empty.example.net",
            "TXT",
            "NOERROR",
            [],
        ),
        (
            13,
            dt.datetime(2024, 5, 1, 10, 0, 4),
            "10.0.0.5",
            "xn--bcher-kva.example",
            "A",
            "NOERROR",
            ["192.0.2.1"],
        ),
        (14, dt.datetime(2024, 5, 1, 10, 0, 5), "10.0.0.6", LONG_NAME, "TXT", "NOERROR", None),
        (
            15,
            dt.datetime(2024, 5, 1, 10, 0, 6),
            "10.0.0.7",
            "mixed.case.example",
            "TYPE65535",
            "BADCOOKIE",
            None,
        ),
        (16, dt.datetime(2024, 5, 1, 10, 0, 7), "fe80::1", "_services._dns-sd._udp.local", "PTR", None, None),
        (17, dt.datetime(2024, 5, 1, 10, 0, 8), None, "noclient.example", "A", "NOERROR", None),
    ],
)
def test_valid_rows(line_no, ts, client, name, qtype, rcode, answers):
    got = row(parse_file("valid.log"), line_no)
    assert (got["ts"], got["client"], got["query_name"]) == (ts, client, name)
    assert (got["query_type"], got["response_code"], got["answers"]) == (qtype, rcode, answers)
    assert got["resolver_action"] is None


@pytest.mark.parametrize(
    "name, records, skipped, rejected",
    [
        ("valid.log", 8, 10, 0),  # 8 header lines + #close + one row without a question
        ("schema_2014_custom_columns.log", 2, 9, 0),
        ("rotated_two_headers.log", 4, 18, 0),
        ("truncated.log", 1, 8, 3),
        ("header_only.log", 0, 9, 0),
        ("no_header.log", 0, 0, 2),
        ("conn_log.log", 0, 7, 1),
        ("wrong_encoding.log", 2, 8, 0),
        ("mixed.log", 3, 8, 3),
    ],
)
def test_accounting_per_fixture(name, records, skipped, rejected):
    result = parse_file(name)
    assert (result.records.height, result.skipped, result.rejected.height) == (records, skipped, rejected)


@pytest.mark.parametrize(
    "name, line_no, reason_part",
    [
        ("truncated.log", 10, "expected 24 fields (from #fields), found 25"),
        ("truncated.log", 11, "ts is not epoch seconds"),
        ("truncated.log", 12, "expected 24 fields (from #fields), found 9"),
        ("no_header.log", 1, "before any #fields header"),
        ("conn_log.log", 8, "without query column (#path conn), not a dns.log"),
        ("mixed.log", 11, "found 1"),
        ("mixed.log", 12, "found 1"),
        ("mixed.log", 13, "found 1"),
    ],
)
def test_rejections_carry_reason_and_text(name, line_no, reason_part):
    result = parse_file(name)
    rejected = result.rejected.filter(pl.col("source_line") == line_no).to_dicts()
    assert rejected and reason_part in rejected[0]["reason"]
    assert rejected[0]["text"] == read_lines(DATA / name)[line_no - 1]


def test_columns_are_found_by_name_in_other_schemas():
    old = parse_file("schema_2014_custom_columns.log")
    assert old.records["query_name"].to_list() == ["guyspy.com", "cdn.example.com"]
    assert old.records["answers"].to_list() == [["54.245.228.191"], ["cdn.example.net", "54.230.86.87"]]
    assert old.records["ts"][0] == dt.datetime(2013, 9, 15, 23, 44, 27, 631940)


def test_second_header_block_switches_the_columns():
    result = parse_file("rotated_two_headers.log")
    second = result.records.filter(pl.col("source_line") > 12)
    assert second.select("query_name", "client", "query_type", "response_code").rows() == [
        ("second.example.com", "10.0.1.1", "MX", "NOERROR"),
        ("third.example.com", "10.0.1.2", "A", "SERVFAIL"),
    ]
    assert second["answers"].to_list() == [["mx1.example.com"], None]


@pytest.mark.parametrize("name", ["valid.log", "rotated_two_headers.log", "truncated.log", "mixed.log"])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 11])
def test_chunk_boundaries_give_the_same_result(name, chunk):
    whole, parts = parse_file(name), parse_file(name, chunk=chunk)
    assert parts.records.equals(whole.records)
    assert parts.rejected.equals(whole.rejected)
    assert parts.skipped == whole.skipped


def test_wrong_encoding_never_raises_and_names_stay_ascii():
    result = parse_file("wrong_encoding.log")
    names = result.records["query_name"].to_list()
    assert names[1] == "plain.example"
    assert names[0].isascii() and names[0].endswith(".example")


def test_crlf_line_endings():
    lines = [ln + "\r" for ln in read_lines(DATA / "valid.log")]
    result = parse_lines(lines)
    assert result.records.height == 8 and result.rejected.height == 0
    assert row(result, 9)["answers"] == ["93.184.216.34", "2606:2800::1"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=80
        ),
        max_size=30,
    ),
    st.booleans(),
)
def test_any_lines_are_accounted_for(lines, with_header):
    frame = lines_frame((HEADER if with_header else []) + lines)
    result = zeek_tsv.parse(frame, ParseContext())
    assert result.lines_accounted == frame.height


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["-", "(empty)", "", "1714557600.5", "x.example", "A", "0", "a,b", "#x"]),
            min_size=20,
            max_size=26,
        ),
        max_size=20,
    )
)
def test_tab_separated_junk_is_accounted_for(rows):
    frame = lines_frame(HEADER + ["\t".join(r) for r in rows])
    result = zeek_tsv.parse(frame, ParseContext())
    assert result.lines_accounted == frame.height


# --- real samples ------------------------------------------------------------------------------------


def test_rita_sample(shared_data):
    lines = read_lines(shared_data / "dns_logs/zeek_tsv/rita_proxy_dns.log")
    result = parse_lines(lines, chunk=300)
    assert (len(lines), result.records.height, result.skipped, result.rejected.height) == (951, 942, 9, 0)
    codes = result.records["response_code"].value_counts().rows()
    assert dict(codes) == {None: 686, "NOERROR": 231, "NXDOMAIN": 23, "SERVFAIL": 2}
    first = row(result, 9)
    assert first["ts"] == dt.datetime(2021, 1, 14, 17, 26, 43, 325590)
    assert (first["client"], first["query_name"], first["query_type"]) == (
        "192.168.0.20",
        "_homekit._tcp.local",
        "PTR",
    )
    assert row(result, 30)["answers"] == [
        "prod-haproxy-edge-nlb-eip-3f4c246e4b1ed994.elb.us-east-1.amazonaws.com",
        "54.204.130.107",
        "18.233.140.209",
        "52.54.155.203",
    ]


def test_zat_sample_2014_schema(shared_data):
    lines = read_lines(shared_data / "dns_logs/zeek_tsv/zat_dns.log")
    result = parse_lines(lines)
    # 9 '#' lines + 3 rows whose query is unset (no question) are skipped
    assert (len(lines), result.records.height, result.skipped, result.rejected.height) == (63, 51, 12, 0)
    assert row(result, 10)["answers"] == ["guyspy.com", "54.245.228.191"]
    assert set(result.records["client"]) == {"192.168.33.10"}


def _sample_heads(shared_data: Path) -> dict[Path, list[str]]:
    heads = {}
    for path in sorted((shared_data / "dns_logs").rglob("*")):
        if path.is_file() and path.suffix != ".pcap":
            text = path.read_text(encoding="utf-8", errors="replace")
            heads[path] = [ln for ln in text.splitlines() if ln.strip()][:50]
    return heads


def test_sniff_picks_own_samples_and_refuses_others(shared_data):
    for path, head in _sample_heads(shared_data).items():
        score = zeek_tsv.sniff(head)
        if path.parent.name == "zeek_tsv":
            assert score >= 0.5, path
        else:
            assert score < 0.5, path


@pytest.mark.parametrize(
    "name, expected",
    [
        ("valid.log", 1.0),
        ("schema_2014_custom_columns.log", 1.0),
        ("conn_log.log", 0.2),
        ("no_header.log", 0.0),
    ],
)
def test_sniff_fixtures(name, expected):
    assert zeek_tsv.sniff(read_lines(DATA / name)[:50]) == expected


# --- byte fast path ----------------------------------------------------------------------------------


def _through_chunker(data: bytes, chunk_bytes: int, use_bytes: bool) -> tuple[ParseResult, int, int]:
    """Drive the parser as the ingest driver does; returns (merged result, byte-path chunks, fallbacks)."""
    from netsift.ingest.reader import iter_byte_chunks, iter_line_chunks, text_shape

    ctx, parts, fast, slow, seen = ParseContext(), [], 0, 0, 0
    shape = text_shape(data[:65536])
    stream = io.BytesIO(data)
    if use_bytes:
        for chunk, _ in iter_byte_chunks(stream, shape, chunk_bytes=chunk_bytes):
            result = zeek_tsv.parse_bytes(chunk, ctx)
            if result is None:
                slow += 1
                result = zeek_tsv.parse(chunk.lines(), ctx)
            else:
                fast += 1
            assert result.lines_accounted == chunk.line_count
            seen += chunk.line_count
            parts.append(result)
    else:
        for lines, _ in iter_line_chunks(stream, shape, chunk_bytes=chunk_bytes):
            result = zeek_tsv.parse(lines, ctx)
            assert result.lines_accounted == lines.height
            seen += lines.height
            parts.append(result)
    merged = ParseResult(pl.concat([p.records for p in parts]), pl.concat([p.rejected for p in parts]),
                         sum(p.skipped for p in parts))
    return merged, fast, slow


def _generated(n_lines: int = 50_000) -> bytes:
    """A regular log with a second header block (other columns) half way and a few malformed lines."""
    header = "\n".join(HEADER) + "\n"
    second = header.replace("#fields\tts\tuid\tid.orig_h", "#fields\tts\tid.orig_h\tuid")
    rows = []
    for i in range(n_lines):
        if i == n_lines // 2:
            rows.append(second.rstrip("\n"))
        name = f"host{i % 977}.example{i % 13}.com" if i % 50 else "-"
        answers = "(empty)" if i % 7 == 0 else f"10.0.{i % 256}.{i % 200},10.1.0.{i % 100}"
        fields = [f"{1714557600 + i / 10:.6f}", f"C{i}", f"10.0.0.{i % 250}", "53", "10.0.0.53", "53", "udp",
                  str(i), "0.01", name, "1", "C_INTERNET", "1", "A", "0", "NOERROR", "F", "F", "T", "T", "0",
                  answers, "60.0", "F"]
        if i in (1_000, 30_000):
            fields = fields[:-3]  # too few fields
        elif i in (7_777, 40_000):
            fields.append("extra")  # too many
        elif i == 20_000:
            fields[0] = "not-a-time"
        elif i == 45_000:
            fields = []  # blank line
        elif 10_000 <= i < 10_040:  # no mnemonic: the numeric columns are needed (a few chunks only)
            fields[12:16] = ["65", "-", "23", "rcode-23"] if i % 2 else ["65", "query-65", "0", "-"]
        rows.append("\t".join(fields))
    return (header + "\n".join(rows) + "\n#close\t2024-05-01-11-00-05\n").encode()


def _byte_path_cases(shared: Path | None) -> list[tuple[str, bytes, int]]:
    cases = [(p.name, p.read_bytes(), 512) for p in sorted(DATA.glob("*.log"))]
    if shared is not None:
        cases += [(p.name, p.read_bytes(), 16_384) for p in sorted((shared / "dns_logs/zeek_tsv").glob("*.log"))]
    return cases


def test_byte_path_gives_the_line_path_result_on_fixtures_and_samples(request):
    try:
        shared = request.getfixturevalue("shared_data")
    except pytest.skip.Exception:
        shared = None
    for name, data, chunk_bytes in _byte_path_cases(shared):
        for variant in (data, data.replace(b"\n", b"\r\n")):
            expected, _, _ = _through_chunker(variant, chunk_bytes, use_bytes=False)
            got, _, _ = _through_chunker(variant, chunk_bytes, use_bytes=True)
            assert got.records.equals(expected.records), name
            assert got.records.schema == expected.records.schema, name
            assert got.rejected.equals(expected.rejected), name
            assert got.skipped == expected.skipped, name


@pytest.mark.parametrize("chunk_bytes", [32 * 1024, 256 * 1024])
def test_byte_path_gives_the_line_path_result_on_a_generated_log(chunk_bytes):
    data = _generated()
    expected, _, _ = _through_chunker(data, chunk_bytes, use_bytes=False)
    got, fast, slow = _through_chunker(data, chunk_bytes, use_bytes=True)
    assert fast > 0 and slow > 0  # both paths really ran
    assert got.records.equals(expected.records)
    assert got.records.schema == expected.records.schema
    assert got.rejected.equals(expected.rejected)
    assert got.skipped == expected.skipped
    assert got.rejected["source_line"].to_list() == [1_009, 7_786, 20_009, 30_017, 40_017]
    assert got.lines_accounted == data.count(b"\n")
