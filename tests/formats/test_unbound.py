"""Unbound query logs (log-queries, log-replies, log-local-actions) under each stamp: table-driven lines,
which lines are records, rejections, accounting in one piece and in chunks, sniffing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import detect_format, parser_for_program, unbound
from netsift.watch.syslog import parse_message
from tests.formats.parsing import check_accounting, parse_lines, sample_heads

EPOCH = "[1796032801] unbound[1234:0] "  # 2026-11-30 10:00:01 UTC
T = dt.datetime(2026, 11, 30, 10, 0, 1)


def parsed(lines: list[str], **ctx):
    result = unbound.parse(lines_frame(lines), ParseContext(year=2026, **ctx))
    check_accounting(result, len(lines))
    return result


@pytest.mark.parametrize("prefix, ts", [
    (EPOCH, T),
    ("Nov 30 10:00:01 unbound[1234:0] ", T),  # log-time-ascii
    ("Nov 30 10:00:01 fw unbound: [1234:0] ", T),  # syslog (pfSense, OPNsense)
    ("2026-11-30T11:00:01.25+01:00 fw unbound[88]: [88:0] ", T.replace(microsecond=250000)),  # rsyslog ISO
])
def test_stamps(prefix, ts):
    row = parsed([prefix + "info: 192.168.1.5 www.example.com. A IN NOERROR 0.000123 0 45"]).records.row(0, named=True)
    assert (row["ts"], row["client"], row["query_name"], row["query_type"], row["response_code"]) == (
        ts, "192.168.1.5", "www.example.com", "A", "NOERROR")


def test_replies_are_the_records_when_logged_and_actions_mark_them():
    lines = [EPOCH + "notice: init module 0: validator",
             EPOCH + "info: 192.168.1.5 www.example.com. A IN",
             EPOCH + "info: 192.168.1.5 www.example.com. A IN NOERROR 0.000123 0 45",
             EPOCH + "info: ads.example.com. always_nxdomain 192.168.1.6@51234 ads.example.com. A IN",
             EPOCH + "query: 192.168.1.6 ads.example.com. A IN",
             EPOCH + "reply: 192.168.1.6 ads.example.com. A IN NXDOMAIN 0.000000 1 45",
             EPOCH + "info: 10.9.9.9 - - - FORMERR - - -",
             EPOCH + "info: 192.168.1.7 cached.example.org. AAAA IN NOERROR 0.000000 1 60",
             ""]
    result = parsed(lines)
    assert result.records.select("source_line", "client", "response_code", "resolver_action").rows() == [
        (3, "192.168.1.5", "NOERROR", None), (6, "192.168.1.6", "NXDOMAIN", "blocked:always_nxdomain"),
        (8, "192.168.1.7", "NOERROR", "cached")]
    assert result.skipped_by == {"blank": 1, "other Unbound message": 1, "FORMERR reply (no question)": 1,
                                 "question line (its reply is the record)": 2,
                                 "local-zone action (set on its record)": 1}


def test_questions_are_the_records_without_replies_and_replies_switch_later_chunks():
    ctx = ParseContext(year=2026)
    first = unbound.parse(lines_frame([EPOCH + "info: 10.0.0.1 a.example. A IN"]), ctx)
    assert first.records["query_name"].to_list() == ["a.example"]
    ctx.final = False
    second = unbound.parse(lines_frame([EPOCH + "info: 10.0.0.1 b.example. A IN",
                                        EPOCH + "info: 10.0.0.1 b.example. A IN NOERROR 0.1 0 40"], 2), ctx)
    third = unbound.parse(lines_frame([EPOCH + "info: 10.0.0.1 c.example. A IN"], 4), ctx)
    assert second.records["source_line"].to_list() == [3] and third.records.height == 0


def test_local_actions_alone_are_the_records():
    result = parsed(["Nov 30 10:00:01 fw unbound: [88:0] info: example.com. static 192.168.1.9@5353 "
                     "printer.example.com. A IN",
                     "Nov 30 10:00:02 fw unbound: [88:0] info: bad.example. deny 192.168.1.9@5353 x.bad.example. TXT IN"])
    assert result.records.select("client", "query_name", "query_type", "resolver_action").rows() == [
        ("192.168.1.9", "printer.example.com", "A", "local"), ("192.168.1.9", "x.bad.example", "TXT", "blocked:deny")]


@pytest.mark.parametrize("line, reason", [
    (EPOCH + "info: 192.168.1.7 broken.example.org. AAAA", "Unbound question or reply line whose fields do not read"),
    ("garbage", "not an Unbound log line"),
    ("[notanumber] unbound[1:0] info: 10.0.0.1 a.example. A IN", "unreadable time stamp"),
])
def test_rejected_with_reason(line, reason):
    result = parsed([line])
    assert result.records.height == 0 and result.rejected["reason"][0].startswith(reason)


_LINES = st.sampled_from([
    EPOCH + "info: 10.0.0.1 a.example. A IN", EPOCH + "info: 10.0.0.2 b.example. AAAA IN NOERROR 0.0 1 40",
    EPOCH + "info: z.example. refuse 10.0.0.3@53 q.z.example. A IN", EPOCH + "notice: stats", "", "junk",
    EPOCH + "info: 10.9.9.9 - - - FORMERR - - -", EPOCH + "info: 10.0.0.1 c.example. A",
])


@settings(max_examples=60, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    check_accounting(parse_lines(unbound.parse, lines, ParseContext(year=2026), chunk), len(lines))


def test_sniffed():
    assert detect_format(b"", [EPOCH + "info: 10.0.0.1 a.example. A IN"] * 3)[0].name == "unbound"
    assert detect_format(b"", ["Nov 30 10:00:01 fw unbound: [88:0] query: 10.0.0.1 a.example. A IN"] * 3)[0].name \
        == "unbound"


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert unbound.sniff(lines) == 0.0, path


def test_syslog_messages_received_by_the_watcher_are_read():
    msg = parse_message(b"<30>Nov 30 10:00:01 fw unbound[88]: [88:0] info: 10.0.0.1 a.example. A IN NOERROR 0.0 0 40")
    assert msg is not None and parser_for_program(msg.program) is unbound.PARSER
    row = parsed([msg.line.decode()]).records.row(0, named=True)
    assert (row["ts"], row["query_name"], row["response_code"]) == (T, "a.example", "NOERROR")
