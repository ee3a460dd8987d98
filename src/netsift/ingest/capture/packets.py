"""Reading a packet capture (pcap / pcapng) into DNS records, flows, HTTP requests and credentials: what
``formats/pcap.py`` describes (its module docstring is the format's documentation). Kept apart from that
module, which the format table loads to sniff every input, because dpkt and the capture modules cost
~0.1 s to import: they are loaded when a capture is read."""

from __future__ import annotations

import functools
import socket
import struct
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import dpkt
import polars as pl

from netsift.ingest.base import (
    QTYPE_NAMES,
    RCODE_NAMES,
    REJECTED_SCHEMA,
    ParseContext,
    Parser,
    ParseResult,
    empty_records,
    finish_dns_records,
    finish_records,
)
from netsift.ingest.capture import PCAP_MAGICS, PCAPNG_MAGIC
from netsift.ingest.capture.flows import FlowTable
from netsift.ingest.capture.ipfrag import Reassembler
from netsift.ingest.capture.streams import Streams
from netsift.ingest.dns_message import DnsMessage
from netsift.schema import CONNECTIONS, CREDENTIALS, HTTP_REQUESTS

CHUNK_PACKETS = 50_000  # packets per yielded ParseResult
QUERY_TIMEOUT_SECONDS = 30  # a response later than this does not answer the query
FLOW_IDLE_SECONDS = 120  # a TCP flow silent this long (capture time) is forgotten
MAX_PENDING = 200_000  # unanswered queries (and answered keys kept for duplicates) at most
MAX_FLOWS = 10_000  # TCP flows tracked at most (least recently used dropped beyond this)
MAX_RECORD_BYTES = 16 * 1024 * 1024  # a pcap record / pcapng block claiming more is corrupt
UDP_PORTS = frozenset((53, 5353, 5355))
TCP_PORT = 53

_MAX_TS_US = 253_402_300_800 * 1_000_000  # year 10000


# --- reading records --------------------------------------------------------------------------------

class _CorruptRecord(Exception):
    pass


def _read_full(raw: IO[bytes], n: int, out: bytes = b"") -> bytes:
    """Up to n bytes, fewer only at the end of the stream (decompressors may return short reads)."""
    while len(out) < n and (more := raw.read(n - len(out))):
        out += more
    return out


class _GuardedStream:
    """What the dpkt readers read from. Serves the sniffed head first, refuses absurd lengths, and
    flags a file that ends inside a record: after the file header both dpkt readers alternate a
    fixed-size header read and a body read, so a short body read, or any short read that got some
    bytes, means the file was cut."""

    def __init__(self, head: bytes, raw: IO[bytes]):
        self._head, self._raw = head, raw
        self.name = getattr(raw, "name", "<stream>")
        self._reads: int | None = None  # counted once the file header has been read
        self.truncated = False
        self.record = b""  # first bytes of the record being read (rejection text)

    def start_records(self) -> None:
        self._reads = 0

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > MAX_RECORD_BYTES:
            raise _CorruptRecord(f"record length {n} out of range")
        out = _read_full(self._raw, n, self._head[:n])
        self._head = self._head[n:]
        if self._reads is not None:
            body = self._reads % 2 == 1
            self._reads += 1
            self.record = (self.record + out)[:64] if body else out[:64]
            if len(out) < n and (out or body):
                self.truncated = True
        return out


def _raw_ip(buf: bytes) -> Any:
    version = buf[0] >> 4 if buf else 0
    return dpkt.ip.IP(buf) if version == 4 else dpkt.ip6.IP6(buf) if version == 6 else None


_LINK_DECODERS: dict[int, Callable[[bytes], Any]] = {
    0: lambda b: dpkt.loopback.Loopback(b).data,
    1: lambda b: dpkt.ethernet.Ethernet(b).data,
    12: _raw_ip, 14: _raw_ip, 101: _raw_ip,
    108: lambda b: dpkt.loopback.Loopback(b).data,
    113: lambda b: dpkt.sll.SLL(b).data,
    228: dpkt.ip.IP,
    229: dpkt.ip6.IP6,
    276: lambda b: dpkt.sll2.SLL2(b).data,
}


def _peek(buf: bytes, linktype: int) -> tuple[int, bytes, bytes, int, int, int, int, bytes] | None:
    """A cheap look at plain Ethernet / raw IP frames carrying TCP or UDP, without building dpkt objects
    (ten times cheaper: the bulk of a general capture): (protocol, source, destination, source port,
    destination port, TCP flags, TCP sequence number, payload). Anything unusual (VLAN tags, fragments,
    IPv6 extension headers, short or inconsistent frames, other protocols) answers None and is left to
    dpkt."""
    try:
        if linktype == 1:
            if buf[12:14] not in (b"\x08\x00", b"\x86\xdd"):
                return None
            off = 14
        elif linktype in (12, 14, 101, 228, 229):
            off = 0
        else:
            return None
        version = buf[off] >> 4
        if version == 4:
            if buf[off + 6] & 0x3F or buf[off + 7]:
                return None
            proto, l4 = buf[off + 9], off + (buf[off] & 0x0F) * 4
            end = off + ((buf[off + 2] << 8) | buf[off + 3])
            src, dst = buf[off + 12:off + 16], buf[off + 16:off + 20]
        elif version == 6:
            proto, l4 = buf[off + 6], off + 40
            end = l4 + ((buf[off + 4] << 8) | buf[off + 5])
            src, dst = buf[off + 8:off + 24], buf[off + 24:off + 40]
        else:
            return None
        if end > len(buf) or end < l4:
            return None
        if proto == 6:
            sport, dport, seq = struct.unpack_from(">HHI", buf, l4)
            start = l4 + (buf[l4 + 12] >> 4) * 4
            if start > end:
                return None
            return 6, src, dst, sport, dport, buf[l4 + 13], seq, buf[start:end]
        if proto == 17:
            sport, dport, ulen = struct.unpack_from(">HHH", buf, l4)
            stop = min(end, l4 + ulen) if ulen >= 8 else end
            return 17, src, dst, sport, dport, 0, 0, buf[l4 + 8:stop]
    except (IndexError, struct.error):
        return None
    return None


def _is_dns(proto: int, sport: int, dport: int) -> bool:
    return (sport in UDP_PORTS or dport in UDP_PORTS) if proto == 17 else TCP_PORT in (sport, dport)


_IP_PROTOCOLS = {1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 41: "IPv6 in IPv4", 47: "GRE", 50: "ESP", 51: "AH",
                 58: "ICMPv6", 89: "OSPF", 103: "PIM", 112: "VRRP", 132: "SCTP"}


def _traffic_name(key: tuple) -> str:
    """'TCP 80', 'ICMP', 'ARP' for a key counted by _Session.other."""
    proto, port = key
    if isinstance(proto, str):
        return proto
    name = _IP_PROTOCOLS.get(proto, f"IP protocol {proto}")
    return name if port is None else f"{name} {port}"


def no_dns_note(packets: int, other: dict[tuple, int], shown: int = 5, connections: int = 0) -> str:
    """The one line a capture without DNS, HTTP or cleartext logins gets: its packets and what they were
    (most common first), and the connections counted from them."""
    if not packets:
        return "capture holds no packets"
    top = sorted(other.items(), key=lambda kv: -kv[1])
    kinds = ", ".join(f"{_traffic_name(k)}: {n:,}" for k, n in top[:shown]) + (", ..." if len(top) > shown else "")
    kept = (f"only its {connections:,} connections (flows) are stored" if connections else "nothing is stored")
    return (f"capture has {packets:,} packets, none of them DNS, HTTP or a cleartext login ({kinds}): {kept}")


def _open(fileobj: IO[bytes]) -> tuple[Any, int, _GuardedStream] | None:
    """(dpkt reader, link type, stream), or None for an empty file / a capture without packets."""
    head = _read_full(fileobj, 24)
    if not head:
        return None
    stream = _GuardedStream(head, fileobj)
    if head[:4] in PCAP_MAGICS:
        if len(head) < 24:
            raise ValueError(f"pcap file header truncated ({len(head)} of 24 bytes)")
        reader = dpkt.pcap.Reader(stream)
    elif head[:4] == PCAPNG_MAGIC:
        try:
            reader = dpkt.pcapng.Reader(stream)
        except ValueError as exc:
            if "IDB not found" in str(exc):
                return None  # section header only: no interface, no packets
            raise ValueError(f"invalid pcapng header: {exc}") from None
        except (dpkt.UnpackError, struct.error, _CorruptRecord) as exc:
            raise ValueError(f"pcapng header truncated or corrupt: {exc or type(exc).__name__}") from None
    else:
        raise ValueError(f"not a pcap or pcapng file (starts with {head[:8].hex()}); "
                         "use --format to choose another parser")
    linktype = reader.datalink() & 0xFFFF  # upper bits of a pcap link type carry FCS information
    if linktype not in _LINK_DECODERS:
        names = {v: k for k, v in vars(dpkt.pcap).items() if k.startswith("DLT_") and isinstance(v, int)}
        name = names.get(linktype, "unknown")
        raise ValueError(f"unsupported pcap link type {linktype} ({name}); supported: "
                         f"{', '.join(str(t) for t in sorted(_LINK_DECODERS))}")
    stream.start_records()
    return reader, linktype, stream


# --- DNS messages -----------------------------------------------------------------------------------

# --- TCP reassembly ---------------------------------------------------------------------------------

@dataclass(slots=True)
class _Flow:
    next_seq: int
    last_ts: int
    buf: bytearray = field(default_factory=bytearray)


class _TcpStreams:
    """Per-direction byte streams of TCP port-53 connections, cut into length-prefixed messages."""

    def __init__(self) -> None:
        self.flows: dict[tuple, _Flow] = {}

    def feed(self, key: tuple, ts: int, tcp: Any) -> list[bytes]:
        flow = self.flows.pop(key, None)  # re-inserted at the end: dict order = least recently used
        seq, payload = tcp.seq, bytes(tcp.data)
        if tcp.flags & dpkt.tcp.TH_SYN:
            seq = (seq + 1) & 0xFFFFFFFF
            flow = _Flow(seq, ts)
        messages: list[bytes] = []
        if payload:
            if flow is None:
                flow = _Flow(seq, ts)  # capture started mid-connection: assume a message starts here
            gap = ((seq - flow.next_seq + 0x80000000) & 0xFFFFFFFF) - 0x80000000
            end = (seq + len(payload)) & 0xFFFFFFFF
            if gap < 0:  # retransmitted bytes: keep only what is new
                payload = payload[-gap:] if -gap < len(payload) else b""
            elif gap > 0:  # bytes lost: resynchronise on this segment
                flow.buf.clear()
            if payload:
                flow.buf += payload
                flow.next_seq = end
            buf, pos = flow.buf, 0
            while len(buf) - pos >= 2:
                size = (buf[pos] << 8) | buf[pos + 1]
                if len(buf) - pos - 2 < size:
                    break
                messages.append(bytes(buf[pos + 2:pos + 2 + size]))
                pos += 2 + size
            del buf[:pos]
        if tcp.flags & dpkt.tcp.TH_RST:
            self.flows.pop((key[2], key[3], key[0], key[1]), None)
        if flow is not None and not tcp.flags & (dpkt.tcp.TH_FIN | dpkt.tcp.TH_RST):
            flow.last_ts = ts
            self.flows[key] = flow
            if len(self.flows) > MAX_FLOWS:
                del self.flows[next(iter(self.flows))]
        return messages

    def forget_idle(self, now: int) -> None:
        limit = now - FLOW_IDLE_SECONDS * 1_000_000
        for key in [k for k, f in self.flows.items() if f.last_ts < limit]:
            del self.flows[key]


# --- matching and accounting ------------------------------------------------------------------------

@dataclass(slots=True)
class _Query:
    packet: int
    ts: int
    client: bytes
    bucket: tuple
    questions: tuple[tuple[str, int], ...]
    done: bool = False


@functools.lru_cache(maxsize=65536)
def _ip_text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


def _is_multicast(raw: bytes) -> bool:
    return (raw[0] & 0xF0 == 0xE0 or raw == b"\xff\xff\xff\xff") if len(raw) == 4 else raw[0] == 0xFF


class _Session:
    """One capture being parsed: pending queries, TCP streams, the rows of the current result."""

    def __init__(self, ctx: ParseContext, linktype: int = 1):
        self.ctx = ctx
        self.linktype = linktype
        self.decode_link = _LINK_DECODERS[linktype]
        self.pending: dict[tuple, list[_Query]] = {}
        self.order: deque[_Query] = deque()
        self.answered: dict[tuple, int] = {}  # (bucket, questions) -> response time, for duplicates
        self.tcp = _TcpStreams()
        self.flows = FlowTable()
        self.streams = Streams(ctx.show_secrets)
        self.fragments = Reassembler()
        self.understood = 0  # HTTP requests and credentials found (with DNS: traffic netsift reads)
        self.packets = 0
        self.other: dict[tuple, int] = {}  # packets that are not DNS by (protocol, service port), for the note
        self.dns_seen = False  # a packet on a DNS port (or a rejection) was met
        self.debt = 0  # rows beyond a packet's first, not yet offset against skipped
        self.now = 0
        self._new_result()

    def _new_result(self) -> None:
        self.rows: dict[str, list] = {k: [] for k in (
            "ts", "client", "query_name", "query_type", "response_code", "answers", "source_line")}
        self.rejects: dict[str, list] = {"source_line": [], "reason": [], "text": []}
        self.skipped = 0
        self.packet_rows = 0

    # rows
    def _emit(self, packet: int, ts: int, client: bytes, questions: tuple, rcode: int | None,
              answers: list[str] | None) -> None:
        rows = self.rows
        rcode_name = None if rcode is None else RCODE_NAMES.get(rcode, f"RCODE{rcode}")
        for name, qtype in questions:
            rows["ts"].append(ts)
            rows["client"].append(_ip_text(client))
            rows["query_name"].append(name)
            rows["query_type"].append(QTYPE_NAMES.get(qtype, f"TYPE{qtype}"))
            rows["response_code"].append(rcode_name)
            rows["answers"].append(answers)
            rows["source_line"].append(packet)

    def reject(self, packet: int, reason: str, data: bytes) -> None:
        self.dns_seen = True
        self.rejects["source_line"].append(packet)
        self.rejects["reason"].append(reason)
        self.rejects["text"].append(data[:64].hex())
        self.packet_rows += 1

    # packets
    def packet(self, number: int, ts: int, buf: bytes) -> None:
        self.packets = number
        self.now = ts
        self.packet_rows = 0
        seen = _peek(buf, self.linktype)
        if seen is None or _is_dns(seen[0], seen[3], seen[4]):
            self._packet(number, ts, buf)
        else:
            proto, src, dst, sport, dport, flags, seq, payload = seen
            self._transport(number, ts, proto, src, dst, sport, dport, flags, seq, payload)
            if not self.dns_seen:
                self.other[(proto, min(sport, dport))] = self.other.get((proto, min(sport, dport)), 0) + 1
        if self.packet_rows:
            self.debt += self.packet_rows - 1
        else:
            self.skipped += 1

    def _packet(self, number: int, ts: int, buf: bytes) -> None:
        try:
            ip = self.decode_link(buf)
        except Exception:  # noqa: BLE001 - dpkt raises assorted errors on headers it cannot read
            self._other(("undecodable frames", None))
            return
        if not isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)):
            self._other((type(ip).__name__ if isinstance(ip, dpkt.Packet) else "other link-layer", None))
            return
        l4 = ip.data
        if isinstance(ip, dpkt.ip.IP):
            fragment = (ip.mf, ip.offset, ip.id) if ip.mf or ip.offset else None
        else:
            header = ip.extension_hdrs.get(44)
            fragment = (header.m_flag, header.frag_off * 8, header.id) if header is not None else None
        if fragment is not None:
            more, offset, ident = fragment
            raw = l4 if isinstance(l4, bytes) else bytes(l4)
            whole = self.fragments.add((ip.src, ip.dst, ip.p, ident), ts, offset, raw, bool(more))
            if whole is None:
                return  # a fragment kept until its datagram is complete
            try:
                l4 = dpkt.tcp.TCP(whole) if ip.p == 6 else dpkt.udp.UDP(whole) if ip.p == 17 else whole
            except (dpkt.UnpackError, struct.error):
                self._other((ip.p, None))
                return
        if isinstance(l4, dpkt.udp.UDP):
            payload = bytes(l4.data)
            if 8 <= l4.ulen < 8 + len(payload):
                payload = payload[:l4.ulen - 8]
            self._transport(number, ts, 17, ip.src, ip.dst, l4.sport, l4.dport, 0, 0, payload)
            if l4.sport not in UDP_PORTS and l4.dport not in UDP_PORTS:
                self._other((17, min(l4.sport, l4.dport)))
                return
            self.dns_seen = True
            self._message(number, ts, ip.src, l4.sport, ip.dst, l4.dport, payload)
        elif isinstance(l4, dpkt.tcp.TCP):
            payload = bytes(l4.data)
            if TCP_PORT not in (l4.sport, l4.dport):
                self._transport(number, ts, 6, ip.src, ip.dst, l4.sport, l4.dport, l4.flags, l4.seq, payload)
                self._other((6, min(l4.sport, l4.dport)))
                return
            self.flows.add(ts, number, 6, ip.src, l4.sport, ip.dst, l4.dport, len(payload), l4.flags)
            self.dns_seen = True
            for message in self.tcp.feed((ip.src, l4.sport, ip.dst, l4.dport), ts, l4):
                self._message(number, ts, ip.src, l4.sport, ip.dst, l4.dport, message)
        else:
            proto = ip.p if isinstance(ip, dpkt.ip.IP) else ip.nxt
            if proto in (1, 58) and isinstance(l4, dpkt.Packet):  # ICMP: type / code as Zeek logs them
                self.flows.add(ts, number, proto, ip.src, getattr(l4, "type", 0), ip.dst,
                               getattr(l4, "code", 0), len(bytes(l4.data)))
            self._other((proto, None))

    def _transport(self, number: int, ts: int, proto: int, src: bytes, dst: bytes, sport: int, dport: int,
                   flags: int, seq: int, payload: bytes) -> None:
        """A TCP segment or UDP datagram not on a DNS port: counted in its flow; TCP goes to the streams."""
        key, outbound = self.flows.add(ts, number, proto, src, sport, dst, dport, len(payload), flags)
        if proto == 6:
            self.streams.segment(ts, number, key[1:], outbound, seq, flags, payload)

    def _other(self, key: tuple) -> None:
        if not self.dns_seen:
            self.other[key] = self.other.get(key, 0) + 1

    def _message(self, number: int, ts: int, src: bytes, sport: int, dst: bytes, dport: int,
                 payload: bytes) -> None:
        if not 0 <= ts < _MAX_TS_US:
            self.reject(number, f"packet timestamp out of range ({ts} µs)", payload)
            return
        try:
            msg = DnsMessage(payload)
        except (dpkt.UnpackError, struct.error, ValueError) as exc:
            self.reject(number, f"DNS decode failed: {str(exc) or type(exc).__name__}", payload)
            return
        if msg.opcode != dpkt.dns.DNS_QUERY:
            return  # NOTIFY, UPDATE, ...: not questions
        if msg.qr == dpkt.dns.DNS_Q:
            if not msg.questions:
                return
            server = b"*" if _is_multicast(dst) else dst
            query = _Query(number, ts, src, (src, sport, server, msg.id), msg.questions)
            self.pending.setdefault(query.bucket, []).append(query)
            self.order.append(query)
            self.packet_rows += len(msg.questions)
            return
        self._response(number, ts, dst, dport, src, msg)

    def _response(self, number: int, ts: int, client: bytes, port: int, server: bytes,
                  msg: DnsMessage) -> None:
        limit = ts - QUERY_TIMEOUT_SECONDS * 1_000_000
        for bucket in ((client, port, server, msg.id), (client, port, b"*", msg.id)):
            waiting = self.pending.get(bucket)
            if not waiting:
                continue
            matched = [q for q in waiting
                       if q.ts >= limit and (not msg.questions or q.questions == msg.questions)]
            if not matched:
                continue
            for query in matched:
                query.done = True
                waiting.remove(query)
                self._emit(query.packet, query.ts, query.client, query.questions, msg.rcode, msg.answers)
            if not waiting:
                del self.pending[bucket]
            self.answered[(bucket, matched[0].questions)] = ts
            return
        if not msg.questions:
            return  # nothing asked (mDNS announcement): nothing to record
        for bucket in ((client, port, server, msg.id), (client, port, b"*", msg.id)):
            if self.answered.get((bucket, msg.questions), limit - 1) >= limit:
                return  # duplicate of a response already matched
        self._emit(number, ts, client, msg.questions, msg.rcode, msg.answers)
        self.packet_rows += len(msg.questions)

    # results
    def expire(self, everything: bool = False) -> None:
        """Emit queries unanswered past the timeout (all of them at the end of the file)."""
        limit = self.now - QUERY_TIMEOUT_SECONDS * 1_000_000
        while self.order:
            query = self.order[0]
            if not query.done and not everything and query.ts >= limit and len(self.order) <= MAX_PENDING:
                break
            self.order.popleft()
            if query.done:
                continue
            waiting = self.pending[query.bucket]
            waiting.remove(query)
            if not waiting:
                del self.pending[query.bucket]
            self._emit(query.packet, query.ts, query.client, query.questions, None, None)
        excess = len(self.answered) - MAX_PENDING
        stale = [k for i, (k, t) in enumerate(self.answered.items()) if everything or t < limit or i < excess]
        for key in stale:
            del self.answered[key]
        self.tcp.forget_idle(self.now)
        self.streams.expire(self.now, everything)
        self.flows.expire(self.now, everything)

    def _tables(self) -> dict[str, pl.DataFrame]:
        """This result's rows of the other tables: flows emitted, HTTP requests, credentials."""
        http, credentials = self.streams.take()
        self.understood += len(http["ts"]) + len(credentials["ts"])
        frames = {CONNECTIONS.name: (self.flows.take(), {}),
                  HTTP_REQUESTS.name: (http, {"log": "pcap"}),
                  CREDENTIALS.name: (credentials, {})}
        out = {}
        for table, (rows, constants) in frames.items():
            if not rows["ts"]:
                continue
            frame = pl.DataFrame(rows).with_columns(pl.col("ts").cast(pl.Datetime("us")),
                                                    *(pl.lit(v).alias(c) for c, v in constants.items()))
            out[table] = finish_records(frame, table)
        return out

    def result(self) -> ParseResult:
        offset = min(self.debt, self.skipped)
        self.debt -= offset
        state = self.ctx.state
        state["pcap_packets"] = self.packets
        state["pcap_unbalanced_rows"] = self.debt
        rows = self.rows
        if rows["ts"]:
            records = pl.DataFrame(rows).with_columns(
                pl.col("ts").cast(pl.Datetime("us")),
                pl.col("answers").cast(pl.List(pl.String)),
            ).sort("source_line", maintain_order=True)
            records = finish_dns_records(records)
        else:
            records = empty_records()
        rejected = pl.DataFrame(self.rejects, schema=REJECTED_SCHEMA)
        result = ParseResult(records, rejected, self.skipped - offset, tables=self._tables())
        self._new_result()
        return result


def parse_stream(fileobj: IO[bytes], ctx: ParseContext) -> Iterator[ParseResult]:
    """Yield a ParseResult every ``CHUNK_PACKETS`` packets and one at the end (see the module doc).
    Raises ValueError for input that is not a capture, or whose link type is not supported."""
    opened = _open(fileobj)
    if opened is None:
        ctx.notes["capture"] = no_dns_note(0, {})
        yield _Session(ctx).result()
        return
    reader, linktype, stream = opened
    session = _Session(ctx, linktype)
    packets = iter(reader)
    number = 0
    while True:
        error: Exception | None = None
        try:
            ts, buf = next(packets)
        except StopIteration:
            ts = None
        except (dpkt.UnpackError, struct.error, ValueError, _CorruptRecord) as exc:
            ts, error = None, exc
        if stream.truncated or error is not None:
            number += 1
            reason = (f"file truncated at packet {number}" if stream.truncated else
                      f"file corrupt at packet {number}: {str(error) or type(error).__name__}")
            session.reject(number, reason, stream.record)
            session.packets = number
            break
        if ts is None:
            break
        number += 1
        session.packet(number, round(ts * 1_000_000), bytes(buf))
        if number % CHUNK_PACKETS == 0:
            session.expire()
            yield session.result()
    session.expire(everything=True)
    last = session.result()
    if not session.dns_seen and not session.understood:
        ctx.notes["capture"] = no_dns_note(session.packets, session.other, connections=session.flows.emitted)
    yield last
