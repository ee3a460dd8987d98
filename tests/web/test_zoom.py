"""Zoomed time charts: ``/timeline.json`` gives a range's questions in the bucket that suits the range
(minutes for two hours, hours for days), and in Chromium a zoomed chart draws those finer steps, a double
click the whole chart again."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.web.browser import browser_page, require_chromium, wait_for_charts
from tests.web.server import Server


@pytest.fixture
def server(store_path):
    srv = Server(store_path)
    yield srv
    srv.stop()


def _count(server, client: str | None, start: str, end: str) -> int:
    with server.app.state.netsift.reader() as store:
        return store.scalar("SELECT count(*) FROM dns_queries WHERE ts >= ? AND ts < ? AND (? IS NULL OR client = ?)",
                            [start, end, client, client])


@pytest.mark.parametrize("scope, start, end, bucket, counted", [
    # two hours: minutes (the hours the range touches are counted whole: 09:00 up to 12:00)
    ("client=10.0.0.3", "2024-05-02T09:00:00", "2024-05-02T11:00:00", "minute", ("2024-05-02 09:00", "2024-05-02 12:00")),
    # plotly's spelling of a range (space, milliseconds), a range not on the hour
    ("client=10.0.0.3", "2024-05-02 09:20:00.5", "2024-05-02 10:40:00", "minute", ("2024-05-02 09:00", "2024-05-02 11:00")),
    # three days: hours
    ("", "2024-05-01T00:00:00", "2024-05-03T23:00:00", "hour", ("2024-05-01 00:00", "2024-05-04 00:00")),
    ("domain=bad-actor.xyz", "2024-05-01T00:00:00", "2024-05-01T20:00:00", "5 min", ("2024-05-01 00:00", "2024-05-01 21:00")),
])
def test_a_zoomed_range_comes_in_the_bucket_that_suits_it(server, scope, start, end, bucket, counted):
    resp = httpx.get(f"{server.url}/timeline.json?{scope}&from={start}&to={end}")
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["bucket"] == bucket
    times = [dt.datetime.fromisoformat(p["t"]) for p in doc["series"]]
    assert sorted(times) == times and times
    client = scope.split("=", 1)[1] if scope.startswith("client=") else None
    if not scope.startswith("domain="):
        assert sum(p["queries"] for p in doc["series"]) == _count(server, client, *counted)
    assert '"queries"' in doc["figure"]  # the chart's traces, drawn by app.js


@pytest.mark.parametrize("query, message", [
    ("from=yesterday&to=2024-05-02T10:00", "'from'"),
    ("from=2024-05-02T10:00&to=2024-05-02T09:00", "after its start"),
    ("to=2024-05-02T10:00", "'from'"),
])
def test_a_bad_range_is_a_clear_400(server, query, message):
    resp = httpx.get(f"{server.url}/timeline.json?client=10.0.0.3&{query}")
    assert resp.status_code == 400 and message in resp.json()["error"]


@pytest.mark.browser
def test_zooming_a_chart_draws_finer_steps_and_a_double_click_the_whole_chart(server):
    require_chromium()
    with browser_page() as (page, watch):
        page.goto(server.url + "/client?name=10.0.0.3")
        wait_for_charts(page)
        chart = "document.querySelector('[data-zoom]')"
        whole = page.evaluate(f"() => {chart}.data[0].x.length")
        page.evaluate(f"() => Plotly.relayout({chart}, {{'xaxis.range': ['2024-05-02 09:00', '2024-05-02 11:00']}})")
        page.wait_for_function(f"() => {chart}.getAttribute('data-bucket') === 'minute'", timeout=15_000)
        xs = page.evaluate(f"() => {chart}.data[0].x.map(t => Date.parse(t.replace(' ', 'T') + 'Z'))")
        assert min(b - a for a, b in zip(xs, xs[1:])) == 60_000  # minute steps, not hours
        assert page.evaluate(f"() => {chart}.layout.xaxis.range") == ["2024-05-02 09:00", "2024-05-02 11:00"]
        assert page.evaluate(f"() => {chart}.layout.yaxis.title.text") == "per minute"
        page.evaluate(f"() => Plotly.relayout({chart}, {{'xaxis.autorange': true}})")
        page.wait_for_function(f"() => !{chart}.hasAttribute('data-bucket')", timeout=15_000)
        assert page.evaluate(f"() => {chart}.data[0].x.length") == whole
        assert watch.errors == [] and watch.blocked == []
