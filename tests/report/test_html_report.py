"""The single-file HTML report: one file, plotly.js embedded once, no reference to any host, log values
escaped, and - in headless Chromium with every non-file request aborted - all charts drawn."""

from __future__ import annotations

import re

import pytest

from netsift.report.charts import html_safe_json
from netsift.report.html import plotly_js, write_report
from netsift.store import open_store
from tests.web.browser import browser_page
from tests.web.store_builder import XSS, build


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    with open_store(build(tmp / "netsift.duckdb")) as store:
        path = write_report(store, tmp / "report.html")
    return path


def test_one_self_contained_file(report):
    html = report.read_text()
    assert html.count("* plotly.js v") == 1  # the bundle's banner: embedded once
    assert html.count("window.PlotlyGeoAssets = {topojson:") == 1
    ours = html.replace(plotly_js(), "")  # the page without the bundle itself
    assert len(ours) < len(html) - 4_000_000
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", ours)
    assert "<link" not in ours and "src=" not in ours


def test_log_values_are_escaped(report):
    html = report.read_text()
    assert XSS not in html
    # the resolver's names table shows it as text (labels that may wrap after a dot)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.com" in re.sub(r"<wbr>|</?span>", "", html)


def test_sections(report):
    html = report.read_text()
    for title in ("Summary", "Normal vs not normal", "Top findings", "Queries over time", "Hour of day × day, busiest clients",
                  "Top registered domains in and out of the top-sites lists", "Where answers point",
                  "Findings' infrastructure: domain → IP → AS"):
        assert f"<h2>{title}</h2>" in html, title
    assert "396</b>queries" in html


@pytest.mark.parametrize(("text", "escaped"), [
    ('{"a": "</script><script>alert(1)</script>"}', '{"a": "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"}'),
    ('{"a": "<!--"}', '{"a": "\\u003c!--"}'),
    ('{"a": "x & y\u2028"}', '{"a": "x \\u0026 y\\u2028"}'),
])
def test_html_safe_json(text, escaped):
    import json

    assert html_safe_json(text) == escaped
    assert json.loads(html_safe_json(text)) == json.loads(text)


@pytest.mark.browser
def test_report_draws_offline_in_chromium(report):
    with browser_page() as (page, watch):
        page.goto(report.as_uri())
        drawn = page.locator("[data-figure]").count()
        page.wait_for_function("() => [...document.querySelectorAll('[data-figure]')]"
                               ".every(d => d.querySelector('.main-svg'))", timeout=30_000)
        assert drawn >= 8  # normal, findings, timeline, clients, 4 heatmaps, domains, map, graph
        assert page.locator(".choroplethlocation").count() >= 3
        assert watch.blocked == [] and watch.errors == [] and watch.dialogs == []
        # the planted name is a low finding (the report's table lists medium and worse): it shows as text
        # where it is drawn or listed, and never runs (no dialog above)
        assert XSS in page.locator("body").inner_text()


LONG_DOMAIN = "stoenbridge-chronicle-secure-login-portal.com"
LONG_REASON = "first seen after 110,835 h of traffic without it; resolved by " + "x" * 70 + ".example"


@pytest.fixture(scope="module")
def wide_report(tmp_path_factory):
    """The fixture's report plus findings with a long name and a reason with a long unbroken token (as on
    the demo, where the table overflowed a 1,400 px window and cut addresses into fragments)."""
    tmp = tmp_path_factory.mktemp("wide")
    with open_store(build(tmp / "netsift.duckdb")) as store:
        for i in range(3):
            store.con.execute("INSERT INTO findings SELECT * REPLACE (? AS finding_id, ? AS domain, ? AS reasons, "
                              "'192.168.250.231' AS client, 0.99 AS score, 'critical' AS severity) FROM findings LIMIT 1",
                              [f"wide{i}", f"{i}{LONG_DOMAIN}", [LONG_REASON, "no allowlist entry or benign verdict"]])
        return write_report(store, tmp / "report.html")


@pytest.mark.browser
def test_findings_table_fits_1400_px_and_keeps_addresses_whole(wide_report):
    with browser_page(viewport=(1400, 900)) as (page, watch):
        page.goto(wide_report.as_uri())
        page.wait_for_function("() => [...document.querySelectorAll('[data-figure]')]"
                               ".every(d => d.querySelector('.main-svg'))", timeout=30_000)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1400
        table = page.locator("#findings table")
        assert page.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth", table.element_handle())
        cells = page.evaluate("""() => [...document.querySelectorAll('#findings td.id code')].map(c => {
            const line = parseFloat(getComputedStyle(c).lineHeight) || c.getClientRects()[0].height;
            const lines = new Set([...c.getClientRects()].map(r => Math.round(r.top))).size;
            return [c.textContent, lines, c.getBoundingClientRect().height, line]; })""")
        ips = [c for c in cells if re.fullmatch(r"[0-9.]+", c[0])]
        assert ips
        for text, rects, height, line in cells:
            assert rects == 1 and height <= line * 1.3, (text, rects, height, line)
        assert watch.errors == []


@pytest.fixture(scope="module")
def logins_report(tmp_path_factory):
    """A report of sshd logons from sources with long reverse names (as real auth logs carry them)."""
    from netsift import pipeline
    from netsift.ingest.plan import IngestOptions

    tmp = tmp_path_factory.mktemp("logins")
    log = tmp / "auth.log"
    log.write_text("".join(
        f"Jun 1{i % 10} 03:{i % 60:02d}:1{i % 10} combo sshd(pam_unix)[{1000 + i}]: authentication failure; logname= "
        f"uid=0 euid=0 tty=NODEVssh ruser= rhost=n2190761841{i:02d}.netvigator-broadband.example.com  user=root\n"
        for i in range(40)))
    with open_store(tmp / "netsift.duckdb") as store:
        pipeline.ingest(store, [str(log)], IngestOptions(year=2026))
        pipeline.analyze(store)
        return write_report(store, tmp / "report.html")


@pytest.mark.browser
def test_login_tables_fit_their_cards_at_1400_px(logins_report):
    with browser_page(viewport=(1400, 900)) as (page, watch):
        page.goto(logins_report.as_uri())
        assert page.locator("#logins table").count() == 3
        cut = page.evaluate("""() => [...document.querySelectorAll('#logins table')]
            .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
            .map(t => t.querySelector('th').textContent)""")
        assert cut == []
        assert watch.errors == []


def test_names_may_wrap_after_a_dot_only_and_stay_escaped():
    from netsift.report.html import breakable

    assert str(breakable("analytics-api.cn-north-1.elb.com")) == \
        "<span>analytics-api.</span><wbr><span>cn-north-1.</span><wbr><span>elb.</span><wbr><span>com</span>"
    assert str(breakable("<img src=x>.evil")) == "<span>&lt;img src=x&gt;.</span><wbr><span>evil</span>"
