"""The bandwidth and credentials pages (/bandwidth, /credentials and their JSON twins), the overview's
family counts and the report's sections, on a store ingested from Zeek conn.log / Squid fixtures and a capture
with cleartext logins (one client named like markup, to check escaping); in Chromium too."""

from __future__ import annotations

import json
import shutil

import pytest

from netsift import pipeline
from netsift.ingest.plan import IngestOptions
from netsift.report.html import render_report
from netsift.store import open_store
from tests.formats.test_pcap import write_pcap
from tests.formats.test_pcap_network import OK, Conversation, http_post
from tests.test_cli_network import DATA, SECRET
from tests.web.browser import browser_page, require_chromium, wait_for_charts
from tests.web.conftest import Client, make_app
from tests.web.server import Server

XSS = '<img src=x onerror=alert(1)>'
LONG_URI = b"/portal/" + b"x" * 140 + b"/session/login"


def build_network_store(folder) -> str:
    # a long form URL (as real login forms carry them) must wrap in its cell, not push the table out
    web = Conversation(80).handshake().send(http_post(uri=LONG_URI)).answer(OK).close()
    pcap = write_pcap(folder / "logins.pcap", web.frames)
    conn = folder / "conn.json"
    lines = (DATA / "conn.json").read_text().splitlines()
    lines.append(json.dumps({"ts": 1714557700, "id.orig_h": XSS, "id.resp_h": "10.0.0.9", "proto": "tcp",
                             "conn_state": "SF", "orig_bytes": 7, "resp_bytes": 9}))
    conn.write_text("\n".join(lines) + "\n")
    path = folder / "net.duckdb"
    with open_store(path) as store:
        pipeline.ingest(store, [str(pcap), str(conn), str(DATA / "access.log")], IngestOptions())
        pipeline.analyze(store)
    return str(path)


@pytest.fixture(scope="module")
def network_store(tmp_path_factory):
    return build_network_store(tmp_path_factory.mktemp("traffic"))


@pytest.fixture
def net_client(network_store, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(network_store, path)
    app = make_app(path)
    yield Client(app)
    app.state.netsift.close()


def test_bandwidth_json_twin(net_client):
    d = net_client.get("/bandwidth.json").json()
    clients = {c["client"]: c for c in d["clients"]}
    assert clients["10.0.0.5"]["bytes_out"] == 1200 + len(http_post(uri=LONG_URI))
    assert clients[XSS]["bytes_out"] == 7
    assert d["totals"]["bytes_out"] == sum(c["bytes_out"] for c in d["clients"])
    one = net_client.get("/bandwidth.json", params={"client": "10.0.0.6"}).json()
    assert [c["client"] for c in one["clients"]] == ["10.0.0.6"] and one["client"] == "10.0.0.6"
    assert net_client.get("/bandwidth.json", params={"client": "192.0.2.99"}).status_code == 404


def test_pages_escape_and_mask(net_client):
    for path in ("/bandwidth", "/credentials", "/"):
        html = net_client.get(path).text
        assert XSS not in html and SECRET not in html
    bandwidth = net_client.get("/bandwidth").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in bandwidth and 'id="top-talkers"' in bandwidth
    credentials = net_client.get("/credentials").text
    assert "w************" in credentials and "alice" in credentials
    overview = net_client.get("/").text
    assert 'id="families"' in overview and 'href="/credentials"' in overview and 'href="/bandwidth"' in overview
    assert '<a href="/bandwidth"' in overview  # nav
    assert net_client.get("/credentials.json").json()["credentials"][0]["secret"] == "w************"


def test_report_sections(network_store):
    with open_store(network_store, read_only=True) as store:
        html = render_report(store)
    assert 'id="bandwidth"' in html and 'id="credentials"' in html and 'id="families"' in html
    assert XSS not in html and SECRET not in html


def test_pages_absent_without_rows(client):
    assert client.get("/bandwidth.json").status_code == 404
    assert client.get("/credentials").status_code == 404
    assert 'href="/bandwidth"' not in client.get("/").text


@pytest.mark.browser
def test_bandwidth_and_credentials_in_chromium(network_store, tmp_path):
    require_chromium()
    path = tmp_path / "copy.duckdb"
    shutil.copy(network_store, path)
    srv = Server(path)
    try:
        with browser_page((1400, 1000)) as (page, watch):
            page.goto(srv.url + "/")
            page.locator("header nav a", has_text="Bandwidth").click()
            page.wait_for_url("**/bandwidth")
            assert wait_for_charts(page) == 2
            assert XSS in page.locator("#per-client").inner_text()  # shown as text, never run
            page.screenshot(path=str(tmp_path / "bandwidth.png"), full_page=True)
            page.locator("header nav a", has_text="Credentials").click()
            page.wait_for_url("**/credentials")
            text = page.locator("#credentials").inner_text()
            assert "alice" in text and "w************" in text and SECRET not in text
            assert page.evaluate("""() => [...document.querySelectorAll('section table')]
                .filter(t => t.scrollWidth > t.closest('section').clientWidth + 1).length""") == 0
            assert watch.errors == [] and watch.blocked == [] and watch.dialogs == []
    finally:
        srv.stop()


def test_one_host_one_story_has_connections_http_and_credentials(network_store):
    from netsift import timeline

    with open_store(network_store, read_only=True) as store:
        events = timeline.client_events(store, "10.0.0.5")
        server_side = timeline.client_events(store, "203.0.113.80")
    families = {e["family"] for e in events}
    assert {"connections", "http", "credentials"} <= families
    cred = next(e for e in events if e["family"] == "credentials")
    assert cred["text"] == "http-form password of alice sent to 203.0.113.80 in clear text"
    assert SECRET not in str(events) and "w****" not in str(events)
    conn = [e for e in server_side if e["family"] == "connections"]
    assert conn and conn[0]["text"].startswith("1 connections from 1 clients")
    assert any(e["family"] == "credentials" and "received from 10.0.0.5" in e["text"] for e in server_side)


def test_ids_alerts_are_counted_on_the_overview_and_in_the_report(tmp_path):
    from tests.detect.test_ids_alert import alert
    log = tmp_path / "eve.json"
    log.write_text("\n".join(alert(i, "10.0.0.5", "198.51.100.9", 2018358, f"ET MALWARE {XSS}", 1)
                             for i in range(3)) + "\n")
    path = tmp_path / "alerts.duckdb"
    with open_store(path) as store:
        pipeline.ingest(store, [str(log)], IngestOptions())
        pipeline.analyze(store)
        html = render_report(store)
    assert 'id="families"' in html and "3 IDS alerts" in html and XSS not in html
    app = make_app(path)
    try:
        overview = Client(app).get("/").text
    finally:
        app.state.netsift.close()
    assert "3 IDS alerts" in overview and 'href="/findings?kind=ids_alert"' in overview
