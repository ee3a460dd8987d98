"""The report's resolver section (blocked vs allowed, top blocked and allowed names, clients, upstreams)
for a store with a Pi-hole log, absent for one without block status, and the analysis inputs the store
remembers in the summary; in headless Chromium from file:// with the network blocked."""

from __future__ import annotations

import re

import pytest

from netsift.report.html import write_report
from netsift.store import open_store
from tests.web.browser import browser_page, wait_for_charts
from tests.web.store_builder import build
from tests.web.test_resolver import PLANTED_BLOCKED, XSS_BLOCKED, build_pihole_store


@pytest.fixture(scope="module")
def pihole_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resolver-report")
    with open_store(build_pihole_store(tmp)) as store:
        return write_report(store, tmp / "report.html")


def test_resolver_section_and_inputs(pihole_report):
    html = re.sub(r"<wbr>|</?span>", "", pihole_report.read_text())  # names are labels that may wrap after a dot
    assert '<section id="resolver">' in html and '<a href="#resolver">' in html
    assert "186 of 411 queries" in html
    assert PLANTED_BLOCKED in html and "9.9.9.9#53" in html and "blocked:regex" in html
    assert XSS_BLOCKED not in html and "&lt;svg/onload=alert(1)&gt;.evil.test" in html
    for fig in ("fig-resolver_timeline", "fig-resolver_qtypes", "fig-resolver_upstreams"):
        assert f'id="{fig}"' in html
    inputs = html[html.index('id="inputs"'):html.index('id="normal"')]
    assert "my-feed.txt" in inputs and "--feed" in inputs and "present" in inputs
    assert "gone-top-list.csv" in inputs and "missing" in inputs


def test_no_resolver_section_without_block_status(tmp_path):
    path = build(tmp_path / "plain.duckdb")
    with open_store(path) as store:
        store.con.execute("UPDATE dns_queries SET resolver_action = NULL")
        store.con.execute("DELETE FROM rollup_state")
        html = write_report(store, tmp_path / "report.html").read_text()
    assert 'id="resolver"' not in html and "#resolver" not in html
    assert "None: the analyses used the built-in lists only." in html


def test_resolver_section_draws_offline(pihole_report):
    with browser_page((1400, 1000)) as (page, watch):
        page.goto(pihole_report.as_uri())
        wait_for_charts(page)
        section = page.locator("#resolver")
        assert section.locator(".main-svg").count() >= 3
        legend = section.locator('[data-figure="fig-resolver_timeline"] .legendtext').all_text_contents()
        assert sorted(legend) == ["allowed", "blocked"]
        assert PLANTED_BLOCKED in section.inner_text() and XSS_BLOCKED in section.inner_text()
        assert watch.blocked == [] and watch.errors == [] and watch.dialogs == []
