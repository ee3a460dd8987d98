"""Client scope on the pages: the client page, the findings in it, the triage queue and the HTML report
say whether a client is local (private ranges, ``[network] local_networks`` of the remembered settings
file) or external (a host on the internet asking this resolver). In the browser too."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from netsift import pipeline
from netsift.report.html import render_report
from netsift.store import open_store
from tests.web.browser import browser_page, require_chromium
from tests.web.conftest import Client, make_app
from tests.web.server import Server

START = dt.datetime(2024, 5, 1)
LOCAL = ["10.1.0.1", "10.1.0.2", "10.1.0.3"]
EXTERNAL = "203.0.113.9"  # TEST-NET-3: outside every private range
OFFICE = "198.51.100.7"  # public, but inside [network] local_networks


def _generated(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice("bcdfghjklmnpqrstvwxz0123456789") for _ in range(14)) + ".biz" for _ in range(n)]


@pytest.fixture(scope="module")
def scoped_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("scope")
    config = root / "netsift.toml"
    config.write_text('[network]\nlocal_networks = ["198.51.100.0/24"]\n')
    rng = random.Random(5)
    out = []
    for hour in range(24):
        for i, c in enumerate(LOCAL):
            out.append((START + dt.timedelta(hours=hour, minutes=i), c, "www.google.com", "NOERROR"))
    for who in (EXTERNAL, OFFICE):
        for k, name in enumerate(_generated(rng, 30)):
            out.append((START + dt.timedelta(hours=5, seconds=20 * k), who, name, "NXDOMAIN"))
    frame = pl.DataFrame([{"ts": t, "client": c, "query_name": n, "query_type": "A", "response_code": r,
                           "answers": None, "resolver_action": "forwarded"} for t, c, n, r in out],
                         schema_overrides={"ts": pl.Datetime("us"), "answers": pl.List(pl.String)})
    frame = frame.with_columns(source_file_id=pl.lit(1, pl.Int64),
                               source_line=pl.int_range(1, frame.height + 1, dtype=pl.Int64))
    path = root / "scope.duckdb"
    pipeline.register_all_tables()
    with open_store(path) as store:
        store.append("dns_queries", frame)
        store.con.execute("INSERT INTO ingested_files (file_id, path, format, rows, rejected, ingested_at) "
                          "VALUES (1, 'fixture.log', 'pihole', ?, 0, ?)", [frame.height, START])
        opts = pipeline.AnalysisOptions(settings={"network": {"local_networks": ["198.51.100.0/24"]}},
                                        config_path=str(config))
        pipeline.analyze(store, opts)
    return path


@pytest.fixture
def client(scoped_store):
    app = make_app(scoped_store)
    yield Client(app)
    app.state.netsift.close()


@pytest.mark.parametrize("who, scope", [(EXTERNAL, "external"), (OFFICE, "local"), (LOCAL[0], "local")])
def test_client_page_says_the_scope(client, who, scope):
    data = client.get(f"/client.json?name={who}").json()
    assert data["scope"] == scope
    assert data["local_networks"] == ["198.51.100.0/24"]
    html = client.get(f"/client?name={who}").text
    assert f'<span class="scope scope-{scope}"' in html
    assert f"<b>{scope}</b> client" in html


def test_findings_carry_the_scope_the_analysis_gave(client):
    rows = client.get("/findings.json?status=all&floor=info&per_page=500").json()["findings"]
    by_client = {f["client"]: f["client_scope"] for f in rows if f["client"]}
    assert by_client[EXTERNAL] == "external"
    assert by_client[OFFICE] == "local"
    assert all(f["client_scope"] is None for f in rows if not f["client"])
    html = client.get("/findings?status=all&floor=info&per_page=500").text
    assert 'class="scope scope-external"' in html
    assert 'class="scope scope-local"' in html


def test_report_lists_the_scope(scoped_store):
    with open_store(scoped_store, read_only=True) as store:
        html = render_report(store)
    assert f"<code>{EXTERNAL}</code> <span class=\"scope scope-external\"" in html
    assert f"<code>{OFFICE}</code> <span class=\"scope scope-local\">" in html


@pytest.mark.browser
def test_scope_shows_in_the_browser(scoped_store):
    require_chromium()
    srv = Server(scoped_store)
    try:
        with browser_page() as (page, watch):
            page.goto(srv.url + f"/client?name={EXTERNAL}")
            tag = page.locator("h1 .scope-external")
            assert tag.is_visible() and tag.inner_text() == "external"
            assert "external client" in page.locator(".client-scope").inner_text().lower()
            page.goto(srv.url + "/findings?status=all&floor=info")
            row = page.locator("details.finding summary").filter(has_text=EXTERNAL).first
            assert row.locator(".scope-external").is_visible()
            office = page.locator("details.finding summary").filter(has_text=OFFICE).first
            assert office.locator(".scope-local").is_visible()
            assert watch.errors == [] and watch.blocked == []
    finally:
        srv.stop()
