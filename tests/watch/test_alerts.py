"""Alerts: new or escalated findings at or above the minimum severity, once; NDJSON, webhook (retries with
backoff against a real HTTP server on 127.0.0.1 that fails first), CEF over syslog."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from netsift.errors import UsageError
from netsift.findings import Finding
from netsift.watch.alerts import CefSink, NdjsonSink, Suppressor, Webhook, cef_line


def _f(score: float, kind: str = "beacon", domain: str = "c2.example") -> Finding:
    return Finding(kind=kind, score=score, reasons=["why"], client="10.0.0.9", domain=domain)


@pytest.mark.parametrize("before, after, expected", [
    ([], [0.6], ["new"]),  # new, medium
    ([], [0.3], []),  # below --min-severity medium
    ([0.6], [0.6], []),  # a repeat of an open finding
    ([0.6], [0.8], ["escalated"]),  # medium -> high
    ([0.8], [0.6], []),  # lower again: not announced
    ([0.3], [0.6], ["escalated"]),  # low (open, never announced) -> medium
])
def test_suppressor_announces_new_and_escalated_findings_once(before, after, expected):
    s = Suppressor("medium")
    s.alerts([_f(x) for x in before])
    got = s.alerts([_f(x) for x in after])
    assert [a["alert"] for a in got] == expected
    if got:
        assert got[0]["kind"] == "beacon" and got[0]["alert_time"].endswith("Z")
        assert set(_f(0.6).to_dict()) < set(got[0])


def test_open_findings_at_start_are_not_announced_again_but_closed_ones_come_back():
    s = Suppressor("medium", [_f(0.6)])
    assert s.alerts([_f(0.6)]) == []
    assert s.alerts([]) == []  # closed
    assert [a["alert"] for a in s.alerts([_f(0.6)])] == ["new"]


def test_bad_min_severity_is_a_usage_error():
    with pytest.raises(UsageError):
        Suppressor("urgent")


def test_ndjson_sink_writes_one_line_per_alert():
    out = io.StringIO()
    sink = NdjsonSink(out)
    for alert in Suppressor("low").alerts([_f(0.6), _f(0.3, domain="other.example")]):
        sink.send(alert)
    assert [json.loads(line)["domain"] for line in out.getvalue().splitlines()] == ["c2.example", "other.example"]


class _Flaky(BaseHTTPRequestHandler):
    fail_first = 2
    calls: list[float] = []
    bodies: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append(time.monotonic())
        if len(type(self).calls) <= type(self).fail_first:
            self.send_response(503)
            self.end_headers()
            return
        type(self).bodies.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_retries_with_backoff_until_the_server_answers():
    _Flaky.calls, _Flaky.bodies = [], []
    server = HTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = Webhook(f"http://127.0.0.1:{server.server_port}/alerts", backoff=0.1)
        alert = Suppressor().alerts([_f(0.8)])[0]
        started = time.monotonic()
        hook.send(alert)  # returns at once: the POST happens on the webhook's thread
        assert time.monotonic() - started < 0.05
        hook.close(wait=10)
    finally:
        server.shutdown()
    assert _Flaky.bodies == [alert]
    assert hook.sent == 1 and hook.failed == 0
    gaps = [b - a for a, b in zip(_Flaky.calls, _Flaky.calls[1:])]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19  # 0.1 s, then 0.2 s


def test_webhook_queue_is_bounded_and_drops_the_oldest():
    hook = Webhook("http://127.0.0.1:9/", queue_size=2, retries=0, timeout=0.2)
    for i in range(50):
        hook.send({"n": i})
    assert hook.queue.qsize() <= 2 and hook.dropped >= 45


@pytest.mark.parametrize("url", ["ftp://x/", "not a url", "http://"])
def test_webhook_needs_an_http_url(url):
    with pytest.raises(UsageError):
        Webhook(url)


def test_cef_line_escapes_header_and_extension():
    alert = Suppressor().alerts([Finding(kind="beacon", score=0.95, reasons=["a=b | c\\d\nnext"], client="10.0.0.1",
                                         domain="x|y.example")])[0]
    line = cef_line(alert)
    assert line.startswith("CEF:0|netsift|netsift|")
    assert "|beacon|beacon x\\|y.example|10|" in line
    assert "msg=a\\=b | c\\\\d next" in line and "src=10.0.0.1" in line and "\n" not in line


def test_cef_over_udp_syslog_arrives():
    recv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    recv.bind(("127.0.0.1", 0))
    recv.settimeout(5)
    sink = CefSink(f"udp://127.0.0.1:{recv.getsockname()[1]}")
    sink.send(Suppressor().alerts([_f(0.8)])[0])
    data = recv.recv(65536).decode()
    sink.close()
    recv.close()
    assert data.startswith("<163>1 ") and "CEF:0|netsift|netsift|" in data and "dhost=c2.example" in data


def test_status_lines_show_sources_alerts_and_the_webhook():
    from netsift.watch.health import Health, format_status

    h = Health()
    h.counted(10, 5, 1)
    h.sources = [{"path": "/x/pihole.log", "format": "pihole", "rows": 5, "rejected": 1, "behind_bytes": 0,
                  "idle_seconds": 0.5}]
    h.alerted(Suppressor().alerts([_f(0.8)])[0])
    h.extra["webhook"] = {"sent": 1, "failed": 0, "dropped": 0, "queued": 0, "last_error": "HTTP 500"}
    h.extra["syslog_unrouted"] = {"cron": 3}
    text = format_status(h.snapshot())
    assert "5 rows, 1 rejected, 1 alerts" in text and "/x/pihole.log: pihole" in text
    assert "last alert" in text and "high beacon 10.0.0.9 c2.example" in text
    assert "webhook: 1 sent" in text and "HTTP 500" in text and "cron 3" in text


def test_status_lines_never_print_none():
    """Before any analysis (or with --no-detect) and for files re-read whole, the status says so in words."""
    from netsift.watch.health import Health, format_status

    h = Health()
    h.sources = [{"path": "/x/cap.pcap", "format": None, "mode": "re-read when changed", "behind_bytes": 0}]
    text = format_status(h.snapshot())
    assert "None" not in text
    assert "no analysis yet" in text and "/x/cap.pcap: re-read when changed" in text
