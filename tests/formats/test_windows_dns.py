"""Windows DNS debug log parser: table-driven fixtures, date locales, chunking, property tests, samples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import windows_dns
from tests.formats.parsing import check_accounting, dropping, parse_lines, read_lines

DATA = Path(__file__).parent.parent / "data" / "windows_dns"


def parse_file(name: str, chunk: int | None = None, **ctx_args):
    return parse_lines(windows_dns.parse, read_lines(DATA / name), ParseContext(**ctx_args), chunk)


def record(result, line_no: int) -> dict:
    rows = result.records.filter(result.records["source_line"] == line_no).to_dicts()
    assert len(rows) == 1, f"no single record for line {line_no}"
    return rows[0]


@pytest.mark.parametrize(
    "name, line_no, ts, client, qname, qtype, rcode, action",
    [
        ("valid.log", 10, dt.datetime(2024, 3, 2, 10, 0, 1), "192.168.6.81", "www.example.com", "A", "NOERROR", None),
        ("valid.log", 12, dt.datetime(2024, 3, 2, 10, 0, 2), "::1", "_ldap._tcp.file.local", "SRV", "NOERROR", "local"),
        ("valid.log", 14, dt.datetime(2024, 3, 2, 10, 0, 3), "192.168.6.86", "wpad.file.local", "A", "NXDOMAIN", "local"),
        # 12 PM stays 12; the server's own recursion (next two lines) is not joined, its answer to the client is
        ("valid.log", 16, dt.datetime(2024, 3, 2, 12, 15), "192.168.6.81", "noon.example.com", "AAAA", "SERVFAIL", None),
        ("valid.log", 22, dt.datetime(2024, 3, 2, 13, 31), "10.1.2.3", "file.local", "AXFR", None, None),  # TCP
        ("valid.log", 23, dt.datetime(2024, 3, 2, 13, 32), "10.1.2.4", "mixed.example.com", "TXT", None, None),
        ("valid.log", 27, dt.datetime(2024, 3, 2, 0, 5), "10.1.2.5", "midnight.example.com", "A", None, None),  # 12 AM
        ("valid.log", 28, dt.datetime(2024, 3, 2, 0, 5), "10.1.2.6", "g(oo)gle.com", "A", None, None),
        ("day_first.log", 3, dt.datetime(2023, 12, 25, 9, 0, 1), "10.0.0.1", "xmas.example.com", "A", "NOERROR", None),
        ("day_first.log", 5, dt.datetime(2024, 2, 1, 9, 0, 2), "10.0.0.1", "feb.example.com", "A", None, None),
        ("dotted_day_first.log", 1, dt.datetime(2020, 3, 6, 17, 15, 40), "10.200.1.222", "test.virot.eu", "A", "NOERROR", "local"),
        ("year_first.log", 1, dt.datetime(2024, 3, 2, 10, 0), "10.0.0.2", "iso.example.com", "A", None, None),
        # Windows 2003 layout: YYYYMMDD, no internal packet id, no question type
        ("year_first.log", 2, dt.datetime(2010, 7, 14, 13, 42, 49), "10.0.0.3", "legacy.example.com", None, None, None),
        # nothing above 12: month first (en-US) is assumed
        ("ambiguous_date.log", 1, dt.datetime(2024, 3, 2, 10, 0), "10.0.0.4", "ambig.example.com", "A", None, None),
        ("unknown_field.log", 2, dt.datetime(2024, 3, 2, 10, 0, 1), "192.168.6.81", "svc.example.com", "HTTPS", "BADCOOKIE", "local"),
        ("unknown_field.log", 5, dt.datetime(2024, 3, 2, 10, 0, 3), "192.168.6.81", "tail.example.com", "A", None, None),
    ],
)
def test_valid_lines(name, line_no, ts, client, qname, qtype, rcode, action):
    row = record(parse_file(name), line_no)
    assert (row["ts"], row["client"], row["query_name"], row["query_type"]) == (ts, client, qname, qtype)
    assert (row["response_code"], row["resolver_action"], row["answers"]) == (rcode, action, None)


@pytest.mark.parametrize(
    "name, records, skipped, rejected",
    [
        # 8 header lines, EVENT, 8 questions, 5 responses, recursion out/in, update in/out, 3 detail lines
        ("valid.log", 8, 20, 0),
        ("day_first.log", 2, 3, 0),
        ("dotted_day_first.log", 1, 1, 0),
        ("year_first.log", 2, 0, 0),
        ("ambiguous_date.log", 1, 0, 0),
        ("truncated.log", 1, 0, 4),
        ("unknown_field.log", 2, 3, 0),  # opcode ?, its response-less sibling, an unknown context
        ("long_and_idn.log", 3, 0, 0),
        ("wrong_encoding.log", 2, 0, 1),
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
        ("truncated.log", 1, "truncated PACKET"),
        ("truncated.log", 2, "truncated PACKET"),
        ("truncated.log", 3, "truncated PACKET"),
        ("truncated.log", 4, "not a Windows DNS"),
        ("mixed_format.log", 2, "not a Windows DNS"),
        ("mixed_format.log", 3, "not a Windows DNS"),
        ("mixed_format.log", 4, "not a Windows DNS"),
        ("wrong_encoding.log", 2, "not a Windows DNS"),
    ],
)
def test_rejected_reasons(name, line_no, reason):
    rejected = parse_file(name).rejected
    row = rejected.filter(rejected["source_line"] == line_no).to_dicts()
    assert row and reason in row[0]["reason"]


def test_long_idn_and_wrong_encoding_names():
    names = parse_file("long_and_idn.log").records["query_name"].to_list()
    assert names == [".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61]), "xn--bcher-kva.example", "xn--bcher-kva.example"]
    names = parse_file("wrong_encoding.log").records["query_name"].to_list()
    assert names[0].startswith("xn--") and names[1] == "plain.example"


def test_day_first_decision_is_remembered_from_the_chunk_with_evidence():
    ambiguous = "03/02/2024 10:00:00 0E24 PACKET  00AB UDP Rcv 10.0.0.1 0001   Q [0001   D   NOERROR] A      (1)a(0)"
    evidence = "25/02/2024 10:00:00 0E24 PACKET  00AB UDP Rcv 10.0.0.1 0002   Q [0001   D   NOERROR] A      (1)b(0)"
    ctx = ParseContext()
    first = windows_dns.parse(lines_frame([ambiguous]), ctx)
    assert first.records["ts"][0] == dt.datetime(2024, 3, 2, 10, 0) and "windows_dns_day_first" not in ctx.state
    second = windows_dns.parse(lines_frame([evidence, ambiguous], 2), ctx)
    assert second.records["ts"].to_list() == [dt.datetime(2024, 2, 25, 10, 0), dt.datetime(2024, 2, 3, 10, 0)]
    third = windows_dns.parse(lines_frame([ambiguous], 4), ctx)
    assert ctx.state["windows_dns_day_first"] is True and third.records["ts"][0] == dt.datetime(2024, 2, 3, 10, 0)


def test_naive_stamps_are_read_in_ctx_tz():
    row = record(parse_file("valid.log", tz="America/New_York"), 10)
    assert row["ts"] == dt.datetime(2024, 3, 2, 15, 0, 1)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 11])
@pytest.mark.parametrize("hold_back", [4, 5000])
def test_chunk_boundaries_give_the_same_records(chunk, hold_back, monkeypatch):
    # joins reach a window of HOLD_BACK lines: the whole file is read with the same one
    monkeypatch.setattr(windows_dns, "HOLD_BACK", hold_back)
    whole = parse_file("valid.log")
    parts = parse_file("valid.log", chunk=chunk)
    assert [r for p in parts for r in p.records.to_dicts()] == whole.records.to_dicts()
    check_accounting(parts, 28)


@given(st.lists(st.text(max_size=160), max_size=40))
@settings(max_examples=150, deadline=None)
def test_never_raises_and_accounts_for_every_line(lines):
    lines = [ln.replace("\n", " ") for ln in lines]
    result = windows_dns.parse(lines_frame(lines), ParseContext())
    check_accounting(result, len(lines))


_SAMPLES = read_lines(DATA / "valid.log") + read_lines(DATA / "truncated.log") + read_lines(DATA / "day_first.log")


@given(st.lists(st.sampled_from(_SAMPLES), max_size=60), st.integers(min_value=1, max_value=9))
@settings(max_examples=100, deadline=None)
def test_accounting_on_realistic_mixtures_in_chunks(lines, chunk):
    parts = parse_lines(windows_dns.parse, lines, ParseContext(), chunk)
    check_accounting(parts, len(lines))


def test_sniff_on_fixtures():
    for name in ("valid.log", "day_first.log", "dotted_day_first.log", "year_first.log"):
        assert windows_dns.sniff([ln for ln in read_lines(DATA / name) if ln.strip()]) >= 0.5, name
    assert windows_dns.sniff(["10-Nov-2015 15:20:34.006 client 127.0.0.1#1 (a.com): query: a.com IN A + (::1)"]) < 0.5


# --- real samples (../shared/data) -------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "path, records, skipped, first",
    [
        # 903 lines, 436 PACKET: 129 "Rcv" questions without R and opcode Q (8 A, 1 CNAME, 27 NS, 80 SOA,
        # 13 SRV); skipped: 126 responses sent, 13 recursive queries sent + 12 answers received, 78 updates
        # received + 78 update responses, 2 EVENT lines, 27 header lines and 438 blank lines
        ("dns_logs/windows_dns_debug/jschpp_dns-Locale_en-US-Windows2012.txt", 129, 774,
         (dt.datetime(2017, 6, 20, 5, 36, 59), "::1", "file.local", "SOA", "NOERROR", "local")),
        # 7 lines: 4 questions, 3 responses (the AAAA for test2.virot.de has none)
        ("dns_logs/windows_dns_debug/jschpp_dns-Locale-de-DE-WindowsUnknown.txt", 4, 3,
         (dt.datetime(2020, 3, 6, 17, 15, 40), "10.200.1.222", "test.virot.eu", "A", "NOERROR", "local")),
    ],
)
def test_real_samples(shared_data, path, records, skipped, first):
    result = windows_dns.parse(lines_frame(read_lines(shared_data / path)), ParseContext())
    assert (result.records.height, result.skipped, result.rejected.height) == (records, skipped, 0)
    row = result.records.row(0, named=True)
    assert (row["ts"], row["client"], row["query_name"], row["query_type"], row["response_code"],
            row["resolver_action"]) == first


@pytest.mark.shared_data
def test_en_us_sample_rcodes_and_retransmissions(shared_data):
    lines = read_lines(shared_data / "dns_logs/windows_dns_debug/jschpp_dns-Locale_en-US-Windows2012.txt")
    records = windows_dns.parse(lines_frame(lines), ParseContext()).records
    nx = records.filter(records["response_code"] == "NXDOMAIN")
    assert sorted(nx["query_name"].to_list()) == ["file.file.local", "wpad.file.local"]
    assert records["response_code"].null_count() == 0
    # 192.168.6.86 sent xid 556f four times (lines 556, 568, 590, 592); the one response (614) answers all
    vortex = records.filter(records["query_name"] == "vortex-win.data.microsoft.com")
    assert vortex["source_line"].to_list() == [556, 568, 590, 592] and set(vortex["response_code"]) == {"NOERROR"}


@pytest.mark.parametrize("chunk", [None, 3])
def test_accounting_fails_when_a_record_is_dropped(chunk):
    """The accounting check catches a parser that silently loses records (here every AAAA question):
    skipped is counted by the parser, not taken as the remainder."""
    lines = read_lines(DATA / "valid.log")
    check_accounting(parse_lines(windows_dns.parse, lines, ParseContext(), chunk), len(lines))
    lossy = parse_lines(dropping(windows_dns.parse), lines, ParseContext(), chunk)
    with pytest.raises(AssertionError, match="lines, but"):
        check_accounting(lossy, len(lines))
