"""Pi-hole / dnsmasq parser: table-driven fixtures, chunk boundaries, property test, real sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import pihole
from tests.formats.parsing import check_accounting, dropping, parse_lines, read_lines

DATA = Path(__file__).parent.parent / "data" / "pihole"


def parse_file(name: str, year: int = 2025, chunk: int | None = None):
    lines = (DATA / name).read_text(encoding="utf-8", errors="replace").splitlines()
    return parse_lines(pihole.parse, lines, ParseContext(year=year), chunk)


@pytest.mark.parametrize(
    "line_no, client, name, qtype, rcode, answers, action, ts",
    [
        (1, "10.0.0.5", "www.example.com", "A", "NOERROR", ["93.184.216.34"], "forwarded:9.9.9.9", dt.datetime(2025, 12, 31, 23, 59, 58)),
        (5, "10.0.0.6", "ads.tracker.test", "AAAA", "NOERROR", ["::"], "blocked:gravity", dt.datetime(2025, 12, 31, 23, 59, 59)),
        (7, "10.0.0.5", "nosuch.example.org", "A", "NXDOMAIN", [], "forwarded:9.9.9.9", dt.datetime(2026, 1, 1, 0, 0, 1)),
        (10, "10.0.0.7", "cached.example.com", "TXT", "NOERROR", [], "cached", dt.datetime(2026, 1, 1, 0, 0, 2)),
        (13, "127.0.0.1", "5.0.0.10.in-addr.arpa", "PTR", "NXDOMAIN", [], "local", dt.datetime(2026, 1, 1, 0, 0, 3)),
        (15, "10.0.0.8", "bad.regex.test", "A", "NOERROR", ["0.0.0.0"], "blocked:regex", dt.datetime(2026, 1, 1, 0, 0, 4)),
        (17, "10.0.0.5", "7.0.0.10.in-addr.arpa", "PTR", "NOERROR", ["printer.lan"], "forwarded:10.0.0.1",
         dt.datetime(2026, 1, 1, 0, 0, 5)),
    ],
)
def test_valid_lines(line_no, client, name, qtype, rcode, answers, action, ts):
    result = parse_file("valid.log")
    row = result.records.filter(result.records["source_line"] == line_no).to_dicts()[0]
    assert (row["client"], row["query_name"], row["query_type"], row["response_code"]) == (client, name, qtype, rcode)
    assert row["answers"] == answers and row["resolver_action"] == action and row["ts"] == ts


def test_valid_accounting_and_new_year_rollover():
    result = parse_file("valid.log")
    assert (result.records.height, result.skipped, result.rejected.height) == (7, 12, 0)
    assert result.records["ts"].dt.year().to_list() == [2025, 2025, 2026, 2026, 2026, 2026, 2026]


def test_extra_ids_join_exactly():
    result = parse_file("extra.log")
    rows = {r["client"]: r for r in result.records.to_dicts()}
    assert rows["10.0.0.5"]["resolver_action"] == "forwarded:1.1.1.1"  # the upstream is kept
    assert rows["10.0.0.6"]["resolver_action"] == "cached"
    assert rows["10.0.0.5"]["answers"] == ["192.0.2.7"]


def test_truncated_and_foreign_lines_are_rejected_with_reasons():
    result = parse_file("truncated.log")
    assert result.records["query_name"].to_list() == ["ok.example.com", "withhost.example.com"]
    reasons = dict(zip(result.rejected["source_line"], result.rejected["reason"]))
    assert set(reasons) == {2, 3, 4}
    assert "truncated" in reasons[2] and "not a dnsmasq" in reasons[3] and "timestamp" in reasons[4]


def test_blank_lines_are_skipped_not_rejected():
    lines = ["", "May  9 02:36:02 dnsmasq[1]: query[A] a.example from 10.0.0.1", "  ", ""]
    result = parse_lines(pihole.parse, lines, ParseContext(year=2025))
    assert (result.records.height, result.rejected.height, result.skipped) == (1, 0, 3)


def test_wrong_encoding_never_raises_and_idn_becomes_punycode():
    result = parse_file("wrong_encoding.log")
    names = result.records["query_name"].to_list()
    assert "xn--bcher-kva.de" in names
    assert result.records.height == 2


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7])
def test_chunk_boundaries_give_the_same_records(chunk):
    whole = parse_file("valid.log")
    parts = parse_file("valid.log", chunk=chunk)
    records = [r for p in parts for r in p.records.to_dicts()]
    assert sorted(records, key=lambda r: r["source_line"]) == whole.records.to_dicts()
    check_accounting(parts, 19)


def test_very_long_name_kept():
    name = ".".join(["a" * 63] * 4)
    lines = [f"May  9 02:36:02 dnsmasq[1]: query[A] {name} from 10.0.0.1"]
    assert pihole.parse(lines_frame(lines), ParseContext(year=2024)).records["query_name"][0] == name


@given(st.lists(st.text(max_size=120), max_size=40))
@settings(max_examples=150, deadline=None)
def test_never_raises_and_accounts_for_every_line(lines):
    lines = [ln.replace("\n", " ").replace("\r", " ") for ln in lines]
    result = pihole.parse(lines_frame(lines), ParseContext(year=2024))
    check_accounting(result, len(lines))


@given(st.lists(st.sampled_from([
    "May  9 02:36:02 dnsmasq[1]: query[A] a.example.com from 10.0.0.1",
    "May  9 02:36:02 dnsmasq[1]: reply a.example.com is 1.2.3.4",
    "May  9 02:36:02 dnsmasq[1]: query[A] b.example.com",
    "May  9 02:36:02 dnsmasq[1]: cached b.example.com is NXDOMAIN",
    "garbage", "",
]), max_size=60))
@settings(max_examples=100, deadline=None)
def test_accounting_on_realistic_mixtures(lines):
    result = pihole.parse(lines_frame(lines), ParseContext(year=2024))
    check_accounting(result, len(lines))


def test_sniff():
    assert pihole.sniff((DATA / "valid.log").read_text().splitlines()) >= 0.5
    assert pihole.sniff(["10-Nov-2015 15:20:34.006 client 127.0.0.1#37490 (a.com): query: a.com IN A +"]) < 0.5


@pytest.mark.shared_data
def test_real_sample(shared_data):
    path = shared_data / "dns_logs/pihole_dnsmasq/bazmonk_pihole.0236.log"
    lines = path.read_text().splitlines()
    result = pihole.parse(lines_frame(lines), ParseContext(year=2024))
    # 404 lines contain "query[", 2 of them are dnssec-query[DS/DNSKEY] (server's own); 1763 lines in all
    assert (result.records.height, result.rejected.height, result.skipped) == (402, 0, 1361)
    first = result.records.row(0, named=True)
    assert first["query_name"] == "thunder.dropbox.com" and first["client"] == "fd08:4711::5"
    assert first["ts"] == dt.datetime(2024, 5, 9, 2, 36, 2)
    assert result.records.filter(result.records["resolver_action"] == "blocked:gravity").height == 227


@pytest.mark.parametrize("chunk", [None, 3])
def test_accounting_fails_when_a_record_is_dropped(chunk):
    """The accounting check catches a parser that silently loses records (here every AAAA question):
    skipped is counted by the parser, not taken as the remainder."""
    lines = read_lines(DATA / "valid.log")
    check_accounting(parse_lines(pihole.parse, lines, ParseContext(year=2024), chunk), len(lines))
    lossy = parse_lines(dropping(pihole.parse), lines, ParseContext(year=2024), chunk)
    with pytest.raises(AssertionError, match="lines, but"):
        check_accounting(lossy, len(lines))


@pytest.mark.parametrize("prefix, ts", [
    # rsyslog's classic file format adds the host name
    ("May  9 02:36:02 pihole ", dt.datetime(2025, 5, 9, 2, 36, 2)),
    # rsyslog's high-precision file format: ISO 8601 with fraction and zone (the year is the stamp's)
    ("2024-05-09T02:36:02.123456+02:00 pihole ", dt.datetime(2024, 5, 9, 0, 36, 2, 123456)),
    ("2024-05-09T02:36:02Z pihole ", dt.datetime(2024, 5, 9, 2, 36, 2)),
    ("2024-05-09T02:36:02.5-0500 pihole ", dt.datetime(2024, 5, 9, 7, 36, 2, 500000)),
    ("2024-05-09T02:36:02 pihole ", dt.datetime(2024, 5, 9, 2, 36, 2)),  # naive: read in --tz (UTC)
    # OpenWrt's logread: a ctime stamp (its own year) and the facility, no host
    ("Wed Dec  3 06:00:01 2026 daemon.info ", dt.datetime(2026, 12, 3, 6, 0, 1)),
    ("Fri Jan 10 23:59:59 2025 daemon.info ", dt.datetime(2025, 1, 10, 23, 59, 59)),
])
def test_syslog_envelopes(prefix, ts):
    lines = [f"{prefix}dnsmasq[71314]: query[A] thunder.dropbox.com from 192.168.1.5",
             f"{prefix}dnsmasq[71314]: forwarded thunder.dropbox.com to 1.1.1.1",
             f"{prefix}dnsmasq[71314]: reply thunder.dropbox.com is 162.125.40.1"]
    result = pihole.parse(lines_frame(lines), ParseContext(year=2025))
    check_accounting(result, 3)
    row = result.records.to_dicts()[0]
    assert (row["ts"], row["client"], row["answers"], row["resolver_action"]) == (
        ts, "192.168.1.5", ["162.125.40.1"], "forwarded:1.1.1.1")


def test_iso_and_classic_stamps_mixed_keep_the_syslog_year_for_the_classic_ones():
    lines = ["Dec 31 23:59:59 dnsmasq[1]: query[A] a.example.com from 10.0.0.1",
             "2026-01-01T00:00:01.25+00:00 pi dnsmasq[1]: query[A] b.example.com from 10.0.0.1",
             "Jan  1 00:00:02 dnsmasq[1]: query[A] c.example.com from 10.0.0.1",
             "2026-13-01T00:00:01 pi dnsmasq[1]: query[A] d.example.com from 10.0.0.1"]
    result = pihole.parse(lines_frame(lines), ParseContext(year=2025))
    check_accounting(result, 4)
    assert result.records["ts"].to_list() == [dt.datetime(2025, 12, 31, 23, 59, 59),
                                              dt.datetime(2026, 1, 1, 0, 0, 1, 250000),
                                              dt.datetime(2026, 1, 1, 0, 0, 2)]
    assert result.rejected.to_dicts()[0]["source_line"] == 4  # month 13: not a stamp


def test_log_queries_proto_joins_by_id():
    """Pi-hole v6's extra logging (dnsmasq 2.91 log-queries=proto): the protocol, then the id; two queries for
    the same name interleaved are told apart by their ids."""
    lines = ["Dec 21 16:31:31 dnsmasq[7]: UDP 436 127.0.0.1/36363 query[PTR] 1.2.168.192.in-addr.arpa from 127.0.0.1",
             "Dec 21 16:31:31 dnsmasq[7]: TCP 437 192.168.1.188/53000 query[A] ads.example.com from 192.168.1.188",
             "Dec 21 16:31:31 dnsmasq[7]: UDP 438 192.168.1.9/5300 query[A] ads.example.com from 192.168.1.9",
             "Dec 21 16:31:31 dnsmasq[7]: UDP 436 127.0.0.1/36363 forwarded 1.2.168.192.in-addr.arpa to 192.168.2.1",
             "Dec 21 16:31:31 dnsmasq[7]: UDP 438 192.168.1.9/5300 forwarded ads.example.com to 9.9.9.9",
             "Dec 21 16:31:32 dnsmasq[7]: TCP 437 192.168.1.188/53000 gravity blocked ads.example.com is 0.0.0.0",
             "Dec 21 16:31:32 dnsmasq[7]: UDP 436 127.0.0.1/36363 reply 192.168.2.1 is router.lan",
             "Dec 21 16:31:32 dnsmasq[7]: UDP 438 192.168.1.9/5300 reply ads.example.com is 203.0.113.7"]
    result = pihole.parse(lines_frame(lines), ParseContext(year=2024))
    check_accounting(result, len(lines))
    got = {r["client"]: (r["query_name"], r["answers"], r["resolver_action"]) for r in result.records.to_dicts()}
    assert got == {"127.0.0.1": ("1.2.168.192.in-addr.arpa", ["router.lan"], "forwarded:192.168.2.1"),
                   "192.168.1.188": ("ads.example.com", ["0.0.0.0"], "blocked:gravity"),
                   "192.168.1.9": ("ads.example.com", ["203.0.113.7"], "forwarded:9.9.9.9")}


def test_a_question_in_an_unknown_layout_is_rejected_not_skipped():
    lines = ["Dec 21 16:31:31 dnsmasq[7]: DoH 436 127.0.0.1/36363 query[A] example.com from 127.0.0.1",
             "Dec 21 16:31:31 dnsmasq[7]: started, version 2.91 cachesize 10000"]
    result = pihole.parse(lines_frame(lines), ParseContext(year=2024))
    check_accounting(result, 2)
    assert result.rejected["source_line"].to_list() == [1]
    assert result.rejected["reason"][0].startswith("query line in a layout not known")
    assert result.skipped_by["other dnsmasq message"] == 1
