"""`netsift lists update` end to end through the real command, against a local HTTP server, and the
downloaded Tranco list then explaining domains as normal in `analyze`."""

from __future__ import annotations

import json

from tests.lists.http_server import LocalServer, Reply
from tests.lists.test_download import tranco_zip
from tests.test_cli import DATA, netsift


def test_lists_update_then_analyze_uses_tranco(tmp_path, monkeypatch):
    with LocalServer() as srv:
        body = tranco_zip(rows=1500, first="example.org")
        srv.add("/top-1m.csv.zip", Reply(body=body))
        monkeypatch.setenv("NETSIFT_LIST_URL_TRANCO", srv.url("/top-1m.csv.zip"))
        proc = netsift("lists", "update", "tranco", cwd=tmp_path)
        assert "tranco: 1,500 entries" in proc.stderr.decode()
        assert len(srv.hits("/top-1m.csv.zip")) == 1
    shown = json.loads(netsift("lists", "--json", cwd=tmp_path).stdout)
    tranco = next(r for r in shown if r["name"] == "tranco")
    assert tranco["entries"] == 1500 and tranco["stale"] is False
    doc = json.loads(netsift("analyze", "--json", "--year", "2025", str(DATA / "pihole" / "valid.log"),
                             cwd=tmp_path).stdout)
    assert "example.org" not in {f["domain"] for f in doc["findings"]}
    normal = json.loads(netsift("normal", "--json", cwd=tmp_path).stdout)
    reason = next(r["why"] for r in normal if r["domain"] == "example.org")
    assert reason.startswith("top sites: rank 1 in tranco@")


def test_lists_update_failure_is_a_clear_message(tmp_path, monkeypatch):
    with LocalServer() as srv:
        srv.add("/top-1m.csv.zip", Reply(404, body=b"nope"))
        monkeypatch.setenv("NETSIFT_LIST_URL_TRANCO", srv.url("/top-1m.csv.zip"))
        proc = netsift("lists", "update", "tranco", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "tranco: failed" in err and "404" in err and "Traceback" not in err


def test_lists_update_unknown_name(tmp_path):
    proc = netsift("lists", "update", "nosuchlist", cwd=tmp_path, check=False)
    assert proc.returncode != 0 and "unknown list nosuchlist" in proc.stderr.decode()
