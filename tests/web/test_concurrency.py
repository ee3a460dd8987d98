"""Readers never wait for the re-analysis and never see half of it: with a re-analysis held mid-way (it
has already replaced the findings and rebuilt the baseline), every page's JSON answers over real HTTP
from a uvicorn server and shows the store as it was before the re-analysis began (plus the verdict that
started it); once it ends, the pages show its results."""

from __future__ import annotations

import threading

import httpx

from netsift import pipeline
from tests.web.server import Server

HANG_GUARD = 20  # seconds; a request that waits for the held re-analysis would hit it

PAGES = ["/.json", "/overview.json", "/findings.json?per_page=500", "/findings.json?status=all&per_page=500",
         "/domain.json?name=example-shop.de", "/client.json?name=10.0.0.3", "/categories.json", "/map.json",
         "/graph.json", "/search.json?q=shop"]


def test_pages_answer_from_before_the_reanalysis_while_it_runs(store_path, monkeypatch):
    saved, release = threading.Event(), threading.Event()
    real_save = pipeline.save_findings

    def save_then_hold(store, findings):
        real_save(store, findings)  # committed: a reader without a snapshot would see the new findings
        saved.set()
        release.wait(HANG_GUARD)

    monkeypatch.setattr(pipeline, "save_findings", save_then_hold)
    server = Server(store_path)
    try:
        with httpx.Client(base_url=server.url, timeout=HANG_GUARD) as http:
            before = {url: http.get(url).json() for url in PAGES}
            target = next(f for f in before["/findings.json?per_page=500"]["findings"]
                          if f["domain"] == "example-shop.de")
            resp = http.post("/verdict.json", data={"finding_id": target["id"], "verdict": "benign",
                                                    "csrf_token": server.app.state.netsift.csrf_token},
                             headers={"origin": server.url})
            assert resp.status_code == 200, resp.text
            assert saved.wait(HANG_GUARD), "the re-analysis did not reach save_findings"
            assert server.app.state.netsift.reanalyzer.running

            during = {}
            for url in PAGES:
                resp = http.get(url)
                assert resp.status_code == 200, (url, resp.text[:300])
                during[url] = resp.json()
            assert http.get("/status.json").json()["reanalysing"] is True
            # the previous findings, the previous baseline ...
            all_ids = lambda d: {f["id"] for f in d["findings"]}  # noqa: E731
            assert all_ids(during["/findings.json?status=all&per_page=500"]) == \
                all_ids(before["/findings.json?status=all&per_page=500"])
            assert during["/overview.json"]["summary"] == before["/overview.json"]["summary"]
            assert during["/domain.json?name=example-shop.de"]["stats"] == \
                before["/domain.json?name=example-shop.de"]["stats"]
            assert during["/domain.json?name=example-shop.de"]["findings"]
            # ... and the verdict, at once: the judged finding has left the open queue
            assert target["id"] not in all_ids(during["/findings.json?per_page=500"])
            assert [v["verdict"] for v in during["/domain.json?name=example-shop.de"]["verdicts"]] == ["benign"]

            release.set()
            server.app.state.netsift.reanalyzer.wait(HANG_GUARD)
            assert not server.app.state.netsift.reanalyzer.running
            assert server.app.state.netsift.reanalyzer.error is None
            after = http.get("/findings.json?status=all&per_page=500").json()
            assert all(f["domain"] != "example-shop.de" for f in after["findings"])
            stats = http.get("/domain.json?name=example-shop.de").json()["stats"]
            assert stats["normal_reason"].startswith("verdict: benign")
    finally:
        release.set()
        server.stop()
