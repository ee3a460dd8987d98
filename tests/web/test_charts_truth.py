"""Charts that tell the truth, checked the way a person sees them (headless Chromium, network blocked):
empty hours are zeros in the figure the browser draws, a client with one bucket of data still draws, the
map tells countries apart, the graph's labels do not overlap and it fills its panel, tables keep IPs on
one line and sub-scores short. Plus the bucket arithmetic that keeps far-apart stamps bounded."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest

from netsift.report import chart_data
from netsift.report.graph_layout import as_key, network_prefix
from tests.web.browser import browser_page, require_chromium, wait_for_charts
from tests.web.server import Server

LONE_CLIENT = "10.9.9.9"


def figure(page, name: str) -> dict:
    """The figure JSON the page handed to plotly."""
    return page.evaluate(f"() => JSON.parse(document.getElementById('fig-{name}').textContent)")


def longest_zero_run(values: list) -> int:
    best = run = 0
    for v in values:
        run = run + 1 if v == 0 else 0
        best = max(best, run)
    return best


# --- pure ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("hours", "bucket"), [(0, "minute"), (5, "minute"), (30, "5 min"), (49, "15 min"),
                                               (72, "hour"), (24 * 60, "6 h"), (400 * 24, "day"),
                                               (2 * 365 * 24, "week"), (8000 * 365 * 24, "week")])
def test_bucket_follows_the_span(hours, bucket):
    assert chart_data.choose_bucket(dt.timedelta(hours=hours)) == bucket


def test_zero_filling_is_bounded_by_buckets_not_by_the_span():
    near = dt.datetime(2025, 3, 1)
    rows = {near: 5, near + dt.timedelta(weeks=3): 2, dt.datetime(9999, 12, 27): 1}
    filled = chart_data.fill_zeros(rows, "week", 0)
    assert len(filled) <= 3 * len(rows)
    assert filled[near + dt.timedelta(weeks=1)] == 0 and filled[dt.datetime(9999, 12, 20)] == 0
    dense = chart_data.fill_zeros({near: 3, near + dt.timedelta(hours=10): 4}, "hour", 0)
    assert list(dense.values()) == [0, 3] + [0] * 9 + [4, 0]  # a 10-hour sleep is ten zeros, not 3/hour
    assert chart_data.fill_zeros({dt.datetime(9999, 12, 31, 23, 59): 1}, "minute", 0)  # no overflow


def test_ipv6_prefixes_use_ipaddress():
    assert network_prefix("2001:db8::1") == "2001:db8::/48"
    assert network_prefix("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
    assert network_prefix("192.0.2.77") == "192.0.2.0/24"
    assert as_key({"ip": "2001:db8::1"})[1] == "2001:db8::/48 (AS unknown)"


# --- in the browser --------------------------------------------------------------------------------------


@pytest.fixture
def server(store_path):
    require_chromium()
    from netsift.store import open_store

    with open_store(store_path) as store:  # a client with a single question: one bucket of data
        store.con.execute("INSERT INTO dns_queries (ts, client, query_name, query_type, response_code, "
                          "source_file_id, source_line) SELECT max(ts), ?, 'www.google.com', 'A', 'NOERROR', 1, "
                          "999998 FROM dns_queries", [LONE_CLIENT])
    srv = Server(store_path)
    yield srv
    srv.stop()


pytestmark = pytest.mark.browser


def test_empty_hours_are_zeros_and_one_bucket_draws(server):
    with browser_page() as (page, watch):
        # 10.0.0.1 asks 08:00-18:00 only: the nights are zeros in the data the browser draws
        page.goto(f"{server.url}/client?name=10.0.0.1")
        wait_for_charts(page)
        queries = figure(page, "timeline")["data"][0]["y"]
        assert longest_zero_run(queries) >= 10
        assert max(queries) > 0
        drawn = page.evaluate("() => document.querySelector('[data-figure=fig-timeline]').data[0].y")
        assert longest_zero_run(drawn) >= 10

        page.goto(f"{server.url}/client?name={quote(LONE_CLIENT)}")
        wait_for_charts(page)
        x_range = page.evaluate("() => document.querySelector('[data-figure=fig-timeline]')._fullLayout.xaxis.range"
                                ".map(v => new Date(v.replace(' ', 'T') + 'Z').getTime())")
        assert x_range[1] - x_range[0] >= 60_000  # at least a minute, not +-0.5 ms
        fill = page.locator("[data-figure=fig-timeline] .cartesianlayer .js-fill").first.bounding_box()
        assert fill and fill["width"] > 50 and fill["height"] > 50  # a visible bar of queries
        assert watch.errors == [] and watch.blocked == []


def test_map_tells_countries_apart(server):
    with browser_page() as (page, watch):
        page.goto(f"{server.url}/map")
        wait_for_charts(page)
        trace = figure(page, "map")["data"][0]
        assert len(set(trace["z"])) >= 2
        assert "150" in trace["colorbar"]["ticktext"]  # the legend shows real counts
        fills = page.evaluate("() => [...document.querySelectorAll('[data-figure=fig-map] .choroplethlocation')]"
                              ".map(p => getComputedStyle(p).fill)")
        painted = {f for f in fills if f not in ("none", "rgba(0, 0, 0, 0)")}
        assert len(painted) >= 2
        assert "rgb(255, 255, 255)" not in painted and "rgb(247, 251, 255)" not in painted
        assert watch.errors == []


def _overlaps(boxes: list[dict]) -> list[tuple[dict, dict]]:
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a["left"] < b["right"] - 0.5 and b["left"] < a["right"] - 0.5 and \
                    a["top"] < b["bottom"] - 0.5 and b["top"] < a["bottom"] - 0.5:
                out.append((a, b))
    return out


LABEL_BOXES = """() => [...document.querySelectorAll('[data-figure=fig-graph] .textpoint text')]
    .filter(t => t.textContent).map(t => { const r = t.getBoundingClientRect();
        return {text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })"""


def test_graph_labels_do_not_overlap_and_fill_the_panel(server):
    with browser_page(viewport=(1400, 900)) as (page, watch):
        page.goto(f"{server.url}/graph")
        wait_for_charts(page)
        boxes = page.evaluate(LABEL_BOXES)
        assert len(boxes) >= 5  # domains, addresses and AS are labelled
        assert _overlaps(boxes) == []
        panel = page.locator("[data-figure=fig-graph]").bounding_box()
        markers = page.evaluate("""() => [...document.querySelectorAll('[data-figure=fig-graph] .point')]
            .map(p => p.getBoundingClientRect().left)""")
        assert max(markers) - min(markers) >= 0.45 * panel["width"]
        assert all(panel["x"] <= b["left"] and b["right"] <= panel["x"] + panel["width"] for b in boxes)
        assert watch.errors == []


def test_tables_keep_tokens_whole_and_sub_scores_short(server):
    with browser_page(viewport=(1400, 900)) as (page, watch):
        page.goto(f"{server.url}/findings?status=all")
        page.locator("details.finding summary").first.click()
        text = page.locator("details.finding[open] .detail").inner_text()
        assert "Sub-scores" in text
        assert not re.search(r"\d\.\d{4,}", text), text
        page.goto(f"{server.url}/domain?name=bad-actor.xyz")
        lines = page.evaluate("""() => [...document.querySelectorAll('td code')]
            .map(c => [c.textContent, c.getClientRects().length])""")
        assert lines and all(n == 1 for text, n in lines if len(text) <= 40), lines  # addresses, names
        assert any(n > 1 for text, n in lines if len(text) > 100)  # a tunnel-long answer wraps in its card
        assert not re.search(r"\d\.\d{4,}", page.locator("main").inner_text())
        assert watch.errors == []
