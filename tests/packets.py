"""Small capture frames for tests that grow a pcap."""

from __future__ import annotations

import struct

import dpkt


def dns_query_packet(i: int) -> bytes:
    """An Ethernet frame: 10.0.0.5 asks 10.0.0.1 for ``host{i}.example.com`` (A), DNS id and port from ``i``."""
    q = dpkt.dns.DNS(id=i, qd=[dpkt.dns.DNS.Q(name=f"host{i}.example.com", type=1, cls=1)])
    udp = dpkt.udp.UDP(sport=40000 + i, dport=53, data=bytes(q))
    udp.ulen = len(udp)
    ip = dpkt.ip.IP(src=bytes([10, 0, 0, 5]), dst=bytes([10, 0, 0, 1]), p=17, data=udp)
    ip.len = len(ip)
    return bytes(dpkt.ethernet.Ethernet(src=b"\x00" * 6, dst=b"\x01" * 6, type=0x0800, data=ip))


def pcap_record(i: int) -> bytes:
    """``dns_query_packet(i)`` as a classic pcap record stamped 1700000000 + i, to append to a capture."""
    pkt = dns_query_packet(i)
    return struct.pack("<IIII", 1700000000 + i, 0, len(pkt), len(pkt)) + pkt
