"""The dashboard in headless Chromium with the network blocked: every page loads and its charts draw
(plotly's .main-svg), nothing is requested from another host, the Content-Security-Policy holds (no
console errors), the planted script never runs, and a verdict given in the triage queue survives a
server restart."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.web.browser import browser_page, require_chromium, wait_for_charts
from tests.web.server import Server
from tests.web.store_builder import XSS_DOMAIN

pytestmark = pytest.mark.browser


@pytest.fixture
def server(store_path):
    require_chromium()
    srv = Server(store_path)
    yield srv
    srv.stop()


PAGES = [  # path, figures expected (at least)
    ("/", 3), ("/findings", 0), ("/domain?name=bad-actor.xyz", 1), ("/client?name=10.0.0.3", 2),
    ("/categories", 0), ("/map", 1), ("/graph", 1), ("/search?q=bad", 0),
    (f"/domain?name={quote(XSS_DOMAIN)}", 1),
]


def test_every_page_draws_offline(server):
    with browser_page() as (page, watch):
        for path, figures in PAGES:
            page.goto(server.url + path)
            drawn = wait_for_charts(page)
            assert drawn >= figures, path
            assert page.locator("[data-figure] .main-svg").count() >= figures
            assert page.locator("header form.search input[name=q]").count() == 1
            cut = page.evaluate("""() => [...document.querySelectorAll('section table, section pre')]
                .filter(t => t.scrollWidth > t.closest('section').clientWidth + 1)
                .map(t => (t.querySelector('th') || t).textContent.slice(0, 40))""")
            assert cut == [], path  # long names wrap inside their card (1280 px window)
        assert watch.blocked == []
        assert watch.errors == []
        assert watch.dialogs == []
        # the map drew countries from the shipped outlines
        page.goto(server.url + "/map")
        wait_for_charts(page)
        assert page.locator("[data-figure] .choroplethlocation").count() >= 3


def test_triage_in_the_browser_survives_restart(store_path):
    require_chromium()
    srv = Server(store_path)
    try:
        with browser_page() as (page, watch):
            page.goto(srv.url + "/findings?q=bad-actor.xyz")
            row = page.locator("details.finding").filter(has_text="bad-actor.xyz").first
            row.locator("summary").click()
            row.locator("input[name=note]").fill("C2 of the beacon <b>seen</b>")
            row.locator("button[value=malicious]").click()
            page.wait_for_url("**/findings?q=bad-actor.xyz")
            assert page.locator("details.finding").filter(has_text="bad-actor.xyz").count() == 0
            assert watch.errors == [] and watch.blocked == []
        srv.app.state.netsift.reanalyzer.wait()
    finally:
        srv.stop()
    srv = Server(store_path)
    try:
        with browser_page() as (page, watch):
            page.goto(srv.url + "/domain?name=bad-actor.xyz")
            history = page.locator("section").filter(has_text="Verdicts on")
            assert "malicious" in history.inner_text()
            assert "C2 of the beacon <b>seen</b>" in history.inner_text()  # shown as text, not markup
            page.goto(srv.url + "/findings?status=triaged")
            assert page.locator("details.finding").filter(has_text="bad-actor.xyz").count() >= 1
    finally:
        srv.stop()


EVIL_CLIENT = '<a href="http://evil/">x</a>'


def test_chart_labels_are_text_not_markup(store_path):
    """Plotly reads HTML in chart titles and labels: a client named like a link shows as that text, and
    no link to its target exists anywhere in the page."""
    require_chromium()
    from netsift.store import open_store

    with open_store(store_path) as store:
        store.con.execute("INSERT INTO dns_queries (ts, client, query_name, query_type, response_code, "
                          "source_file_id, source_line) SELECT max(ts), ?, 'example.com', 'A', 'NOERROR', 1, 999999 "
                          "FROM dns_queries", [EVIL_CLIENT])
    srv = Server(store_path)  # the app rebuilds the rollups: dns_queries changed
    try:
        with browser_page() as (page, watch):
            page.goto(f"{srv.url}/client?name={quote(EVIL_CLIENT)}")
            assert wait_for_charts(page) >= 2
            titles = page.locator("[data-figure] .gtitle").all_text_contents()
            assert f"Activity of {EVIL_CLIENT}" in titles
            links = page.evaluate("""() => [...document.querySelectorAll('a')].map(a =>
                a.getAttribute('href') || a.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || '')""")
            assert "http://evil/" not in links
            assert watch.blocked == [] and watch.dialogs == []
    finally:
        srv.stop()
