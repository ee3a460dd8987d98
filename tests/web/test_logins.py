"""Logins: `netsift logins`, the dashboard's Logins page and its JSON twin, the client's story (one host,
one story) on a page and in `netsift explain`, the report's section, the overview's count; hostile
account and host names are escaped everywhere."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil

import polars as pl
import pytest
from click.testing import CliRunner

from netsift import logins, pipeline, timeline
from netsift.cli import main
from netsift.ingest.base import finish_records
from netsift.report.html import write_report
from netsift.store import open_store
from tests.web.conftest import Client, make_app

T0 = dt.datetime(2024, 5, 1, 6, 0)
EVIL = '<script>alert("x")</script>'
ATTACKER = "203.0.113.9"


def logon_rows() -> list[dict]:
    rows = [dict(ts=T0 + dt.timedelta(seconds=10 * i), client=ATTACKER, account="root", host="web1", service="sshd",
                 event="failure", method="password") for i in range(20)]
    rows.append(dict(ts=T0 + dt.timedelta(minutes=4), client=ATTACKER, account="root", host="web1", service="sshd",
                     event="success", method="password"))
    rows.append(dict(ts=T0 + dt.timedelta(minutes=5), client="10.0.0.3", account=EVIL, host=EVIL, service="sshd",
                     event="invalid_user", unknown_account=True))
    return rows


@pytest.fixture(scope="module")
def logon_store(tmp_path_factory, base_store):
    """The dashboard fixture store (DNS from 10.0.0.3 and others) plus logon events, analysed."""
    path = tmp_path_factory.mktemp("logins") / "s.duckdb"
    shutil.copy(base_store, path)
    with open_store(path) as store:
        frame = finish_records(pl.DataFrame(logon_rows()).with_columns(source_line=pl.int_range(1, 23)),
                               "logon_events").with_columns(source_file_id=pl.lit(2, pl.Int64))
        store.append("logon_events", frame)
        pipeline.analyze(store)
    return path


@pytest.fixture
def web(logon_store, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(logon_store, path)
    app = make_app(path)
    yield Client(app)
    app.state.netsift.close()


def test_summary_and_counts(logon_store):
    with open_store(logon_store, read_only=True) as store:
        by_source = {r["source"]: r for r in logins.summary(store, "source")}
        assert (by_source[ATTACKER]["failures"], by_source[ATTACKER]["successes"]) == (20, 1)
        assert by_source["10.0.0.3"]["unknown_account"] == 1
        assert logins.counts(store)["events"] == 22
        assert [r["account"] for r in logins.summary(store, "account", event="success")] == ["root"]
        hours = logins.timeline(store, "source", ATTACKER)
        assert {(r["event"], r["events"]) for r in hours} == {("failure", 20), ("success", 1)}


def test_a_dns_only_store_has_no_logins(base_store, tmp_path):
    path = tmp_path / "dns.duckdb"
    shutil.copy(base_store, path)
    with open_store(path) as store:
        assert logins.summary(store) == [] and logins.counts(store)["events"] == 0
        assert {e["family"] for e in timeline.client_events(store, "10.0.0.3")} <= {"dns", "findings"}


def test_one_host_one_story(logon_store):
    with open_store(logon_store, read_only=True) as store:
        story = timeline.client_events(store, "10.0.0.3")  # DNS questions and an invalid-user logon
        families = {e["family"] for e in story}
        assert {"dns", "logons"} <= families
        assert [e["ts"] for e in story] == sorted(e["ts"] for e in story)
        attacker = timeline.client_events(store, ATTACKER)  # known from the auth log only
        assert {e["family"] for e in attacker} == {"logons", "findings"}
        assert any("login_after_failures" in e["text"] for e in attacker)
        web1 = timeline.client_events(store, "web1")  # the target host: logons to it, findings on it
        assert any(e["family"] == "logons" and f"from {ATTACKER}" in e["text"] for e in web1)
        assert timeline.has_client(store, ATTACKER) and not timeline.has_client(store, "192.0.2.99")


def test_a_family_registers_its_events(logon_store):
    extra = timeline.Family("test", "logon_events", "SELECT ts, 'ping' AS kind, 1 AS count FROM logon_events "
                            "WHERE client = ? LIMIT 1", lambda r: "a test event")
    timeline.register(extra)
    try:
        with open_store(logon_store, read_only=True) as store:
            assert any(e["family"] == "test" for e in timeline.client_events(store, ATTACKER))
    finally:
        timeline.FAMILIES.remove(extra)


def test_cli_logins_and_explain(logon_store):
    runner = CliRunner()
    out = runner.invoke(main, ["logins", "--db", str(logon_store), "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert rows[0]["source"] == ATTACKER and rows[0]["failures"] == 20
    out = runner.invoke(main, ["logins", "--db", str(logon_store), "--by", "host", "--csv"])
    assert out.exit_code == 0 and out.output.splitlines()[0].startswith("host,events")
    out = runner.invoke(main, ["explain", "--db", str(logon_store), ATTACKER, "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert {f["kind"] for f in doc["findings"]} >= {"brute_force", "login_after_failures"}
    assert {e["family"] for e in doc["timeline"]} == {"logons", "findings"}
    out = runner.invoke(main, ["explain", "--db", str(logon_store), ATTACKER])
    assert out.exit_code == 0 and "story of" in out.output


def test_logins_page_and_json_twin(web):
    page = web.get("/logins")
    assert page.status_code == 200 and "Sources (acting addresses)" in page.text
    assert EVIL not in page.text and "&lt;script&gt;" in page.text
    twin = web.get("/logins.json").json()
    assert twin["counts"]["events"] == 22 and twin["source"][0]["source"] == ATTACKER
    one = web.get(f"/logins?by=source&key={ATTACKER}")
    assert one.status_code == 200 and "Newest events" in one.text
    assert web.get(f"/logins.json?by=source&key={ATTACKER}").json()["summary"]["failures"] == 20
    hostile = web.get("/logins", params={"by": "host", "key": EVIL})
    assert hostile.status_code == 200 and EVIL not in hostile.text
    assert web.get("/logins?by=source&key=192.0.2.99").status_code == 404
    assert web.get("/logins?by=nope").status_code == 400


def test_client_page_tells_the_story(web):
    page = web.get(f"/client?name={ATTACKER}")  # no DNS questions: the page exists all the same
    assert page.status_code == 200, page.text[:300]
    assert "Story" in page.text and "login_after_failures" in page.text
    twin = web.get(f"/client.json?name={ATTACKER}").json()
    assert {e["family"] for e in twin["story"]} == {"logons", "findings"}
    dns_client = web.get("/client?name=10.0.0.3")
    assert dns_client.status_code == 200 and EVIL not in dns_client.text
    overview = web.get("/overview")
    assert "logon events" in overview.text
    assert web.get("/overview.json").json()["logins"]["events"] == 22


def test_report_section(logon_store, tmp_path):
    out = tmp_path / "r.html"
    with open_store(logon_store, read_only=True) as store:
        write_report(store, out)
    html = out.read_text()
    assert 'id="logins"' in html and ATTACKER in html and EVIL not in html
    assert "account <code>root</code>" in html  # the finding lists name the account


def test_logins_and_story_in_a_browser(logon_store, tmp_path):
    """Chromium: the Logins pages draw their timeline offline, a hostile account stays text (no dialog, no
    script), the client page of an address known only from an auth log shows its story."""
    from tests.web.browser import browser_page, wait_for_charts
    from tests.web.server import Server

    path = tmp_path / "b.duckdb"
    shutil.copy(logon_store, path)
    server = Server(path)
    try:
        with browser_page() as (page, watch):
            page.goto(server.url + "/logins")
            assert wait_for_charts(page) == 1
            assert page.locator("[data-figure] .main-svg").count() >= 1
            assert page.locator("[data-figure] .bars path").count() >= 1  # the stacked bars drew
            assert page.get_by_text(EVIL).count() >= 1  # shown as text
            cut = page.evaluate("""() => [...document.querySelectorAll('section table')]
                .filter(t => t.scrollWidth > t.closest('section').clientWidth)
                .map(t => t.querySelector('th').textContent)""")
            assert cut == []  # the sources/accounts/hosts tables fit their cards on a laptop screen
            page.goto(server.url + f"/logins?by=source&key={ATTACKER}")
            assert wait_for_charts(page) == 1
            assert page.locator("table.logins tr").count() == 22  # header + 21 events of the attacker
            page.goto(server.url + "/logins?by=host&key=" + EVIL.replace('"', "%22").replace("<", "%3C")
                      .replace(">", "%3E").replace("(", "%28").replace(")", "%29"))
            assert page.locator("h1").inner_text().endswith(EVIL)
            page.goto(server.url + f"/client?name={ATTACKER}")
            wait_for_charts(page)
            assert page.locator("table.story tr").count() >= 3
            assert "login_after_failures" in page.locator("table.story").inner_text()
            if os.environ.get("NETSIFT_SCREENSHOTS"):
                page.screenshot(path=os.path.join(os.environ["NETSIFT_SCREENSHOTS"], "client-story.png"), full_page=True)
            page.click("nav >> text=Logins")
            assert page.url.endswith("/logins")
            assert watch.blocked == [] and watch.errors == [] and watch.dialogs == []
    finally:
        server.stop()


def test_folded_repeats_count_as_events_in_every_view():
    """A row standing for N events (rsyslog's 'message repeated N times') counts N in the summaries, the
    overview's counts, the hourly timeline and the client's story."""
    rows = [dict(ts=T0, client=ATTACKER, account="root", host="web1", service="sshd", event="failure",
                 method="password"),
            dict(ts=T0 + dt.timedelta(seconds=5), client=ATTACKER, account="root", host="web1", service="sshd",
                 event="failure", method="password", repeats=5)]
    with open_store(":memory:") as store:
        store.append("logon_events", finish_records(pl.DataFrame(rows).with_columns(
            source_line=pl.int_range(1, 3)), "logon_events").with_columns(source_file_id=pl.lit(1, pl.Int64)))
        row = logins.summary(store)[0]
        assert (row["events"], row["failures"]) == (6, 6)
        assert logins.counts(store)["failures"] == 6
        assert [r["events"] for r in logins.timeline(store)] == [6]
        story = [e for e in timeline.client_events(store, ATTACKER) if e["family"] == "logons"]
        assert story[0]["count"] == 6 and "6×" in story[0]["text"]
