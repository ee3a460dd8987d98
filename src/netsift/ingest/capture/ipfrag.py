"""IP fragment reassembly (IPv4 and IPv6), bounded.

Fragments are kept per datagram, keyed on (source, destination, protocol, identification), as
(offset, bytes) pieces; the datagram is complete when the piece without the more-fragments flag has
arrived and the pieces cover 0..end without a hole. Overlapping bytes: the piece starting earlier wins (an overlap
attack is not undone, only kept from breaking the datagram); a piece repeated at the same offset keeps its
first copy. A datagram
unfinished ``TIMEOUT_SECONDS`` (capture time) after its first fragment, or beyond ``MAX_DATAGRAMS``
pending, is dropped and counted; a datagram claiming more than 65,535 bytes is dropped."""

from __future__ import annotations

from dataclasses import dataclass, field

TIMEOUT_SECONDS = 30
MAX_DATAGRAMS = 4096
MAX_DATAGRAM_BYTES = 65535


@dataclass(slots=True)
class _Datagram:
    first_ts: int
    pieces: dict[int, bytes] = field(default_factory=dict)
    end: int | None = None  # total length, once the last fragment arrived


class Reassembler:
    def __init__(self) -> None:
        self.pending: dict[tuple, _Datagram] = {}
        self.dropped = 0  # datagrams given up (timed out, too many pending, too large)

    def add(self, key: tuple, ts: int, offset: int, data: bytes, more: bool) -> bytes | None:
        """Add one fragment; returns the whole payload when this fragment completes it."""
        gram = self.pending.get(key)
        if gram is None:
            self._expire(ts)
            gram = self.pending[key] = _Datagram(ts)
        if offset + len(data) > MAX_DATAGRAM_BYTES:
            del self.pending[key]
            self.dropped += 1
            return None
        if offset not in gram.pieces:
            gram.pieces[offset] = data
        if not more:
            gram.end = offset + len(data)
        if gram.end is None:
            return None
        out = bytearray(gram.end)
        covered = 0
        for start in sorted(gram.pieces):
            piece = gram.pieces[start]
            if start > covered:
                return None  # a hole: wait for it
            new = piece[covered - start:] if covered > start else piece
            out[covered:covered + len(new)] = new[:max(0, gram.end - covered)]
            covered = max(covered, start + len(piece))
        if covered < gram.end:
            return None
        del self.pending[key]
        return bytes(out[:gram.end])

    def _expire(self, now: int) -> None:
        limit = now - TIMEOUT_SECONDS * 1_000_000
        while self.pending:
            key, gram = next(iter(self.pending.items()))
            if gram.first_ts >= limit and len(self.pending) < MAX_DATAGRAMS:
                break
            del self.pending[key]
            self.dropped += 1
