"""TCP byte streams, reassembled per direction, bounded.

Each direction of a connection delivers its bytes in sequence order to a consumer: segments that arrive
early wait (at most ``MAX_EARLY_SEGMENTS`` and ``MAX_EARLY_BYTES`` per direction); retransmitted bytes are
dropped; a segment overlapping bytes already delivered gives only its new part (the first copy of a byte
wins). When the bytes before a waiting segment never come (lost from the capture, or the waiting room is
full), the stream skips the hole: the consumer is told (``gap``) and resumes at the next segment.
A stream seen mid-connection (no SYN) starts at its first segment."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_EARLY_SEGMENTS = 64
MAX_EARLY_BYTES = 256 * 1024
SYN, FIN, RST = 0x02, 0x01, 0x04


def _after(a: int, b: int) -> int:
    """a - b on the 32-bit sequence circle (negative when a is before b)."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000


@dataclass(slots=True)
class Direction:
    next_seq: int | None = None
    early: dict[int, bytes] = field(default_factory=dict)
    early_bytes: int = 0
    gaps: int = 0

    def feed(self, seq: int, flags: int, data: bytes) -> list[bytes]:
        """In-order pieces of bytes this segment makes deliverable (b"" marks a gap before the next)."""
        if flags & SYN:
            self.next_seq = (seq + 1) & 0xFFFFFFFF
            self.early.clear()
            self.early_bytes = 0
            seq = self.next_seq
        if not data:
            return []
        if self.next_seq is None:
            self.next_seq = seq
        out: list[bytes] = []
        ahead = _after(seq, self.next_seq)
        if ahead > 0:
            if seq not in self.early or len(self.early[seq]) < len(data):
                self.early_bytes += len(data) - len(self.early.get(seq, b""))
                self.early[seq] = data
            if len(self.early) <= MAX_EARLY_SEGMENTS and self.early_bytes <= MAX_EARLY_BYTES:
                return out
            # the waiting room is full: give the hole up and go on from the earliest waiting segment
            first = min(self.early, key=lambda s: _after(s, self.next_seq or 0))
            self.next_seq = first
            self.gaps += 1
            out.append(b"")
        else:
            if -ahead >= len(data):
                return out  # all of it delivered already (a retransmission)
            out.append(data[-ahead:] if ahead else data)
            self.next_seq = (seq + len(data)) & 0xFFFFFFFF
        while self.early:  # waiting segments that now follow on
            progressed = False
            for start in list(self.early):
                gap = _after(start, self.next_seq)
                if gap > 0:
                    continue
                piece = self.early.pop(start)
                self.early_bytes -= len(piece)
                if -gap < len(piece):
                    out.append(piece[-gap:])
                    self.next_seq = (start + len(piece)) & 0xFFFFFFFF
                progressed = True
            if not progressed:
                break
        return out
