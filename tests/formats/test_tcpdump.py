"""tcpdump text parser: table-driven fixtures, time styles, chunking, property tests, real samples; and
the sniff matrix of the three line formats (bind, windows_dns, tcpdump) over every shared DNS sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import bind, tcpdump, windows_dns
from tests.formats.parsing import check_accounting, dropping, parse_lines, read_lines

DATA = Path(__file__).parent.parent / "data" / "tcpdump"
MTIME = dt.datetime(2024, 3, 2, 0, 5, tzinfo=dt.UTC)


def parse_file(name: str, chunk: int | None = None, **ctx_args):
    return parse_lines(tcpdump.parse, read_lines(DATA / name), ParseContext(**{"mtime": MTIME, **ctx_args}), chunk)


def record(result, line_no: int) -> dict:
    rows = result.records.filter(result.records["source_line"] == line_no).to_dicts()
    assert len(rows) == 1, f"no single record for line {line_no}"
    return rows[0]


T0 = dt.datetime(2024, 3, 1, 10, 0)


@pytest.mark.parametrize(
    "name, line_no, ts, client, qname, qtype, rcode, answers",
    [
        ("valid_tttt.out", 2, T0 + dt.timedelta(microseconds=1), "10.0.0.5", "www.example.com", "A", "NOERROR",
         ["web.example.net", "93.184.216.34"]),
        ("valid_tttt.out", 4, T0 + dt.timedelta(seconds=1), "10.0.0.5", "nosuch.example.org", "AAAA", "NXDOMAIN", []),
        ("valid_tttt.out", 6, T0 + dt.timedelta(seconds=2), "2001:db8::5", "txt.example.com", "TXT", "SERVFAIL", []),
        ("valid_tttt.out", 8, T0 + dt.timedelta(seconds=3), "10.0.0.6", "5.0.0.10.in-addr.arpa", "PTR", "NOERROR",
         ["host5.example.com"]),
        ("valid_tttt.out", 10, T0 + dt.timedelta(seconds=4), "10.0.0.7", "odd.example.com", "TYPE65534", None, None),
        ("valid_tttt.out", 11, T0 + dt.timedelta(seconds=5), "10.0.0.7", "svc.example.com", "HTTPS", None, None),
        ("valid_tttt.out", 12, T0 + dt.timedelta(seconds=6), "10.0.0.8", "mail.example.com", "MX", "REFUSED", []),
        ("valid_tttt.out", 18, T0 + dt.timedelta(seconds=11), "10.0.0.10", "_ipp._tcp.local", "PTR", None, None),  # [2q]
        ("valid_tttt.out", 19, T0 + dt.timedelta(seconds=12), "10.0.0.11", "version.bind", "TXT", None, None),
        ("valid_tttt.out", 21, T0 + dt.timedelta(seconds=13.1), "10.0.0.12", "tcp.example.com", "A", "NOERROR", ["192.0.2.9"]),
        ("valid_tttt.out", 23, T0 + dt.timedelta(seconds=14), "10.0.0.5", "noanswer.example.com", "A", None, None),
        # bare times: date from the mtime (the day before, as 23:59 is later than the mtime's 00:05), then midnight
        ("valid_bare_times.out", 1, dt.datetime(2024, 3, 1, 23, 59, 59, 900000), "10.0.0.5", "late.example.com", "A",
         "NOERROR", ["192.0.2.1"]),
        ("valid_bare_times.out", 3, dt.datetime(2024, 3, 2, 0, 0, 0, 100000), "10.0.0.5", "early.example.com", "A",
         "NOERROR", ["192.0.2.2"]),
        ("valid_verbose.out", 2, T0 + dt.timedelta(microseconds=1), "10.0.0.5", "www.example.com", "A", "NOERROR",
         ["web.example.net", "93.184.216.34"]),
        ("valid_verbose.out", 5, T0 + dt.timedelta(seconds=1), "2001:db8::5", "six.example.com", "AAAA", "NOERROR",
         ["2001:db8::99"]),
        ("valid_verbose.out", 8, T0 + dt.timedelta(seconds=2), "10.0.0.6", "mx.example.com", "MX", "NXDOMAIN", []),
        ("valid_verbose.out", 12, T0 + dt.timedelta(seconds=3), "10.0.0.7", "tcp.example.com", "A", None, None),
        ("valid_link_layer.out", 1, T0 + dt.timedelta(microseconds=1), "10.0.0.5", "eth.example.com", "A", "NOERROR",
         ["192.0.2.40"]),
        ("valid_link_layer.out", 3, T0 + dt.timedelta(seconds=1), "10.0.0.6", "vlan.example.com", "A", None, None),
        ("valid_link_layer.out", 4, T0 + dt.timedelta(seconds=2), "2001:db8::5", "six.example.com", "AAAA", None, None),
        ("valid_link_layer.out", 6, T0 + dt.timedelta(seconds=4), "10.0.0.5", "any.example.com", "A", None, None),
        ("valid_link_layer.out", 7, T0 + dt.timedelta(seconds=5), "10.0.0.5", "cooked.example.com", "A", None, None),
        ("valid_link_layer.out", 9, T0 + dt.timedelta(seconds=6), "10.0.0.5", "ev.example.com", "A", None, None),
        ("valid_epoch.out", 1, T0 + dt.timedelta(microseconds=1), "10.0.0.5", "epoch.example.com", "A", "NOERROR",
         ["192.0.2.50"]),
        ("unknown_field.out", 1, T0 + dt.timedelta(microseconds=1), "10.0.0.5", "cd.example.com", "A", None, None),
        ("unknown_field.out", 2, T0 + dt.timedelta(microseconds=2), "10.0.0.5", "opt.example.com", "A", None, None),
        ("unknown_field.out", 3, T0 + dt.timedelta(microseconds=3), "10.0.0.5", "rc.example.com", "A", "DSOTYPENI", []),
        ("unknown_field.out", 6, T0 + dt.timedelta(microseconds=6), "client.example.com", "named.example.com", "A", None, None),
        ("unknown_field.out", 7, T0 + dt.timedelta(microseconds=7), "10.0.0.5", "new.example.com", "A", None, None),
        ("truncated.out", 3, T0 + dt.timedelta(microseconds=3), "10.0.0.5", "ok.example.com", "A", None, None),
    ],
)
def test_valid_lines(name, line_no, ts, client, qname, qtype, rcode, answers):
    row = record(parse_file(name), line_no)
    assert (row["ts"], row["client"], row["query_name"], row["query_type"]) == (ts, client, qname, qtype)
    assert (row["response_code"], row["answers"], row["resolver_action"]) == (rcode, answers, None)


@pytest.mark.parametrize(
    "name, records, skipped, rejected",
    [
        # banner, 11 questions, 6 responses, notify, NTP, ARP, ICMP, TCP SYN, blank, 3 counters
        ("valid_tttt.out", 11, 16, 0),
        ("valid_bare_times.out", 2, 2, 0),
        ("valid_verbose.out", 4, 11, 0),  # 6 IP header lines, 3 responses, ICMP continuation, hex line
        ("valid_link_layer.out", 6, 3, 0),
        ("valid_epoch.out", 1, 1, 0),
        ("truncated.out", 1, 1, 4),  # "IP a > 10.0.0" has no address pair left: cannot be told from non-DNS
        ("unknown_field.out", 5, 1, 1),
        ("long_and_idn.out", 3, 0, 0),
        ("wrong_encoding.out", 2, 0, 1),
        ("mixed_format.out", 2, 0, 3),
    ],
)
def test_accounting(name, records, skipped, rejected):
    result = parse_file(name)
    assert (result.records.height, result.skipped, result.rejected.height) == (records, skipped, rejected)
    check_accounting(result, len(read_lines(DATA / name)))


@pytest.mark.parametrize(
    "name, line_no, reason",
    [
        ("truncated.out", 1, "DNS part does not parse"),  # name cut before its final dot
        ("truncated.out", 2, "DNS part does not parse"),  # [|domain]
        ("truncated.out", 4, "DNS part does not parse"),
        ("truncated.out", 6, "not tcpdump output"),
        ("unknown_field.out", 5, "DNS part does not parse"),  # port 53 but "UDP, length 20" (-q)
        ("mixed_format.out", 2, "not tcpdump output"),
        ("mixed_format.out", 3, "not tcpdump output"),
        ("mixed_format.out", 4, "not tcpdump output"),
        ("wrong_encoding.out", 2, "not tcpdump output"),
    ],
)
def test_rejected_reasons(name, line_no, reason):
    rejected = parse_file(name).rejected
    row = rejected.filter(rejected["source_line"] == line_no).to_dicts()
    assert row and reason in row[0]["reason"]


def test_long_idn_and_wrong_encoding_names():
    names = parse_file("long_and_idn.out").records["query_name"].to_list()
    assert names == [".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61]), "xn--bcher-kva.example", "xn--bcher-kva.example"]
    names = parse_file("wrong_encoding.out").records["query_name"].to_list()
    assert names[0].startswith("xn--") and names[1] == "plain.example"


@pytest.mark.parametrize(
    "ctx_args, first",
    [
        ({"year": 2023}, dt.datetime(2023, 3, 1, 23, 59, 59, 900000)),  # --year replaces the mtime's year
        ({"mtime": None, "year": 2022}, dt.datetime(2022, 1, 1, 23, 59, 59, 900000)),
        ({"tz": "Europe/Berlin"}, dt.datetime(2024, 3, 1, 22, 59, 59, 900000)),  # mtime is 01:05 in Berlin
    ],
)
def test_bare_time_dates(ctx_args, first):
    assert parse_file("valid_bare_times.out", **ctx_args).records["ts"][0] == first


def test_epoch_stamps_ignore_tz_but_tttt_stamps_do_not():
    assert parse_file("valid_epoch.out", tz="Europe/Berlin").records["ts"][0] == T0 + dt.timedelta(microseconds=1)
    assert record(parse_file("valid_tttt.out", tz="Europe/Berlin"), 2)["ts"] == dt.datetime(2024, 3, 1, 9, 0, 0, 1)


@pytest.mark.parametrize("name", ["valid_tttt.out", "valid_verbose.out", "valid_bare_times.out"])
@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
@pytest.mark.parametrize("hold_back", [2, 5000])
def test_chunk_boundaries_give_the_same_records(name, chunk, hold_back, monkeypatch):
    # joins reach a window of HOLD_BACK lines: the whole file is read with the same one
    monkeypatch.setattr(tcpdump, "HOLD_BACK", hold_back)
    whole = parse_file(name)
    parts = parse_file(name, chunk=chunk)
    assert [r for p in parts for r in p.records.to_dicts()] == whole.records.to_dicts()
    check_accounting(parts, len(read_lines(DATA / name)))


@given(st.lists(st.text(max_size=160), max_size=40))
@settings(max_examples=150, deadline=None)
def test_never_raises_and_accounts_for_every_line(lines):
    lines = [ln.replace("\n", " ") for ln in lines]
    result = tcpdump.parse(lines_frame(lines), ParseContext(mtime=MTIME))
    check_accounting(result, len(lines))


_SAMPLES = (read_lines(DATA / "valid_tttt.out") + read_lines(DATA / "valid_verbose.out")
            + read_lines(DATA / "valid_bare_times.out") + read_lines(DATA / "truncated.out"))


@given(st.lists(st.sampled_from(_SAMPLES), max_size=60), st.integers(min_value=1, max_value=9))
@settings(max_examples=100, deadline=None)
def test_accounting_on_realistic_mixtures_in_chunks(lines, chunk):
    parts = parse_lines(tcpdump.parse, lines, ParseContext(mtime=MTIME), chunk)
    check_accounting(parts, len(lines))


def test_sniff_on_fixtures():
    for name in ("valid_tttt.out", "valid_bare_times.out", "valid_verbose.out", "valid_link_layer.out", "valid_epoch.out"):
        assert tcpdump.sniff([ln for ln in read_lines(DATA / name) if ln.strip()]) >= 0.5, name
    assert tcpdump.sniff(["1379288667.631940\tCZG\t192.168.33.10\t1030\t4.2.2.3\t53\tudp"]) < 0.5


# --- real samples (../shared/data) -------------------------------------------------------------------

_FIRST_UDP = (dt.datetime(2020, 6, 10, 9, 19, 54, 740079), "192.168.1.11", "www.tcpdump.org", "A", "NOERROR")


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name, records, skipped, first",
    [
        # 11 TCP segments, one carries the question (line 4), one the answer (line 6)
        ("tcpdump_tests_dns_tcp.out", 1, 10,
         (dt.datetime(2020, 6, 10, 9, 21, 3, 847323), "192.168.1.11", "www.tcpdump.org", "A", "NOERROR")),
        ("tcpdump_tests_dns_udp.out", 1, 1, _FIRST_UDP),
        # 21 "A? example.com." questions on odd lines, each answered on the next line
        ("tcpdump_tests_edns-opts.out", 21, 21,
         (dt.datetime(2019, 10, 23, 20, 58, 40, 639715), "192.0.0.1", "example.com", "A", "NOERROR")),
    ],
)
def test_real_samples(shared_data, name, records, skipped, first):
    lines = read_lines(shared_data / "dns_logs/tcpdump_text" / name)
    result = tcpdump.parse(lines_frame(lines), ParseContext())
    assert (result.records.height, result.skipped, result.rejected.height) == (records, skipped, 0)
    row = result.records.row(0, named=True)
    assert (row["ts"], row["client"], row["query_name"], row["query_type"], row["response_code"]) == first
    assert result.records["response_code"].null_count() == 0


@pytest.mark.shared_data
def test_real_sample_answers(shared_data):
    lines = read_lines(shared_data / "dns_logs/tcpdump_text/tcpdump_tests_dns_udp.out")
    assert tcpdump.parse(lines_frame(lines), ParseContext()).records["answers"][0].to_list() == [
        "192.139.46.66", "198.199.88.104"]
    lines = read_lines(shared_data / "dns_logs/tcpdump_text/tcpdump_tests_edns-opts.out")
    answers = tcpdump.parse(lines_frame(lines), ParseContext()).records["answers"].to_list()
    assert all(a == ["93.184.216.34"] for a in answers)  # RRSIG answers are not IPs or names


# Which of the three parsers each shared sample belongs to (None: another format's sample).
_OWNER = {
    "bind_querylog": "bind", "infoblox_bind_syslog": "bind", "windows_dns_debug": "windows_dns",
    "tcpdump_text": "tcpdump", "pihole_dnsmasq": None, "umbrella_csv": None, "zeek_json": None, "zeek_tsv": None,
}
_PARSERS = {"bind": bind, "windows_dns": windows_dns, "tcpdump": tcpdump}


def _head_lines(path: Path) -> list[str]:
    """What detect_format hands a sniffer: the first (up to 50) non-empty decoded lines."""
    text = path.read_bytes()[:65536].decode("utf-8", errors="replace")
    return [ln for ln in text.splitlines() if ln.strip()][:50]


@pytest.mark.shared_data
@pytest.mark.parametrize("parser", sorted(_PARSERS))
def test_sniff_matrix_over_shared_samples(shared_data, parser):
    files = sorted(p for p in (shared_data / "dns_logs").rglob("*") if p.is_file())
    assert {p.parent.name for p in files} == set(_OWNER)
    for path in files:
        score = _PARSERS[parser].sniff(_head_lines(path))
        if _OWNER[path.parent.name] == parser and path.suffix != ".pcap":
            assert score >= 0.5, path.name
        else:
            assert score < 0.5, path.name


@pytest.mark.parametrize("chunk", [None, 3])
def test_accounting_fails_when_a_record_is_dropped(chunk):
    """The accounting check catches a parser that silently loses records (here every AAAA question):
    skipped is counted by the parser, not taken as the remainder."""
    lines = read_lines(DATA / "valid_tttt.out")
    check_accounting(parse_lines(tcpdump.parse, lines, ParseContext(mtime=MTIME), chunk), len(lines))
    lossy = parse_lines(dropping(tcpdump.parse), lines, ParseContext(mtime=MTIME), chunk)
    with pytest.raises(AssertionError, match="lines, but"):
        check_accounting(lossy, len(lines))
