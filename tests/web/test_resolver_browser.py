"""The resolver page and the overview's remembered inputs as a person sees them: Debian's Chromium through
Playwright, network blocked (see tests/web/browser.py)."""

from __future__ import annotations

import shutil

import pytest

from tests.web.browser import browser_page, require_chromium, wait_for_charts
from tests.web.server import Server
from tests.web.test_resolver import PLANTED_BLOCKED, XSS_BLOCKED, pihole_store  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def pihole_server(pihole_store, tmp_path):  # noqa: F811
    require_chromium()
    path = tmp_path / "copy.duckdb"
    shutil.copy(pihole_store, path)
    srv = Server(path)
    yield srv
    srv.stop()


def test_resolver_page_shows_blocked_vs_allowed(pihole_server, tmp_path):
    with browser_page((1400, 1000)) as (page, watch):
        page.goto(pihole_server.url + "/")
        page.locator("header nav a", has_text="Resolver").click()
        page.wait_for_url("**/resolver")
        assert wait_for_charts(page) == 3
        timeline = page.locator('[data-figure="fig-resolver_timeline"]')
        legend = timeline.locator(".legendtext").all_text_contents()
        assert sorted(legend) == ["allowed", "blocked"]
        assert timeline.locator(".barlayer .trace").count() == 2  # both series drawn
        blocked = page.locator("#top-blocked table")
        assert blocked.locator("tr").nth(1).locator("td").first.inner_text() == PLANTED_BLOCKED
        assert XSS_BLOCKED in blocked.inner_text()  # shown as text, never run
        assert "9.9.9.9#53" in page.locator("#upstreams").inner_text()
        assert page.locator('[data-figure="fig-resolver_upstreams"] .slice').count() == 2
        assert "TXT" in page.locator('[data-figure="fig-resolver_qtypes"] .ytick').all_text_contents()
        assert watch.errors == [] and watch.blocked == [] and watch.dialogs == []
        page.screenshot(path=str(tmp_path / "resolver.png"), full_page=True)


def test_overview_shows_remembered_feed_and_link(pihole_server):
    with browser_page() as (page, watch):
        page.goto(pihole_server.url + "/")
        inputs = page.locator("#inputs")
        text = inputs.inner_text()
        assert "my-feed.txt" in text and "--feed" in text and "present" in text
        assert "gone-top-list.csv" in text and "missing" in text
        page.locator("#resolver-link a").click()
        page.wait_for_url("**/resolver")
        assert watch.errors == [] and watch.blocked == []


def test_no_resolver_in_nav_without_block_status(store_path):
    from netsift.store import open_store

    require_chromium()
    with open_store(store_path) as store:
        store.con.execute("UPDATE dns_queries SET resolver_action = NULL")
        store.con.execute("DELETE FROM rollup_state")
    srv = Server(store_path)
    try:
        with browser_page() as (page, watch):
            page.goto(srv.url + "/")
            assert page.locator("header nav a", has_text="Resolver").count() == 0
            assert page.locator("#resolver-link").count() == 0
            response = page.goto(srv.url + "/resolver")
            assert response.status == 404 and "block status" in page.inner_text("main")
    finally:
        srv.stop()
