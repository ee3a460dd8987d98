"""HTTP/1.x in reassembled TCP streams: requests, their responses, and credentials sent in clear.

Each direction is cut into messages: the start line and headers (read with dpkt's ``parse_headers``, at
most ``MAX_HEAD`` bytes), then the body framed by ``Content-Length``, chunked transfer coding, or (a
response) the end of the connection; 1xx, 204, 304 and responses to HEAD have none. Bodies are counted,
not kept, except a request body up to ``MAX_BODY`` bytes (for form credentials). Responses answer requests
in order (pipelining). A request becomes an ``http_requests`` row when its response is complete, or
without a status when the connection ends, a hole in the stream loses it, or more than ``MAX_PENDING``
requests wait.

Credentials: ``Authorization`` / ``Proxy-Authorization: Basic`` (base64 ``user:password``), and form
fields — an ``application/x-www-form-urlencoded`` or JSON body, or the query string — whose names are
common spellings of a user name (``user``, ``username``, ``login``, ``email``, ``j_username``, ``log`` ...)
and of a password (``pass``, ``password``, ``passwd``, ``pwd``, ``j_password`` ...), matched
case-insensitively, also as the last part of a bracketed name (``user[password]``). A password field
without a user field is still a credential (account null)."""

from __future__ import annotations

import base64
import binascii
import io
import json
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import dpkt

from netsift.ingest.capture.creds import Credential, Emit

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024
MAX_PENDING = 64
METHODS = (b"GET ", b"POST ", b"PUT ", b"HEAD ", b"DELETE ", b"OPTIONS ", b"PATCH ", b"CONNECT ", b"TRACE ")
USER_FIELDS = frozenset(("user", "username", "user_name", "userid", "user_id", "login", "loginid", "login_id",
                         "email", "e-mail", "mail", "uname", "usr", "account", "acct", "j_username", "log",
                         "login_name", "loginname", "session_key", "nickname", "uid"))
PASSWORD_FIELDS = frozenset(("pass", "password", "passwd", "pwd", "passw", "pw", "j_password", "secret",
                             "user_password", "login_password", "passcode", "userpassword", "session_password",
                             "pword", "pass_word"))


@dataclass(slots=True)
class Request:
    ts: int
    packet: int
    method: str
    uri: str
    host: str | None
    user_agent: str | None
    bytes_out: int = 0
    status: int | None = None
    bytes_in: int = 0


Row = Callable[[Request], None]


def _field_name(name: str) -> str:
    name = name.strip().lower()
    if name.endswith("]") and "[" in name:
        name = name[name.rfind("[") + 1:-1]
    return name


def form_credential(pairs: list[tuple[str, str]]) -> tuple[str | None, str] | None:
    """(account, password) from form fields, or None when no password field is there."""
    user = password = None
    for name, value in pairs:
        key = _field_name(name)
        if password is None and key in PASSWORD_FIELDS and value:
            password = value
        elif user is None and key in USER_FIELDS and value:
            user = value
    return None if password is None else (user, password)


def basic_credential(value: str) -> tuple[str, str] | None:
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class _Direction:
    """Cuts one direction's bytes into message heads and counted bodies."""

    def __init__(self, is_request: bool):
        self.is_request = is_request
        self.buf = bytearray()
        self.state = "head"  # head, body, chunk-size, chunk-data, trailer, close, lost
        self.remaining = 0
        self.body = bytearray()
        self.body_size = 0

    def feed(self, data: bytes, on_head: Callable[[str, dict], str], on_end: Callable[[bytes, int], None]) -> None:
        """``on_head(start_line, headers)`` returns the body framing ("none", "length:N", "chunked",
        "close"); ``on_end(kept_body, body_size)`` is called when a message is complete."""
        self.buf += data
        while self.buf and self.state != "lost":
            if self.state == "head":
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buf) > MAX_HEAD:
                        self.state = "lost"
                    return
                head = bytes(self.buf[:end + 4])
                del self.buf[:end + 4]
                line, _, rest = head.partition(b"\r\n")
                try:
                    headers = dpkt.http.parse_headers(io.BytesIO(rest))
                except (dpkt.UnpackError, ValueError):
                    self.state = "lost"
                    return
                framing = on_head(line.decode("latin-1"), headers)
                self.body, self.body_size = bytearray(), 0
                if framing.startswith("length:"):
                    self.remaining = int(framing[7:])
                    self.state = "body" if self.remaining else "head"
                    if not self.remaining:
                        on_end(b"", 0)
                elif framing == "chunked":
                    self.state = "chunk-size"
                elif framing == "close":
                    self.state = "close"
                else:
                    on_end(b"", 0)
            elif self.state in ("body", "chunk-data"):
                take = min(self.remaining, len(self.buf))
                self._keep(self.buf[:take])
                del self.buf[:take]
                self.remaining -= take
                if self.remaining:
                    return
                if self.state == "body":
                    self.state = "head"
                    on_end(bytes(self.body), self.body_size)
                else:
                    self.state, self.remaining = "chunk-end", 2
            elif self.state == "chunk-end":
                take = min(self.remaining, len(self.buf))
                del self.buf[:take]
                self.remaining -= take
                if not self.remaining:
                    self.state = "chunk-size"
            elif self.state in ("chunk-size", "trailer"):
                end = self.buf.find(b"\r\n")
                if end < 0:
                    if len(self.buf) > 4096:
                        self.state = "lost"
                    return
                line = bytes(self.buf[:end])
                del self.buf[:end + 2]
                if self.state == "trailer":
                    if not line:
                        self.state = "head"
                        on_end(bytes(self.body), self.body_size)
                    continue
                try:
                    size = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    self.state = "lost"
                    return
                if size == 0:
                    self.state = "trailer"
                else:
                    self.state, self.remaining = "chunk-data", size
            elif self.state == "close":
                self._keep(self.buf)
                self.buf.clear()

    def _keep(self, data: bytes | bytearray) -> None:
        self.body_size += len(data)
        if self.is_request and len(self.body) < MAX_BODY:
            self.body += data[:MAX_BODY - len(self.body)]

    def finish(self, on_end: Callable[[bytes, int], None]) -> None:
        """The connection ended: a body read until close is complete."""
        if self.state == "close":
            self.state = "head"
            on_end(bytes(self.body), self.body_size)


def _framing(headers: dict, no_body: bool, is_request: bool) -> str:
    if no_body:
        return "none"
    coding = headers.get("transfer-encoding", "")
    if isinstance(coding, list):
        coding = coding[-1]
    if "chunked" in coding.lower():
        return "chunked"
    length = headers.get("content-length")
    if isinstance(length, list):
        length = length[0]
    if length is not None:
        try:
            return f"length:{max(0, int(length))}"
        except ValueError:
            return "none" if is_request else "close"
    return "none" if is_request else "close"


def _one(headers: dict, name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, list):
        value = value[0]
    return value


class HttpHandler:
    """One TCP connection's HTTP: rows through ``row``, credentials through ``emit``."""

    def __init__(self, row: Row, emit: Emit, clock: Callable[[], tuple[int, int]]):
        self.row, self.emit, self.clock = row, emit, clock
        self.requests = _Direction(True)
        self.responses = _Direction(False)
        self.pending: deque[Request] = deque()
        self.current: Request | None = None  # the request whose body is being read
        self.answering: Request | None = None  # the request whose response is being read
        self.content_type = ""
        self.credentials_sent = False

    @staticmethod
    def looks_like(data: bytes) -> bool:
        return data.startswith(METHODS)

    def data(self, from_client: bool, data: bytes) -> None:
        if from_client:
            self.requests.feed(data, self._request_head, self._request_end)
        else:
            self.responses.feed(data, self._response_head, self._response_end)

    def gap(self, from_client: bool) -> None:
        direction = self.requests if from_client else self.responses
        direction.state, direction.buf = "lost", bytearray()

    def close(self) -> None:
        self.responses.finish(self._response_end)
        if self.current is not None:
            self.pending.append(self.current)
            self.current = None
        if self.answering is not None:
            self.row(self.answering)
            self.answering = None
        while self.pending:
            self.row(self.pending.popleft())

    # requests
    def _request_head(self, line: str, headers: dict) -> str:
        parts = line.split(" ")
        if len(parts) < 2 or not parts[0].isalpha():
            self.requests.state = "lost"
            return "none"
        ts, packet = self.clock()
        host = _one(headers, "host")
        if host:
            host = host.strip().lower()
            if host.startswith("["):
                host = host[1:host.find("]")] if "]" in host else host
            elif host.count(":") == 1:
                host = host.split(":")[0]
        self.current = Request(ts, packet, parts[0].upper(), parts[1], host or None, _one(headers, "user-agent"))
        self.content_type = (_one(headers, "content-type") or "").lower()
        for name in ("authorization", "proxy-authorization"):
            value = _one(headers, name)
            pair = basic_credential(value) if value else None
            if pair is not None:
                self.emit(Credential("http-basic", pair[0], pair[1], f"{self.current.method} {self.current.uri}"[:200],
                                     self.current.host))
        return _framing(headers, False, True)

    def _request_end(self, body: bytes, size: int) -> None:
        request = self.current
        if request is None:
            return
        self.current = None
        request.bytes_out = size
        self._form(request, body)
        self.pending.append(request)
        while len(self.pending) > MAX_PENDING:
            self.row(self.pending.popleft())

    def _form(self, request: Request, body: bytes) -> None:
        pairs: list[tuple[str, str]] = []
        _, _, query = request.uri.partition("?")
        if query:
            pairs += urllib.parse.parse_qsl(query, keep_blank_values=True)
        text = body.decode("utf-8", errors="replace")
        if body and "json" in self.content_type:
            try:
                doc = json.loads(text)
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                pairs += [(k, v) for k, v in doc.items() if isinstance(v, str)]
        elif body and ("form-urlencoded" in self.content_type or not self.content_type):
            pairs += urllib.parse.parse_qsl(text, keep_blank_values=True)
        found = form_credential(pairs)
        if found is not None:
            self.emit(Credential("http-form", found[0], found[1],
                                 f"{request.method} {request.uri.partition('?')[0]}"[:200], request.host))

    # responses
    def _response_head(self, line: str, headers: dict) -> str:
        parts = line.split(" ")
        try:
            status = int(parts[1]) if len(parts) > 1 and parts[0].startswith("HTTP/") else None
        except ValueError:
            status = None
        if status is None:
            self.responses.state = "lost"
            return "none"
        if 100 <= status < 200:
            return "none"  # an interim response: the real one follows
        request = self.pending.popleft() if self.pending else None
        if request is not None:
            request.status = status
        self.answering = request
        no_body = status in (204, 304) or (request is not None and request.method == "HEAD")
        return _framing(headers, no_body, False)

    def _response_end(self, body: bytes, size: int) -> None:
        request, self.answering = self.answering, None
        if request is not None:
            request.bytes_in = size
            self.row(request)
