"""Alerts: which findings to announce, and where.

:class:`Suppressor` decides: a finding at or above the minimum severity is announced when it is new (its id
is not open) or escalated (its severity rose since it was announced); repeats of an open finding are not.
The findings in the store when the watcher starts are open already (a restart announces nothing twice); a
finding that disappears from an analysis is closed, and announced again if it comes back.

An alert is the finding's JSON (``Finding.to_dict``, as ``analyze --json``) plus ``alert_time`` (UTC, ISO
8601) and ``alert`` (``new`` or ``escalated``). Sinks: :class:`NdjsonSink` (one line per alert, stdout or
a file, flushed), :class:`Webhook` (POSTs the same JSON from a background thread; a bounded queue that drops
the oldest alert when full, so ingest never waits; retries with exponential backoff), :class:`CefSink`
(ArcSight CEF over syslog, UDP or TCP, for SIEMs).
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import IO, Protocol
from urllib.parse import urlsplit

from netsift import __version__
from netsift.errors import UsageError
from netsift.findings import SEVERITIES, Finding
from netsift.watch.syslog import socket_address

RANK = {s: i for i, s in enumerate(SEVERITIES)}
CEF_SEVERITY = {"info": 1, "low": 3, "medium": 5, "high": 8, "critical": 10}


class Sink(Protocol):
    def send(self, alert: dict) -> None: ...

    def close(self) -> None: ...


class Suppressor:
    """New or escalated findings at or above ``min_severity`` (see the module docstring)."""

    def __init__(self, min_severity: str = "medium", open_findings: Iterable[Finding] = ()):
        if min_severity not in RANK:
            raise UsageError(f"--min-severity must be one of {', '.join(SEVERITIES)}")
        self.min_rank = RANK[min_severity]
        self.open: dict[str, int] = {f.id: RANK.get(f.severity, 0) for f in open_findings}

    def alerts(self, findings: Iterable[Finding], now: dt.datetime | None = None) -> list[dict]:
        now = now or dt.datetime.now(dt.UTC)
        out = []
        seen: dict[str, int] = {}
        for f in findings:
            rank = RANK.get(f.severity, 0)
            before = self.open.get(f.id)
            seen[f.id] = max(rank, before or 0)
            if rank < self.min_rank or (before is not None and rank <= before):
                continue
            doc = f.to_dict()
            doc["alert"] = "new" if before is None else "escalated"
            doc["alert_time"] = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            out.append(doc)
        self.open = seen
        return out


class NdjsonSink:
    def __init__(self, stream: IO[str], owned: bool = False):
        self.stream, self.owned = stream, owned

    def send(self, alert: dict) -> None:
        self.stream.write(json.dumps(alert, ensure_ascii=False) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.owned:
            self.stream.close()


class Webhook:
    """POST each alert as JSON to ``url`` from a background thread (see the module docstring)."""

    def __init__(self, url: str, *, queue_size: int = 1000, retries: int = 5, backoff: float = 0.5,
                 timeout: float = 5.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--webhook needs an http(s) URL, not {url!r}")
        self.url, self.retries, self.backoff, self.timeout = url, retries, backoff, timeout
        self.queue: queue.Queue[dict | None] = queue.Queue(queue_size)
        self.sent = self.failed = self.dropped = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="netsift-webhook", daemon=True)
        self._thread.start()

    def send(self, alert: dict) -> None:
        while True:
            try:
                self.queue.put_nowait(alert)
                return
            except queue.Full:
                try:
                    self.queue.get_nowait()  # drop the oldest: ingest never waits for a slow receiver
                    self.dropped += 1
                except queue.Empty:
                    pass

    def _run(self) -> None:
        while True:
            alert = self.queue.get()
            if alert is None:
                return
            self._post(alert)

    def _post(self, alert: dict) -> None:
        body = json.dumps(alert, ensure_ascii=False).encode()
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=body, method="POST", headers={
                "Content-Type": "application/json", "User-Agent": f"netsift/{__version__}"})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310 - http(s) only
                    if 200 <= resp.status < 300:
                        self.sent += 1
                        return
                    self.last_error = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                self.last_error = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                self.last_error = str(getattr(exc, "reason", exc))
            if attempt < self.retries:
                time.sleep(self.backoff * (2 ** attempt))
        self.failed += 1

    def close(self, wait: float = 5.0) -> None:
        """Let the queued alerts go (for at most ``wait`` seconds), then stop."""
        try:
            self.queue.put(None, timeout=wait)
        except queue.Full:
            return
        self._thread.join(wait)


def _cef_escape(value: str, header: bool) -> str:
    value = value.replace("\\", "\\\\").replace("\r", " ").replace("\n", " ")
    return value.replace("|", "\\|") if header else value.replace("=", "\\=")


def cef_line(alert: dict) -> str:
    """One alert as a CEF:0 message (header fields escaped with ``\\|``, extension values with ``\\=``)."""
    sev = CEF_SEVERITY.get(alert.get("severity", ""), 5)
    reason = (alert.get("reasons") or [""])[0]
    header = ["CEF:0", "netsift", "netsift", __version__, alert.get("kind", ""),
              f"{alert.get('kind', '')} {alert.get('domain') or alert.get('client') or ''}".strip(), str(sev)]
    ext = {"externalId": alert.get("id", ""), "src": alert.get("client") or "", "dhost": alert.get("domain") or "",
           "cs1Label": "score", "cs1": str(alert.get("score", "")), "cs2Label": "alert",
           "cs2": alert.get("alert", ""), "msg": reason, "rt": alert.get("alert_time", "")}
    return "|".join(_cef_escape(h, True) for h in header) + "|" + " ".join(
        f"{k}={_cef_escape(str(v), False)}" for k, v in ext.items() if v != "")


class CefSink:
    """CEF over syslog (RFC 5424 header, facility local4, severity from the finding): ``udp://host:port`` or
    ``tcp://host:port`` (newline-framed)."""

    def __init__(self, target: str):
        self.tcp, host, port = socket_address(target, "--cef")
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.sent = self.failed = 0

    def _socket(self) -> socket.socket:
        if self.sock is None:
            kind = socket.SOCK_STREAM if self.tcp else socket.SOCK_DGRAM
            sock = socket.socket(socket.AF_INET6 if ":" in self.address[0] else socket.AF_INET, kind)
            if self.tcp:
                sock.settimeout(2.0)
                sock.connect(self.address)
            self.sock = sock
        return self.sock

    def send(self, alert: dict) -> None:
        sev = {"critical": 2, "high": 3, "medium": 4, "low": 5}.get(alert.get("severity", ""), 6)
        pri = 20 * 8 + sev  # local4
        stamp = alert.get("alert_time") or dt.datetime.now(dt.UTC).isoformat()
        msg = f"<{pri}>1 {stamp} {socket.gethostname()} netsift - - - {cef_line(alert)}".encode()
        try:
            sock = self._socket()
            if self.tcp:
                sock.sendall(msg + b"\n")
            else:
                sock.sendto(msg, self.address)
            self.sent += 1
        except OSError:
            self.failed += 1
            if self.sock is not None:
                self.sock.close()
                self.sock = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
