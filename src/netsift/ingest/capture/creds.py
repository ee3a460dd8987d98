"""Cleartext credentials in reassembled TCP streams, and how a secret is masked.

Protocols (chosen by the server's port): FTP (21: ``USER`` then ``PASS``), POP3 (110: ``USER``/``PASS``,
``AUTH PLAIN``), IMAP (143: ``tag LOGIN user pass`` with quoted or atom arguments, ``AUTHENTICATE PLAIN``),
SMTP and submission (25, 587, 2525: ``AUTH PLAIN`` with the initial response or on the next line,
``AUTH LOGIN`` with the base64 user and password lines), LDAP (389: a simple ``BindRequest``, decoded with
pyasn1-modules' RFC 2251 ``LDAPMessage``; anonymous binds, with an empty password, are left out), SOCKS5
(1080: the RFC 1929 username/password sub-negotiation), Telnet (23: option negotiation stripped, the line
typed after the server's ``login:`` / ``Password:`` prompt). HTTP Basic and form posts: ``capture/http.py``.

The secret is stored masked — its first character and a star per further character (``p*******``), and
only stars when shorter than 4 characters — unless the file is ingested with ``--show-secrets``. Client
lines are cut at ``MAX_LINE`` bytes; a stream that never ends a line is given up past it."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.error import PyAsn1Error
from pyasn1_modules import rfc2251

MAX_LINE = 4096
PORTS = {21: "ftp", 110: "pop3", 143: "imap", 25: "smtp", 587: "smtp", 2525: "smtp", 389: "ldap",
         1080: "socks5", 23: "telnet"}


def mask(secret: str) -> str:
    """First character and a star per further character; only stars below 4 characters."""
    if len(secret) < 4:
        return "*" * len(secret)
    return secret[0] + "*" * (len(secret) - 1)


@dataclass(slots=True)
class Credential:
    protocol: str
    account: str | None
    secret: str
    detail: str | None = None
    host: str | None = None


Emit = Callable[[Credential], None]


def _b64(text: str) -> str | None:
    try:
        return base64.b64decode(text.strip(), validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None


def _plain(text: str) -> tuple[str, str] | None:
    """SASL PLAIN: base64 of authzid NUL authcid NUL password."""
    decoded = _b64(text)
    if decoded is None or decoded.count("\x00") != 2:
        return None
    _, user, password = decoded.split("\x00")
    return user, password


def _imap_args(text: str) -> list[str]:
    """IMAP atoms and quoted strings (backslash escapes inside quotes)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == " ":
            i += 1
        elif text[i] == '"':
            j, buf = i + 1, []
            while j < len(text) and text[j] != '"':
                if text[j] == "\\" and j + 1 < len(text):
                    j += 1
                buf.append(text[j])
                j += 1
            out.append("".join(buf))
            i = j + 1
        else:
            j = text.find(" ", i)
            j = len(text) if j < 0 else j
            out.append(text[i:j])
            i = j
    return out


class LineHandler:
    """FTP, POP3, IMAP, SMTP: the client's command lines."""

    def __init__(self, protocol: str, emit: Emit):
        self.protocol, self.emit = protocol, emit
        self.buf = b""
        self.user: str | None = None
        self.waiting: str | None = None  # "plain", "login-user", "login-pass", "imap-plain"

    def data(self, from_client: bool, data: bytes) -> None:
        if not from_client:
            return
        self.buf += data
        while b"\n" in self.buf:
            line, _, self.buf = self.buf.partition(b"\n")
            self.line(line.rstrip(b"\r").decode("utf-8", errors="replace"))
        if len(self.buf) > MAX_LINE:
            self.buf = b""

    def gap(self, from_client: bool) -> None:
        if from_client:
            self.buf = b""

    def line(self, text: str) -> None:
        if self.waiting is not None:
            self._continued(text)
            return
        word, _, rest = text.partition(" ")
        verb = word.upper()
        if self.protocol == "imap":
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "LOGIN":
                parts = _imap_args(args)
                if len(parts) >= 2:
                    self.emit(Credential("imap", parts[0], parts[1], "LOGIN"))
            elif command == "AUTHENTICATE" and args.upper().startswith("PLAIN"):
                initial = args[5:].strip()
                self._sasl_plain(initial) if initial else setattr(self, "waiting", "plain")
            return
        if verb in ("USER",) and self.protocol in ("ftp", "pop3"):
            self.user = rest.strip()
        elif verb == "PASS" and self.protocol in ("ftp", "pop3"):
            self.emit(Credential(self.protocol, self.user, rest, "USER/PASS"))
            self.user = None
        elif verb == "AUTH":
            mechanism, _, initial = rest.strip().partition(" ")
            mechanism = mechanism.upper()
            if mechanism == "PLAIN":
                self._sasl_plain(initial) if initial and initial != "=" else setattr(self, "waiting", "plain")
            elif mechanism == "LOGIN":
                if initial:
                    self.user = _b64(initial)
                    self.waiting = "login-pass"
                else:
                    self.waiting = "login-user"

    def _sasl_plain(self, text: str) -> None:
        pair = _plain(text)
        if pair is not None:
            self.emit(Credential(self.protocol, pair[0], pair[1], "AUTH PLAIN"))

    def _continued(self, text: str) -> None:
        waiting, self.waiting = self.waiting, None
        if text.strip() == "*":  # the client cancelled
            return
        if waiting == "plain":
            self._sasl_plain(text)
        elif waiting == "login-user":
            self.user = _b64(text)
            self.waiting = "login-pass" if self.user is not None else None
        elif waiting == "login-pass":
            secret = _b64(text)
            if secret is not None:
                self.emit(Credential(self.protocol, self.user, secret, "AUTH LOGIN"))
            self.user = None


class TelnetHandler:
    """The line typed after the server's login / password prompt (option negotiation stripped)."""

    def __init__(self, emit: Emit):
        self.emit = emit
        self.prompt: str | None = None  # "login" or "password"
        self.server_tail = ""
        self.typed = bytearray()
        self.user: str | None = None

    @staticmethod
    def _strip(data: bytes) -> bytes:
        out, i = bytearray(), 0
        while i < len(data):
            b = data[i]
            if b == 255 and i + 1 < len(data):  # IAC
                cmd = data[i + 1]
                if cmd == 255:
                    out.append(255)
                    i += 2
                elif cmd == 250:  # sub-negotiation up to IAC SE
                    end = data.find(b"\xff\xf0", i + 2)
                    i = len(data) if end < 0 else end + 2
                elif cmd in (251, 252, 253, 254):
                    i += 3
                else:
                    i += 2
            else:
                out.append(b)
                i += 1
        return bytes(out)

    def data(self, from_client: bool, data: bytes) -> None:
        text = self._strip(data)
        if not from_client:
            self.server_tail = (self.server_tail + text.decode("utf-8", errors="replace"))[-64:]
            tail = self.server_tail.rstrip().lower()
            if tail.endswith(("login:", "username:", "user:")):
                self.prompt, self.typed = "login", bytearray()
            elif tail.endswith("password:"):
                self.prompt, self.typed = "password", bytearray()
            return
        if self.prompt is None:
            return
        for b in text:
            if b in (13, 10, 0):
                if self.typed or b != 0:
                    self._entered(self.typed.decode("utf-8", errors="replace"))
                    self.typed = bytearray()
                    self.server_tail = ""
            elif b in (8, 127):
                del self.typed[-1:]
            elif len(self.typed) < MAX_LINE:
                self.typed.append(b)

    def _entered(self, text: str) -> None:
        prompt, self.prompt = self.prompt, None
        if prompt == "login":
            self.user = text
        elif prompt == "password":
            self.emit(Credential("telnet", self.user, text, "login prompt"))
            self.user = None

    def gap(self, from_client: bool) -> None:
        self.typed = bytearray()


class Socks5Handler:
    """RFC 1928 greeting, then RFC 1929: VER=1 ULEN UNAME PLEN PASSWD (after the server chose method 2)."""

    def __init__(self, emit: Emit):
        self.emit = emit
        self.client = b""
        self.greeted = False
        self.done = False

    def data(self, from_client: bool, data: bytes) -> None:
        if not from_client or self.done:
            return
        self.client = (self.client + data)[:1024]
        buf = self.client
        if not self.greeted:
            if len(buf) < 2 or buf[0] != 5 or len(buf) < 2 + buf[1]:
                if buf and buf[0] != 5:
                    self.done = True
                return
            self.greeted = True
            self.client = buf = buf[2 + buf[1]:]
        if len(buf) < 2:
            return
        if buf[0] != 1:
            self.done = True
            return
        ulen = buf[1]
        if len(buf) < 3 + ulen or len(buf) < 3 + ulen + buf[2 + ulen]:
            return
        user = buf[2:2 + ulen].decode("utf-8", errors="replace")
        plen = buf[2 + ulen]
        secret = buf[3 + ulen:3 + ulen + plen].decode("utf-8", errors="replace")
        self.emit(Credential("socks5", user, secret, "RFC 1929 username/password"))
        self.done = True

    def gap(self, from_client: bool) -> None:
        self.done = self.done or from_client


class LdapHandler:
    """Simple BindRequests (RFC 4511) in the client's stream of BER-encoded LDAPMessages."""

    MAX_MESSAGE = 64 * 1024

    def __init__(self, emit: Emit):
        self.emit = emit
        self.buf = b""

    def data(self, from_client: bool, data: bytes) -> None:
        if not from_client:
            return
        self.buf += data
        while self.buf:
            size = _ber_size(self.buf)
            if size is None:  # the length is not all there yet
                return
            if size == 0 or size > self.MAX_MESSAGE:
                self.buf = b""  # not LDAP, or too large to keep
                return
            if len(self.buf) < size:
                return
            message, self.buf = self.buf[:size], self.buf[size:]
            self._message(message)

    def _message(self, raw: bytes) -> None:
        try:
            message, _ = ber_decoder.decode(raw, asn1Spec=rfc2251.LDAPMessage())
        except (PyAsn1Error, ValueError):
            return
        op = message["protocolOp"]
        if op.getName() != "bindRequest":
            return
        bind = op["bindRequest"]
        auth = bind["authentication"]
        if auth.getName() != "simple":
            return
        secret = bytes(auth["simple"]).decode("utf-8", errors="replace")
        if secret:
            self.emit(Credential("ldap", str(bind["name"]), secret, "simple bind"))

    def gap(self, from_client: bool) -> None:
        if from_client:
            self.buf = b""


def _ber_size(buf: bytes) -> int | None:
    """Total length of the BER element at the start of ``buf`` (None: not readable yet / not a SEQUENCE)."""
    if len(buf) < 2:
        return None if not buf or buf[0] == 0x30 else 0
    if buf[0] != 0x30:
        return 0
    first = buf[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4:
        return 0
    if len(buf) < 2 + count:
        return None
    return 2 + count + int.from_bytes(buf[2:2 + count], "big")
