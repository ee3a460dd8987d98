"""W3C extended logs: Blue Coat ProxySG (quoted values), IIS (spaces as +), TMG (tabs); columns by name under
each #Fields header, across chunks; the accounting, bad lines and sniffing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext
from netsift.ingest.formats import detect_format, w3c_extended
from tests.formats.parsing import check_accounting, parse_lines, sample_heads

PROXYSG = [
    "#Software: SGOS 6.7.5.3",
    "#Version: 1.0",
    "#Date: 2026-11-30 10:00:00",
    "#Fields: date time time-taken c-ip cs-username sc-filter-result cs-categories sc-status s-action cs-method "
    "cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs(User-Agent) s-ip sc-bytes cs-bytes",
    '2026-11-30 10:00:01 38 10.0.0.5 alice OBSERVED "Technology/Internet" 200 TCP_MISS GET https www.example.com 443 '
    '/index.html ?q=1 "Mozilla/5.0 (X11; Linux x86_64)" 10.0.0.1 5120 320',
    '2026-11-30 10:00:02 12 10.0.0.6 - DENIED "Malicious Sources" 403 TCP_DENIED GET http Evil.Example 8080 '
    '/payload.exe - "curl/8.0" 10.0.0.1 900 150',
    '2026-11-30 10:00:03 5 10.0.0.7 - OBSERVED "none" 200 TCP_TUNNELED CONNECT tcp api.example.net 443 / - - '
    '10.0.0.1 77000 9000',
]
IIS = [
    "#Software: Microsoft Internet Information Services 10.0",
    "#Version: 1.0",
    "#Date: 2026-11-30 10:00:00",
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) "
    "sc-status sc-substatus sc-win32-status time-taken",
    "2026-11-30 10:00:01 192.0.2.10 POST /owa/auth.owa - 443 - 203.0.113.9 Mozilla/5.0+(Windows+NT+10.0;+Win64) - "
    "302 0 0 120",
    r"2026-11-30 10:00:02 192.0.2.10 GET /aspnet_client/shell.aspx cmd=whoami 443 CORP\bob 198.51.100.7 "
    "python-requests/2.31 - 200 0 0 15",
]
TMG = [
    "#Software: Microsoft Forefront Threat Management Gateway 2010",
    "#Fields: c-ip\tcs-username\tcs(User-Agent)\tdate\ttime\tcs-method\tcs-uri\tsc-status\tsc-bytes\tcs-bytes"
    "\ts-action",
    "10.0.0.8\tCORP\\carol\tMozilla/4.0 (compatible; MSIE 7.0)\t2026-11-30\t10:00:05\tGET\thttp://news.example/a?b=1"
    "\t200\t4000\t500\tAllowed",
]


def records(lines: list[str], chunk: int | None = None, **ctx) -> list[tuple]:
    result = parse_lines(w3c_extended.parse, lines, ParseContext(**ctx), chunk)
    check_accounting(result, len(lines))
    parts = result if isinstance(result, list) else [result]
    return [tuple(r.values()) for p in parts for r in p.records.drop("source_file_id", strict=False).iter_rows(named=True)]


def test_proxysg():
    assert records(PROXYSG) == [
        (dt.datetime(2026, 11, 30, 10, 0, 1), "10.0.0.5", "10.0.0.1", 443, "GET", "www.example.com",
         "https://www.example.com/index.html?q=1", "Mozilla/5.0 (X11; Linux x86_64)", 200, 320, 5120, "alice",
         "TCP_MISS", "proxy", 5),
        (dt.datetime(2026, 11, 30, 10, 0, 2), "10.0.0.6", "10.0.0.1", 8080, "GET", "evil.example",
         "http://evil.example:8080/payload.exe", "curl/8.0", 403, 150, 900, None, "TCP_DENIED", "proxy", 6),
        (dt.datetime(2026, 11, 30, 10, 0, 3), "10.0.0.7", "10.0.0.1", 443, "CONNECT", "api.example.net",
         "api.example.net:443", None, 200, 9000, 77000, None, "TCP_TUNNELED", "proxy", 7)]


def test_iis_with_a_second_header_and_local_time():
    lines = IIS + ["#Software: Microsoft Internet Information Services 10.0",
                   "#Fields: date time c-ip cs-method cs-uri-stem sc-status", "2026-11-30 11:00:01 203.0.113.9 GET "
                   "/robots.txt 404"]
    rows = records(lines, tz="Europe/Berlin")
    assert [(r[0], r[1], r[2], r[3], r[6], r[7], r[8], r[11], r[13]) for r in rows] == [
        (dt.datetime(2026, 11, 30, 9, 0, 1), "203.0.113.9", "192.0.2.10", 443, "/owa/auth.owa",
         "Mozilla/5.0 (Windows NT 10.0; Win64)", 302, None, "access"),
        (dt.datetime(2026, 11, 30, 9, 0, 2), "198.51.100.7", "192.0.2.10", 443, "/aspnet_client/shell.aspx?cmd=whoami",
         "python-requests/2.31", 200, "CORP\\bob", "access"),
        (dt.datetime(2026, 11, 30, 10, 0, 1), "203.0.113.9", None, None, "/robots.txt", None, 404, None, "access")]


def test_tmg_tab_separated():
    no_action = [TMG[0], TMG[1].replace("\ts-action", ""), TMG[2].replace("\tAllowed", "")]
    assert records(no_action)[0][13] == "proxy"  # an absolute URL: a proxy's request
    assert records(TMG) == [(dt.datetime(2026, 11, 30, 10, 0, 5), "10.0.0.8", None, None, "GET", "news.example",
                             "http://news.example/a?b=1", "Mozilla/4.0 (compatible; MSIE 7.0)", 200, 500, 4000,
                             "CORP\\carol", "Allowed", "proxy", 3)]


def test_bad_lines_are_rejected_with_reasons():
    lines = ["2026-11-30 10:00:00 orphan line", *PROXYSG[:4], PROXYSG[4].replace("2026-11-30", "30.11.2026"),
             "2026-11-30 10:00:04 5 10.0.0.7", ""]
    result = parse_lines(w3c_extended.parse, lines, ParseContext())
    check_accounting(result, len(lines))
    reasons = dict(zip(result.rejected["source_line"], result.rejected["reason"]))
    assert reasons == {1: "data line before any #Fields: header", 6: "missing or unreadable date and time",
                       7: "expected 19 values (from #Fields), found 4"}
    assert result.skipped_by == {"blank": 1, "header": 4}


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_the_header_carries_across_chunks(chunk):
    assert records(PROXYSG + PROXYSG[4:], chunk) == records(PROXYSG + PROXYSG[4:])


_LINES = st.sampled_from(PROXYSG + ["", "junk", "#Remark: x"])


@settings(max_examples=50, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    check_accounting(parse_lines(w3c_extended.parse, lines, ParseContext(), chunk), len(lines))


@pytest.mark.parametrize("head, name", [(PROXYSG, "w3c_extended"), (IIS, "w3c_extended"), (TMG, "w3c_extended")])
def test_sniffed(head, name):
    assert detect_format(b"", head)[0].name == name


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert w3c_extended.sniff(lines) == 0.0, path
