"""Common / combined access logs (a proxy's or a web server's): table-driven lines, rejections, accounting in
one piece and in chunks, sniffing against every other format's samples."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import access_combined, detect_format
from tests.formats.parsing import check_accounting, parse_lines, sample_heads

UA = '"-" "Mozilla/5.0 (X11; Linux x86_64)"'


@pytest.mark.parametrize("line, expected", [
    # Squid's logformat combined: absolute URL, result:hierarchy at the end
    (f'192.168.0.224 - alice [08/Oct/2010:14:31:48 +0200] "GET http://www.google.com/ HTTP/1.1" 200 411 {UA} '
     "TCP_MISS:HIER_DIRECT",
     {"ts": dt.datetime(2010, 10, 8, 12, 31, 48), "client": "192.168.0.224", "method": "GET", "host": "www.google.com",
      "server_port": 80, "uri": "http://www.google.com/", "status": 200, "bytes_in": 411, "account": "alice",
      "result": "TCP_MISS", "log": "proxy", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)"}),
    # Squid's logformat common: a CONNECT, no referer / agent
    ('192.168.0.225 - - [08/Oct/2010:14:31:49 -0500] "CONNECT Mail.Example.com:8443 HTTP/1.1" 200 5120',
     {"ts": dt.datetime(2010, 10, 8, 19, 31, 49), "method": "CONNECT", "host": "mail.example.com",
      "server_port": 8443, "uri": "Mail.Example.com:8443", "status": 200, "bytes_in": 5120, "account": None,
      "result": None, "log": "proxy", "user_agent": None}),
    # an https URL with an explicit port and user info; an ident but no user
    ('10.0.0.5 bob - [01/Jan/2026:00:00:00 +0000] "GET https://u:p@[2001:db8::1]:8080/x?y=1 HTTP/2.0" 304 -',
     {"host": "2001:db8::1", "server_port": 8080, "status": 304, "bytes_in": None, "account": "bob", "log": "proxy"}),
    # a web server's own log (nginx's default): a relative path, escaped quotes in the agent
    ('203.0.113.9 - - [03/Dec/2026:06:30:01 +0100] "POST /wp-login.php HTTP/1.1" 401 512 "-" '
     '"python \\"requests\\"/2.31"',
     {"ts": dt.datetime(2026, 12, 3, 5, 30, 1), "method": "POST", "host": None, "server_port": None,
      "uri": "/wp-login.php", "status": 401, "log": "access", "user_agent": 'python "requests"/2.31'}),
    # a client that sent nothing, over IPv6
    ('2001:db8::5 - - [08/Oct/2010:14:31:51 +0000] "-" 408 0 "-" "-"',
     {"client": "2001:db8::5", "method": None, "uri": None, "status": 408, "bytes_in": 0, "user_agent": None,
      "log": "access"}),
    # a TLS handshake sent to a plain-text port: the request text is kept, no method
    ('198.51.100.7 - - [08/Oct/2010:14:31:52 +0000] "\\x16\\x03\\x01\\x02\\x00" 400 157 "-" "-"',
     {"method": None, "uri": "\\x16\\x03\\x01\\x02\\x00", "status": 400}),
])
def test_lines(line, expected):
    result = access_combined.parse(lines_frame([line]), ParseContext())
    check_accounting(result, 1)
    assert result.rejected.height == 0
    row = result.records.to_dicts()[0]
    assert {k: row[k] for k in expected} == expected


@pytest.mark.parametrize("line, reason", [
    ("garbage line", "not a common/combined access log line"),
    ('10.0.0.1 - - [08/Oct/2010:14:31:52] "GET / HTTP/1.1" 200 1', "unreadable time"),  # no offset
    ('10.0.0.1 - - [99/Foo/2010:14:31:52 +0000] "GET / HTTP/1.1" 200 1', "unreadable time"),
    ('10.0.0.1 - - [08/Oct/2010:14:31:52 +0000] "GET / HTTP/1.1" OK 1', "not a common/combined access log line"),
    ('10.0.0.1 - - [08/Oct/2010:14:31:52 +0000] "GET / HTTP/1.1 200 1', "not a common/combined access log line"),
])
def test_rejected_with_reason(line, reason):
    result = access_combined.parse(lines_frame(["", line]), ParseContext())
    check_accounting(result, 2)
    assert result.records.height == 0 and result.skipped_by == {"blank": 1}
    assert result.rejected["reason"][0].startswith(reason) and result.rejected["source_line"][0] == 2


_GOOD = st.sampled_from([
    f'192.168.0.{i} - - [08/Oct/2010:14:31:{i:02d} +0200] "GET http://h{i}.example.com/ HTTP/1.1" 200 {i} {UA}'
    for i in range(10)] + ["", "junk", '1.2.3.4 - - [08/Oct/2010:14:31:00 +0000] "-" 400 0'])


@settings(max_examples=60, deadline=None)
@given(st.lists(_GOOD, max_size=30), st.integers(1, 7))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    check_accounting(parse_lines(access_combined.parse, lines, ParseContext(), chunk), len(lines))


def test_sniffed_and_not_taken_for_squid_native():
    combined = [f'10.0.0.{i} - - [08/Oct/2010:14:31:48 +0200] "GET http://a.example/ HTTP/1.1" 200 1 {UA}'
                for i in range(5)]
    native = [f"1286536308.779    180 192.168.0.{i} TCP_MISS/200 411 GET http://www.google.com/ - "
              "DIRECT/74.125.39.147 text/html" for i in range(5)]
    assert detect_format(b"", combined)[0].name == "access_combined"
    assert detect_format(b"", native)[0].name == "squid"
    assert access_combined.sniff(native) == 0.0


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert access_combined.sniff(lines) == 0.0, path
