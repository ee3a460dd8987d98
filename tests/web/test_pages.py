"""Every dashboard page and its JSON twin, in-process, against the fixture store (396 queries from 4
clients over 3 days; see store_builder)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from netsift.web.cli import json_path
from tests.web.conftest import Client, make_app
from tests.web.store_builder import CLIENTS, rows

PAGES = [  # (HTML path, text the HTML must contain, keys the JSON must have)
    ("/", "Queries over time", {"summary", "timeline", "normal_breakdown", "findings_by_kind"}),
    ("/overview", "Findings by kind and severity", {"summary", "timeline", "normal_breakdown", "findings_by_kind"}),
    ("/findings", "verdict-form", {"findings", "total", "page", "pages", "filters", "open_by_kind"}),
    ("/domain?name=bad-actor.xyz", "Clients that asked", {"domain", "stats", "clients", "answers", "verdicts"}),
    ("/client?name=10.0.0.3", "Top domains", {"client", "timeline", "heatmap", "top_domains", "findings"}),
    ("/categories", "No categories yet", {"categories", "domains"}),
    ("/map", "Where answers point", {"countries", "enriched"}),
    ("/graph", "autonomous systems", {"domains", "edges"}),
    ("/search?q=bad-actor", "Registered domains", {"q", "domains", "names", "clients", "ips"}),
]


@pytest.mark.parametrize(("path", "text", "keys"), PAGES)
def test_page_and_json_twin(client, path, text, keys):
    html = client.get(path)
    assert html.status_code == 200, html.text[:500]
    assert html.headers["content-type"].startswith("text/html")
    assert text in html.text
    assert 'action="/search"' in html.text  # search box on every page
    twin = client.get(json_path(path))
    assert twin.status_code == 200
    assert keys <= set(twin.json())


@pytest.mark.parametrize(("path", "expected"), [
    ("/", "/.json"), ("/findings", "/findings.json"), ("/findings?page=2", "/findings.json?page=2"),
    ("/findings.json", "/findings.json"), ("domain?name=a.b", "/domain.json?name=a.b"),
])
def test_json_path(path, expected):
    assert json_path(path) == expected


def test_overview_numbers(client):
    summary = client.get("/overview.json").json()["summary"]
    assert summary["rows"] == len(rows()) == 396
    assert summary["clients"] == len(CLIENTS)
    assert summary["rejected"] == 2
    assert summary["start"] == "2024-05-01T00:00:00"
    timeline = client.get("/overview.json").json()["timeline"]
    assert sum(p["queries"] for p in timeline) == 396
    assert sum(p["nxdomain"] for p in timeline) == 6


def test_charts_are_embedded(client):
    html = client.get("/overview").text
    assert html.count('class="chart"') == 3
    assert '<script src="/static/plotly.min.js"' in html


def test_findings_queue_sort_filter_paginate(client, app):
    total = app.state.netsift.store.rows("SELECT count(*) FROM findings")[0][0]
    data = client.get("/findings.json").json()
    # medium and worse first; the rest counted (below_floor)
    assert data["total"] + data["below_floor"] == total and data["filters"]["status"] == "open"
    assert client.get("/findings.json?floor=info").json()["total"] == total
    scores = [f["score"] for f in data["findings"]]
    assert scores == sorted(scores, reverse=True)
    by_domain = client.get("/findings.json?sort=domain&order=asc&per_page=500").json()["findings"]
    domains = [f["domain"] for f in by_domain if f["domain"] is not None]
    assert domains == sorted(domains)
    only = client.get("/findings.json?kind=beacon").json()  # (the fixture's DGA names fold into its dga finding)
    assert only["total"] >= 1 and {f["kind"] for f in only["findings"]} == {"beacon"}
    page2 = client.get("/findings.json?per_page=3&page=2").json()
    assert page2["page"] == 2 and len(page2["findings"]) == min(3, total - 3)
    assert page2["findings"][0]["id"] == data["findings"][3]["id"]
    text = client.get("/findings.json?q=bad-actor&status=all").json()
    assert text["findings"] and all("bad-actor" in (f["domain"] or "") + " ".join(f["reasons"])
                                    for f in text["findings"])


@pytest.mark.parametrize("path", ["/findings?sort=bogus", "/findings.json?order=sideways", "/findings?page=x",
                                  "/findings.json?status=closed", "/domain.json", "/client"])
def test_bad_parameters_are_400(client, path):
    assert client.get(path).status_code == 400


@pytest.mark.parametrize("path", ["/domain?name=nowhere.invalid", "/domain.json?name=nowhere.invalid",
                                  "/client.json?name=10.9.9.9"])
def test_unknown_entity_is_404(client, path):
    assert client.get(path).status_code == 404


def test_domain_page_data(client):
    d = client.get("/domain.json?name=c2.bad-actor.xyz").json()  # a full name resolves to its domain
    assert d["domain"] == "bad-actor.xyz"
    assert d["stats"]["queries"] == 144
    assert d["clients"] == [d["clients"][0]] and d["clients"][0]["client"] == "10.0.0.3"
    assert d["names"] == ["c2.bad-actor.xyz"]
    answer = d["answers"][0]
    assert (answer["answer"], answer["queries"], answer["country"], answer["as_org"]) == \
        ("185.10.10.10", 144, "RU", "EVIL-HOSTING")
    assert sum(p["queries"] for p in d["timeline"]) == 144


def test_client_page_data(client):
    c = client.get("/client.json?name=10.0.0.3").json()
    assert c["queries"] == 30 + 30 + 144
    assert {d["domain"] for d in c["top_domains"]} == {"google.com", "example-shop.de", "bad-actor.xyz"}
    assert c["heatmap"]["by"] == "weekday" and sum(map(sum, c["heatmap"]["z"])) == 204
    assert c["category_timeline"] == []


def test_map_and_graph_data(client):
    countries = {c["country"]: c for c in client.get("/map.json").json()["countries"]}
    assert set(countries) == {"US", "RU", "DE"}
    assert countries["RU"]["queries"] == 144 + 6 and countries["RU"]["ips"] == 2
    assert countries["US"]["flagged_queries"] == 0
    graph = client.get("/graph.json").json()
    edges = {(e["domain"], e["ip"], e["as_org"]) for e in graph["edges"]}
    assert ("bad-actor.xyz", "185.10.10.10", "EVIL-HOSTING") in edges


@pytest.mark.parametrize(("q", "section", "value"), [
    ("bad-actor", "domains", "bad-actor.xyz"), ("c2.bad", "names", "c2.bad-actor.xyz"),
    ("10.0.0.3", "clients", "10.0.0.3"), ("185.10.10", "ips", "185.10.10.10"),
])
def test_search(client, q, section, value):
    hits = client.get(f"/search.json?q={q}").json()[section]
    assert value in [next(iter(h.values())) for h in hits]


def test_static_files_are_served_from_packages(client):
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and js.text.startswith("/**\n* plotly.js v")
    topo = client.get("/static/topojson/world_110m.json").json()
    assert topo["type"] == "Topology" and "countries" in topo["objects"]
    assert client.get("/static/../pyproject.toml").status_code == 404


def test_empty_store_shows_empty_states(tmp_path):
    app = make_app(tmp_path / "empty.duckdb")
    try:
        client = Client(app)
        for path, text in [("/", "No queries yet"), ("/findings", "Nothing left to triage"),
                           ("/map", "No IP enrichment yet"), ("/graph", "Nothing to draw"),
                           ("/categories", "No categories yet"), ("/search?q=x", "Nothing matches")]:
            resp = client.get(path)
            assert resp.status_code == 200 and text in resp.text, path
        assert client.get("/overview.json").json()["summary"]["rows"] == 0
    finally:
        app.state.netsift.close()


def _cli():
    import click

    from netsift.report.cli import report
    from netsift.web.cli import serve

    group = click.Group(commands={"report": report, "serve": serve})
    return group


def test_serve_get_prints_json_without_a_port(store_path):
    result = CliRunner().invoke(_cli(), ["serve", "--db", str(store_path), "--get", "/client?name=10.0.0.3"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["queries"] == 204


def test_serve_get_unknown_entity_exits_1(store_path):
    result = CliRunner().invoke(_cli(), ["serve", "--db", str(store_path), "--get", "/domain?name=nowhere.invalid"])
    assert result.exit_code == 1 and "nowhere.invalid" in result.stdout


def test_report_command_writes_one_file(store_path, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(_cli(), ["report", "--db", str(store_path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_categories_once_enriched(store_path):
    from netsift.store import open_store

    with open_store(store_path) as store:
        store.con.execute("INSERT INTO domain_categories VALUES ('c2.bad-actor.xyz', 'bad-actor.xyz', 'malware', "
                          "'security', 'test', 'bad-actor.xyz'), ('www.google.com', 'google.com', 'search', "
                          "'content', 'test', 'google.com')")
    app = make_app(store_path)
    try:
        client = Client(app)
        data = client.get("/categories.json").json()
        assert {(c["kind"], c["category"], c["queries"]) for c in data["categories"]} == \
            {("security", "malware", 144), ("content", "search", 120)}
        assert 'data-figure="fig-sunburst"' in client.get("/categories").text
        timeline = client.get("/client.json?name=10.0.0.3").json()["category_timeline"]
        assert sum(r["queries"] for r in timeline if r["category"] == "malware") == 144
        assert 'data-figure="fig-categories"' in client.get("/client?name=10.0.0.3").text
    finally:
        app.state.netsift.close()
