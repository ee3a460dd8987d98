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
