"""The watcher's health: events/s, lag behind each source, rows rejected, last alert, last analysis.

The watcher writes it as JSON to a status file beside the store (``<db>.watch.json``, replaced atomically
about once a second); ``netsift watch --status`` prints it (DuckDB lets no other process open the store
while the watcher writes it), SIGUSR1 prints it to stderr, and the dashboard of ``watch --serve`` shows it
(``/events``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections import deque
from typing import Any

RATE_WINDOW = 10.0  # seconds over which events/s is measured


def status_path(db: str) -> str:
    return f"{db}.watch.json"


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Health:
    def __init__(self) -> None:
        self.started = time.time()
        self.lines = self.rows = self.rejected = self.alerts = 0
        self.last_alert: dict | None = None
        self.last_alert_at: float | None = None
        self.last_analysis_at: float | None = None
        self.analysis_seconds: float | None = None
        self.analysis_error: str | None = None
        self.findings = 0
        self.sources: list[dict[str, Any]] = []
        self.notes: deque[str] = deque(maxlen=20)
        self.extra: dict[str, Any] = {}
        self._recent: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def counted(self, lines: int, rows: int, rejected: int) -> None:
        with self._lock:
            now = time.monotonic()
            self.lines += lines
            self.rows += rows
            self.rejected += rejected
            self._recent.append((now, lines))
            while self._recent and now - self._recent[0][0] > RATE_WINDOW:
                self._recent.popleft()

    def events_per_second(self) -> float:
        with self._lock:
            now = time.monotonic()
            while self._recent and now - self._recent[0][0] > RATE_WINDOW:
                self._recent.popleft()
            span = min(RATE_WINDOW, max(1.0, time.time() - self.started))
            return sum(n for _, n in self._recent) / span

    def alerted(self, alert: dict) -> None:
        self.alerts += 1
        self.last_alert, self.last_alert_at = alert, time.time()

    def note(self, text: str) -> None:
        self.notes.append(f"{_iso(time.time())} {text}")

    def snapshot(self) -> dict[str, Any]:
        last = self.last_alert
        return {
            "started": _iso(self.started),
            "uptime_seconds": round(time.time() - self.started, 1),
            "events_per_second": round(self.events_per_second(), 1),
            "lines": self.lines, "rows": self.rows, "rejected": self.rejected,
            "sources": list(self.sources),
            "alerts": self.alerts,
            "last_alert": None if last is None else {
                "time": last.get("alert_time"), "kind": last.get("kind"), "severity": last.get("severity"),
                "client": last.get("client"), "domain": last.get("domain"), "id": last.get("id")},
            "last_analysis": _iso(self.last_analysis_at),
            "analysis_seconds": None if self.analysis_seconds is None else round(self.analysis_seconds, 2),
            "analysis_error": self.analysis_error,
            "findings": self.findings,
            "notes": list(self.notes),
            **self.extra,
        }

    def write(self, path: str) -> None:
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.snapshot(), fh, indent=2)
        os.replace(tmp, path)


def read_status(db: str) -> dict | None:
    try:
        with open(status_path(db), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def format_status(doc: dict) -> str:
    """The health as a few lines for a terminal."""
    if doc.get("last_analysis"):
        analysis = (f"last analysis {doc['last_analysis']}, {doc.get('analysis_seconds')} s"
                    + (f", {doc['analysis']['kind']}" if doc.get("analysis") else ""))
    else:
        analysis = "no analysis yet"
    out = [f"watching since {doc.get('started')}: {doc.get('events_per_second', 0):,.1f} events/s, "
           f"{doc.get('rows', 0):,} rows, {doc.get('rejected', 0):,} rejected, {doc.get('alerts', 0):,} alerts, "
           f"{doc.get('findings', 0):,} findings ({analysis})"]
    for s in doc.get("sources", []):
        if s.get("mode"):  # a file read again whole when it changes (a capture, a JSON document)
            out.append(f"  {s['path']}: {s['mode']}")
            continue
        out.append(f"  {s['path']}: {s.get('format')} {s.get('rows', 0):,} rows, {s.get('rejected', 0):,} rejected, "
                   f"{s.get('behind_bytes', 0):,} bytes behind, last data {s.get('idle_seconds')} s ago")
    last = doc.get("last_alert")
    if last:
        out.append(f"  last alert {last['time']}: {last['severity']} {last['kind']} "
                   f"{last.get('client') or ''} {last.get('domain') or ''}".rstrip())
    hook = doc.get("webhook")
    if hook:
        out.append(f"  webhook: {hook['sent']:,} sent, {hook['failed']:,} failed, {hook['dropped']:,} dropped, "
                   f"{hook['queued']:,} queued" + (f" (last error: {hook['last_error']})" if hook.get("last_error") else ""))
    if doc.get("syslog_unrouted"):
        out.append("  syslog messages of programs no format reads: "
                   + ", ".join(f"{k} {v:,}" for k, v in sorted(doc["syslog_unrouted"].items())))
    if doc.get("analysis_error"):
        out.append(f"  analysis error: {doc['analysis_error']}")
    return "\n".join(out)
