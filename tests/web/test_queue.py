"""The triage queue a person can finish, on a synthetic network with planted threats (2 days, 24 clients):
medium and worse first with the count of the rest, grouped leftovers, bulk verdicts (a selection, or all rows
matching the filter) through one CSRF-protected POST and one re-analysis, and the /verdicts page whose Undo
brings a finding back. In-process (httpx over ASGI) and in Debian's Chromium (Playwright)."""

from __future__ import annotations

import shutil
from urllib.parse import quote

import pytest

from netsift import pipeline
from netsift.store import open_store
from tests.baseline.test_folding import fill
from tests.web.conftest import Client, make_app

synth = pytest.importorskip("netsift.synth")
SCREENSHOT = None  # set NETSIFT_QUEUE_SHOT=path to keep a picture of the queue (see test_queue_in_the_browser)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    pipeline.register_all_tables()
    path = tmp_path_factory.mktemp("queue") / "demo.duckdb"
    with open_store(str(path)) as store:
        fill(store, synth.generate(seed=7, days=2, clients=24))
        pipeline.analyze(store)
    return path


@pytest.fixture
def demo_path(tmp_path, demo_store):
    path = tmp_path / "netsift.duckdb"
    shutil.copy(demo_store, path)
    return path


@pytest.fixture
def demo(demo_path):
    app = make_app(demo_path)
    yield app, Client(app)
    app.state.netsift.close()


def settle(app) -> None:
    app.state.netsift.reanalyzer.wait()


def test_medium_and_worse_first_with_the_count_of_the_rest(demo):
    app, client = demo
    data = client.get("/findings.json").json()
    severities = {f["severity"] for f in data["findings"]}
    assert data["findings"] and severities <= {"medium", "high", "critical"}
    assert data["below_floor"] > 100 and data["filters"]["floor"] == "medium"
    html = client.get("/findings").text
    assert f"+ {data['below_floor']:,} info/low findings: show them" in html
    everything = client.get("/findings.json?floor=info&per_page=500").json()
    assert everything["below_floor"] == 0 and everything["matching"] == data["matching"] + data["below_floor"]
    # a kind asked for is shown whatever its severity
    assert client.get("/findings.json?kind=unexplained_domain").json()["total"] > 0


def test_the_dga_clients_names_are_one_finding_and_leftovers_are_grouped(demo):
    app, client = demo
    dga = client.get(f"/findings.json?kind=dga&q={synth.PLANTED['dga']['client']}").json()["findings"]
    assert dga and len(dga[0]["names"]) >= 50
    names = set(dga[0]["names"])
    rows = client.get("/findings.json?kind=unexplained_domain&per_page=500").json()
    shown = {f["domain"] for f in rows["findings"]} | {m["domain"] for f in rows["findings"]
                                                     if isinstance(f["group"], dict) for m in f["group"]["members"]}
    assert not shown & names
    groups = [f["group"] for f in rows["findings"] if isinstance(f["group"], dict)]
    assert groups and all(g["count"] >= 3 and len(g["members"]) == min(g["count"], 200) for g in groups)
    assert rows["matching"] > rows["total"]  # grouped rows count once
    page = client.get("/findings?kind=dga").text
    assert "names of this finding" in page


def test_bulk_verdict_needs_the_csrf_token_and_checks_every_entity(demo):
    app, client = demo
    ids = [f["id"] for f in client.get("/findings.json?floor=info&per_page=5&sort=score&order=asc").json()["findings"]]
    refused = client.post("/verdicts/bulk.json", data={"finding_id": ids, "verdict": "benign"})
    assert refused.status_code == 403
    cross = client.post("/verdicts/bulk.json", data={"finding_id": ids, "verdict": "benign",
                                                      "csrf_token": app.state.netsift.csrf_token},
                        headers={"origin": "http://evil.example"})
    assert cross.status_code == 403
    bad = client.post("/verdicts/bulk.json", data={"finding_id": ids, "verdict": "sideways",
                                                    "csrf_token": app.state.netsift.csrf_token})
    assert bad.status_code == 400
    none = client.post("/verdicts/bulk.json", data={"verdict": "benign", "csrf_token": app.state.netsift.csrf_token})
    assert none.status_code == 400
    assert client.get("/verdicts.json").json()["verdicts"] == []


def test_bulk_by_selection_group_and_filter_then_undo(demo):
    app, client = demo
    token = app.state.netsift.csrf_token
    rows = client.get("/findings.json?floor=info&per_page=500").json()["findings"]
    plain = [f for f in rows if f["kind"] == "unexplained_domain" and not isinstance(f["group"], dict)][:3]
    group = next(f["group"] for f in rows if isinstance(f["group"], dict))
    resp = client.post("/verdicts/bulk.json", data={"finding_id": [f["id"] for f in plain], "group": [group["key"]],
                                                     "verdict": "benign", "note": "bulk", "csrf_token": token})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["findings"] == 3 + group["count"]
    assert {f["domain"] for f in plain} <= set(body["entities"])
    runs = app.state.netsift.reanalyzer.runs
    settle(app)
    assert app.state.netsift.reanalyzer.runs == runs + 1  # one re-analysis for the lot
    open_now = client.get("/findings.json?floor=info&per_page=500").json()["findings"]
    assert not {f["id"] for f in open_now} & {f["id"] for f in plain}
    # all matching a filter
    infra = client.get("/findings.json?kind=shared_infrastructure").json()
    resp = client.post("/verdicts/bulk.json", data={"scope": "filter", "kind": "shared_infrastructure",
                                                     "verdict": "needs_review", "csrf_token": token})
    assert resp.json()["findings"] == infra["matching"] > 0
    settle(app)
    assert client.get("/findings.json?kind=shared_infrastructure").json()["total"] == 0
    listed = client.get("/verdicts.json").json()["verdicts"]
    assert {f["domain"] for f in plain} <= {v["entity"] for v in listed}
    # undo one: the finding returns to the open queue after the re-analysis
    back = plain[0]["domain"]
    assert client.post("/verdicts/undo.json", data={"entity": back}).status_code == 403
    resp = client.post("/verdicts/undo.json", data={"entity": back, "csrf_token": token})
    assert resp.json()["undone"] == [{"entity": back, "verdict": "benign"}]
    settle(app)
    again = client.get(f"/findings.json?floor=info&q={quote(back)}").json()["findings"]
    assert [f["domain"] for f in again if f["domain"] == back] == [back]
    history = client.get("/verdicts.json?history=1").json()["verdicts"]
    assert any(v["entity"] == back and v["state"] == "undone" for v in history)


@pytest.mark.browser
def test_queue_in_the_browser(demo_path):
    import os

    from tests.web.browser import browser_page, require_chromium
    from tests.web.server import Server

    require_chromium()
    srv = Server(demo_path)
    try:
        with browser_page(viewport=(1400, 1000)) as (page, watch):
            page.goto(srv.url + "/findings")
            rows = page.locator("details.finding")
            assert rows.count() >= 3
            sevs = page.locator("details.finding > summary .sev").all_inner_texts()
            assert sevs and set(s.strip() for s in sevs) <= {"medium", "high", "critical"}
            more = page.locator("#below-floor a")
            assert more.count() == 1 and "info/low findings: show them" in more.inner_text()
            shot = os.environ.get("NETSIFT_QUEUE_SHOT")
            if shot:
                page.locator("details.finding summary").first.click()
                page.screenshot(path=shot, clip={"x": 0, "y": 0, "width": 1400, "height": 1000})
                page.locator("details.finding summary").first.click()
            more.click()
            page.wait_for_url("**floor=info**")
            # tick 3 single unexplained_domain rows and mark them benign
            singles = page.locator("details.finding:has(summary input[name=finding_id])").filter(
                has=page.locator("summary > span", has_text="unexplained_domain"))
            picked = []
            for i in range(3):
                row = singles.nth(i)
                picked.append(row.locator("summary code").nth(1).inner_text())
                row.locator("summary input[type=checkbox]").check()
            assert page.locator("details.finding[open]").count() == 0  # ticking does not open a row
            page.locator("form#bulk button[value=benign]").click()
            page.wait_for_load_state()
            srv.app.state.netsift.reanalyzer.wait()
            page.goto(srv.url + "/findings?floor=info&per_page=500")
            text = page.locator(".queue").inner_text()
            assert not [d for d in picked if d in text]
            # a grouped row expands to its members
            group = page.locator("details.finding:has(summary input[name=group])").first
            assert group.count() == 1
            group.locator("summary").click()
            assert group.locator("tr.member").count() >= 3
            # mark all matching the filter
            page.goto(srv.url + "/findings?kind=shared_infrastructure")
            assert page.locator("details.finding").count() >= 1
            page.locator("form#bulk-filter button[value=needs_review]").click()
            page.wait_for_load_state()
            srv.app.state.netsift.reanalyzer.wait()
            page.goto(srv.url + "/findings?kind=shared_infrastructure")
            assert page.locator("details.finding").count() == 0
            # the verdicts page lists them; Undo brings one back
            page.goto(srv.url + "/verdicts")
            listed = page.locator("table.verdicts").inner_text()
            assert all(d in listed for d in picked)
            row = page.locator("tr.verdict-row").filter(has_text=picked[0])
            row.locator("button.undo").click()
            page.wait_for_url("**/verdicts**")
            srv.app.state.netsift.reanalyzer.wait()
            assert page.locator("tr.verdict-row").filter(has_text=picked[0]).count() == 0
            page.goto(srv.url + f"/findings?floor=info&q={quote(picked[0])}")
            assert picked[0] in page.locator(".queue").inner_text()
            assert watch.errors == [] and watch.blocked == [] and watch.dialogs == []
    finally:
        srv.stop()
