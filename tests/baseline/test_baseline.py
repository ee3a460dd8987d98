"""Baseline: top-sites lists, allowlist wildcard semantics, history and the normal explanations."""

from __future__ import annotations

import datetime as dt
import zipfile

import polars as pl
import pytest

from netsift import baseline
from netsift.baseline.allowlist import allowed_names
from netsift.baseline import leftovers
from netsift.baseline.leftovers import unexplained_findings, unexplained_score
from netsift.baseline.toplists import fallback_list, read_top_list
from netsift.baseline.verdicts import add_verdict
from netsift.config import Settings
from netsift.errors import UsageError
from netsift.pipeline import refresh_domain_names
from netsift.store import open_store


@pytest.mark.parametrize("names, patterns, expected", [
    (["example.com", "a.example.com", "notexample.com", "example.com.evil.net"], ["*.example.com"],
     ["*.example.com", "*.example.com", None, None]),
    (["example.com", "a.example.com"], ["example.com"], ["example.com", "example.com"]),
    (["x.y.corp.com", "corp.com"], ["y.corp.com"], ["y.corp.com", None]),
    (["a.b"], [], [None]),
])
def test_allowlist_wildcard_includes_parent(names, patterns, expected):
    assert allowed_names(pl.Series(names), patterns).to_list() == expected


@pytest.mark.parametrize("content, expected", [
    ("1,google.com\n2,www.facebook.com\n3,mail.google.com\n", {"google.com": 1, "facebook.com": 2}),
    ("GlobalRank,TldRank,Domain,TLD\n1,1,google.com,com\n2,2,bbc.co.uk,uk\n", {"google.com": 1, "bbc.co.uk": 2}),
    ("Domain\nmicrosoft.com\napple.com\n", {"microsoft.com": 1, "apple.com": 2}),
])
def test_read_top_list_formats(tmp_path, content, expected):
    f = tmp_path / "list.csv"
    f.write_text(content)
    got = dict(read_top_list(f).iter_rows())
    assert got == expected


def test_read_zipped_tranco(tmp_path):
    f = tmp_path / "top-1m.csv.zip"
    with zipfile.ZipFile(f, "w") as zf:
        zf.writestr("top-1m.csv", "1,example.com\n2,example.org\n")
    assert read_top_list(f).height == 2


def test_fallback_list_is_registered_domains():
    fb = fallback_list()
    assert fb.height > 300 and "google.com" in fb["domain"].to_list()
    assert "teams.microsoft.com" not in fb["domain"].to_list()


def _store_with(rows):
    store = open_store(":memory:")
    frame = pl.DataFrame(rows, schema={"ts": pl.Datetime("us"), "client": pl.String, "query_name": pl.String,
                                       "response_code": pl.String},
                         orient="row").with_columns(source_file_id=pl.lit(1), source_line=pl.int_range(1, len(rows) + 1))
    store.append("dns_queries", frame)
    refresh_domain_names(store)
    return store


T0 = dt.datetime(2026, 11, 20, 8)


def test_domain_stats_reasons_and_leftovers(tmp_path):
    rows = []
    for c in range(10):  # every client asks google and an internal CDN-ish name -> prevalence
        rows.append((T0, f"10.0.0.{c}", "www.google.com", "NOERROR"))
        rows.append((T0, f"10.0.0.{c}", "cdn.shared-service.net", "NOERROR"))
    rows.append((T0, "10.0.0.1", "4.3.2.1.in-addr.arpa", "NXDOMAIN"))
    rows.append((T0 + dt.timedelta(days=2), "10.0.0.3", "login.rare-phish.com", "NOERROR"))
    rows.append((T0, "10.0.0.4", "api.allowed-vendor.io", "NOERROR"))
    rows.append((T0, "10.0.0.5", "judged.example", "NOERROR"))
    store = _store_with(rows)
    add_verdict(store, "judged.example", "benign", "checked")
    allow = tmp_path / "allow.txt"
    allow.write_text("# vendors\n*.allowed-vendor.io\n")
    summary = baseline.build_baseline(store, baseline.BaselineOptions(allowlist=allow))
    reasons = dict(store.rows("SELECT registered_domain, normal_reason FROM domain_stats"))
    assert reasons["google.com"].startswith("top sites: rank")
    assert "prevalent: asked by 10 of 10 clients" in reasons["shared-service.net"]
    assert reasons["in-addr.arpa"].startswith("infrastructure")
    assert reasons["allowed-vendor.io"] == "allowlist: *.allowed-vendor.io"
    assert reasons["judged.example"].startswith("verdict: benign")
    assert reasons["rare-phish.com"] is None
    assert summary.normal == 5 and summary.domains == 6
    findings = unexplained_findings(store, Settings(baseline.SETTINGS + leftovers.SETTINGS))
    assert [f.domain for f in findings] == ["rare-phish.com"]
    f = findings[0]
    assert f.kind == "unexplained_domain" and f.score < 0.5 and any("first seen" in r for r in f.reasons)


def test_malicious_verdict_is_never_normal():
    store = _store_with([(T0, f"10.0.0.{c}", "www.google.com", "NOERROR") for c in range(6)])
    add_verdict(store, "google.com", "malicious")
    baseline.build_baseline(store, baseline.BaselineOptions())
    assert store.scalar("SELECT normal_reason FROM domain_stats") is None


def test_bad_verdict_is_refused():
    store = open_store(":memory:")
    with pytest.raises(UsageError):
        add_verdict(store, "x.com", "maybe")


@pytest.mark.parametrize("clients, total, new, nx", [(1, 40, True, 1.0), (1, 40, False, 0.0), (20, 40, False, 0.0)])
def test_unexplained_score_stays_a_lead(clients, total, new, nx):
    score, sub = unexplained_score(clients, total, new, nx)
    assert 0.0 < score < 0.5 and set(sub) == {"rarity", "new", "nxdomain_share"}


def test_rarer_and_newer_scores_higher():
    assert unexplained_score(1, 40, True, 0)[0] > unexplained_score(1, 40, False, 0)[0] > unexplained_score(15, 40, False, 0)[0]
