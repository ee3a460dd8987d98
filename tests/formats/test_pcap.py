"""pcap / pcapng parser: captures built here with dpkt (written to tmp_path), and the real samples."""

from __future__ import annotations

import datetime as dt
import io
import socket
import struct
from pathlib import Path

import dpkt
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext
from netsift.ingest.capture import packets
from netsift.ingest.formats import pcap

CLIENT, SERVER = "10.0.0.5", "192.0.2.53"
CLIENT6, SERVER6 = "2001:db8::5", "2001:db8::53"
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
T0_DT = dt.datetime(2023, 11, 14, 22, 13, 20)
ACK_PSH = dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH
RR = dpkt.dns.DNS.RR


# --- building captures ------------------------------------------------------------------------------

def addr(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)


def query(name: str, qtype: int = 1, txid: int = 0x1234, more: tuple[tuple[str, int], ...] = (),
          opcode: int = 0) -> bytes:
    qd = [dpkt.dns.DNS.Q(name=n, type=t) for n, t in ((name, qtype), *more)]
    return bytes(dpkt.dns.DNS(id=txid, op=dpkt.dns.DNS_RD | (opcode << 11), qd=qd))


def response(name: str, qtype: int = 1, txid: int = 0x1234, rcode: int = 0, answers: tuple = (),
             questions: bool = True) -> bytes:
    qd = [dpkt.dns.DNS.Q(name=name, type=qtype)] if questions else []
    return bytes(dpkt.dns.DNS(id=txid, op=dpkt.dns.DNS_QR | dpkt.dns.DNS_RD | dpkt.dns.DNS_RA | rcode,
                              qd=qd, an=list(answers)))


def a_record(name: str, ip: str) -> RR:
    return RR(name=name, type=1, ip=addr(ip))


def ip_packet(l4: dpkt.Packet, proto: int, src: str, dst: str) -> bytes:
    if ":" in src:
        ip6 = dpkt.ip6.IP6(src=addr(src), dst=addr(dst), nxt=proto, hlim=64, plen=len(bytes(l4)), data=l4)
        return bytes(ip6)
    return bytes(dpkt.ip.IP(src=addr(src), dst=addr(dst), p=proto, data=l4))


def udp(payload: bytes, src: str = CLIENT, dst: str = SERVER, sport: int = 40000, dport: int = 53) -> bytes:
    datagram = dpkt.udp.UDP(sport=sport, dport=dport, ulen=8 + len(payload), data=payload)
    return ip_packet(datagram, 17, src, dst)


def reply(payload: bytes, src: str = SERVER, dst: str = CLIENT, dport: int = 40000) -> bytes:
    """A UDP datagram from the server's port 53 back to the client."""
    return udp(payload, src=src, dst=dst, sport=53, dport=dport)


def tcp(payload: bytes, seq: int, src: str = CLIENT, dst: str = SERVER, sport: int = 40001, dport: int = 53,
        flags: int = ACK_PSH) -> bytes:
    return ip_packet(dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, flags=flags, data=payload), 6, src, dst)


def eth(ip: bytes, vlans: tuple[tuple[int, int], ...] = ()) -> bytes:
    ethertype = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    tags = b"".join(struct.pack(">HH", tpid, vid) for tpid, vid in vlans)
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + tags + struct.pack(">H", ethertype) + ip


def write_pcap(path: Path, frames: list[tuple[float, bytes]], linktype: int = 1, nano: bool = False,
               big_endian: bool = False) -> Path:
    with open(path, "wb") as f:
        if not big_endian:
            writer = dpkt.pcap.Writer(f, linktype=linktype, nano=nano, snaplen=65535)
            for ts, frame in frames:
                writer.writepkt(frame, ts=ts)
            return path
        f.write(struct.pack(">IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for ts, frame in frames:
            sec = int(ts)
            frac = round((ts - sec) * (1e9 if nano else 1e6))
            f.write(struct.pack(">IIII", sec, frac, len(frame), len(frame)) + frame)
    return path


def write_pcapng(path: Path, frames: list[tuple[float, bytes]], linktype: int = 1,
                 big_endian: bool = False) -> Path:
    with open(path, "wb") as f:
        if not big_endian:
            writer = dpkt.pcapng.Writer(f, linktype=linktype)
            for ts, frame in frames:
                writer.writepkt(frame, ts=ts)
            return path
        f.write(struct.pack(">IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28))
        f.write(struct.pack(">IIHHII", 1, 20, linktype, 0, 65535, 20))
        for ts, frame in frames:
            padded = frame + b"\0" * (-len(frame) % 4)
            micros = round(ts * 1e6)
            size = 32 + len(padded)
            n = len(frame)
            head = struct.pack(">IIIIIII", 6, size, 0, micros >> 32, micros & 0xFFFFFFFF, n, n)
            f.write(head + padded + struct.pack(">I", size))
    return path


def run(source: Path | bytes) -> tuple[list[pcap.ParseResult], ParseContext]:
    ctx = ParseContext(path=str(source)[:40])
    data = source if isinstance(source, bytes) else source.read_bytes()
    results = list(pcap.parse_stream(io.BytesIO(data), ctx))
    total = sum(r.lines_accounted for r in results)
    assert total == ctx.state["pcap_packets"] + ctx.state["pcap_unbalanced_rows"]
    return results, ctx


def merged(source: Path | bytes) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    results, _ = run(source)
    return (pl.concat([r.records for r in results]), pl.concat([r.rejected for r in results]),
            sum(r.skipped for r in results))


def udp_exchange(name: str = "www.example.com", **resp) -> list[tuple[float, bytes]]:
    return [(T0, eth(udp(query(name)))),
            (T0 + 0.02, eth(reply(response(name, **resp))))]


CAPTURE_FORMATS = [
    (write_pcap, {}), (write_pcap, {"nano": True}), (write_pcap, {"big_endian": True}),
    (write_pcap, {"big_endian": True, "nano": True}),
    (write_pcapng, {}), (write_pcapng, {"big_endian": True}),
]


# --- sniffing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("writer, kwargs", CAPTURE_FORMATS)
def test_sniff_capture_headers(tmp_path, writer, kwargs):
    head = writer(tmp_path / "c", udp_exchange(), **kwargs).read_bytes()[:64]
    assert pcap.sniff_bytes(head) >= 0.9


@pytest.mark.parametrize("head", [
    b"May  9 02:36:02 dnsmasq[71314]: query[A] example.com from 10.0.0.5\n",
    b"#separator \\x09\n#fields\tts\tuid\n", b"", b"\xd4\xc3",
])
def test_sniff_text_is_zero(head):
    assert pcap.sniff_bytes(head) == 0


# --- UDP ------------------------------------------------------------------------------------------

def test_udp_query_and_response(tmp_path):
    frames = udp_exchange(answers=(a_record("www.example.com", "93.184.216.34"),))
    records, rejected, skipped = merged(write_pcap(tmp_path / "valid.pcap", frames))
    assert records.to_dicts() == [{
        "ts": T0_DT, "client": CLIENT, "query_name": "www.example.com", "query_type": "A",
        "response_code": "NOERROR", "answers": ["93.184.216.34"], "resolver_action": None, "source_line": 1,
    }]
    assert (rejected.height, skipped) == (0, 1)


def test_nxdomain(tmp_path):
    records, _, _ = merged(write_pcap(tmp_path / "nx.pcap", udp_exchange("no.such.example", rcode=3)))
    row = records.select("query_name", "response_code", "answers").row(0)
    assert row == ("no.such.example", "NXDOMAIN", [])


LONG_TXT = [b"v=spf1 " + b"a" * 200, b"b" * 100]


@pytest.mark.parametrize("qtype, rr, expected", [
    (1, a_record("x.example", "192.0.2.1"), "192.0.2.1"),
    (28, RR(name="x.example", type=28, ip6=addr("2001:db8::1")), "2001:db8::1"),
    (5, RR(name="x.example", type=5, cname="Target.Example.NET"), "target.example.net"),
    (12, RR(name="x.example", type=12, ptrname="host.example"), "host.example"),
    (2, RR(name="x.example", type=2, nsname="ns1.example"), "ns1.example"),
    (15, RR(name="x.example", type=15, mxname="mail.example", preference=10), "mail.example"),
    (33, RR(name="x.example", type=33, srvname="sip.example", priority=1, weight=2, port=5060),
     "sip.example"),
    (16, RR(name="x.example", type=16, text=[b"hello", b" world"]), "hello world"),
    (16, RR(name="x.example", type=16, text=LONG_TXT), (b"".join(LONG_TXT)).decode()[:255]),
    (16, RR(name="x.example", type=16, text=[b"tab\there\\"]), "tab\\009here\\\\"),
    (13, RR(name="x.example", type=13, rdata=b"\x03cpu\x02os"), None),  # HINFO: not an answer we keep
])
def test_answer_types(tmp_path, qtype, rr, expected):
    frames = udp_exchange("x.example", qtype=qtype, answers=(rr,))
    frames[0] = (T0, eth(udp(query("x.example", qtype))))
    records, _, _ = merged(write_pcap(tmp_path / "a.pcap", frames))
    assert records["answers"].to_list() == [[expected] if expected else []]


def test_multi_answer_keeps_order(tmp_path):
    answers = (RR(name="www.example.com", type=5, cname="cdn.example.net"),
               a_record("cdn.example.net", "192.0.2.1"), a_record("cdn.example.net", "192.0.2.2"))
    records, _, _ = merged(write_pcap(tmp_path / "m.pcap", udp_exchange(answers=answers)))
    assert records["answers"].to_list() == [["cdn.example.net", "192.0.2.1", "192.0.2.2"]]


def test_names_lowercased_and_escaped_like_dig(tmp_path):
    wire = b"".join(bytes([len(x)]) + x for x in (b"A.b", b"x y", b"\xff\x00", b"Ex(1)")) + b"\x00"
    message = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", 1, 1)
    records, _, _ = merged(write_pcap(tmp_path / "n.pcap", [(T0, eth(udp(message)))]))
    assert records["query_name"].to_list() == ["a\\.b.x\\032y.\\255\\000.ex\\(1\\)"]


def test_unknown_qtype_and_root_name(tmp_path):
    frames = [(T0, eth(udp(query("example.org", 65280)))), (T0, eth(udp(query("", 2, txid=9))))]
    records, _, _ = merged(write_pcap(tmp_path / "t.pcap", frames))
    assert records.select("query_name", "query_type").rows() == [("example.org", "TYPE65280"), ("", "NS")]


@pytest.mark.parametrize("frame, why", [
    (eth(udp(b"hello", dport=123)), "NTP port"),
    (eth(tcp(b"GET / HTTP/1.1\r\n\r\n", seq=1, dport=80)), "HTTP"),
    (b"\xff" * 12 + b"\x08\x06" + b"\x00" * 28, "ARP"),
    (eth(b"\x45\x00"), "cut IPv4 header"),
    (eth(udp(query("x.example", opcode=5))), "DNS UPDATE"),
    (eth(udp(response("svc.local", questions=False), src="192.0.2.9", dst="224.0.0.251", sport=5353,
                 dport=5353)), "mDNS announcement without question"),
])
def test_skipped_packets(tmp_path, frame, why):
    records, rejected, skipped = merged(write_pcap(tmp_path / "s.pcap", [(T0, frame)]))
    assert (records.height, rejected.height, skipped) == (0, 0, 1), why


@pytest.mark.parametrize("payload, reason", [
    (b"\x12\x34\x01", "DNS decode failed: got 3, 12 needed at least"),
    (struct.pack(">HHHHHH", 1, 0x100, 1, 0, 0, 0) + b"\x80abc\x00\x00\x01\x00\x01",
     "DNS decode failed: Invalid label length 80"),
    (struct.pack(">HHHHHH", 1, 0x100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01",
     "DNS decode failed: Invalid label compression pointer"),
    (struct.pack(">HHHHHH", 1, 0x100, 2, 0, 0, 0) + b"\x01a\x00\x00\x01\x00\x01",
     "DNS decode failed: name runs past the end of the message"),
    (b"", "DNS decode failed: got 0, 12 needed at least"),
])
def test_malformed_dns_is_rejected(tmp_path, payload, reason):
    path = write_pcap(tmp_path / "bad.pcap", [(T0, eth(udp(payload)))])
    records, rejected, skipped = merged(path)
    assert (records.height, skipped) == (0, 0)
    assert rejected.rows() == [(1, reason, payload[:64].hex())]


def test_a_lone_ip_fragment_on_dns_port_waits_for_the_rest(tmp_path):
    frag = bytearray(udp(query("big.example")))
    frag[6] |= 0x20  # more fragments, and the rest never comes
    records, rejected, skipped = merged(write_pcap(tmp_path / "f.pcap", [(T0, eth(bytes(frag)))]))
    assert (records.height, rejected.height, skipped) == (0, 0, 1)


# --- matching ---------------------------------------------------------------------------------------

def test_unmatched_response_becomes_a_record(tmp_path):
    frames = [(T0 + 1, eth(reply(response("only.example", rcode=2), dport=4444)))]
    records, _, skipped = merged(write_pcap(tmp_path / "r.pcap", frames))
    assert records.select("ts", "client", "query_name", "response_code", "source_line").row(0) == (
        T0_DT + dt.timedelta(seconds=1), CLIENT, "only.example", "SERVFAIL", 1)
    assert skipped == 0


def test_response_from_other_server_or_after_timeout_does_not_match(tmp_path):
    late = T0 + 1 + packets.QUERY_TIMEOUT_SECONDS + 1
    frames = [(T0, eth(udp(query("a.example")))),
              (T0, eth(reply(response("a.example"), src="198.51.100.1"))),
              (T0 + 1, eth(udp(query("b.example", txid=2)))),
              (late, eth(reply(response("b.example", txid=2))))]
    records, _, skipped = merged(write_pcap(tmp_path / "x.pcap", frames))
    assert records.select("query_name", "response_code", "source_line").rows() == [
        ("a.example", None, 1), ("a.example", "NOERROR", 2),
        ("b.example", None, 3), ("b.example", "NOERROR", 4)]
    assert skipped == 0


def test_duplicate_response_and_retransmitted_query(tmp_path):
    frames = udp_exchange() + udp_exchange()[1:]  # the response twice
    frames.insert(1, (T0 + 0.01, eth(udp(query("www.example.com")))))  # the query retransmitted
    records, _, skipped = merged(write_pcap(tmp_path / "d.pcap", frames))
    assert records.select("response_code", "source_line").rows() == [("NOERROR", 1), ("NOERROR", 2)]
    assert skipped == 2


def test_mdns_and_llmnr_client_is_the_asker(tmp_path):
    aaaa = RR(name="wpad", type=28, ip6=addr("fe80::99"))
    frames = [
        (T0, eth(udp(query("printer.local", 33, txid=0), src="192.168.1.7", dst="224.0.0.251",
                     sport=5353, dport=5353))),
        (T0, eth(udp(query("WPAD", txid=77), src="fe80::1", dst="ff02::1:3", sport=50000, dport=5355))),
        (T0 + 0.1, eth(udp(response("wpad", txid=77, answers=(aaaa,)),
                           src="fe80::99", dst="fe80::1", sport=5355, dport=50000))),
        (T0 + 0.1, eth(udp(response("wpad", txid=77),
                           src="fe80::98", dst="fe80::1", sport=5355, dport=50000))),
    ]
    records, _, skipped = merged(write_pcap(tmp_path / "md.pcap", frames))
    assert records.select("client", "query_name", "query_type", "answers").rows() == [
        ("192.168.1.7", "printer.local", "SRV", None), ("fe80::1", "wpad", "A", ["fe80::99"])]
    assert skipped == 2  # the matched LLMNR answer and the second responder's duplicate


def test_multi_question_packet_gives_one_row_per_question(tmp_path):
    q = query("a.example", 1, txid=5, more=(("a.example", 28),))
    questions = [dpkt.dns.DNS.Q(name="a.example", type=t) for t in (1, 28)]
    answer = bytes(dpkt.dns.DNS(id=5, op=dpkt.dns.DNS_QR, qd=questions,
                                an=[a_record("a.example", "192.0.2.7")]))
    both = write_pcap(tmp_path / "mq.pcap", [(T0, eth(udp(q))), (T0, eth(reply(answer)))])
    results, ctx = run(both)
    records = results[0].records
    assert records.select("query_type", "answers", "source_line").rows() == [
        ("A", ["192.0.2.7"], 1), ("AAAA", ["192.0.2.7"], 1)]
    assert (results[0].skipped, ctx.state["pcap_unbalanced_rows"]) == (0, 0)  # extra row offsets the response
    _, ctx = run(write_pcap(tmp_path / "mq1.pcap", [(T0, eth(udp(q)))]))
    # nothing to offset the extra row against
    assert (ctx.state["pcap_packets"], ctx.state["pcap_unbalanced_rows"]) == (1, 1)


def test_queries_carried_across_results(tmp_path, monkeypatch):
    monkeypatch.setattr(packets, "CHUNK_PACKETS", 2)
    late = T0 + packets.QUERY_TIMEOUT_SECONDS + 5
    frames = [(T0, eth(udp(query("a.example", txid=1)))),
              (T0, eth(udp(query("never.example", txid=2)))),
              (T0 + 0.5, eth(reply(response("a.example", txid=1)))),
              (late, eth(udp(b"ntp", dport=123))),
              (late, eth(udp(query("c.example", txid=3)))),
              ]
    results, ctx = run(write_pcap(tmp_path / "carry.pcap", frames))
    shape = [(r.records["source_line"].to_list(), r.skipped) for r in results]
    # packets 1-2 wait; packet 3 answers 1; at the boundary after packet 4 the query in 2 has timed out
    assert shape == [([], 0), ([1, 2], 2), ([5], 0)]
    assert sum(r.lines_accounted for r in results) == ctx.state["pcap_packets"] == 5


# --- TCP --------------------------------------------------------------------------------------------

def framed(message: bytes) -> bytes:
    return struct.pack(">H", len(message)) + message


def test_tcp_split_message_and_two_messages_in_one_segment(tmp_path):
    q1, q2, q3 = query("one.example", txid=1), query("two.example", txid=2), query("three.example", txid=3)
    r1 = response("one.example", txid=1, answers=(a_record("one.example", "192.0.2.1"),))
    r2, r3 = response("two.example", txid=2, rcode=3), response("three.example", txid=3)
    stream = framed(q1)
    back = {"src": SERVER, "dst": CLIENT, "sport": 53, "dport": 40001}
    frames = [
        (T0, eth(tcp(b"", seq=999, flags=dpkt.tcp.TH_SYN))),
        (T0, eth(tcp(b"", seq=4999, flags=dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK, **back))),
        (T0, eth(tcp(stream[:7], seq=1000))),                       # 3: first half of q1
        (T0 + 0.1, eth(tcp(stream[7:], seq=1007))),                 # 4: rest of q1 -> the record's packet
        (T0 + 0.1, eth(tcp(stream[7:], seq=1007))),                 # 5: retransmission: nothing new
        (T0 + 0.2, eth(tcp(framed(r1), seq=5000, **back))),          # 6
        (T0 + 0.3, eth(tcp(framed(q2) + framed(q3), seq=1000 + len(stream)))),  # 7: two queries
        (T0 + 0.4, eth(tcp(framed(r2) + framed(r3)[:5], seq=5000 + len(framed(r1)), **back))),  # 8
        (T0 + 0.5, eth(tcp(framed(r3)[5:], seq=5000 + len(framed(r1)) + len(framed(r2)) + 5, **back))),  # 9
        (T0 + 0.6, eth(tcp(b"", seq=1, flags=dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK))),
    ]
    results, ctx = run(write_pcap(tmp_path / "tcp.pcap", frames))
    records = pl.concat([r.records for r in results])
    assert records.select("query_name", "response_code", "answers", "source_line").rows() == [
        ("one.example", "NOERROR", ["192.0.2.1"], 4), ("two.example", "NXDOMAIN", [], 7),
        ("three.example", "NOERROR", [], 7)]
    assert records["ts"][0] == T0_DT + dt.timedelta(seconds=0.1)
    # 8 packets without rows, less 1 for the second row of packet 7
    assert sum(r.skipped for r in results) == 10 - 3
    assert (ctx.state["pcap_packets"], ctx.state["pcap_unbalanced_rows"]) == (10, 0)


def test_tcp_capture_started_mid_connection_and_after_a_gap(tmp_path):
    q1, q2 = framed(query("first.example", txid=1)), framed(query("second.example", txid=2))
    frames = [(T0, eth(tcp(q1, seq=7000))),
              (T0, eth(tcp(q1[:4], seq=7000 + len(q1)))),          # start of a message ...
              (T0, eth(tcp(q2, seq=9000)))]                         # ... whose rest was lost
    records, rejected, _ = merged(write_pcap(tmp_path / "gap.pcap", frames))
    assert records["query_name"].to_list() == ["first.example", "second.example"]
    assert rejected.height == 0


def test_tcp_garbage_message_is_rejected(tmp_path):
    frames = [(T0, eth(tcp(framed(b"\x00\x01\x02"), seq=1)))]
    _, rejected, _ = merged(write_pcap(tmp_path / "g.pcap", frames))
    assert rejected.rows() == [(1, "DNS decode failed: got 3, 12 needed at least", "000102")]


# --- link types and file formats --------------------------------------------------------------------

def sll(ip: bytes) -> bytes:
    ethertype = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return struct.pack(">HHH8sH", 0, 1, 6, b"\x00\x11\x22\x33\x44\x55\0\0", ethertype) + ip


def sll2(ip: bytes) -> bytes:
    return struct.pack(">HHIHBB8s", 0x86DD if ip[0] >> 4 == 6 else 0x0800, 0, 2, 1, 0, 6, b"\0" * 8) + ip


@pytest.mark.parametrize("linktype, wrap, v6", [
    (1, eth, False),
    (1, eth, True),
    (1, lambda ip: eth(ip, vlans=((0x8100, 10),)), False),
    (1, lambda ip: eth(ip, vlans=((0x88A8, 100), (0x8100, 10))), False),
    (1, lambda ip: eth(ip, vlans=((0x8100, 10),)), True),
    (113, sll, False),
    (113, sll, True),
    (276, sll2, False),
    (0, lambda ip: struct.pack("<I", 2) + ip, False),
    (0, lambda ip: struct.pack("<I", 30) + ip, True),
    (108, lambda ip: struct.pack(">I", 2) + ip, False),
    (101, lambda ip: ip, False),
    (101, lambda ip: ip, True),
    (12, lambda ip: ip, True),
    (14, lambda ip: ip, False),
    (228, lambda ip: ip, False),
    (229, lambda ip: ip, True),
])
def test_link_types(tmp_path, linktype, wrap, v6):
    client, server = (CLIENT6, SERVER6) if v6 else (CLIENT, SERVER)
    frames = [(T0, wrap(udp(query("link.example"), src=client, dst=server))),
              (T0, wrap(udp(response("link.example", answers=(a_record("link.example", "192.0.2.4"),)),
                            src=server, dst=client, sport=53, dport=40000)))]
    records, rejected, skipped = merged(write_pcap(tmp_path / f"l{linktype}.pcap", frames, linktype=linktype))
    rows = records.select("client", "query_name", "answers").rows()
    assert rows == [(client, "link.example", ["192.0.2.4"])]
    assert (rejected.height, skipped) == (0, 1)


@pytest.mark.parametrize("writer, kwargs", CAPTURE_FORMATS)
def test_file_formats_and_byte_orders(tmp_path, writer, kwargs):
    ts = T0 + 0.123456
    frames = [(ts, eth(udp(query("fmt.example")))), (ts + 1, eth(udp(b"x", dport=9)))]
    path = writer(tmp_path / "f", frames, **kwargs)
    records, rejected, skipped = merged(path)
    assert records.select("ts", "query_name", "source_line").rows() == [
        (T0_DT + dt.timedelta(microseconds=123456), "fmt.example", 1)]
    assert (rejected.height, skipped) == (0, 1)


def test_unsupported_link_type_is_one_error(tmp_path):
    path = write_pcap(tmp_path / "wifi.pcap", [(T0, b"\x00" * 40)], linktype=105)
    with pytest.raises(ValueError, match=r"link type 105 \(DLT_IEEE802_11\)"):
        run(path)


@pytest.mark.parametrize("data", [
    b"",
    b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 8 + b"\xff\xff\x00\x00\x01\x00\x00\x00",  # pcap header
    struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28),  # pcapng section header only
])
def test_empty_capture_gives_no_records(data):
    results, ctx = run(data)
    assert [r.lines_accounted for r in results] == [0]
    assert ctx.state["pcap_packets"] == 0


@pytest.mark.parametrize("data, message", [
    (b"not a capture at all, just text\n", "not a pcap or pcapng file"),
    (b"\xd4\xc3\xb2\xa1\x02\x00", "pcap file header truncated"),
])
def test_not_a_capture_raises(data, message):
    with pytest.raises(ValueError, match=message):
        run(data)


@pytest.mark.parametrize("writer, record_header", [(write_pcap, 16), (write_pcapng, 28)])
@pytest.mark.parametrize("into", [10, 0, 5])  # bytes into the record header; 0 / 5: into the packet data
def test_truncated_file(tmp_path, writer, record_header, into):
    frames = udp_exchange() + [(T0 + 1, eth(udp(query("cut.example", txid=9))))]
    start = len(writer(tmp_path / "two", frames[:2]).read_bytes())
    data = writer(tmp_path / "three", frames).read_bytes()
    cut = start + into if into >= record_header // 2 else start + record_header + into
    results, ctx = run(data[:cut])
    records = pl.concat([r.records for r in results])
    rejected = pl.concat([r.rejected for r in results])
    assert records["source_line"].to_list() == [1]
    assert rejected.select("source_line", "reason").rows() == [(3, "file truncated at packet 3")]
    assert rejected["text"][0] == data[start:cut][:64].hex()
    assert ctx.state["pcap_packets"] == 3


def test_absurd_record_length_is_reported_as_corrupt():
    header = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 8 + b"\xff\xff\x00\x00\x01\x00\x00\x00"
    results, _ = run(header + struct.pack("<IIII", 0, 0, 0xFFFFFFF0, 60) + b"\x00" * 60)
    assert results[-1].rejected["reason"].to_list() == [
        "file corrupt at packet 1: record length 4294967280 out of range"]


# --- properties -------------------------------------------------------------------------------------

PCAP_HEADER = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 8 + b"\xff\xff\x00\x00\x01\x00\x00\x00"


def check_accounting(results: list, ctx: ParseContext) -> None:
    packets = ctx.state["pcap_packets"]
    lines = []
    for r in results:
        assert r.skipped >= 0
        lines += r.records["source_line"].to_list() + r.rejected["source_line"].to_list()
    assert all(1 <= n <= packets for n in lines)


HEADERS = {
    "pcap": PCAP_HEADER,
    "pcap-big-endian-ns": struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1),
    "pcapng": struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
    + struct.pack("<IIHHII", 1, 20, 1, 0, 65535, 20),
}


@pytest.mark.parametrize("header", HEADERS.values(), ids=HEADERS.keys())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tail=st.binary(max_size=600))
def test_arbitrary_bytes_after_a_capture_header_never_raise(header, tail):
    results, ctx = run(header + tail)
    check_accounting(results, ctx)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads=st.lists(st.tuples(st.sampled_from([53, 5353, 5355]), st.binary(max_size=80), st.booleans()),
                         max_size=8))
def test_arbitrary_dns_payloads_never_raise(payloads):
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, snaplen=65535)
    for i, (port, payload, over_tcp) in enumerate(payloads):
        packet = tcp(payload, seq=i * 100) if over_tcp else udp(payload, dport=port)
        writer.writepkt(eth(packet), ts=T0 + i)
    results, ctx = run(out.getvalue())
    check_accounting(results, ctx)
    assert ctx.state["pcap_packets"] == len(payloads)


# --- the real samples -------------------------------------------------------------------------------

# counts checked by hand against `tcpdump -nr` (DNS lines, questions, responses) for every file
SAMPLES = [
    # path, records, skipped, rejected, first (name, type, rcode, client)
    ("pcaps/dns_general/arkime_dns-punycode.pcap", 1, 1, 0,
     ("xn--80a0adav.xn--80ao21a", "SOA", "NOERROR", "10.5.4.3")),
    ("pcaps/dns_general/arkime_dns-tcp.pcap", 2, 18, 0, ("google.com", "A", "NOERROR", "10.180.156.141")),
    ("pcaps/dns_general/arkime_dns-udp.pcap", 3, 2, 0, ("www.github.com", "A", "NOERROR", "10.180.156.141")),
    ("pcaps/dns_general/zeek_dns-txt-multiple.pcap", 1, 1, 0,
     ("flkr._domainkey.flickr.com", "TXT", "NOERROR", "192.150.187.50")),
    ("pcaps/dns_general/zeek_wikipedia.pcap", 24, 112, 0,
     ("gemini._sftp-ssh._tcp.local", "SRV", None, "141.142.220.202")),
    ("pcaps/dns_tunnelling/dmachard_dnscat2.pcap", 12, 12, 0,
     ("147901b8d3df9cc46c59d600078b3316ce.biillpi.com", "MX", "NOERROR", "192.168.1.17")),
    ("dns_logs/tcpdump_text/tcpdump_tests_dns_tcp.pcap", 1, 10, 0,
     ("www.tcpdump.org", "A", "NOERROR", "192.168.1.11")),
    ("dns_logs/tcpdump_text/tcpdump_tests_dns_udp.pcap", 1, 1, 0,
     ("www.tcpdump.org", "A", "NOERROR", "192.168.1.11")),
    ("dns_logs/tcpdump_text/tcpdump_tests_edns-opts.pcap", 21, 21, 0,
     ("example.com", "A", "NOERROR", "192.0.0.1")),
    # link type 228 (raw IPv4), one HTTP packet: nothing for DNS
    ("pcaps/cleartext_credentials/pcredz_synthetic_http_form.pcap", 0, 1, 0, None),
]


@pytest.mark.shared_data
@pytest.mark.parametrize("path, n_records, n_skipped, n_rejected, first", SAMPLES)
def test_real_samples(shared_data, path, n_records, n_skipped, n_rejected, first):
    results, ctx = run(shared_data / path)
    records = pl.concat([r.records for r in results])
    assert (records.height, sum(r.skipped for r in results), sum(r.rejected.height for r in results)) == (
        n_records, n_skipped, n_rejected)
    assert ctx.state["pcap_packets"] == n_records + n_skipped + n_rejected
    if first:
        assert records.select("query_name", "query_type", "response_code", "client").row(0) == first


@pytest.mark.shared_data
def test_real_sample_details(shared_data):
    records, _, _ = merged(shared_data / "pcaps/dns_tunnelling/dmachard_dnscat2.pcap")
    assert records["query_name"].str.ends_with(".biillpi.com").all()
    assert dict(records["query_type"].value_counts().rows()) == {"MX": 6, "TXT": 5, "CNAME": 1}
    assert records.filter(pl.col("query_type") == "TXT")["answers"][0].to_list() == [
        "480e01b8d3040655d23e05ffffd59e7416"]
    tcp_records, _, _ = merged(shared_data / "pcaps/dns_general/arkime_dns-tcp.pcap")
    assert tcp_records["answers"].list.len().to_list() == [11, 5]
    wiki, _, _ = merged(shared_data / "pcaps/dns_general/zeek_wikipedia.pcap")
    assert wiki.filter(pl.col("response_code") == "NXDOMAIN").height == 4
    assert wiki.filter(pl.col("query_name") == "brwc0cb383d1f42")["client"].unique().sort().to_list() == [
        "141.142.220.226", "fe80::3074:17d5:2052:c324"]


def test_a_capture_without_dns_says_what_it_holds(tmp_path):
    frames = [(T0 + i, eth(tcp(b"\x00 not HTTP\r\n\r\n", seq=i, sport=50000 + i, dport=80))) for i in range(4)]
    frames += [(T0 + 5, eth(udp(b"x" * 48, sport=40123, dport=123))),
               (T0 + 6, eth(udp(b"x" * 48, sport=123, dport=40124))),
               (T0 + 7, eth(tcp(b"\x16\x03\x01", seq=1, src=CLIENT6, dst=SERVER6, sport=50443, dport=443))),
               (T0 + 8, b"\xff" * 12 + b"\x08\x06" + b"\x00" * 28)]
    results, ctx = run(write_pcap(tmp_path / "web.pcap", frames))
    assert sum(r.records.height for r in results) == 0
    assert ctx.notes["capture"] == ("capture has 8 packets, none of them DNS, HTTP or a cleartext login (TCP 80: 4, "
                                    "UDP 123: 2, TCP 443: 1, ARP: 1): only its 7 connections (flows) are stored")


def test_a_capture_with_dns_or_no_packets_has_no_such_note(tmp_path):
    _, ctx = run(write_pcap(tmp_path / "dns.pcap", udp_exchange() + [(T0 + 1, eth(udp(b"x", dport=123)))]))
    assert "capture" not in ctx.notes
    _, ctx = run(write_pcap(tmp_path / "empty.pcap", []))
    assert ctx.notes["capture"] == "capture holds no packets"
