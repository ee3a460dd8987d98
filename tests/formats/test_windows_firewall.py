"""Windows Defender Firewall's pfirewall.log into connections: allowed and dropped, both directions, local
time, the header across chunks; the accounting; bad lines; sniffing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext
from netsift.ingest.formats import detect_format, windows_firewall
from tests.formats.parsing import check_accounting, parse_lines, sample_heads

HEADER = ["#Version: 1.5", "#Software: Microsoft Windows Firewall", "#Time Format: Local",
          "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin "
          "icmptype icmpcode info path pid", ""]
SEND = "2026-11-30 10:00:01 ALLOW TCP 10.0.0.12 93.184.216.34 51000 443 0 - 0 0 0 - - - SEND 4"
DROP = "2026-11-30 10:00:02 DROP TCP 203.0.113.5 10.0.0.12 4444 3389 52 S 123 0 64240 - - - RECEIVE -"
ICMP = "2026-11-30 10:00:03 DROP ICMP 198.51.100.7 10.0.0.12 - - 60 - - - - 8 0 - RECEIVE -"


def parsed(lines: list[str], chunk: int | None = None, **ctx):
    result = parse_lines(windows_firewall.parse, lines, ParseContext(**ctx), chunk)
    check_accounting(result, len(lines))
    return result


def rows(result) -> list[tuple]:
    parts = result if isinstance(result, list) else [result]
    return [(r["ts"], r["client"], r["client_port"], r["server"], r["server_port"], r["protocol"], r["state"],
             r["source_line"]) for p in parts for r in p.records.iter_rows(named=True)]


def test_allowed_and_dropped_in_local_time():
    assert rows(parsed(HEADER + [SEND, DROP, ICMP], tz="Europe/Berlin")) == [
        (dt.datetime(2026, 11, 30, 9, 0, 1), "10.0.0.12", 51000, "93.184.216.34", 443, "tcp", "allow", 6),
        (dt.datetime(2026, 11, 30, 9, 0, 2), "203.0.113.5", 4444, "10.0.0.12", 3389, "tcp", "drop", 7),
        (dt.datetime(2026, 11, 30, 9, 0, 3), "198.51.100.7", None, "10.0.0.12", None, "icmp", "drop", 8)]


def test_bad_lines_are_rejected_with_reasons():
    lines = [SEND, *HEADER, SEND[:30], SEND.replace("2026-11-30", "30.11.2026"), SEND.replace("10.0.0.12", "-", 1)]
    result = parsed(lines)
    assert dict(zip(result.rejected["source_line"], result.rejected["reason"])) == {
        1: "data line before any #Fields: header", 7: "expected 18 values (from #Fields), found 4",
        8: "missing or unreadable date and time", 9: "no src-ip or dst-ip"}
    assert result.skipped_by == {"blank": 1, "header": 4}


@pytest.mark.parametrize("chunk", [1, 2, 4])
def test_the_header_carries_across_chunks(chunk):
    lines = HEADER + [SEND, DROP, ICMP, SEND]
    assert rows(parsed(lines, chunk)) == rows(parsed(lines))


_LINES = st.sampled_from(HEADER + [SEND, DROP, ICMP, "junk"])


@settings(max_examples=50, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    parsed(lines, chunk)


def test_sniffed():
    assert detect_format(b"", HEADER + [SEND, DROP])[0].name == "windows_firewall"


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert windows_firewall.sniff(lines) == 0.0, path
