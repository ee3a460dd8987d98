"""Captures beyond DNS: flows, HTTP requests, cleartext credentials of each protocol, TCP reassembly
(order, retransmission, overlap), IP fragment reassembly, masking. Captures built here with dpkt."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import dpkt
import polars as pl
import pytest
from pyasn1.codec.ber import encoder as ber_encoder
from pyasn1_modules import rfc2251

from netsift.ingest.base import ParseContext
from netsift.ingest.capture import creds, ipfrag, tcp
from netsift.ingest.formats import pcap
from tests.formats.test_pcap import (
    T0,
    a_record,
    addr,
    eth,
    ip_packet,
    query,
    response,
    write_pcap,
)

C, S = "10.0.0.5", "203.0.113.80"
SYN, ACK, PSH, FIN, RST = (dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_PUSH, dpkt.tcp.TH_FIN,
                           dpkt.tcp.TH_RST)


def seg(payload: bytes, seq: int, src: str = C, dst: str = S, sport: int = 50000, dport: int = 80,
        flags: int = ACK | PSH) -> bytes:
    return eth(ip_packet(dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, flags=flags, data=payload), 6, src, dst))


class Conversation:
    """A TCP connection built packet by packet: handshake, data each way (with the right sequence
    numbers), close."""

    def __init__(self, port: int, client: str = C, server: str = S, cport: int = 50000, t: float = T0):
        self.port, self.client, self.server, self.cport, self.t = port, client, server, cport, t
        self.cseq, self.sseq = 1000, 5000
        self.frames: list[tuple[float, bytes]] = []

    def _add(self, frame: bytes) -> None:
        self.t += 0.01
        self.frames.append((self.t, frame))

    def handshake(self) -> Conversation:
        self._add(seg(b"", self.cseq, self.client, self.server, self.cport, self.port, SYN))
        self._add(seg(b"", self.sseq, self.server, self.client, self.port, self.cport, SYN | ACK))
        self.cseq, self.sseq = self.cseq + 1, self.sseq + 1
        return self

    def send(self, data: bytes) -> Conversation:
        self._add(seg(data, self.cseq, self.client, self.server, self.cport, self.port))
        self.cseq += len(data)
        return self

    def answer(self, data: bytes) -> Conversation:
        self._add(seg(data, self.sseq, self.server, self.client, self.port, self.cport))
        self.sseq += len(data)
        return self

    def close(self) -> Conversation:
        self._add(seg(b"", self.cseq, self.client, self.server, self.cport, self.port, FIN | ACK))
        self._add(seg(b"", self.sseq, self.server, self.client, self.port, self.cport, FIN | ACK))
        return self


def tables(frames: list[tuple[float, bytes]], tmp_path: Path, show_secrets: bool = False
           ) -> tuple[dict[str, pl.DataFrame], ParseContext, pl.DataFrame]:
    path = write_pcap(tmp_path / "c.pcap", frames)
    ctx = ParseContext(path="c.pcap", show_secrets=show_secrets)
    results = list(pcap.parse_stream(io.BytesIO(path.read_bytes()), ctx))
    out: dict[str, list[pl.DataFrame]] = {}
    for r in results:
        for name, frame in r.tables.items():
            out.setdefault(name, []).append(frame)
    merged = {name: pl.concat(frames) for name, frames in out.items()}
    return merged, ctx, pl.concat([r.records for r in results])


def credentials(frames, tmp_path, **kw) -> list[dict]:
    got, _, _ = tables(frames, tmp_path, **kw)
    frame = got.get("credentials")
    return [] if frame is None else frame.select("protocol", "account", "secret", "detail").to_dicts()


FORM = b"user=alice&password=wonderland123&remember=1"


def http_post(body: bytes = FORM, content_type: bytes = b"application/x-www-form-urlencoded",
              uri: bytes = b"/login") -> bytes:
    return (b"POST " + uri + b" HTTP/1.1\r\nHost: Shop.Example.com:8080\r\nUser-Agent: demo/1.0\r\n"
            b"Content-Type: " + content_type + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


@pytest.mark.parametrize("port, client_lines, expected", [
    (21, [b"USER anna\r\n", b"PASS s3cret-ftp\r\n"], ("ftp", "anna", "s3cret-ftp", "USER/PASS")),
    (110, [b"USER bob\r\n", b"PASS pop-pass\r\n"], ("pop3", "bob", "pop-pass", "USER/PASS")),
    (143, [b'a001 LOGIN "carol smith" "imap \\"pw\\""\r\n'], ("imap", "carol smith", 'imap "pw"', "LOGIN")),
    (143, [b"a1 AUTHENTICATE PLAIN\r\n", base64.b64encode(b"\0dave\0plainpw") + b"\r\n"],
     ("imap", "dave", "plainpw", "AUTH PLAIN")),
    (25, [b"EHLO x\r\n", b"AUTH PLAIN " + base64.b64encode(b"\0erin\0smtp-pw") + b"\r\n"],
     ("smtp", "erin", "smtp-pw", "AUTH PLAIN")),
    (587, [b"AUTH LOGIN\r\n", base64.b64encode(b"frank") + b"\r\n", base64.b64encode(b"login-pw") + b"\r\n"],
     ("smtp", "frank", "login-pw", "AUTH LOGIN")),
    (587, [b"AUTH LOGIN " + base64.b64encode(b"gina") + b"\r\n", base64.b64encode(b"pw-gina") + b"\r\n"],
     ("smtp", "gina", "pw-gina", "AUTH LOGIN")),
    (1080, [b"\x05\x01\x02", b"\x01\x04hank\x07socksPW"], ("socks5", "hank", "socksPW", "RFC 1929 username/password")),
])
def test_cleartext_logins(tmp_path, port, client_lines, expected):
    talk = Conversation(port).handshake()
    for line in client_lines:
        talk.send(line)
    got = credentials(talk.close().frames, tmp_path, show_secrets=True)
    assert [tuple(g.values()) for g in got] == [expected]


def ldap_bind(name: str, password: str, message_id: int = 1) -> bytes:
    message = rfc2251.LDAPMessage()
    message["messageID"] = message_id
    bind = message["protocolOp"]["bindRequest"]
    bind["version"] = 3
    bind["name"] = name
    bind["authentication"]["simple"] = password
    return ber_encoder.encode(message)


def test_ldap_simple_bind_split_across_segments(tmp_path):
    raw = ldap_bind("cn=admin,dc=example,dc=org", "ldap-secret")
    anonymous = ldap_bind("", "", 2)
    talk = Conversation(389).handshake().send(raw[:7]).send(raw[7:] + anonymous).close()
    assert credentials(talk.frames, tmp_path, show_secrets=True) == [
        {"protocol": "ldap", "account": "cn=admin,dc=example,dc=org", "secret": "ldap-secret",
         "detail": "simple bind"}]


def test_telnet_login_typed_a_character_at_a_time(tmp_path):
    talk = Conversation(23).handshake().answer(b"\xff\xfd\x18\xff\xfb\x01Debian\r\nlogin: ")
    for ch in b"ivan\r":
        talk.send(bytes([ch]))
    talk.answer(b"Password: ")
    for ch in b"telX\x7fnetpw\r\n":
        talk.send(bytes([ch]))
    assert credentials(talk.close().frames, tmp_path, show_secrets=True) == [
        {"protocol": "telnet", "account": "ivan", "secret": "telnetpw", "detail": "login prompt"}]


@pytest.mark.parametrize("body, content_type, uri, expected", [
    (FORM, b"application/x-www-form-urlencoded", b"/login", ("alice", "wonderland123")),
    (b"j_username=judy&j_password=jpw", b"application/x-www-form-urlencoded", b"/j_security_check",
     ("judy", "jpw")),
    (b"log=wpuser&pwd=wp-pass&wp-submit=Log+In", b"application/x-www-form-urlencoded", b"/wp-login.php",
     ("wpuser", "wp-pass")),
    (b"session%5Bemail%5D=k%40x.org&session%5Bpassword%5D=k+pw", b"application/x-www-form-urlencoded", b"/s",
     ("k@x.org", "k pw")),
    (b'{"Email": "l@x.org", "Passwd": "json-pw"}', b"application/json", b"/api/login", ("l@x.org", "json-pw")),
    (b"", b"text/plain", b"/cgi?login=mallory&pass=qs-pw", ("mallory", "qs-pw")),
    (b"q=search+term", b"application/x-www-form-urlencoded", b"/search", None),
])
def test_http_form_credentials(tmp_path, body, content_type, uri, expected):
    talk = Conversation(80).handshake().send(http_post(body, content_type, uri)).answer(OK).close()
    got = credentials(talk.frames, tmp_path, show_secrets=True)
    if expected is None:
        assert got == []
    else:
        assert [(g["protocol"], g["account"], g["secret"]) for g in got] == [("http-form", *expected)]


def test_http_basic_request_row_and_masked_secret(tmp_path):
    request = (b"GET /admin HTTP/1.1\r\nHost: intranet.example\r\nUser-Agent: curl/8\r\n"
               b"Authorization: Basic " + base64.b64encode(b"root:toor-admin") + b"\r\n\r\n")
    talk = Conversation(8080).handshake().send(request).answer(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
    got, _, _ = tables(talk.close().frames, tmp_path)
    cred = got["credentials"].to_dicts()[0]
    assert (cred["protocol"], cred["account"], cred["secret"], cred["secret_clear"]) == (
        "http-basic", "root", "t*********", False)
    assert "toor-admin" not in str(got)
    row = got["http_requests"].to_dicts()[0]
    assert {k: row[k] for k in ("client", "server", "server_port", "method", "host", "uri", "user_agent",
                                "status", "log")} == {
        "client": C, "server": S, "server_port": 8080, "method": "GET", "host": "intranet.example",
        "uri": "/admin", "user_agent": "curl/8", "status": 401, "log": "pcap"}


def test_http_pipelined_chunked_and_head(tmp_path):
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"
    talk = (Conversation(80).handshake()
            .send(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\n")
            .send(http_post(b"x=1"))
            .answer(chunked[:30]).answer(chunked[30:])
            .answer(b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n")
            .answer(b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnah").close())
    got, _, _ = tables(talk.frames, tmp_path)
    rows = got["http_requests"].select("method", "uri", "status", "bytes_out", "bytes_in").rows()
    assert rows == [("GET", "/a", 200, 0, 7), ("HEAD", "/b", 200, 0, 0), ("POST", "/login", 404, 3, 3)]


def test_http_on_another_port_is_recognised_by_its_request_line(tmp_path):
    talk = Conversation(9999).handshake().send(b"GET /x HTTP/1.1\r\nHost: odd\r\n\r\n").answer(OK).close()
    got, _, _ = tables(talk.frames, tmp_path)
    assert got["http_requests"]["host"].to_list() == ["odd"]


def test_tcp_reassembly_out_of_order_retransmitted_overlapping(tmp_path):
    data = http_post()
    talk = Conversation(80).handshake()
    base = talk.cseq
    pieces = [(0, data[:40]), (60, data[60:]), (30, data[30:70]), (0, data[:40]), (40, data[40:60])]
    for offset, piece in pieces:  # the tail first, an overlap, a retransmission, then the hole filled
        talk._add(seg(piece, base + offset))
    talk.cseq = base + len(data)
    talk.answer(OK).close()
    got = credentials(talk.frames, tmp_path, show_secrets=True)
    assert [(g["account"], g["secret"]) for g in got] == [("alice", "wonderland123")]


def test_flows_count_each_way_and_the_client_is_the_originator(tmp_path):
    talk = Conversation(80).handshake().send(b"GET / HTTP/1.1\r\n\r\n").answer(OK).close()
    # the SYN-ACK first (capture started late): its receiver is still the client
    late = Conversation(443, cport=50001)
    late._add(seg(b"", 9, S, C, 443, 50001, SYN | ACK))
    late._add(seg(b"x" * 100, 2, C, S, 50001, 443))
    udp_frames = [(T0 + 5, eth(ip_packet(dpkt.udp.UDP(sport=5000, dport=123, ulen=8 + 48, data=b"\0" * 48),
                                         17, C, "192.0.2.1")))]
    got, _, _ = tables(talk.frames + late.frames + udp_frames, tmp_path)
    flows = {r["server_port"]: r for r in got["connections"].to_dicts()}
    assert {k: flows[80][k] for k in ("client", "client_port", "server", "protocol", "bytes_out", "bytes_in",
                                      "packets_out", "packets_in")} == {
        "client": C, "client_port": 50000, "server": S, "protocol": "tcp", "bytes_out": 18,
        "bytes_in": len(OK), "packets_out": 3, "packets_in": 3}
    assert flows[80]["duration"] == pytest.approx(0.05)
    assert (flows[443]["client"], flows[443]["bytes_out"], flows[443]["packets_in"]) == (C, 100, 1)
    assert (flows[123]["protocol"], flows[123]["bytes_out"]) == ("udp", 48)


def fragments(packet: bytes, size: int) -> list[bytes]:
    """IPv4 packet cut into fragments of ``size`` payload bytes (a multiple of 8)."""
    ip = dpkt.ip.IP(packet)
    payload = bytes(ip.data)
    out = []
    for start in range(0, len(payload), size):
        part = payload[start:start + size]
        more = start + size < len(payload)
        frag = dpkt.ip.IP(src=ip.src, dst=ip.dst, p=ip.p, id=77, data=part, mf=int(more), offset=start)
        out.append(bytes(frag))
    return out


def test_fragmented_dns_answer_is_reassembled_in_any_order(tmp_path):
    answers = tuple(a_record("big.example", f"198.51.100.{i}") for i in range(1, 60))
    big = response("big.example", answers=answers)
    reply = ip_packet(dpkt.udp.UDP(sport=53, dport=40000, ulen=8 + len(big), data=big), 17, "192.0.2.53", C)
    ask = ip_packet(dpkt.udp.UDP(sport=40000, dport=53, ulen=8 + len(query("big.example")),
                                 data=query("big.example")), 17, C, "192.0.2.53")
    parts = fragments(reply, 400)
    assert len(parts) >= 3
    frames = [(T0, eth(ask))] + [(T0 + 0.1 + i / 100, eth(p)) for i, p in enumerate(reversed(parts))]
    _, _, records = tables(frames, tmp_path)
    assert records.height == 1
    assert records["response_code"][0] == "NOERROR" and len(records["answers"][0]) == 59


def test_a_capture_without_anything_netsift_reads_says_so(tmp_path):
    frames = [(T0, eth(ip_packet(dpkt.tcp.TCP(sport=50000, dport=443, seq=1, flags=ACK | PSH, data=b"\x16\x03"),
                                 6, C, S)))]
    got, ctx, records = tables(frames, tmp_path)
    assert records.height == 0 and got["connections"].height == 1
    assert ctx.notes["capture"] == ("capture has 1 packets, none of them DNS, HTTP or a cleartext login "
                                    "(TCP 443: 1): only its 1 connections (flows) are stored")


@pytest.mark.parametrize("secret, masked", [
    ("wonderland123", "w************"), ("abcd", "a***"), ("abc", "***"), ("", ""),
])
def test_mask(secret, masked):
    assert creds.mask(secret) == masked


def test_tcp_direction_unit():
    d = tcp.Direction()
    assert d.feed(100, tcp.SYN, b"") == []
    assert d.feed(106, 0, b"world") == []  # early
    assert d.feed(101, 0, b"hello") == [b"hello", b"world"]
    assert d.feed(101, 0, b"hello") == []  # retransmission
    assert d.feed(108, 0, b"rld!!") == [b"!!"]  # overlap: only the new bytes


def test_ipfrag_unit_overlap_first_copy_wins_and_limits():
    r = ipfrag.Reassembler()
    assert r.add(("k",), 0, 8, b"BBBBBBBB", False) is None
    assert r.add(("k",), 0, 0, b"AAAAAAAAXXXX", True) == b"AAAAAAAAXXXXBBBB"  # overlap: the earlier copy
    assert r.add(("j",), 0, 0, b"x" * 8, True) is None
    assert r.add(("j",), 0, 16, b"z" * 8, False) is None  # a hole at 8..16: not complete
    r2 = ipfrag.Reassembler()
    r2.add(("a",), 0, 0, b"x" * 8, True)
    r2.add(("b",), (ipfrag.TIMEOUT_SECONDS + 1) * 1_000_000, 0, b"y" * 8, True)
    assert r2.dropped == 1 and list(r2.pending) == [("b",)]


@pytest.mark.shared_data
@pytest.mark.parametrize("name, protocol, account", [
    ("arkime_http-basicauth.pcap", "http-basic", "userrrrr"),
    ("zeek_ftp_ftp-password-pass-command.pcap", "ftp", "Admin"),
])
def test_real_credential_samples(shared_data, tmp_path, name, protocol, account):
    data = (shared_data / "pcaps" / "cleartext_credentials" / name).read_bytes()
    ctx = ParseContext(path=name)
    results = list(pcap.parse_stream(io.BytesIO(data), ctx))
    found = pl.concat([r.tables["credentials"] for r in results if "credentials" in r.tables])
    assert found.select("protocol", "account").rows() == [(protocol, account)]
    assert found["secret_clear"].to_list() == [False]


def test_a_reused_five_tuple_after_close_is_a_new_flow(tmp_path):
    first = Conversation(80).handshake().send(b"GET /1 HTTP/1.1\r\n\r\n").answer(OK).close()
    second = Conversation(80, t=first.t + 1).handshake().send(b"GET /2 HTTP/1.1\r\n\r\n").answer(OK).close()
    got, _, _ = tables(first.frames + second.frames, tmp_path)
    flows = got["connections"].sort("ts")
    assert flows.height == 2 and flows["bytes_out"].to_list() == [19, 19]
    assert got["http_requests"]["uri"].to_list() == ["/1", "/2"]
