"""Syslog in: ``--syslog udp://HOST:PORT`` or ``tcp://HOST:PORT``.

Messages are RFC 3164 (``<PRI>Mmm dd HH:MM:SS [HOST] TAG[PID]: MSG``) or RFC 5424
(``<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG``); on TCP, octet-counted framing (``LEN SP MSG``, RFC 6587)
and newline framing are both read, per connection. The message's program (TAG / APP-NAME) picks the
parser: the format registry's parsers declare the programs they read (``Parser.syslog_programs``, e.g.
Pi-hole's ``dnsmasq``/``pihole-FTL``, BIND's ``named``), so a format added to the registry is routed without
a change here. A device that sends its own log line with no syslog header after the priority (FortiGate's
``date=... time=...``, or an RFC 5424 header without an application name) is routed by what the line
looks like (``Parser.syslog_line``) and stored as sent. Each message becomes the line its parser reads (``Mmm dd HH:MM:SS HOST PROGRAM[PID]: MSG``;
RFC 5424 stamps are converted to UTC) and goes to that program's source in the watcher (one file record per
listener and format). Messages of programs no parser declares, and messages that are not syslog, are counted
by program in the watcher's health (``syslog_unrouted``), not stored. With a spool directory (``netsift
watch``: ``<db>.syslog-spool``) each routed line is appended to its source's spool before it is buffered,
and what a stopped watcher received but never stored is fed again when it starts (``spool.py``).
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import socketserver
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from netsift.errors import UsageError
from netsift.ingest.formats import parser_for_line, parser_for_program
from netsift.watch.follow import BufferTail
from netsift.watch.health import Health
from netsift.watch.spool import SpoolTail, replay


class Sources(Protocol):
    """What a listener needs of the watcher (``runner.Watcher``)."""

    health: Health
    spool_dir: str | None  # where received messages are spooled (None: kept in memory only)

    def add_buffer(self, key: str, tail: BufferTail, fmt: str | None) -> None: ...

    def resume_points(self, prefix: str) -> dict[str, tuple[int, int, int]]: ...

MAX_MESSAGE = 64 * 1024
_RFC3164 = re.compile(
    rb"^<(\d{1,3})>(?:(?P<stamp>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) )?(?:(?P<host>[^\s:\[]+) )?"
    rb"(?P<tag>[^\s:\[]+)(?:\[(?P<pid>[^\]]*)\])?: ?(?P<msg>.*)$", re.S)
_RFC5424 = re.compile(
    rb"^<(\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) (?P<msgid>\S+) "
    rb"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(?P<msg>.*)$", re.S)
_PRIORITY = re.compile(rb"^<\d{1,3}>(?P<rest>.*)$", re.S)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class Message:
    program: str
    line: bytes  # as the program's parser reads it


def parse_message(data: bytes, now: dt.datetime | None = None) -> Message | None:
    """One syslog message -> its program and the line to parse (None: not syslog)."""
    data = data.rstrip(b"\r\n\x00")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    headerless = _PRIORITY.match(data)
    if headerless is not None:
        own = _own_line(headerless["rest"])
        if own is not None:
            return own
    m = _RFC5424.match(data)
    if m:
        app = m["app"].decode("utf-8", "replace")
        if app == "-":
            return _own_line(m["msg"].removeprefix(b"\xef\xbb\xbf"))
        try:
            ts = dt.datetime.fromisoformat(m["ts"].decode().replace("Z", "+00:00"))
            ts = ts.astimezone(dt.UTC) if ts.tzinfo else ts
        except ValueError:
            ts = now or dt.datetime.now(dt.UTC)
        stamp = f"{_MONTHS[ts.month - 1]} {ts.day:2d} {ts:%H:%M:%S}".encode()
        msg = m["msg"].removeprefix(b"\xef\xbb\xbf")
        pid = b"" if m["pid"] == b"-" else m["pid"]
        return Message(app, _line(stamp, m["host"], m["app"], pid, msg))
    m = _RFC3164.match(data)
    if not m:
        return None
    stamp = m["stamp"]
    if stamp is None:
        ts = now or dt.datetime.now(dt.UTC)
        stamp = f"{_MONTHS[ts.month - 1]} {ts.day:2d} {ts:%H:%M:%S}".encode()
    return Message(m["tag"].decode("utf-8", "replace"), _line(stamp, m["host"], m["tag"], m["pid"], m["msg"]))


def _own_line(msg: bytes) -> Message | None:
    """A device's own log line sent with no syslog header (FortiGate), routed by what the line looks like."""
    text = msg.decode("utf-8", "replace")
    parser = parser_for_line(text)
    return Message(parser.syslog_programs[0], msg.replace(b"\n", b" ")) if parser is not None else None


def _line(stamp: bytes, host: bytes | None, program: bytes, pid: bytes | None, msg: bytes) -> bytes:
    parser = parser_for_program(program.decode("utf-8", "replace"))
    tag = parser.syslog_tag.encode() if parser is not None and parser.syslog_tag else program
    pid_part = b"[" + pid + b"]" if pid else b""
    host_part = host + b" " if host and host != b"-" else b""
    return stamp + b" " + host_part + tag + pid_part + b": " + msg.replace(b"\n", b" ")


def octet_frames(buf: bytearray) -> list[bytes]:
    """Take the complete messages off the front of a TCP stream's buffer: octet-counted (``LEN SP MSG``) or
    newline-terminated, decided per message by its first byte."""
    out = []
    while buf:
        if buf[:1].isdigit():
            space = buf.find(b" ", 0, 12)
            if space == -1:
                if len(buf) > 12:  # digits without a length: a newline-framed message after all
                    end = buf.find(b"\n")
                    if end == -1:
                        break
                    out.append(bytes(buf[:end]))
                    del buf[:end + 1]
                    continue
                break
            length = int(buf[:space])
            if len(buf) < space + 1 + length:
                break
            out.append(bytes(buf[space + 1:space + 1 + length]))
            del buf[:space + 1 + length]
        else:
            end = buf.find(b"\n")
            if end == -1:
                if len(buf) > MAX_MESSAGE:
                    out.append(bytes(buf[:MAX_MESSAGE]))
                    del buf[:]
                break
            out.append(bytes(buf[:end]))
            del buf[:end + 1]
    return out


UDP_RECEIVE_BUFFER = 8 * 1024 * 1024  # asked of the kernel (it may grant less: net.core.rmem_max)


class _UdpServer(socketserver.UDPServer):
    """One thread reads every datagram (a thread per datagram fell behind and the kernel dropped messages:
    35 % of a 400-message burst on 127.0.0.1), with a large receive buffer for bursts."""

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
        super().server_bind()


def socket_address(url: str, option: str, listen: bool = False) -> tuple[bool, str, int]:
    """(tcp?, host, port) of ``udp://HOST:PORT`` or ``tcp://HOST:PORT``; a UsageError naming ``option`` for
    anything else (another scheme, no host, a port that is not a number from 1 to 65535; 0 = any free port
    is a listener's)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = None
    if parts.scheme not in ("udp", "tcp") or not parts.hostname or port is None or (port == 0 and not listen):
        raise UsageError(f"{option} needs udp://HOST:PORT or tcp://HOST:PORT (port 1-65535), not {url!r}")
    return parts.scheme == "tcp", parts.hostname, port


class SyslogListener:
    """One ``--syslog`` URL: a UDP or TCP server thread handing messages to the watcher's sources."""

    def __init__(self, url: str, tcp: bool, host: str, port: int):
        self.url, self.tcp, self.host, self.port = url, tcp, host, port
        self.unrouted: Counter[str] = Counter()
        self.received = 0
        self._watcher: Sources | None = None
        self._tails: dict[str, BufferTail] = {}
        self._resume: dict[str, tuple[int, int, int]] = {}  # source -> the record it continues
        self._lock = threading.Lock()
        self._server: socketserver.BaseServer | None = None

    @classmethod
    def parse(cls, url: str) -> SyslogListener:
        tcp, host, port = socket_address(url, "--syslog", listen=True)
        return cls(url, tcp, host, port)

    def deliver(self, data: bytes) -> None:
        msg = parse_message(data)
        with self._lock:
            self.received += 1
            if self._watcher is not None:
                self._watcher.health.extra.setdefault("syslog_received", {})[self.url] = self.received
            parser = parser_for_program(msg.program) if msg is not None else None
            if msg is None or parser is None:
                self.unrouted[msg.program if msg is not None else "(not syslog)"] += 1
                if self._watcher is not None:
                    self._watcher.health.extra["syslog_unrouted"] = dict(self.unrouted)
                return
            tail = self._tails.get(parser.name)
            if tail is None:
                tail = self._tails[parser.name] = self._tail(f"{self.url}#{parser.name}")
                if self._watcher is not None:
                    self._watcher.add_buffer(tail.path, tail, parser.name)
            tail.feed(msg.line + b"\n")  # under the lock: spooled in the order received

    def _tail(self, source: str, replayed: bytes = b"") -> BufferTail:
        spool = self._watcher.spool_dir if self._watcher is not None else None
        if spool is None:
            return BufferTail(source)
        return SpoolTail(source, spool, self._resume.get(source), replayed)

    def start(self, watcher: Sources) -> None:
        """Listen; first, with a spool, feed again what was received and never stored (a kill -9)."""
        self._watcher = watcher
        if watcher.spool_dir is not None:
            prefix = f"{self.url}#"
            self._resume = watcher.resume_points(prefix)
            for source, (_, data) in replay(watcher.spool_dir, prefix, self._resume).items():
                fmt = source[len(prefix):]
                tail = self._tails[fmt] = self._tail(source, data)
                watcher.add_buffer(source, tail, fmt)
                lines = data.count(b"\n")
                if lines:
                    watcher.health.note(f"{source}: {lines:,} spooled lines received before a stop and not "
                                        "stored: read again")
        listener = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                listener.deliver(self.request[0])

        class Tcp(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                buf = bytearray()
                while True:
                    chunk = self.request.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    for frame in octet_frames(buf):
                        listener.deliver(frame)
                if buf.strip():
                    listener.deliver(bytes(buf))

        base = socketserver.ThreadingTCPServer if self.tcp else _UdpServer
        server_class = type("SyslogServer", (base,), {
            "address_family": socket.AF_INET6 if ":" in self.host else socket.AF_INET,
            "allow_reuse_address": True, "daemon_threads": True})
        try:
            server = server_class((self.host, self.port), Tcp if self.tcp else Udp)
        except OSError as exc:
            raise UsageError(f"cannot listen on {self.url}: {exc.strerror or exc}") from exc
        if self.port == 0:
            self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, name=f"netsift-syslog-{self.port}", daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
