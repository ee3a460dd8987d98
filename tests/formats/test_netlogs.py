"""Squid access.log and Zeek conn.log / http.log (TSV and JSON): fixtures by scenario, accounting in one
piece and in chunks, sniffing, and the real Squid sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from netsift.ingest.base import ParseContext, ParseResult
from netsift.ingest.formats import (
    detect_format,
    squid,
    zeek_conn_json,
    zeek_conn_tsv,
    zeek_http_json,
    zeek_http_tsv,
)
from tests.formats.parsing import check_accounting, parse_lines, read_lines

DATA = Path(__file__).parent.parent / "data" / "netlogs"
MODULES = {"conn.log": zeek_conn_tsv, "conn.json": zeek_conn_json, "http.log": zeek_http_tsv,
           "http.json": zeek_http_json, "access.log": squid}


def parsed(name: str, chunk: int | None = None) -> ParseResult:
    lines = read_lines(DATA / name)
    result = parse_lines(MODULES[name].parse, lines, ParseContext(), chunk)
    check_accounting(result, len(lines))
    if isinstance(result, list):
        return ParseResult(pl.concat([r.records for r in result]), pl.concat([r.rejected for r in result]))
    return result


def row(result: ParseResult, line: int) -> dict:
    rows = result.records.filter(pl.col("source_line") == line).to_dicts()
    assert len(rows) == 1, f"no record for line {line}"
    return rows[0]


@pytest.mark.parametrize("name", list(MODULES))
def test_detected_from_the_head(name):
    lines = [ln for ln in read_lines(DATA / name) if ln.strip()][:50]
    parser, _ = detect_format(b"", lines)
    assert parser is not None and parser.name == MODULES[name].PARSER.name
    assert parser.table == MODULES[name].PARSER.table


@pytest.mark.parametrize("name", list(MODULES))
def test_chunks_give_the_same_records(name):
    whole, chunked = parsed(name), parsed(name, chunk=3)
    assert chunked.records.equals(whole.records)
    assert chunked.rejected.equals(whole.rejected)


@pytest.mark.parametrize("name, line, expected", [
    # a cluster's _node_name column is ignored; values by name
    ("conn.log", 9, {"ts": dt.datetime(2024, 5, 1, 10, 0, 0, 1), "client": "10.0.0.5", "client_port": 51000,
                     "server": "93.184.216.34", "server_port": 443, "protocol": "tcp", "service": "ssl",
                     "duration": 12.5, "bytes_out": 1200, "bytes_in": 50000, "packets_out": 20,
                     "packets_in": 40, "state": "SF"}),
    # unset byte counts stay null, not 0
    ("conn.log", 11, {"bytes_out": None, "bytes_in": None, "duration": None, "state": "S0", "packets_in": 0}),
    ("conn.log", 12, {"client": "fe80::1", "protocol": "icmp", "server_port": 0}),
    ("conn.json", 1, {"ts": dt.datetime(2024, 5, 1, 10, 0, 0, 1), "bytes_out": 1200, "bytes_in": 50000}),
    # ISO ts, nested id
    ("conn.json", 2, {"ts": dt.datetime(2024, 5, 1, 10, 0, 1, 250000), "client": "10.0.0.6", "server_port": 53}),
    # Filebeat's id_orig_h spelling
    ("conn.json", 3, {"client": "10.0.0.7", "server": "198.51.100.9", "bytes_out": None}),
    ("http.log", 9, {"method": "GET", "host": "www.example.com", "uri": "/index.html", "status": 200,
                     "bytes_in": 5120, "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "log": "zeek"}),
    ("http.log", 10, {"method": "POST", "account": "alice", "bytes_out": 64, "status": 302}),
    ("http.log", 11, {"method": None, "host": None, "status": None}),
    ("http.log", 12, {"client": "2001:db8::5", "host": "2001:db8::80"}),
    ("http.json", 2, {"client": "10.0.0.6", "server": "203.0.113.7", "account": "alice", "method": "POST"}),
    ("access.log", 1, {"ts": dt.datetime(2006, 9, 8, 4, 21, 52, 49000), "client": "10.105.21.199",
                       "method": "CONNECT", "host": "login.yahoo.com", "server_port": 443, "status": 200,
                       "bytes_in": 19763, "account": "badeyek", "server": "175.16.199.115",
                       "result": "TCP_MISS", "log": "squid"}),
    ("access.log", 3, {"host": "intranet.example.com", "server_port": 8080, "account": None, "server": None,
                       "status": 407, "result": "TCP_DENIED"}),
    ("access.log", 4, {"host": "2001:db8::1", "server_port": 443, "status": None}),
    # extra fields after type (a logformat that appends some) are ignored
    ("access.log", 7, {"method": "POST", "account": "alice", "server": "10.0.0.254", "bytes_in": 512}),
])
def test_records(name, line, expected):
    got = row(parsed(name), line)
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize("name, line, reason", [
    ("conn.log", 13, "missing or unreadable ts"),
    ("conn.log", 14, "expected 22 fields (from #fields), found 5"),
    ("conn.log", 16, "no id.orig_h"),
    ("conn.json", 5, "not a complete JSON object"),
    ("conn.json", 6, "missing or unreadable ts"),
    ("http.log", 13, "expected 30 fields"),
    ("http.json", 4, "not a complete JSON object"),
    ("access.log", 6, "not a Squid native access.log line"),
])
def test_rejected(name, line, reason):
    rejected = parsed(name).rejected.filter(pl.col("source_line") == line)
    assert rejected.height == 1 and reason in rejected["reason"][0]
    assert rejected["text"][0]  # the line itself is kept


def test_zeek_password_is_never_read():
    for name in ("http.log", "http.json"):
        result = parsed(name)
        assert "hunter2" not in str(result.records.to_dicts())


def test_a_dns_log_is_not_taken_for_conn():
    lines = ["#separator \\x09", "#path\tdns", "#fields\tts\tuid\tid.orig_h\tquery\tqtype_name"]
    parser, _ = detect_format(b"", lines)
    assert parser is not None and parser.name == "zeek_tsv"


@pytest.mark.shared_data
def test_real_squid_sample(shared_data):
    path = shared_data / "proxy_logs" / "elastic_integrations_squid_test-access.log"
    lines = read_lines(path)
    assert detect_format(b"", lines[:50])[0].name == "squid"
    result = parse_lines(squid.parse, lines, ParseContext())
    check_accounting(result, len(lines))
    assert result.records.height == 100 and result.rejected.height == 0
    assert result.records["bytes_in"].sum() == sum(int(ln.split()[4]) for ln in lines)
    assert set(result.records["client"]) == {ln.split()[2] for ln in lines}


@pytest.mark.parametrize("spacing", [" ", "  ", "\t", " \t  ", "         "])
def test_squid_fields_are_read_whatever_blanks_separate_them(spacing):
    """Squid right-aligns ``elapsed`` (runs of blanks); a tab-separated copy reads the same."""
    words = ["1157689320.327", "2864", "10.105.21.199", "TCP_MISS/200", "10182", "GET", "http://www.example.com/",
             "bob", "DIRECT/175.16.199.61", "text/html"]
    result = parse_lines(squid.parse, [" " + spacing.join(words) + spacing], ParseContext())
    check_accounting(result, 1)
    got = result.records.row(0, named=True)
    assert (got["client"], got["status"], got["bytes_in"], got["account"], got["server"], got["host"]) == (
        "10.105.21.199", 200, 10182, "bob", "175.16.199.61", "www.example.com")
