"""FortiGate key=value logs: DNS filter (query joined to response), traffic, web filter, IPS and logons into
their tables; stamps (eventtime in any unit, tz offsets); the accounting in one piece and in chunks; bad lines;
sniffing; a VPN brute force found by the logon detectors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.config import Settings
from netsift.detect import brute_force
from netsift.ingest.base import ParseContext
from netsift.ingest.formats import detect_format, fortigate
from netsift.ingest.run import ingest
from netsift.store import open_store
from tests.formats.parsing import check_accounting, dropping, parse_lines, sample_heads

T0 = dt.datetime(2026, 11, 30, 10, 0, 0)
EPOCH = int(T0.replace(tzinfo=dt.UTC).timestamp())


def log(second: int, kind: str, sub: str, fields: str, *, stamp: str | None = None) -> str:
    when = T0 + dt.timedelta(seconds=second)
    stamp = stamp if stamp is not None else f"eventtime={(EPOCH + second) * 10**9}"
    return (f'date={when:%Y-%m-%d} time={when:%H:%M:%S} devname="FGT60F" logid="0000000013" type="{kind}" '
            f'subtype="{sub}" level="notice" vd="root" {stamp} {fields}')


def query(second: int, session: int, xid: int, name: str, client: str = "10.0.0.9") -> str:
    return log(second, "utm", "dns", f'eventtype="dns-query" srcip={client} srcport=51000 dstip=10.0.0.1 '
                                     f'dstport=53 sessionid={session} xid={xid} qname="{name}" qtype="A"')


def response(second: int, session: int, xid: int, name: str, ips: str | None, action: str = "pass",
             client: str = "10.0.0.9") -> str:
    answer = f' ipaddr="{ips}"' if ips else ""
    return log(second, "utm", "dns", f'eventtype="dns-response" srcip={client} srcport=51000 dstip=10.0.0.1 '
                                     f'dstport=53 sessionid={session} xid={xid} qname="{name}" qtype="A"{answer} '
                                     f'action="{action}"')


TRAFFIC = log(30, "traffic", "forward", 'srcip=10.0.0.5 srcport=50000 dstip=93.184.216.34 dstport=443 proto=6 '
                                        'action="close" service="HTTPS" duration=30 sentbyte=1500 rcvdbyte=9000 '
                                        'sentpkt=12 rcvdpkt=10 app="Microsoft.Outlook"')
WEB = log(7, "utm", "webfilter", 'eventtype="ftgd_blk" srcip=10.0.0.6 dstip=198.51.100.9 dstport=80 '
                                 'action="blocked" hostname="Malware.Example:80" url="/payload.exe" sentbyte=300 '
                                 'rcvdbyte=0 user="bob" agent="curl/8.0"')
IPS = log(8, "utm", "ips", 'severity="high" srcip=203.0.113.5 srcport=4444 dstip=10.0.0.80 dstport=443 proto=6 '
                           'action="dropped" service="HTTPS" attack="FortiOS.SSL.VPN.Heap.Overflow" attackid=53371')
VPN_FAIL = log(9, "event", "vpn", 'logdesc="SSL VPN login fail" action="ssl-login-fail" tunneltype="ssl-web" '
                                  'remip=203.0.113.7 user="admin" reason="sslvpn_login_unknown_user"')
ADMIN_OK = log(12, "event", "system", 'logdesc="Admin login successful" user="admin" ui="ssh(10.0.0.2)" '
                                      'srcip=10.0.0.2 action="login" status="success"')


def parsed(lines: list[str], chunk: int | None = None):
    result = parse_lines(fortigate.parse, lines, ParseContext(), chunk)
    check_accounting(result, len(lines))
    return result


def dns_rows(result) -> list[tuple]:
    parts = result if isinstance(result, list) else [result]
    return [(r["ts"], r["client"], r["query_name"], r["response_code"], r["answers"], r["resolver_action"],
             r["source_line"]) for p in parts for r in p.records.iter_rows(named=True)]


def test_dns_queries_joined_to_responses():
    lines = [query(1, 9, 7, "www.example.com"), response(1, 9, 7, "www.example.com", "192.0.2.1, 192.0.2.2"),
             response(2, 10, 8, "evil.example", None, "redirect"), query(3, 11, 9, "lost.example.org")]
    assert dns_rows(parsed(lines)) == [
        (T0 + dt.timedelta(seconds=1), "10.0.0.9", "www.example.com", "NOERROR", ["192.0.2.1", "192.0.2.2"], None, 1),
        (T0 + dt.timedelta(seconds=2), "10.0.0.9", "evil.example", None, None, "blocked:dnsfilter", 3),
        (T0 + dt.timedelta(seconds=3), "10.0.0.9", "lost.example.org", None, None, None, 4)]


@pytest.mark.parametrize("stamp, expected", [
    (f"eventtime={EPOCH}", T0), (f"eventtime={EPOCH * 1000}", T0), (f"eventtime={EPOCH * 10**6}", T0),
    ('tz="+0100"', T0 - dt.timedelta(hours=1)), ('tz="-0500"', T0 + dt.timedelta(hours=5)), ("", T0),
])
def test_stamps(stamp, expected):
    line = log(0, "utm", "dns", 'eventtype="dns-query" srcip=10.0.0.9 sessionid=1 xid=1 qname="a.example" qtype="A"',
               stamp=stamp)
    assert dns_rows(parsed([line]))[0][0] == expected


def test_the_other_families_fill_their_tables():
    result = parsed([TRAFFIC, WEB, IPS, VPN_FAIL, ADMIN_OK, log(13, "utm", "virus", "srcip=1.1.1.1"),
                     log(14, "event", "system", 'logdesc="Attribute configured" action="Edit"')])
    flow = result.tables["connections"].row(0, named=True)
    assert (flow["ts"], flow["client"], flow["server_port"], flow["protocol"], flow["service"], flow["duration"],
            flow["bytes_out"], flow["bytes_in"], flow["packets_out"], flow["state"]) == (
        T0, "10.0.0.5", 443, "tcp", "microsoft.outlook", 30.0, 1500, 9000, 12, "close")  # started 30 s before
    web = result.tables["http_requests"].row(0, named=True)
    assert (web["client"], web["host"], web["uri"], web["user_agent"], web["account"], web["result"], web["log"]) == (
        "10.0.0.6", "malware.example", "/payload.exe", "curl/8.0", "bob", "blocked", "fortigate")
    alert = result.tables["ids_alerts"].row(0, named=True)
    assert (alert["src"], alert["dest"], alert["signature_id"], alert["signature"], alert["severity"],
            alert["action"]) == ("203.0.113.5", "10.0.0.80", 53371, "FortiOS.SSL.VPN.Heap.Overflow", 1, "blocked")
    assert result.tables["logon_events"].select("client", "account", "host", "service", "event", "method",
                                                "unknown_account").rows() == [
        ("203.0.113.7", "admin", "FGT60F", "sslvpn", "failure", None, True),
        ("10.0.0.2", "admin", "FGT60F", "fortigate-admin", "success", "ssh", False)]
    assert result.skipped_by == {"traffic log (stored in connections)": 1, "web filter log (stored in http_requests)": 1,
                                 "IPS log (stored in ids_alerts)": 1, "logon log (stored in logon_events)": 2,
                                 "utm/virus log": 1, "event/system log": 1}


def test_bad_lines_are_rejected_with_reasons():
    lines = ["not a firewall line", "", log(0, "traffic", "forward", "srcip=10.0.0.5"),
             TRAFFIC.replace("time=10:00:30", "time=25:61:00").replace(f"eventtime={(EPOCH + 30) * 10**9}", "")]
    result = parsed(lines)
    assert dict(zip(result.rejected["source_line"], result.rejected["reason"])) == {
        1: "not a FortiGate log line (expected date=... time=... type=... key=value pairs)",
        3: "traffic log without srcip and dstip", 4: "unreadable date and time"}


def test_a_syslog_envelope_or_priority_is_ignored():
    lines = ["<189>" + query(1, 9, 7, "a.example"), "Nov 30 10:00:02 fw " + query(2, 9, 8, "b.example")]
    assert [r[2] for r in dns_rows(parsed(lines))] == ["a.example", "b.example"]


def _conversation() -> list[str]:
    lines = []
    for i in range(12):
        lines.append(query(i, 100 + i, i, f"h{i}.example.com"))
        if i % 3 == 1:
            lines.append(TRAFFIC)
        if i >= 2:
            j = i - 2
            lines.append(response(i, 100 + j, j, f"h{j}.example.com", f"192.0.2.{j}"))
    return lines


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_chunking_never_changes_a_record(chunk):
    lines = _conversation()
    assert dns_rows(parsed(lines, chunk)) == dns_rows(parsed(lines))


_LINES = st.sampled_from([query(i, i, i, f"h{i}.example") for i in range(3)]
                         + [response(i, i, i, f"h{i}.example", "192.0.2.1") for i in range(3)]
                         + [TRAFFIC, WEB, IPS, VPN_FAIL, "", "junk"])


@settings(max_examples=50, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    assert dns_rows(parsed(lines, chunk)) == dns_rows(parsed(lines))


def test_the_accounting_catches_a_dropped_record():
    lines = [query(1, 1, 1, "a.example").replace('qtype="A"', 'qtype="AAAA"'), query(2, 2, 2, "b.example")]
    with pytest.raises(AssertionError):
        check_accounting(parse_lines(dropping(fortigate.parse), lines, ParseContext()), len(lines))


def test_sniffed():
    assert detect_format(b"", [TRAFFIC, WEB, query(1, 1, 1, "a.example")])[0].name == "fortigate"


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert fortigate.sniff(lines) == 0.0, path


def test_a_vpn_brute_force_is_found(tmp_path):
    path = tmp_path / "fgt.log"
    path.write_text("\n".join(VPN_FAIL.replace("time=10:00:09", f"time=10:00:{i:02d}").replace(
        "eventtime=", f"x{i}=") for i in range(30)) + "\n")
    with open_store(str(tmp_path / "s.duckdb")) as store:
        ingest(store, [str(path)])
        found = brute_force.run(store, Settings(brute_force.SETTINGS))
    assert [(f.client, f.host, f.account, f.evidence_count) for f in found] == [("203.0.113.7", "FGT60F", "admin", 30)]
