"""Cisco Umbrella DNS log CSV parser: fixtures by scenario, a property test, the real sample, sniffing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, ParseResult, lines_frame
from netsift.ingest.formats import umbrella_csv

DATA = Path(__file__).parent.parent / "data" / "umbrella_csv"
LONG_NAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 50, "example"])


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def parse_file(name: str) -> ParseResult:
    frame = lines_frame(read_lines(DATA / name))
    result = umbrella_csv.parse(frame, ParseContext())
    assert result.lines_accounted == frame.height
    return result


def row(result: ParseResult, line_no: int) -> dict:
    return result.records.filter(pl.col("source_line") == line_no).to_dicts()[0]


@pytest.mark.parametrize(
    "line_no, client, name, qtype, rcode, action",
    [
        (1, "10.0.0.1", "www.example.com", "A", "NOERROR", "allowed"),  # 10 fields (v1/v2)
        (2, "10.0.0.2", "malware.example.net", "A", "NOERROR", "blocked:umbrella"),  # 13 fields
        (3, "2001:db8::3", "ipv6.example.org", "AAAA", "NOERROR", "allowed"),  # 16 fields, later versions
        (4, "10.10.1.100", "spaced.example.com", "A", "NOERROR", "allowed"),  # '", "' as in Umbrella's docs
        (5, "Site-HQ", "nointernal.example", "TXT", "NOERROR", "allowed"),  # no internal IP: identity
        (6, "10.0.0.1", "nosuch.example", "HTTPS", "NXDOMAIN", "allowed"),
        (7, "10.0.0.1", "xn--bcher-kva.example", "A", "NOERROR", "allowed"),
        (8, "10.0.0.1", LONG_NAME, "TXT", "NOERROR", "allowed"),
        (9, "10.0.0.9", "mixed.case.example", "AAAA", "REFUSED", "allowed"),  # commas inside quoted identity
    ],
)
def test_valid_lines(line_no, client, name, qtype, rcode, action):
    got = row(parse_file("valid.log"), line_no)
    assert (got["client"], got["query_name"], got["query_type"]) == (client, name, qtype)
    assert (got["response_code"], got["resolver_action"], got["answers"]) == (rcode, action, None)
    assert got["ts"] == dt.datetime(2024, 5, 1, 10, 0, line_no - 1)


@pytest.mark.parametrize(
    "name, records, skipped, rejected",
    [
        ("valid.log", 9, 0, 0),
        ("with_header.log", 2, 1, 0),  # the optional header row of newer exports
        ("truncated.log", 2, 1, 4),
        ("wrong_encoding.log", 2, 0, 0),
        ("mixed.log", 2, 0, 3),
    ],
)
def test_accounting_per_fixture(name, records, skipped, rejected):
    result = parse_file(name)
    assert (result.records.height, result.skipped, result.rejected.height) == (records, skipped, rejected)


@pytest.mark.parametrize(
    "name, line_no, reason_part",
    [
        ("truncated.log", 2, "broken quoting"),
        ("truncated.log", 3, "expected at least 10 fields, found 8"),
        ("truncated.log", 4, "unreadable timestamp '01/05/2024 10:00'"),
        ("truncated.log", 5, "empty domain"),
        ("mixed.log", 2, "expected at least 10 fields, found 3"),
        ("mixed.log", 4, "expected at least 10 fields, found 1"),
    ],
)
def test_rejections_carry_reason_and_original_text(name, line_no, reason_part):
    got = parse_file(name).rejected.filter(pl.col("source_line") == line_no).to_dicts()[0]
    assert reason_part in got["reason"]
    assert got["text"] == read_lines(DATA / name)[line_no - 1]


def test_wrong_encoding_never_raises():
    names = parse_file("wrong_encoding.log").records["query_name"].to_list()
    assert names[0] == "www.example.com" and names[1].isascii()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(
                alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=80
            ),
            st.lists(
                st.sampled_from(['"', ",", "x", "1 (A)", "2024-05-01 10:00:00", "Allowed", " ", '""']),
                max_size=30,
            ).map("".join),
        ),
        max_size=25,
    )
)
def test_any_lines_are_accounted_for(lines):
    frame = lines_frame(lines)
    result = umbrella_csv.parse(frame, ParseContext())
    assert result.lines_accounted == frame.height


# --- real sample -------------------------------------------------------------------------------------


def test_elastic_umbrella_sample(shared_data):
    lines = read_lines(shared_data / "dns_logs/umbrella_csv/elastic_integrations_test-umbrella-dnslogs.log")
    result = umbrella_csv.parse(lines_frame(lines), ParseContext())
    assert (len(lines), result.records.height, result.skipped, result.rejected.height) == (15, 15, 0, 0)
    blocked = result.records.filter(pl.col("resolver_action") == "blocked:umbrella")
    assert blocked.select("source_line", "query_name").rows() == [(2, "elastic.co"), (8, "test.com")]
    assert row(result, 1)["ts"] == dt.datetime(2020, 7, 23, 23, 49, 54)
    assert row(result, 9)["query_name"] == "domain-visited.com"  # the 10-field line with '", "' spacing
    twelve = row(result, 12)
    assert (twelve["client"], twelve["query_type"]) == ("2a02:cf40::1", "AAAA")


def test_sniff_picks_own_sample_and_refuses_others(shared_data):
    for path in sorted((shared_data / "dns_logs").rglob("*")):
        if not path.is_file() or path.suffix == ".pcap":
            continue
        head = [ln for ln in read_lines(path) if ln.strip()][:50]
        score = umbrella_csv.sniff(head)
        assert (score >= 0.5) == (path.parent.name == "umbrella_csv"), (path, score)


@pytest.mark.parametrize(
    "name, claimed", [("valid.log", True), ("with_header.log", True), ("mixed.log", False)]
)
def test_sniff_fixtures(name, claimed):
    head = [ln for ln in read_lines(DATA / name) if ln.strip()][:50]
    assert (umbrella_csv.sniff(head) >= 0.5) == claimed


def test_sniff_refuses_a_generic_csv_with_header():
    head = ["timestamp,client,query_name,query_type", "2024-05-01 10:00:00,10.0.0.1,a.example,A"]
    assert umbrella_csv.sniff(head) == 0.0
