"""Pi-hole API JSON export parser (v6 /api/queries, v5 getAllQueries): fixtures, property tests, sample."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, ParseResult
from netsift.ingest.formats import pihole_json

DATA = Path(__file__).parent.parent / "data" / "pihole_json"
LONG_NAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 50, "example"])


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def parse_file(name: str) -> ParseResult:
    return pihole_json.parse_document(read_text(DATA / name), ParseContext())


def row(result: ParseResult, unit: int) -> dict:
    return result.records.filter(pl.col("source_line") == unit).to_dicts()[0]


@pytest.mark.parametrize(
    "unit, client, name, qtype, rcode, action",
    [
        (1, "192.168.1.10", "ads.tracker.example", "A", "NOERROR", "blocked:gravity"),
        (2, "192.168.1.10", "telemetry.example.com", "AAAA", "NOERROR", "blocked:regex"),  # NODATA
        (3, "192.168.1.10", "denied.example.net", "A", "NXDOMAIN", "blocked:denylist"),
        (4, "192.168.1.10", "www.example.com", "HTTPS", "NOERROR", "cached"),
        (5, "192.168.1.10", "stale.example.com", "A", "NOERROR", "cached:stale"),
        (6, "192.168.1.10", "mixed.case.example", "TXT", "SERVFAIL", "forwarded:127.0.0.1#5335"),
        (7, "192.168.1.10", "upstream-blocked.example", "A", "NXDOMAIN", "blocked:upstream"),
        (8, "192.168.1.10", "cname-cloaked.example", "A", "NOERROR", "blocked:gravity"),
        (9, "192.168.1.10", "retried.example", "A", None, "retried"),
        (10, "192.168.1.10", "ede15.example", "A", None, "blocked:upstream"),  # old QUERY_ prefix, no reply
        (11, "192.168.1.10", "future.example", "SVCB", "NOERROR", "some_future_status"),  # kept, lower-cased
        (12, "laptop.lan", "xn--bcher-kva.example", "A", "NOERROR", "cached"),  # name when no ip; IDN
        (13, "192.168.1.10", LONG_NAME, "TXT", "NOERROR", "forwarded:127.0.0.1#5335"),  # unknown extra fields ignored
        (17, "192.168.1.10", "typeless.example", "TYPE65", None, None),
    ],
)
def test_v6_elements(unit, client, name, qtype, rcode, action):
    got = row(parse_file("v6_valid.json"), unit)
    assert (got["client"], got["query_name"], got["query_type"]) == (client, name, qtype)
    assert (got["response_code"], got["resolver_action"]) == (rcode, action)


def test_v6_time_keeps_microseconds_exact():
    assert row(parse_file("v6_valid.json"), 1)["ts"] == dt.datetime(2024, 5, 1, 10, 0, 0, 32095)


@pytest.mark.parametrize(
    "unit, client, name, qtype, rcode, action",
    [
        (1, "192.168.1.20", "ads.example", "A", "NOERROR", "blocked:gravity"),
        (2, "phone.lan", "www.example.org", "AAAA", "NOERROR", "forwarded:127.0.0.1#5335"),  # its upstream
        (3, "192.168.1.21", "old-ftl.example", "A", "NOERROR", "cached"),  # "IPv4" of old FTL
        (4, "192.168.1.21", "regex.example", "AAAA", "NOERROR", "blocked:regex"),  # "IPv6"
        (5, "192.168.1.22", "nx.example", "A", "NXDOMAIN", "forwarded:8.8.8.8#53"),
        (6, "192.168.1.22", "cname.example", "A", "NOERROR", "blocked:gravity"),  # 9 = gravity via CNAME
        (7, "192.168.1.22", "stale.example", "A", "NOERROR", "cached:stale"),
        (8, "192.168.1.22", "ede.example", "A", "REFUSED", "blocked:upstream"),
        (9, "192.168.1.23", "numbers.example", "A", "NXDOMAIN", "blocked:denylist"),  # numbers, not strings
        (12, "192.168.1.25", "minimal.example", "A", None, "forwarded"),  # no reply column
    ],
)
def test_v5_rows(unit, client, name, qtype, rcode, action):
    got = row(parse_file("v5_getallqueries.json"), unit)
    assert (got["client"], got["query_name"], got["query_type"]) == (client, name, qtype)
    assert (got["response_code"], got["resolver_action"]) == (rcode, action)
    assert got["ts"] == dt.datetime(2024, 5, 1, 10, 0, 0) + dt.timedelta(seconds=unit - 1)


@pytest.mark.parametrize(
    "name, records, rejected",
    [
        ("v6_valid.json", 14, 3),
        ("v5_getallqueries.json", 10, 2),
        ("bare_array.json", 3, 0),
        ("truncated.json", 3, 1),  # elements before the cut, and the broken one
        ("header_only.json", 0, 0),
        ("wrong_document.json", 0, 1),
        ("wrong_encoding.json", 1, 0),
    ],
)
def test_accounting_per_fixture(name, records, rejected):
    result = parse_file(name)
    assert (result.records.height, result.rejected.height, result.skipped) == (records, rejected, 0)


@pytest.mark.parametrize(
    "name, unit, reason_part",
    [
        ("v6_valid.json", 14, "element has no domain"),
        ("v6_valid.json", 15, "element is not an object"),
        ("v6_valid.json", 16, "element has no readable time"),
        ("v5_getallqueries.json", 10, "element is not a [time, type, domain, client, status"),
        ("v5_getallqueries.json", 11, "element has no readable time"),
        ("truncated.json", 4, "document ends inside element 4"),
        ("wrong_document.json", 1, "no 'queries' or 'data' array"),
    ],
)
def test_rejected_units_keep_their_index_and_reason(name, unit, reason_part):
    got = parse_file(name).rejected.filter(pl.col("source_line") == unit).to_dicts()
    assert got and reason_part in got[0]["reason"] and got[0]["text"]


def test_wrong_encoding_domain_becomes_ascii():
    name = parse_file("wrong_encoding.json").records["query_name"][0]
    assert name.isascii() and name.endswith(".example")


def test_not_json_at_all_is_one_rejected_unit():
    result = pihole_json.parse_document("this is not json\n", ParseContext())
    assert result.records.height == 0 and result.rejected["reason"][0].startswith("not valid JSON")


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)
_v6 = st.fixed_dictionaries(
    {},
    optional={
        "time": st.one_of(st.floats(allow_nan=False), st.text(max_size=12), st.none()),
        "domain": st.one_of(st.text(max_size=30), st.none(), st.integers()),
        "type": _json,
        "status": _json,
        "reply": _json,
        "client": _json,
    },
)
_v5 = st.lists(st.one_of(st.text(max_size=12), st.integers(), st.none()), max_size=13)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_v6, _v5, _json), max_size=20), st.sampled_from(["queries", "data", None]))
@example([[None, "", None, "", "\u00b2"]], "queries")  # a Unicode digit that int() refuses (found by CI)
def test_every_element_is_one_unit(elements, key):
    text = json.dumps({key: elements} if key else elements)
    result = pihole_json.parse_document(text, ParseContext())
    assert result.records.height + result.rejected.height == len(elements)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_any_text_never_raises(text):
    result = pihole_json.parse_document(text, ParseContext())
    assert result.lines_accounted >= 0


# --- real sample -------------------------------------------------------------------------------------


def test_bazmonk_v6_sample(shared_data):
    text = read_text(shared_data / "dns_logs/pihole_dnsmasq/bazmonk_API_queries_pihole_v6.json")
    result = pihole_json.parse_document(text, ParseContext())
    assert (result.records.height, result.rejected.height) == (335, 0)
    actions = dict(result.records["resolver_action"].value_counts().rows())
    assert actions == {"blocked:gravity": 137, "forwarded:127.0.0.1#5335": 129, "cached": 55, "cached:stale": 14}
    codes = dict(result.records["response_code"].value_counts().rows())
    assert codes == {"NOERROR": 309, None: 25, "NXDOMAIN": 1}  # reply UNKNOWN x24 and NONE x1 -> null
    first = row(result, 1)
    assert first["ts"] == dt.datetime(2024, 5, 8, 1, 57, 59, 32095)
    assert (first["client"], first["query_name"], first["query_type"]) == (
        "192.168.1.116",
        "gateway.icloud.com",
        "HTTPS",
    )
    assert result.records.filter(pl.col("response_code") == "NXDOMAIN")["query_name"].to_list() == [
        "_dns.resolver.arpa"
    ]


def test_sniff_picks_own_sample_and_refuses_others(shared_data):
    for path in sorted((shared_data / "dns_logs").rglob("*")):
        if not path.is_file() or path.suffix == ".pcap":
            continue
        head = [ln for ln in read_text(path).splitlines() if ln.strip()][:50]
        score = pihole_json.sniff(head)
        assert (score >= 0.5) == (path.suffix == ".json"), (path, score)


@pytest.mark.parametrize(
    "name, claimed",
    [
        ("v6_valid.json", True),
        ("v5_getallqueries.json", True),
        ("bare_array.json", True),
        ("header_only.json", True),
        ("wrong_document.json", False),
    ],
)
def test_sniff_fixtures(name, claimed):
    head = [ln for ln in read_text(DATA / name).splitlines() if ln.strip()][:50]
    assert (pihole_json.sniff(head) >= 0.5) == claimed
