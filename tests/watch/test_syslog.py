"""Syslog in: RFC 3164 and 5424 messages, octet-counted and newline framing, the message's program picks
the parser (declared by the parsers in the format registry)."""

from __future__ import annotations

import socket
import time

import pytest

from netsift.ingest.formats import parser_for_program, parsers
from netsift.ingest.plan import IngestOptions
from netsift.store import open_store
from netsift.watch.runner import WatchOptions, Watcher
from netsift.watch.syslog import SyslogListener, octet_frames, parse_message


@pytest.mark.parametrize("raw, program, line", [
    (b"<30>Dec  2 17:50:00 pi dnsmasq[123]: query[A] a.example from 10.0.0.1",
     "dnsmasq", b"Dec  2 17:50:00 pi dnsmasq[123]: query[A] a.example from 10.0.0.1"),
    (b"<30>Dec  2 17:50:00 dnsmasq[123]: query[A] a.example from 10.0.0.1\n",  # local: no host
     "dnsmasq", b"Dec  2 17:50:00 dnsmasq[123]: query[A] a.example from 10.0.0.1"),
    (b"<30>Dec  2 17:50:00 pi pihole-FTL[9]: query[A] a.example from 10.0.0.1",  # written as dnsmasq reads it
     "pihole-FTL", b"Dec  2 17:50:00 pi dnsmasq[9]: query[A] a.example from 10.0.0.1"),
    (b"<30>1 2026-12-02T18:50:01+01:00 ns1 named 44 - - client @0x1 10.0.0.8#5353 (b.example): query: b.example IN A +",
     "named", b"Dec  2 17:50:01 ns1 named[44]: client @0x1 10.0.0.8#5353 (b.example): query: b.example IN A +"),
    (b'<30>1 2026-12-02T17:50:01Z h sshd - ID47 [x@1 a="x\\]y"][y@2 b="1"] \xef\xbb\xbfFailed password',
     "sshd", b"Dec  2 17:50:01 h sshd: Failed password"),
    # a device that sends its log line without a syslog header (FortiGate): the format is known by the line
    (b'<189>date=2026-12-02 time=17:50:02 devname="FGT" type="event" subtype="vpn" action="ssl-login-fail"',
     "fortigate", b'date=2026-12-02 time=17:50:02 devname="FGT" type="event" subtype="vpn" action="ssl-login-fail"'),
    (b'<189>1 2026-12-02T17:50:02Z fw - - - - date=2026-12-02 time=17:50:02 type="traffic"',
     "fortigate", b'date=2026-12-02 time=17:50:02 type="traffic"'),
    # Cisco ASA: its own stamp (with a year) and the %ASA tag where a program would be
    (b"<166>Dec 02 2026 17:50:04: %ASA-6-605004: Login denied from 203.0.113.7/5151 to outside:198.51.100.1/ssh "
     b'for user "admin"', "cisco_asa", b"Dec 02 2026 17:50:04: %ASA-6-605004: Login denied from 203.0.113.7/5151 to "
     b'outside:198.51.100.1/ssh for user "admin"'),
    # PAN-OS: a stamp and a host, then the fields (no program)
    (b"<14>Dec  2 17:50:03 fw01 1,2026/12/02 17:50:03,0125,TRAFFIC,end,2561,2026/12/02 17:50:03,10.0.0.5",
     "paloalto", b"Dec  2 17:50:03 fw01 1,2026/12/02 17:50:03,0125,TRAFFIC,end,2561,2026/12/02 17:50:03,10.0.0.5"),
])
def test_messages_become_the_line_their_parser_reads(raw, program, line):
    msg = parse_message(raw)
    assert msg is not None and msg.program == program and msg.line == line


@pytest.mark.parametrize("raw", [b"hello world", b"<30>", b"<30>1 2026-12-02T17:50:01Z h - - - - msg"])
def test_what_is_not_routable_syslog_gives_none(raw):
    assert parse_message(raw) is None


def test_programs_are_declared_by_the_parsers():
    assert parser_for_program("dnsmasq") is parsers()["pihole"]
    assert parser_for_program("PIHOLE-FTL") is parsers()["pihole"]
    assert parser_for_program("named") is parsers()["bind"]
    assert parser_for_program("sshd") is parsers()["linux_auth"]
    assert parser_for_program("cron") is None


def test_tcp_framing_octet_counted_and_newline_mixed():
    a, b = b"<30>Dec  2 17:50:00 dnsmasq[1]: x", b"<30>Dec  2 17:50:00 dnsmasq[1]: y"
    buf = bytearray(str(len(a)).encode() + b" " + a + b + b"\n" + b"12 <30>partial")
    assert octet_frames(buf) == [a, b]
    assert bytes(buf) == b"12 <30>partial"  # waits for the rest of the frame


def test_listener_udp_and_tcp_into_the_store(tmp_path):
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = Watcher(store, WatchOptions(ingest=IngestOptions(year=2026), detect=False, hold_seconds=0.0))
        udp, tcp = SyslogListener.parse("udp://127.0.0.1:0"), SyslogListener.parse("tcp://127.0.0.1:0")
        udp.start(w)
        tcp.start(w)
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"<30>Dec  2 17:50:00 pi dnsmasq[1]: query[A] udp.example from 10.0.0.1", ("127.0.0.1", udp.port))
            s.sendto(b"<30>Dec  2 17:50:00 pi cron[1]: job", ("127.0.0.1", udp.port))
            s.sendto(b"<38>Dec  2 17:50:00 web1 sshd[9]: Failed password for root from 203.0.113.5 port 4242 ssh2",
                     ("127.0.0.1", udp.port))
            s.close()
            m = b"<30>1 2026-12-02T17:50:01Z ns1 named 4 - - client @0x1 10.0.0.8#53 (t.example): query: t.example IN A + (10.0.0.3)"
            with socket.create_connection(("127.0.0.1", tcp.port)) as c:
                c.sendall(str(len(m)).encode() + b" " + m)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and (store.scalar("SELECT count(*) FROM dns_queries") < 2
                                                   or not store.scalar("SELECT count(*) FROM logon_events")):
                w.poll()
                time.sleep(0.05)
            w.close()
            got = store.rows("SELECT query_name, client FROM dns_queries ORDER BY 1")
            logons = store.rows("SELECT event, account FROM logon_events")
        finally:
            udp.close()
            tcp.close()
    assert got == [("t.example", "10.0.0.8"), ("udp.example", "10.0.0.1")]
    assert logons == [("failure", "root")]
    assert w.health.extra["syslog_unrouted"] == {"cron": 1}


def test_a_firewall_sending_lines_without_a_header_is_stored(tmp_path):
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = Watcher(store, WatchOptions(ingest=IngestOptions(year=2026), detect=False, hold_seconds=0.0))
        udp = SyslogListener.parse("udp://127.0.0.1:0")
        udp.start(w)
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(3):
                s.sendto(f'<189>date=2026-12-02 time=17:50:0{i} devname="FGT" type="event" subtype="vpn" '
                         f'action="ssl-login-fail" tunneltype="ssl-web" remip=203.0.113.7 user="admin{i}"'.encode(),
                         ("127.0.0.1", udp.port))
            s.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and store.scalar("SELECT count(*) FROM logon_events") < 3:
                w.poll()
                time.sleep(0.05)
            w.close()
            logons = store.rows("SELECT client, account, host, service, event FROM logon_events ORDER BY account")
        finally:
            udp.close()
    assert logons == [("203.0.113.7", f"admin{i}", "FGT", "sslvpn", "failure") for i in range(3)]
