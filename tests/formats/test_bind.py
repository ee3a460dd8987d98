"""BIND 9 query log parser: table-driven fixtures, chunk boundaries, property tests, real samples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import bind
from tests.formats.parsing import check_accounting, dropping, parse_lines, read_lines

DATA = Path(__file__).parent.parent / "data" / "bind"
CTX = {"year": 2024, "mtime": dt.datetime(2024, 12, 1, tzinfo=dt.UTC)}


def parse_file(name: str, chunk: int | None = None, **ctx_args):
    return parse_lines(bind.parse, read_lines(DATA / name), ParseContext(**{**CTX, **ctx_args}), chunk)


def record(result, line_no: int) -> dict:
    rows = result.records.filter(result.records["source_line"] == line_no).to_dicts()
    assert len(rows) == 1, f"no single record for line {line_no}"
    return rows[0]


@pytest.mark.parametrize(
    "line_no, ts, client, name, qtype, rcode, answers, action",
    [
        (1, dt.datetime(2015, 11, 10, 15, 20, 34, 6000), "127.0.0.1", "wikipedia.com", "A", None, None, None),
        (2, dt.datetime(2015, 11, 10, 15, 20, 35, 100000), "192.168.1.10", "www.example.com", "AAAA", None, None, None),
        (3, dt.datetime(2015, 11, 10, 15, 20, 36), "10.0.0.5", "old.example.org", "MX", None, None, None),  # no (name)
        (4, dt.datetime(2015, 11, 10, 15, 20, 37, 250000), "10.0.0.6", "v.example.net", "TXT", None, None, None),  # view
        (5, dt.datetime(2015, 11, 10, 15, 20, 38), "2001:db8::5", "six.example.com", "A", None, None, None),
        (6, dt.datetime(2015, 11, 10, 15, 20, 39), "10.0.0.7", "odd.example.com", "TYPE65534", None, None, None),
        (7, dt.datetime(2015, 11, 10, 15, 20, 40), "10.0.0.7", "mixed.example.com", "A", None, None, None),
        (8, dt.datetime(2023, 5, 9, 11, 54, 36, 185000), "10.0.0.8", "iso.example.com", "A", None, None, None),
        # syslog-wrapped query, its query-errors line (next line) joined in
        (10, dt.datetime(2024, 4, 14, 16, 16, 5), "192.168.1.90", "ocsp.digicert.com", "A", "REFUSED", None, None),
        # Infoblox response line with no query line: the record itself, inner stamp wins over syslog
        (12, dt.datetime(2022, 4, 14, 16, 17, 20, 46000), "192.168.1.90", "settings-win.data.microsoft.com", "A",
         "NOERROR", ["atm.example.net", "40.77.226.250"], None),
        # query line joined with the Infoblox response line after it
        (13, dt.datetime(2024, 4, 14, 16, 18), "192.168.1.91", "nx.example.com", "A", "NXDOMAIN", [], None),
        # two host fields in the syslog header
        (15, dt.datetime(2022, 10, 4, 10, 18, 7, 834000), "89.160.20.128", "128.20.160.89.in-addr.arpa", "PTR",
         "NOERROR", ["host.example.com"], None),
        (16, dt.datetime(2015, 11, 10, 15, 21), "10.0.0.9", "bad.example", "A", "NXDOMAIN", None, "blocked:rpz"),
        (18, None, "192.168.0.7", "nxd1.com", "A", "NXDOMAIN", None, "blocked:rpz"),  # CEF RPZ line alone
        (19, dt.datetime(2015, 11, 10, 15, 21, 2), "10.0.0.10", "slow.example.com", "A", "SERVFAIL", None, None),
        (21, dt.datetime(2015, 11, 10, 15, 21, 8), "10.0.0.11", "ok.example.com", "A", None, None, "allowed:rpz"),
        (22, None, "10.0.0.12", "nopri.example.com", "A", None, None, None),  # syslog without <pri>
        (23, None, "10.4.71.204", "version.bind", "TXT", None, None, None),
    ],
)
def test_valid_lines(line_no, ts, client, name, qtype, rcode, answers, action):
    row = record(parse_file("valid.log"), line_no)
    assert (row["client"], row["query_name"], row["query_type"]) == (client, name, qtype)
    assert (row["response_code"], row["answers"], row["resolver_action"]) == (rcode, answers, action)
    if ts is not None:
        assert row["ts"] == ts


@pytest.mark.parametrize(
    "name, records, skipped, rejected",
    [
        ("valid.log", 18, 13, 0),
        ("truncated.log", 1, 0, 6),
        ("unknown_field.log", 5, 2, 0),
        ("wrong_encoding.log", 3, 0, 1),
        ("long_and_idn.log", 4, 0, 0),
        ("mixed_format.log", 2, 0, 3),
    ],
)
def test_accounting(name, records, skipped, rejected):
    result = parse_file(name)
    assert (result.records.height, result.skipped, result.rejected.height) == (records, skipped, rejected)
    check_accounting(result, len(read_lines(DATA / name)))


@pytest.mark.parametrize(
    "name, line_no, reason",
    [
        ("truncated.log", 1, "truncated"),
        ("truncated.log", 2, "truncated"),
        ("truncated.log", 3, "truncated"),
        ("truncated.log", 4, "not a BIND"),
        ("truncated.log", 5, "truncated"),
        ("truncated.log", 6, "without a timestamp"),
        ("mixed_format.log", 2, "syslog line from dnsmasq"),
        ("mixed_format.log", 3, "not a BIND"),
        ("mixed_format.log", 4, "not a BIND"),
        ("wrong_encoding.log", 3, "not a BIND"),
    ],
)
def test_rejected_reasons(name, line_no, reason):
    rejected = parse_file(name).rejected
    row = rejected.filter(rejected["source_line"] == line_no).to_dicts()
    assert row and reason in row[0]["reason"]


def test_unknown_fields_are_tolerated():
    result = parse_file("unknown_field.log")
    assert result.records["source_line"].to_list() == [1, 2, 5, 6, 7]
    assert record(result, 6)["answers"] == []  # TXT/SPF data are not IPs or names
    assert record(result, 7)["answers"] == ["mail.example.com"]  # MX: the exchange, not the preference


def test_encoding_long_and_idn_names():
    names = parse_file("wrong_encoding.log").records["query_name"].to_list()
    assert names[1] == "xn--bcher-kva.example" and names[2] == "plain.example.com"
    assert names[0].startswith("xn--") and names[0].endswith(".example")  # latin-1 byte replaced, then punycode
    names = parse_file("long_and_idn.log").records["query_name"].to_list()
    assert names[0] == ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    assert names[1:3] == ["xn--bcher-kva.example", "xn--r8jz45g.xn--zckzah"]
    assert names[3] == "x" * 5000


def test_tz_applies_to_bind_stamps_but_not_to_utc_iso_stamps():
    result = parse_file("valid.log", tz="Europe/Berlin")
    assert record(result, 1)["ts"] == dt.datetime(2015, 11, 10, 14, 20, 34, 6000)
    assert record(result, 8)["ts"] == dt.datetime(2023, 5, 9, 11, 54, 36, 185000)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("hold_back", [2, 5000])
def test_chunk_boundaries_give_the_same_records(chunk, hold_back, monkeypatch):
    # joins reach a window of HOLD_BACK lines: the whole file is read with the same one
    monkeypatch.setattr(bind, "HOLD_BACK", hold_back)
    whole = parse_file("valid.log")
    parts = parse_file("valid.log", chunk=chunk)
    assert [r for p in parts for r in p.records.to_dicts()] == whole.records.to_dicts()
    check_accounting(parts, 31)
    assert sum(p.rejected.height for p in parts) == 0


@given(st.lists(st.text(max_size=160), max_size=40))
@settings(max_examples=150, deadline=None)
def test_never_raises_and_accounts_for_every_line(lines):
    lines = [ln.replace("\n", " ") for ln in lines]
    result = bind.parse(lines_frame(lines), ParseContext(**CTX))
    check_accounting(result, len(lines))


_SAMPLES = read_lines(DATA / "valid.log") + read_lines(DATA / "truncated.log") + ["", "garbage"]


@given(st.lists(st.sampled_from(_SAMPLES), max_size=60), st.integers(min_value=1, max_value=9))
@settings(max_examples=100, deadline=None)
def test_accounting_on_realistic_mixtures_in_chunks(lines, chunk):
    parts = parse_lines(bind.parse, lines, ParseContext(**CTX), chunk)
    check_accounting(parts, len(lines))


def test_sniff_on_fixtures():
    assert bind.sniff(read_lines(DATA / "valid.log")) >= 0.5
    assert bind.sniff(["May  9 02:36:02 dnsmasq[71314]: query[A] thunder.dropbox.com from fd08:4711::5"] * 5) < 0.5
    assert bind.sniff(["<30>Mar 11 23:51:31 host dnsmasq[1]: query[A] a.com from 10.0.0.1 client 1.2.3.4#5"]) < 0.5


# --- real samples (../shared/data) -------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "path, records, skipped, first",
    [
        # 623 lines, every one "client 127.0.0.1#port (name): query: name IN A|AAAA + (127.0.0.1)"
        ("dns_logs/bind_querylog/sunilbinghamton_queries2.log", 623, 0,
         (dt.datetime(2015, 11, 10, 15, 20, 34, 6000), "127.0.0.1", "wikipedia.com", "A", None)),
        # 28 lines: 8 Infoblox response lines with no query line of their own (1-5, 22, 25, 26), 4 query
        # lines (7, 23, 27, 28 version.bind), 1 CEF RPZ rewrite (11) = 13 records; 2 query-errors lines
        # joined (6 -> 7, 24 -> 23) and 13 other named messages (8-10, 12-21) skipped
        ("dns_logs/infoblox_bind_syslog/elastic_integrations_infoblox_nios_test-dns.log", 13, 15,
         (dt.datetime(2022, 4, 7, 8, 8, 10, 43000), "192.168.0.1", "a1.foo.com", "A", "NOERROR")),
    ],
)
def test_real_samples(shared_data, path, records, skipped, first):
    lines = read_lines(shared_data / path)
    result = bind.parse(lines_frame(lines), ParseContext(mtime=dt.datetime(2023, 12, 1, tzinfo=dt.UTC)))
    assert (result.records.height, result.skipped, result.rejected.height) == (records, skipped, 0)
    row = result.records.row(0, named=True)
    assert (row["ts"], row["client"], row["query_name"], row["query_type"], row["response_code"]) == first


@pytest.mark.shared_data
def test_infoblox_sample_details(shared_data):
    lines = read_lines(shared_data / "dns_logs/infoblox_bind_syslog/elastic_integrations_infoblox_nios_test-dns.log")
    records = bind.parse(lines_frame(lines), ParseContext(mtime=dt.datetime(2023, 12, 1, tzinfo=dt.UTC))).records
    by_line = {r["source_line"]: r for r in records.to_dicts()}
    assert sorted(by_line) == [1, 2, 3, 4, 5, 7, 11, 22, 23, 25, 26, 27, 28]
    assert by_line[1]["answers"] == ["foo.com", "0.0.0.0"]
    assert by_line[5]["answers"] == ["192.168.0.2", "192.168.0.3"]
    assert (by_line[7]["query_name"], by_line[7]["response_code"]) == ("config.nos-avg.cz", "REFUSED")
    assert (by_line[11]["query_name"], by_line[11]["resolver_action"]) == ("nxd1.com", "blocked:rpz")
    assert by_line[23]["response_code"] == "REFUSED"
    assert by_line[25]["answers"] == ["089.160.20.112.a1.foo.com"]
    assert records["response_code"].value_counts().sort("response_code").rows() == [
        (None, 2), ("NOERROR", 5), ("NXDOMAIN", 2), ("REFUSED", 4)]


@pytest.mark.parametrize("chunk", [None, 3])
def test_accounting_fails_when_a_record_is_dropped(chunk):
    """The accounting check catches a parser that silently loses records (here every AAAA question):
    skipped is counted by the parser, not taken as the remainder."""
    lines = read_lines(DATA / "valid.log")
    check_accounting(parse_lines(bind.parse, lines, ParseContext(**CTX), chunk), len(lines))
    lossy = parse_lines(dropping(bind.parse), lines, ParseContext(**CTX), chunk)
    with pytest.raises(AssertionError, match="lines, but"):
        check_accounting(lossy, len(lines))


_Q = "client @0x7f3c5c0a1b68 192.168.1.5#53211 (www.example.com): query: www.example.com IN A +E(0)K (192.168.1.1)"


@pytest.mark.parametrize("line, ts, kept", [
    # rsyslog's high-precision envelope: the stamp's zone and year are honoured
    (f"2024-05-09T02:36:02.123456+02:00 ns1 named[812]: {_Q}", dt.datetime(2024, 5, 9, 0, 36, 2, 123456), True),
    (f"2024-05-09T02:36:02Z ns1 named[812]: queries: info: {_Q}", dt.datetime(2024, 5, 9, 2, 36, 2), True),
    (f"2024-05-09T02:36:02.5+0000 ns1 relay named[812]: {_Q}", dt.datetime(2024, 5, 9, 2, 36, 2, 500000), True),
    # the classic one takes the syslog year
    (f"May  9 02:36:02 ns1 named[812]: {_Q}", dt.datetime(2024, 5, 9, 2, 36, 2), True),
    # BIND's own ISO stamp (print-time iso8601-utc) is not an envelope
    (f"2024-05-09T02:36:02.123Z {_Q}", dt.datetime(2024, 5, 9, 2, 36, 2, 123000), True),
    # another program in the same envelope is rejected, as in the classic one
    ("2024-05-09T02:36:02.123456+02:00 ns1 dhcpd[9]: DHCPACK on 10.0.0.5", None, False),
])
def test_syslog_envelopes(line, ts, kept):
    result = bind.parse(lines_frame([line]), ParseContext(**CTX))
    check_accounting(result, 1)
    if kept:
        row = record(result, 1)
        assert (row["ts"], row["client"], row["query_name"], row["query_type"]) == (
            ts, "192.168.1.5", "www.example.com", "A")
    else:
        assert result.rejected.to_dicts()[0]["reason"] == "syslog line from dhcpd, not named"


def test_sniffs_the_iso_envelope():
    assert bind.sniff([f"2024-05-09T02:36:02.123456+02:00 ns1 named[812]: {_Q}"] * 3) > 0.9
