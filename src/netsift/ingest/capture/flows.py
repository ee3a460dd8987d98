"""Flows of a capture: one ``connections`` row per (protocol, address, port, address, port) conversation.

The client (originator) is the side that sent the first packet seen — for TCP the sender of a SYN
without ACK, or the receiver of a SYN-ACK when the SYN was not captured. Counted each way: packets and
transport payload bytes (TCP/UDP data; a reassembled IP datagram counts once, as one packet). A flow
ends, and its row is emitted, when it has been silent ``IDLE_SECONDS`` of capture time, when a TCP flow
saw FIN or RST from both sides or an RST (emitted at the next check), when the table holds ``MAX_FLOWS``
flows (the least recently active is emitted first: memory stays bounded on any capture), or at the end of
the file. A conversation that goes on after its row was emitted starts a new row, and so does a new SYN
on the same five-tuple after a FIN or RST."""

from __future__ import annotations

import socket
from dataclasses import dataclass

IDLE_SECONDS = 120
MAX_FLOWS = 100_000
_PROTOCOLS = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}
COLUMNS = ("ts", "client", "client_port", "server", "server_port", "protocol", "duration", "bytes_out",
           "bytes_in", "packets_out", "packets_in", "source_line")


@dataclass(slots=True)
class _Flow:
    first_ts: int
    last_ts: int
    first_packet: int
    bytes_out: int = 0
    bytes_in: int = 0
    packets_out: int = 0
    packets_in: int = 0
    closing: int = 0  # 1: FIN from the client, 2: from the server, 4: RST


def _text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


class FlowTable:
    def __init__(self) -> None:
        self.flows: dict[tuple, _Flow] = {}  # key (proto, client, cport, server, sport); order = LRU
        self.rows: dict[str, list] = {c: [] for c in COLUMNS}
        self.emitted = 0

    def add(self, ts: int, packet: int, proto: int, src: bytes, sport: int, dst: bytes, dport: int,
            size: int, flags: int = 0) -> tuple[tuple, bool]:
        """Count one packet; returns (the flow's key, True when the packet was sent by the client)."""
        key = (proto, src, sport, dst, dport)
        flow = self.flows.pop(key, None)
        outbound = True
        if flow is None:
            reverse = (proto, dst, dport, src, sport)
            flow = self.flows.pop(reverse, None)
            if flow is not None:
                key, outbound = reverse, False
            elif proto == 6 and flags & 0x12 == 0x12:  # SYN-ACK first: its receiver is the client
                key, outbound = reverse, False
                flow = _Flow(ts, ts, packet)
            else:
                flow = _Flow(ts, ts, packet)
        elif proto == 6 and flags & 0x12 == 0x02 and flow.closing:  # a new SYN on a closed conversation
            self._emit(key, flow)
            key, outbound, flow = (proto, src, sport, dst, dport), True, _Flow(ts, ts, packet)
        flow.last_ts = ts
        if outbound:
            flow.bytes_out += size
            flow.packets_out += 1
        else:
            flow.bytes_in += size
            flow.packets_in += 1
        if proto == 6 and flags & 0x05:
            flow.closing |= 4 if flags & 0x04 else (1 if outbound else 2)
        self.flows[key] = flow
        if len(self.flows) > MAX_FLOWS:
            oldest = next(iter(self.flows))
            self._emit(oldest, self.flows.pop(oldest))
        return key, outbound

    def expire(self, now: int, everything: bool = False) -> None:
        limit = now - IDLE_SECONDS * 1_000_000
        done = [k for k, f in self.flows.items()
                if everything or f.last_ts < limit or f.closing & 4 or f.closing & 3 == 3]
        for key in done:
            self._emit(key, self.flows.pop(key))

    def _emit(self, key: tuple, flow: _Flow) -> None:
        proto, client, cport, server, sport = key
        rows = self.rows
        rows["ts"].append(flow.first_ts)
        rows["client"].append(_text(client))
        rows["client_port"].append(cport)
        rows["server"].append(_text(server))
        rows["server_port"].append(sport)
        rows["protocol"].append(_PROTOCOLS.get(proto, str(proto)))
        rows["duration"].append((flow.last_ts - flow.first_ts) / 1_000_000)
        rows["bytes_out"].append(flow.bytes_out)
        rows["bytes_in"].append(flow.bytes_in)
        rows["packets_out"].append(flow.packets_out)
        rows["packets_in"].append(flow.packets_in)
        rows["source_line"].append(flow.first_packet)
        self.emitted += 1

    def take(self) -> dict[str, list]:
        rows, self.rows = self.rows, {c: [] for c in COLUMNS}
        return rows
