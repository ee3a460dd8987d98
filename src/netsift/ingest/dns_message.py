"""DNS messages from the wire, as the pcap parser needs them: dpkt reads the header and flags; the
question and answer sections are read here so that names keep every byte (dig-style ``\\DDD`` escapes)
and record types dpkt does not know do not fail the message."""

from __future__ import annotations

import re
import socket
import struct

import dpkt


# dig's presentation format: \DDD outside printable ASCII, a backslash before special characters
_LABEL_CHARS = tuple("\\" + chr(b) if chr(b) in '.\\"();@$' else chr(b) if 0x21 <= b <= 0x7E else f"\\{b:03d}"
                     for b in range(256))
_TEXT_CHARS = tuple("\\\\" if b == 0x5C else chr(b) if 0x20 <= b <= 0x7E else f"\\{b:03d}"
                    for b in range(256))
_LABEL_SPECIAL = re.compile(rb'[^\x21-\x7e]|[.\\"();@$]')
_TEXT_SPECIAL = re.compile(rb"[^\x20-\x7e]|\\")


def _escape(data: bytes, chars: tuple[str, ...], special: re.Pattern) -> str:
    return "".join(chars[b] for b in data) if special.search(data) else data.decode("ascii")


def read_name(buf: bytes, off: int) -> tuple[str, int]:
    """A (possibly compressed) domain name at ``off``: (dig-style text without trailing dot, "." for
    the root; offset after the name). Compression pointers must point backwards, so loops end."""
    labels: list[str] = []
    after = -1
    limit = off
    length = 0
    while True:
        if off >= len(buf):
            raise dpkt.NeedData("name runs past the end of the message")
        n = buf[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(buf):
                raise dpkt.NeedData("name runs past the end of the message")
            ptr = ((n & 0x3F) << 8) | buf[off + 1]
            if ptr >= limit:
                raise dpkt.UnpackError("Invalid label compression pointer")
            if after < 0:
                after = off + 2
            limit = off = ptr
            continue
        if n & 0xC0:
            raise dpkt.UnpackError(f"Invalid label length {n:02x}")
        label = buf[off + 1:off + 1 + n]
        if len(label) < n:
            raise dpkt.NeedData("label runs past the end of the message")
        length += n + 1
        if length > 255:
            raise dpkt.UnpackError("name longer than 255 bytes")
        labels.append(_escape(label, _LABEL_CHARS, _LABEL_SPECIAL))
        off += 1 + n
    return (".".join(labels) or "."), (after if after >= 0 else off)


def _answer_text(rtype: int, buf: bytes, off: int, rdlen: int) -> str | None:
    if rtype == 1 and rdlen == 4:
        return socket.inet_ntop(socket.AF_INET, buf[off:off + 4])
    if rtype == 28 and rdlen == 16:
        return socket.inet_ntop(socket.AF_INET6, buf[off:off + 16])
    if rtype in (2, 5, 12, 39):  # NS, CNAME, PTR, DNAME
        return read_name(buf, off)[0].lower()
    if rtype == 15 and rdlen > 2:  # MX: preference, exchange
        return read_name(buf, off + 2)[0].lower()
    if rtype == 33 and rdlen > 6:  # SRV: priority, weight, port, target
        return read_name(buf, off + 6)[0].lower()
    if rtype == 16:  # TXT: character-strings, joined
        rdata, parts, i = buf[off:off + rdlen], [], 0
        while i < len(rdata):
            parts.append(rdata[i + 1:i + 1 + rdata[i]])
            i += 1 + rdata[i]
        return _escape(b"".join(parts), _TEXT_CHARS, _TEXT_SPECIAL)[:255]
    return None


class DnsMessage(dpkt.dns.DNS):
    """dpkt's DNS header and flags; the question and answer sections are read here so that names keep
    every byte (dig-style escapes) and record types dpkt does not know do not fail the message. The
    authority and additional sections are not read. ``questions``: ((name, qtype), ...);
    ``answers``: list of answer texts."""

    def unpack(self, buf: bytes) -> None:
        dpkt.Packet.unpack(self, buf)
        off = self.__hdr_len__
        questions = []
        for _ in range(self.qd):
            name, off = read_name(buf, off)
            if off + 4 > len(buf):
                raise dpkt.NeedData("question runs past the end of the message")
            questions.append((name.lower(), (buf[off] << 8) | buf[off + 1]))
            off += 4
        answers = []
        for _ in range(self.an):
            off = read_name(buf, off)[1]
            if off + 10 > len(buf):
                raise dpkt.NeedData("answer record runs past the end of the message")
            rtype, _cls, _ttl, rdlen = struct.unpack_from(">HHIH", buf, off)
            off += 10
            if off + rdlen > len(buf):
                raise dpkt.NeedData("answer data runs past the end of the message")
            text = _answer_text(rtype, buf, off, rdlen)
            if text is not None:
                answers.append(text)
            off += rdlen
        self.questions: tuple[tuple[str, int], ...] = tuple(questions)
        self.answers: list[str] = answers
        self.data = b""
