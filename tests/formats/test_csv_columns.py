"""Generic header CSV/TSV parser: column synonyms, --columns, delimiters, timestamps, bad lines, sniffing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, ParseResult, lines_frame
from netsift.ingest.formats import csv_columns

DATA = Path(__file__).parent.parent / "data" / "csv_columns"
LONG_NAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 50, "example"])


def read_lines(path: Path) -> list[str]:
    """Lines as the ingest reader gives them: split on \\n only (a \\r stays for the parser to handle)."""
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def parse_lines(lines: list[str], chunk: int | None = None, **ctx_args) -> ParseResult:
    ctx = ParseContext(**ctx_args)
    size = chunk or max(len(lines), 1)
    parts = []
    for start in range(0, max(len(lines), 1), size):
        frame = lines_frame(lines[start : start + size], start + 1)
        result = csv_columns.parse(frame, ctx)
        assert result.lines_accounted == frame.height
        parts.append(result)
    return ParseResult(
        pl.concat([p.records for p in parts]),
        pl.concat([p.rejected for p in parts]),
        sum(p.skipped for p in parts),
    )


def parse_file(name: str, chunk: int | None = None, **ctx_args) -> ParseResult:
    return parse_lines(read_lines(DATA / name), chunk, **ctx_args)


def row(result: ParseResult, line_no: int) -> dict:
    return result.records.filter(pl.col("source_line") == line_no).to_dicts()[0]


@pytest.mark.parametrize(
    "line_no, ts, client, name, qtype, rcode, answers, action",
    [
        (2, dt.datetime(2024, 5, 1, 10), "10.0.0.1", "www.example.com", "A", "NOERROR",
         ["93.184.216.34", "93.184.216.35"], "allowed"),
        (3, dt.datetime(2024, 5, 1, 10, 0, 1), "10.0.0.2", "nosuch.example.org", "AAAA", "NXDOMAIN",
         [], None),
        (4, dt.datetime(2024, 5, 1, 10, 0, 2, 500000), "10.0.0.3", "ms.example.net", "TXT", "NOERROR",
         [], None),
        (5, dt.datetime(2024, 5, 1, 10, 0, 3), "10.0.0.4", "offset.example", "MX", "NOERROR",
         ["mx1.example.com"], None),
        # naive stamp read in --tz Europe/Berlin (UTC+2 in May)
        (6, dt.datetime(2024, 5, 1, 8, 0, 4), "10.0.0.5", "naive.example", "AAAA", "NOERROR",
         ["2001:db8::1"], None),
        (7, dt.datetime(2024, 5, 1, 10, 0, 5, 123456), "10.0.0.6", "xn--bcher-kva.example", "A", "NOERROR",
         ["192.0.2.1"], "blocked"),
        (8, dt.datetime(2024, 5, 1, 10, 0, 6), "10.0.0.7", LONG_NAME, "TXT", "NOERROR", [], None),
        (9, dt.datetime(2024, 5, 1, 10, 0, 7), None, 'quoted "name".example', "A", "SERVFAIL", [], None),
    ],
)  # fmt: skip
def test_valid_rows(line_no, ts, client, name, qtype, rcode, answers, action):
    got = row(parse_file("valid.csv", tz="Europe/Berlin"), line_no)
    assert (got["ts"], got["client"], got["query_name"]) == (ts, client, name)
    assert (got["query_type"], got["response_code"], got["answers"], got["resolver_action"]) == (
        qtype, rcode, answers, action)  # fmt: skip


@pytest.mark.parametrize(
    "name, ctx_args, names, first_ts",
    [
        ("semicolon.csv", {}, ["a.example", "semi;colon.example"], dt.datetime(2024, 5, 1, 10)),
        ("pipe.txt", {}, ["pipe.example", "pipe2.example"], dt.datetime(2024, 5, 1, 10)),
        ("tab.tsv", {}, ["tab.example", "tab2.example"], dt.datetime(2024, 5, 1, 10, 0, 0, 250000)),
        ("crlf_bom.csv", {}, ["crlf.example"], dt.datetime(2024, 5, 1, 10)),
        ("columns_override.csv", {"columns": {"ts": "When", "query_name": "Host", "client": "Who"}},
         ["override.example", "override2.example"], dt.datetime(2024, 5, 1, 10)),
    ],
)  # fmt: skip
def test_delimiters_and_overrides(name, ctx_args, names, first_ts):
    result = parse_file(name, **ctx_args)
    assert result.records["query_name"].to_list() == names
    assert result.records["ts"][0] == first_ts
    assert result.records["client"][0] == "10.0.0.1"
    assert result.rejected.height == 0 and result.skipped == 1


def test_tab_and_pipe_map_dns_field_names():
    tab, pipe = parse_file("tab.tsv"), parse_file("pipe.txt")
    assert tab.records.select("query_type", "response_code").rows() == [("A", "NOERROR"), ("TXT", "SERVFAIL")]
    assert pipe.records.select("query_type", "response_code").rows() == [
        ("A", "NOERROR"),
        ("HTTPS", "NXDOMAIN"),
    ]


@pytest.mark.parametrize(
    "name, records, skipped, rejected",
    [
        ("valid.csv", 8, 1, 0),
        ("truncated.csv", 1, 2, 6),  # header + blank line skipped
        ("header_only.csv", 0, 1, 0),
        ("no_name_column.csv", 0, 0, 3),  # every line rejected, the header too
        ("wrong_encoding.csv", 2, 1, 0),
        ("columns_override.csv", 0, 0, 3),  # without --columns nothing maps
    ],
)
def test_accounting_per_fixture(name, records, skipped, rejected):
    result = parse_file(name)
    assert (result.records.height, result.skipped, result.rejected.height) == (records, skipped, rejected)


@pytest.mark.parametrize(
    "line_no, reason_part",
    [
        (3, "expected 4 fields (from the header), found 2"),
        (4, "broken quoting"),
        (5, "unreadable timestamp 'yesterday'"),
        (6, "empty query name"),
        (7, "expected 4 fields (from the header), found 5"),
        (9, "expected 4 fields (from the header), found 3"),
    ],
)
def test_bad_lines_rejected_with_reason(line_no, reason_part):
    got = parse_file("truncated.csv").rejected.filter(pl.col("source_line") == line_no).to_dicts()[0]
    assert reason_part in got["reason"]
    assert got["text"] == read_lines(DATA / "truncated.csv")[line_no - 1]


def test_unmapped_header_reason_lists_header_and_names_the_fix():
    reason = parse_file("no_name_column.csv").rejected["reason"][0]
    assert "['time', 'src', 'bytes']" in reason and "--columns query_name=<column>" in reason


@pytest.mark.parametrize(
    "columns, reason_part",
    [
        ({"query_name": "Nope"}, "no column 'Nope' in the header"),
        ({"colour": "When"}, "unknown column 'colour'"),
    ],
)
def test_bad_columns_option_rejects_with_its_message(columns, reason_part):
    result = parse_file("columns_override.csv", columns=columns)
    assert result.records.height == 0 and reason_part in result.rejected["reason"][0]


@pytest.mark.parametrize("chunk", [1, 2, 3, 4])
def test_header_is_remembered_across_chunks(chunk):
    whole, parts = parse_file("valid.csv"), parse_file("valid.csv", chunk=chunk)
    assert parts.records.equals(whole.records) and parts.skipped == whole.skipped


@pytest.mark.parametrize(
    "header, mapped",
    [
        (["@timestamp", "source.ip", "dns.question.name"], {"ts": 0, "client": 1, "query_name": 2}),
        (["Query Name", "Client_IP", "Date Time"], {"query_name": 0, "client": 1, "ts": 2}),
        (["FQDN", "SRC", "record-type", "Response Code"],
         {"query_name": 0, "client": 1, "query_type": 2, "response_code": 3}),
        (["time", "timestamp", "domain"], {"ts": 1, "query_name": 2}),  # the more specific synonym wins
    ],
)  # fmt: skip
def test_map_columns_synonyms(header, mapped):
    assert csv_columns.map_columns(header) == mapped


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["timestamp,client,query_name", "ts\tsrc\tdomain", "a;b;c", ""]),
    st.lists(
        st.one_of(
            st.text(
                alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=60
            ),
            st.lists(
                st.sampled_from(['"', ",", "\t", ";", "x.example", "1714557600", " ", '""']), max_size=20
            ).map("".join),
        ),
        max_size=25,
    ),
)
def test_any_lines_are_accounted_for(header, lines):
    frame = lines_frame([header, *lines])
    result = csv_columns.parse(frame, ParseContext())
    assert result.lines_accounted == frame.height


# --- sniffing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("valid.csv", 0.9),
        ("semicolon.csv", 0.9),
        ("pipe.txt", 0.9),
        ("tab.tsv", 0.9),
        ("crlf_bom.csv", 0.9),
        ("no_name_column.csv", 0.0),
        ("columns_override.csv", 0.0),  # needs --format and --columns
    ],
)
def test_sniff_fixtures(name, expected):
    assert csv_columns.sniff([ln for ln in read_lines(DATA / name) if ln.strip()][:50]) == expected


@pytest.mark.parametrize(
    "head, expected",
    [
        (["rank,fqdn", "1,google.com"], 0.4),  # a list of names, not a log: below the 0.5 threshold
        (["Domain,Malware,Source", "a.example,x,y"], 0.45),
        (["#fields\tts\tquery", "1\ta.example"], 0.0),  # Zeek's header wins
        (['{"ts": 1, "query": "a.example"}'], 0.0),
    ],
)
def test_sniff_thresholds(head, expected):
    assert csv_columns.sniff(head) == expected


def test_sniff_refuses_every_dns_log_sample(shared_data):
    for path in sorted((shared_data / "dns_logs").rglob("*")):
        if path.is_file() and path.suffix != ".pcap":
            head = [ln for ln in read_lines(path) if ln.strip()][:50]
            assert csv_columns.sniff(head) < 0.5, path


@pytest.mark.parametrize("stamps, tz, expected", [
    # a spreadsheet in a German locale: dotted dates are day first, minutes without seconds
    (["30.11.2026 10:00", "01.12.2026 09:05:07"], "UTC",
     [dt.datetime(2026, 11, 30, 10, 0), dt.datetime(2026, 12, 1, 9, 5, 7)]),
    # en-US with AM/PM; the 13th decides month first for the whole file
    (["11/1/2026 12:05:00 AM", "11/13/2026 1:05:00 PM"], "UTC",
     [dt.datetime(2026, 11, 1, 0, 5), dt.datetime(2026, 11, 13, 13, 5)]),
    # en-GB: the 30th decides day first, so 01/12 is the 1st of December
    (["30/11/2026 23:59:59", "01/12/2026 00:00:01"], "UTC",
     [dt.datetime(2026, 11, 30, 23, 59, 59), dt.datetime(2026, 12, 1, 0, 0, 1)]),
    # year first with a fraction (a decimal comma too), read in --tz
    (["2026/11/30 10:00:01.25", "2026/11/30 10:00:01,5"], "Europe/Berlin",
     [dt.datetime(2026, 11, 30, 9, 0, 1, 250000), dt.datetime(2026, 11, 30, 9, 0, 1, 500000)]),
])
def test_locale_timestamps(stamps, tz, expected):
    lines = ["time;client;query", *(f"{s};10.0.0.{i};host{i}.example.com" for i, s in enumerate(stamps))]
    result = parse_lines(lines, tz=tz)
    assert result.rejected.height == 0
    assert result.records.sort("source_line")["ts"].to_list() == expected


@pytest.mark.parametrize("stamp", ["31.02.2026 10:00", "11/30/2026 25:00", "11/30/2026 10:00 XM", "30.11.2026",
                                   "yesterday 10:00"])
def test_unreadable_locale_timestamps_are_rejected(stamp):
    result = parse_lines(["time,query", f"{stamp},host.example.com"])
    assert result.records.height == 0
    assert result.rejected["reason"].to_list() == [f"unreadable timestamp '{stamp}'"]
