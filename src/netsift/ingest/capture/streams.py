"""The TCP connections of a capture whose bytes netsift reads (HTTP, cleartext logins), and their rows.

A connection gets a handler at its first payload: by the server's port (``creds.PORTS``; HTTP on 80,
8080, 8000, 8008, 8888, 3128) or, on any other port, when the client's first bytes are an HTTP request
line. Connections without a handler cost one dict entry until they end (their bytes are not kept). Both
directions are reassembled (``tcp.Direction``) and handed to the handler in order; a hole in a stream is
reported to it. A connection is closed (its handler flushed) on FIN or RST from both sides or an RST,
when silent ``IDLE_SECONDS`` of capture time, beyond ``MAX_CONNECTIONS`` (least recently active first),
and at the end of the file."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

from netsift.ingest.capture import creds
from netsift.ingest.capture.creds import Credential
from netsift.ingest.capture.http import HttpHandler, Request
from netsift.ingest.capture.tcp import FIN, RST, Direction

HTTP_PORTS = frozenset((80, 8080, 8000, 8008, 8888, 3128))
IDLE_SECONDS = 300
MAX_CONNECTIONS = 20_000
HTTP_COLUMNS = ("ts", "client", "server", "server_port", "method", "host", "uri", "user_agent", "status",
                "bytes_out", "bytes_in", "source_line")
CREDENTIAL_COLUMNS = ("ts", "client", "client_port", "server", "server_port", "protocol", "account", "secret",
                      "secret_clear", "host", "detail", "source_line")


def _text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


@dataclass(slots=True)
class _Conn:
    key: tuple  # (client, cport, server, sport)
    last_ts: int
    handler: Any = None  # None: not decided yet; False: nothing to read
    out: Direction = field(default_factory=Direction)
    back: Direction = field(default_factory=Direction)
    closing: int = 0


class Streams:
    def __init__(self, show_secrets: bool = False):
        self.show_secrets = show_secrets
        self.conns: dict[tuple, _Conn] = {}
        self.http: dict[str, list] = {c: [] for c in HTTP_COLUMNS}
        self.credentials: dict[str, list] = {c: [] for c in CREDENTIAL_COLUMNS}
        self.now = (0, 0)  # (ts, packet) of the segment being handled
        self.gaps = 0

    def segment(self, ts: int, packet: int, key: tuple, from_client: bool, seq: int, flags: int,
                data: bytes) -> None:
        """One TCP segment of the connection ``key`` = (client, cport, server, sport), the client being
        the flow table's originator."""
        conn = self.conns.pop(key, None)
        if conn is None:
            if not data and not flags & 0x02:
                return  # an ACK of a connection not followed
            conn = _Conn(key, ts)
        conn.last_ts = ts
        self.now = (ts, packet)
        direction = conn.out if from_client else conn.back
        # a connection found to hold nothing netsift reads keeps no bytes: only its end is watched
        pieces = direction.feed(seq, flags, data) if conn.handler is not False else []
        for piece in pieces:
            if conn.handler is None:
                conn.handler = self._handler(conn, from_client, piece) or False
            if not conn.handler:
                break
            if piece:
                conn.handler.data(from_client, piece)
            else:
                self.gaps += 1
                conn.handler.gap(from_client)
        if flags & (FIN | RST):
            conn.closing |= 4 if flags & RST else (1 if from_client else 2)
        if conn.closing & 4 or conn.closing & 3 == 3:
            self._close(conn)
            return
        self.conns[key] = conn
        if len(self.conns) > MAX_CONNECTIONS:
            oldest = next(iter(self.conns))
            self._close(self.conns.pop(oldest))

    def expire(self, now: int, everything: bool = False) -> None:
        limit = now - IDLE_SECONDS * 1_000_000
        for key in [k for k, c in self.conns.items() if everything or c.last_ts < limit]:
            self._close(self.conns.pop(key))

    def _handler(self, conn: _Conn, from_client: bool, first: bytes) -> Any:
        port = conn.key[3]
        protocol = creds.PORTS.get(port)
        emit = self._emitter(conn)
        if port in HTTP_PORTS or (from_client and HttpHandler.looks_like(first)):
            return HttpHandler(self._row(conn), emit, lambda: self.now)
        if protocol in ("ftp", "pop3", "imap", "smtp"):
            return creds.LineHandler(protocol, emit)
        if protocol == "telnet":
            return creds.TelnetHandler(emit)
        if protocol == "socks5":
            return creds.Socks5Handler(emit)
        if protocol == "ldap":
            return creds.LdapHandler(emit)
        return None

    def _close(self, conn: _Conn) -> None:
        if conn.handler and hasattr(conn.handler, "close"):
            conn.handler.close()

    def _row(self, conn: _Conn):
        client, _, server, sport = conn.key

        def row(request: Request) -> None:
            rows = self.http
            for name, value in (("ts", request.ts), ("client", _text(client)), ("server", _text(server)),
                                ("server_port", sport), ("method", request.method), ("host", request.host),
                                ("uri", request.uri), ("user_agent", request.user_agent),
                                ("status", request.status), ("bytes_out", request.bytes_out),
                                ("bytes_in", request.bytes_in), ("source_line", request.packet)):
                rows[name].append(value)
        return row

    def _emitter(self, conn: _Conn):
        client, cport, server, sport = conn.key

        def emit(found: Credential) -> None:
            ts, packet = self.now
            secret = found.secret if self.show_secrets else creds.mask(found.secret)
            rows = self.credentials
            for name, value in (("ts", ts), ("client", _text(client)), ("client_port", cport),
                                ("server", _text(server)), ("server_port", sport), ("protocol", found.protocol),
                                ("account", found.account), ("secret", secret),
                                ("secret_clear", self.show_secrets), ("host", found.host or _text(server)),
                                ("detail", found.detail), ("source_line", packet)):
                rows[name].append(value)
        return emit

    def take(self) -> tuple[dict[str, list], dict[str, list]]:
        http, creds_rows = self.http, self.credentials
        self.http = {c: [] for c in HTTP_COLUMNS}
        self.credentials = {c: [] for c in CREDENTIAL_COLUMNS}
        return http, creds_rows
