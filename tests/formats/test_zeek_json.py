"""Zeek dns.log JSON-lines parser: fixtures by scenario, a property test, the real sample, sniffing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, ParseResult, lines_frame
from netsift.ingest.formats import zeek_json

DATA = Path(__file__).parent.parent / "data" / "zeek_json"
LONG_NAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 50, "example"])


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def parse_file(name: str) -> ParseResult:
    frame = lines_frame(read_lines(DATA / name))
    result = zeek_json.parse(frame, ParseContext())
    assert result.lines_accounted == frame.height
    return result


def row(result: ParseResult, line_no: int) -> dict:
    return result.records.filter(pl.col("source_line") == line_no).to_dicts()[0]


@pytest.mark.parametrize(
    "line_no, ts, client, name, qtype, rcode, answers",
    [
        (
            1,
            dt.datetime(2024, 5, 1, 10, 0, 0, 1),
            "10.0.0.1",
            "www.example.com",
            "A",
            "NOERROR",
            ["93.184.216.34", "2606:2800::1"],
        ),
        # ISO 8601 ts and a nested "id" object
        (
            2,
            dt.datetime(2024, 5, 1, 10, 0, 1, 500000),
            "10.0.0.2",
            "nested.example.org",
            "AAAA",
            "NOERROR",
            [],
        ),
        # unknown extra fields (_path, _write_ts, custom objects) are ignored
        (
            3,
            dt.datetime(2024, 5, 1, 10, 0, 2, 250000),
            "10.0.0.3",
            "nosuch.example.net",
            "TXT",
            "NXDOMAIN",
            None,
        ),
        (4, dt.datetime(2024, 5, 1, 10, 0, 3), "10.0.0.4", "noreply.example", "A", None, None),
        (
            5,
            dt.datetime(2024, 5, 1, 10, 0, 4),
            "10.0.0.5",
            "xn--bcher-kva.example",
            "A",
            "NOERROR",
            ["192.0.2.1"],
        ),
        (6, dt.datetime(2024, 5, 1, 10, 0, 5), "10.0.0.6", LONG_NAME, "TXT", "NOERROR", None),
        # Zeek's "query-65535" / "rcode-12" spellings fall back to the numbers
        (8, dt.datetime(2024, 5, 1, 10, 0, 7), "10.0.0.8", "odd.codes.example", "TYPE65535", "RCODE12", None),
        (10, dt.datetime(2024, 5, 1, 10, 0, 9), "10.0.0.9", "offset.example", "PTR", "REFUSED", None),
    ],
)
def test_valid_lines(line_no, ts, client, name, qtype, rcode, answers):
    got = row(parse_file("valid.log"), line_no)
    assert (got["ts"], got["client"], got["query_name"]) == (ts, client, name)
    assert (got["query_type"], got["response_code"], got["answers"]) == (qtype, rcode, answers)


@pytest.mark.parametrize(
    "name, records, skipped, rejected",
    [
        ("valid.log", 8, 2, 0),  # a record without query, and a blank line
        ("truncated.log", 2, 0, 6),
        ("empty_lines.log", 0, 3, 0),
        ("mixed.log", 2, 0, 4),
        ("wrong_encoding.log", 2, 0, 0),
    ],
)
def test_accounting_per_fixture(name, records, skipped, rejected):
    result = parse_file(name)
    assert (result.records.height, result.skipped, result.rejected.height) == (records, skipped, rejected)


@pytest.mark.parametrize(
    "line_no, reason_part",
    [
        (2, "not a complete JSON object"),
        (3, "not a complete JSON object"),
        (4, "not a Zeek JSON record"),
        (5, "missing or unreadable ts"),
        (6, "missing or unreadable ts"),
        (7, "not a Zeek JSON record"),
    ],
)
def test_truncated_and_wrong_lines_rejected_with_reason(line_no, reason_part):
    result = parse_file("truncated.log")
    got = result.rejected.filter(pl.col("source_line") == line_no).to_dicts()[0]
    assert reason_part in got["reason"]
    assert got["text"] == read_lines(DATA / "truncated.log")[line_no - 1]


def test_bad_lines_do_not_stop_good_ones_in_the_same_chunk():
    result = parse_file("truncated.log")
    assert result.records["source_line"].to_list() == [1, 8]


def test_wrong_encoding_name_becomes_ascii():
    names = parse_file("wrong_encoding.log").records["query_name"]
    assert names[0] == "www.example.com"
    assert names[1].isascii() and names[1].endswith(".example")


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_keys = st.sampled_from(
    ["ts", "id.orig_h", "id", "query", "qtype", "qtype_name", "rcode", "rcode_name", "answers", "uid", "x"]
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(
                alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=60
            ),
            st.dictionaries(_keys, _values, max_size=6).map(json.dumps),
        ),
        max_size=25,
    )
)
def test_any_lines_are_accounted_for(lines):
    frame = lines_frame(lines)
    result = zeek_json.parse(frame, ParseContext())
    assert result.lines_accounted == frame.height


# --- real sample -------------------------------------------------------------------------------------


def test_zat_json_sample(shared_data):
    lines = read_lines(shared_data / "dns_logs/zeek_json/zat_json_dns.log")
    result = zeek_json.parse(lines_frame(lines), ParseContext())
    assert (len(lines), result.records.height, result.skipped, result.rejected.height) == (50, 50, 0, 0)
    assert dict(result.records["query_type"].value_counts().rows()) == {"A": 44, "NB": 3, "SRV": 2, "AAAA": 1}
    assert result.records["response_code"].null_count() == 6  # 6 rows without rcode: no reply seen
    third = row(result, 3)
    assert third["ts"] == dt.datetime(2019, 12, 3, 22, 45, 23, 292845)
    assert (third["client"], third["query_name"], third["answers"]) == (
        "10.18.20.97",
        "dns.msftncsi.com",
        ["131.107.255.255"],
    )


def test_sniff_picks_own_samples_and_refuses_others(shared_data):
    for path in sorted((shared_data / "dns_logs").rglob("*")):
        if not path.is_file() or path.suffix == ".pcap":
            continue
        head = [ln for ln in read_lines(path) if ln.strip()][:50]
        score = zeek_json.sniff(head)
        assert (score >= 0.5) == (path.parent.name == "zeek_json"), (path, score)


@pytest.mark.parametrize(
    "name, claimed", [("valid.log", True), ("mixed.log", False), ("empty_lines.log", False)]
)
def test_sniff_fixtures(name, claimed):
    head = [ln for ln in read_lines(DATA / name) if ln.strip()][:50]
    assert (zeek_json.sniff(head) >= 0.5) == claimed
