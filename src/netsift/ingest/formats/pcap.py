"""Packet captures (pcap, nanosecond pcap, pcapng; either byte order): DNS questions and their answers
into ``dns_queries``; besides, flows into ``connections``, HTTP requests into ``http_requests`` and
cleartext credentials into ``credentials`` (``ParseResult.tables``).

Reading: ``dpkt.pcap.Reader`` / ``dpkt.pcapng.Reader`` over a guarded stream that refuses absurd record
lengths and notices a file cut inside a record. Link types: Ethernet (802.1Q / QinQ), raw IP (12, 14,
101), IPv4 (228), IPv6 (229), Linux SLL (113) and SLL2 (276), BSD null (0) and loop (108); any other
raises ``ValueError`` naming it, once for the file. pcapng packets all take the first interface's link
type (a dpkt.pcapng.Reader limitation). Plain Ethernet / raw IP frames carrying TCP or UDP off the DNS
ports are read from their header bytes without building dpkt objects (ten times cheaper: the bulk of a
general capture); anything else goes through dpkt.

IP fragments (IPv4, and IPv6's fragment header) are reassembled before anything else reads them
(``capture/ipfrag.py``): a fragmented DNS answer is read like any other; a datagram whose fragments never
all arrive is dropped after 30 s of capture time (its packets are skipped).

Beyond DNS (``ingest/capture/``): every TCP/UDP packet (and ICMP) counts in its flow — one ``connections``
row per conversation, client = originator, payload bytes and packets each way, duration (``flows.py``:
idle 120 s, closed, or 100,000 flows at most, least recently active emitted first). TCP connections to
HTTP ports (80, 8080, 8000, 8008, 8888, 3128; or any port whose first client bytes are a request line)
and to FTP, POP3, IMAP, SMTP, LDAP, SOCKS5 and Telnet have both directions reassembled in sequence order
(``tcp.py``: early segments wait, retransmitted and overlapping bytes are given once, a hole is skipped
after 64 waiting segments or 256 KiB) and read by ``http.py`` (one ``http_requests`` row per request with
its response's status and body size, ``log`` = ``pcap``; Basic and form credentials) and ``creds.py``
(the login of each protocol). Secrets are masked (``p*******``) unless ``--show-secrets``
(``ParseContext.show_secrets``). Connections followed are at most 20,000 (least recently active closed
first), so memory stays bounded on any capture. Rows of those tables carry the packet number that
completed them (a flow: its first packet) in ``source_line``; they are not part of the packet accounting
below.

DNS is UDP port 53, 5353 (mDNS) or 5355 (LLMNR) on either side, and TCP port 53: each direction is
reassembled by sequence number and cut into its 2-byte length-prefixed messages (a segment may carry
part of one or several); a message belongs to the packet that completes it (``source_line``, ``ts``).
Retransmitted bytes are dropped; after lost bytes the flow resynchronises on the next segment. A flow
buffer holds at most one unfinished message (< 64 KiB); flows closed (FIN/RST), idle for
``FLOW_IDLE_SECONDS`` of capture time, or beyond ``MAX_FLOWS`` are forgotten.

Records: one row per question of a standard query (QR=0, opcode QUERY; other opcodes are skipped):
``ts`` = packet time (naive UTC), ``client`` = source address (mDNS/LLMNR too), names lower-cased
without the trailing dot, label bytes outside printable ASCII as ``\\DDD`` and ``. \\ " ( ) ; @ $``
backslash-escaped, as dig prints them. The response matched on (client ip, client port, server ip,
transaction id, questions) within ``QUERY_TIMEOUT_SECONDS`` gives ``response_code`` and ``answers``
(answer section: A/AAAA addresses, CNAME/PTR/NS/DNAME/MX/SRV targets, TXT strings joined per record
and cut to 255 characters; other types left out). A query to a multicast address (mDNS, LLMNR) takes a
response from any server. Queries wait for their response across yielded results; those unanswered
after the timeout (checked every ``CHUNK_PACKETS`` packets) or at the end of the file are emitted with
null ``response_code`` / ``answers``. A response whose query was not captured is a record itself
(``ts`` = response time, ``client`` = its destination, one row per question it repeats); a response
repeating no question (mDNS announcements) or duplicating one already matched is skipped.

Accounting: the unit is the packet (``source_line`` = its 1-based number). A packet is skipped (not
DNS; a matched or question-less response; a TCP segment finishing no message), rejected (a DNS payload
that does not decode: dpkt's message as reason, its first 64 bytes in hex as text), or the source of
records (a fragment: the packet that completes the datagram), counted in the result that emits them (a query: when answered or
timed out). Rows beyond a packet's first (several questions or TCP messages) are offset against
``skipped`` of the same or a later result, so over a file ``sum(records.height + skipped +
rejected.height) == packets``, exceeded only where extra rows outnumber skippable packets, by
``ctx.state["pcap_unbalanced_rows"]``; ``ctx.state["pcap_packets"]`` is the packets read. A file cut
inside a record ends with one rejection ``file truncated at packet N`` (N = the cut record's number);
an empty file or a header without packets gives no records. A capture without any DNS, HTTP request or
credential gets a note for the ingest summary (``ctx.notes["capture"]``): its packet count and what they
were, by protocol and service port (the lower port), most common first, and the flows kept — "capture has
1,234 packets, none of them DNS, HTTP or a cleartext login (TCP 443: 900, UDP 123: 12, ...): only its 140
connections (flows) are stored" — counted while parsing.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from netsift.ingest.base import ParseContext, Parser, ParseResult
from netsift.ingest.capture import PCAP_MAGICS, PCAPNG_BYTE_ORDERS, PCAPNG_MAGIC


def sniff_bytes(head: bytes) -> float:
    """1.0 for a pcap or pcapng header, 0.9 for the bare pcapng magic, 0 otherwise."""
    if head[:4] in PCAP_MAGICS:
        return 1.0
    if head[:4] == PCAPNG_MAGIC:
        return 1.0 if head[8:12] in PCAPNG_BYTE_ORDERS else 0.9
    return 0.0


def parse_stream(fileobj: IO[bytes], ctx: ParseContext) -> Iterator[ParseResult]:
    """Yield a ParseResult every ``CHUNK_PACKETS`` packets and one at the end (see the module doc).
    Raises ValueError for input that is not a capture, or whose link type is not supported."""
    # deferred: dpkt and the capture modules cost every input's sniffing ~0.1 s; loaded to read a capture
    from netsift.ingest.capture import packets

    return packets.parse_stream(fileobj, ctx)


PARSER = Parser(
    name="pcap",
    description="Packet capture (pcap / pcapng): DNS over UDP 53/5353/5355 and TCP 53, answers joined",
    kind="binary",
    also_writes=("connections", "http_requests", "credentials"),
    sniff_bytes=sniff_bytes,
    parse_stream=parse_stream,
)
