"""The resolver page (/resolver and /resolver.json) on a store ingested from a real Pi-hole log: blocked vs
allowed over time, top blocked and allowed names, top clients, query types, upstreams (kept from the
``forwarded ... to`` lines), every name from the log escaped; absent (404, not in the nav) for a store whose
logs carry no block status; the overview links to it and lists the analysis inputs the store remembers."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest

from netsift import inputs, pipeline
from netsift.ingest.run import IngestOptions
from netsift.store import open_store
from tests.web.conftest import Client, make_app

PLANTED_BLOCKED = "ads.planted-tracker.test"
XSS_BLOCKED = "<svg/onload=alert(1)>.evil.test"
START = dt.datetime(2024, 5, 9, 10, 0, 0)
UPSTREAMS = ("1.1.1.1", "9.9.9.9#53")


LONG_CDN = "analytics-api-external-alb-222534322.cn-north-1.elb.amazonaws.com.cn"


def pihole_log(long_names: bool = False) -> str:
    """Three hours of a Pi-hole log: a planted blocked name (gravity), a hostile name blocked by regex,
    names forwarded to two upstreams and answered from the cache (``long_names``: and a long CDN name
    allowed and blocked, as real logs carry them)."""
    lines = []

    def line(t: dt.datetime, text: str) -> None:
        lines.append(f"{t:%b} {t.day:2d} {t:%H:%M:%S} dnsmasq[812]: {text}")

    for i in range(180):
        t = START + dt.timedelta(minutes=i)
        client = ("10.0.0.5", "10.0.0.6", "10.0.0.7")[i % 3]
        line(t, f"query[A] {PLANTED_BLOCKED} from {client}")
        line(t, f"gravity blocked {PLANTED_BLOCKED} is 0.0.0.0")
        line(t, f"query[A] www.example.com from {client}")
        line(t, f"forwarded www.example.com to {UPSTREAMS[i % 2]}")
        line(t, "reply www.example.com is 93.184.216.34")
        if i % 4 == 0:
            line(t, f"query[AAAA] cached.example.org from {client}")
            line(t, "cached cached.example.org is ::1")
        if i % 30 == 0:
            line(t, f"query[TXT] {XSS_BLOCKED} from 10.0.0.6")
            line(t, f"regex blocked {XSS_BLOCKED} is 0.0.0.0")
        if long_names and i % 2 == 0:
            line(t, f"query[A] {LONG_CDN} from 10.0.0.5")
            line(t, f"reply {LONG_CDN} is 52.80.1.1")
            line(t, f"query[A] metrics.{LONG_CDN} from 10.0.0.6")
            line(t, f"gravity blocked metrics.{LONG_CDN} is 0.0.0.0")
    return "\n".join(lines) + "\n"


def build_pihole_store(folder, long_names: bool = False) -> str:
    log = folder / "pihole.log"
    log.write_text(pihole_log(long_names), encoding="utf-8")
    feed = folder / "my-feed.txt"
    feed.write_text("bad.example\n", encoding="utf-8")
    path = folder / "pihole.duckdb"
    pipeline.register_all_tables()
    with open_store(path) as store:
        pipeline.ingest(store, [str(log)], IngestOptions(year=2024))
        pipeline.analyze(store)
        inputs.remember(store, "feed", [(str(feed), f"mine={feed}")])
        inputs.remember(store, "top_list", [(str(folder / "gone-top-list.csv"), str(folder / "gone-top-list.csv"))])
    return str(path)


@pytest.fixture(scope="module")
def pihole_store(tmp_path_factory):
    return build_pihole_store(tmp_path_factory.mktemp("resolver"))


@pytest.fixture
def pihole_client(pihole_store, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(pihole_store, path)
    app = make_app(path)
    yield Client(app)
    app.state.netsift.close()


def test_json_twin_has_every_panel(pihole_client):
    r = pihole_client.get("/resolver.json")
    assert r.status_code == 200
    d = r.json()
    assert d["available"] is True
    t = d["totals"]
    assert t["blocked"] == 180 + 6 and t["queries"] == 180 * 2 + 45 + 6 and t["clients"] == 3
    assert d["top_blocked"][0] == {**d["top_blocked"][0], "domain": PLANTED_BLOCKED, "queries": 180, "clients": 3}
    assert XSS_BLOCKED in [b["domain"] for b in d["top_blocked"]]
    assert [a["domain"] for a in d["top_allowed"]] == ["www.example.com", "cached.example.org"]
    assert {u["upstream"]: u["queries"] for u in d["upstreams"]} == {"1.1.1.1": 90, "9.9.9.9#53": 90}
    assert {q["query_type"]: (q["queries"], q["blocked"]) for q in d["query_types"]} == {
        "A": (360, 180), "AAAA": (45, 0), "TXT": (6, 6)}
    assert {a["action"]: a["queries"] for a in d["actions"]} == {
        "forwarded": 180, "blocked:gravity": 180, "cached": 45, "blocked:regex": 6}
    assert [c["client"] for c in d["top_clients"]][:1] == ["10.0.0.6"]  # the XSS name's asker
    series = d["timeline"]
    assert sum(p["blocked"] for p in series) == t["blocked"] and sum(p["allowed"] for p in series) == t["allowed"]
    assert d["bucket"] == "hour" and series[0]["blocked"] == series[-1]["blocked"] == 0  # zero either side


def test_html_page_escapes_names_and_links_from_nav_and_overview(pihole_client):
    r = pihole_client.get("/resolver")
    assert r.status_code == 200
    html = re.sub(r"<wbr>|</?span>", "", r.text)  # names are labels that may wrap after a dot
    assert XSS_BLOCKED not in html and "&lt;svg/onload=alert(1)&gt;.evil.test" in html
    assert PLANTED_BLOCKED in html and "9.9.9.9#53" in html
    for fig in ("fig-resolver_timeline", "fig-resolver_qtypes", "fig-resolver_upstreams"):
        assert f'id="{fig}"' in html
    assert '<a href="/resolver"' in html  # nav
    overview = pihole_client.get("/").text
    assert 'id="resolver-link"' in overview and 'href="/resolver"' in overview


def test_overview_lists_remembered_inputs(pihole_client, pihole_store):
    d = pihole_client.get("/overview.json").json()
    kinds = {i["kind"]: i for i in d["inputs"]}
    assert kinds["feed"]["exists"] is True and kinds["feed"]["path"].endswith("my-feed.txt")
    assert kinds["feed"]["age_days"] is not None
    assert kinds["top_list"]["exists"] is False
    assert d["resolver"]["blocked"] == 186
    html = pihole_client.get("/overview").text
    assert kinds["feed"]["spec"] in html and "gone-top-list.csv" in html and "missing" in html


def test_absent_without_block_status(store_path):
    """A store whose logs say nothing of blocking (Zeek-like: resolver_action null): no nav entry, 404."""
    with open_store(store_path) as store:
        store.con.execute("UPDATE dns_queries SET resolver_action = NULL")
        store.con.execute("UPDATE ingested_files SET format = 'zeek_tsv'")
        store.con.execute("DELETE FROM rollup_state")  # the rollups follow dns_queries' rows; rebuild
    app = make_app(store_path)
    try:
        client = Client(app)
        assert client.get("/resolver.json").status_code == 404
        r = client.get("/resolver")
        assert r.status_code == 404 and "block status" in r.text
        assert 'href="/resolver"' not in client.get("/").text
        assert client.get("/overview.json").json()["resolver"] is None
    finally:
        app.state.netsift.close()


def test_old_rollups_are_rebuilt_with_the_resolver_ones(pihole_store, tmp_path):
    """A store whose rollups were built before the resolver rollups existed gets them on the next open."""
    path = tmp_path / "old.duckdb"
    shutil.copy(pihole_store, path)
    with open_store(path) as store:
        store.con.execute("DELETE FROM rollup_resolver_hour")
        store.con.execute("ALTER TABLE rollup_state DROP COLUMN version")
    app = make_app(path)
    try:
        assert Client(app).get("/resolver.json").json()["totals"]["blocked"] == 186
    finally:
        app.state.netsift.close()


@pytest.mark.browser
def test_long_names_wrap_after_a_dot_and_every_table_fits_its_card(tmp_path):
    """A long CDN name among the top names pushed the counts beside it out of the card (1,280 px)."""
    from tests.web.browser import browser_page, require_chromium
    from tests.web.server import Server

    require_chromium()
    srv = Server(build_pihole_store(tmp_path, long_names=True))
    try:
        with browser_page() as (page, watch):
            page.goto(srv.url + "/resolver")
            cut = page.evaluate("""() => [...document.querySelectorAll('section table')]
                .filter(t => t.scrollWidth > t.closest('section').clientWidth + 1)
                .map(t => t.querySelector('th').textContent)""")
            assert cut == []
            spans = page.evaluate("""() => [...document.querySelectorAll('code.name')]
                .filter(c => c.textContent.includes('amazonaws'))
                .map(c => [c.textContent, [...c.querySelectorAll('span')].every(s => s.getClientRects().length === 1)])""")
            assert spans and all(whole for _, whole in spans)  # wrapped, if at all, between labels
            assert LONG_CDN in [text for text, _ in spans]  # the text (and a copy of it) is the name
            assert watch.errors == []
    finally:
        srv.stop()
