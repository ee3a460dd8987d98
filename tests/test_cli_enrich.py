"""Enrichment through the real `netsift analyze` command: --feed, --categories, the --feed-hits and
--category filters, the summary's enrichment object, stale lists, --online without a key, settings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.test_cli import netsift

DATA = Path(__file__).parent / "data"
PIHOLE = str(DATA / "pihole" / "valid.log")
DNSCAT2 = "pcaps/dns_tunnelling/dmachard_dnscat2.pcap"


def analyze_json(tmp_path, *args) -> dict:
    return json.loads(netsift("analyze", "--json", "--year", "2025", *args, cwd=tmp_path).stdout)


def test_feed_makes_a_feed_hit_finding_and_feed_hits_filters(tmp_path):
    (tmp_path / "bb.csv").write_text("Domain,Malware,Date added,Source\nnosuch.example.org,emotet,2024-01-01,x\n")
    doc = analyze_json(tmp_path, "--feed", "bb=bb.csv", PIHOLE)
    hits = [f for f in doc["findings"] if f["kind"] == "feed_hit"]
    assert [(f["domain"], f["score"], f["severity"]) for f in hits] == [("example.org", 0.9, "critical")]
    assert hits[0]["reasons"][0] == "listed by bb (malicious) as nosuch.example.org, malware family emotet"
    assert set(hits[0]) == {"id", "kind", "client", "domain", "score", "severity", "reasons", "sub_scores",
                            "first_seen", "last_seen", "evidence_count", "names", "group", "account", "host"}
    # the unexplained row for the listed domain is superseded by its feed_hit finding
    assert [f["kind"] for f in doc["findings"] if f["domain"] == "example.org"] == ["feed_hit"]
    enrichment = doc["summary"]["enrichment"]
    assert (enrichment["feed_hits"], enrichment["feed_hit_domains"], enrichment["superseded"]) == (1, 1, 1)
    assert [(item["name"], item["kind"], item["entries"]) for item in enrichment["lists"]] == [("bb", "malicious", 1)]
    assert (enrichment["ips"], enrichment["ips_located"]) == (3, 1)  # 93.184.216.34, :: and 0.0.0.0

    only = analyze_json(tmp_path, "--feed", "bb=bb.csv", "--feed-hits")
    assert [(f["kind"], f["domain"]) for f in only["findings"]] == [("feed_hit", "example.org")]
    assert len(only["findings"]) < len(doc["findings"])


def test_categories_option_reason_and_category_filter(tmp_path):
    (tmp_path / "cats.csv").write_text("example.com,webmail\nexample.com,dynamic-dns\n")
    doc = analyze_json(tmp_path, "--categories", "cats.csv", "--category", "webmail", PIHOLE)
    assert [f["domain"] for f in doc["findings"]] == ["example.com"]
    assert "categories: dynamic-dns (security), webmail" in doc["findings"][0]["reasons"]
    assert "answers point to AS 'EDGECAST' (US)" in doc["findings"][0]["reasons"]
    assert analyze_json(tmp_path, "--categories", "cats.csv", "--category", "bank")["findings"] == []


def test_human_summary_mentions_enrichment_and_stale_lists(tmp_path):
    root = tmp_path / "data-dir"  # NETSIFT_DATA_DIR of the netsift() helper
    (root / "lists").mkdir(parents=True)
    (root / "lists" / "urlhaus.txt").write_text("0.0.0.0 nosuch.example.org\n")
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=9)).isoformat()
    (root / "manifest.json").write_text(json.dumps({"lists": {"urlhaus": {
        "path": "lists/urlhaus.txt", "date": old, "kind": "feed", "format": "hosts", "url": "x", "entries": 1,
        "sha256": "0"}}}))
    proc = netsift("analyze", "--year", "2025", PIHOLE, cwd=tmp_path)
    out = " ".join(proc.stdout.decode().split())
    assert ("Enrichment: 1 feed hit on 1 domain (urlhaus), 0 names categorised, 1 of 3 answer IPs located; "
            "stale lists: urlhaus (`netsift lists update`).") in out
    assert "note: list urlhaus is 9 days old (stale after 2): run `netsift lists update urlhaus`" in \
        " ".join(proc.stderr.decode().split())


def test_online_without_a_key_is_a_note_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.delenv("VT_API_KEY", raising=False)
    monkeypatch.delenv("UMBRELLA_INVESTIGATE_TOKEN", raising=False)
    proc = netsift("analyze", "--json", "--year", "2025", "--online", "--online-top", "2", PIHOLE, cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert doc["summary"]["enrichment"]["notes"] == [
        "virustotal: no API key; set VT_API_KEY to look domains up (nothing was sent)",
        "investigate: no API key; set UMBRELLA_INVESTIGATE_TOKEN to look domains up (nothing was sent)"]
    assert "note: virustotal: no API key" in proc.stderr.decode()
    assert doc["summary"]["enrichment"]["online"]["virustotal"]["asked"] == 2


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--feed", "x:evil=bb.csv"], 2, "feed kind 'evil'"),
    (["--feed", "missing.txt"], 2, "no such file: missing.txt"),
    (["--categories", "nope.csv"], 2, "does not exist"),
    (["--geoip-db", "bb.csv"], 1, "bb.csv: not a readable MaxMind .mmdb database"),
])
def test_bad_enrichment_options_are_one_line_errors(tmp_path, args, code, message):
    (tmp_path / "bb.csv").write_text("a.example\n")
    netsift("ingest", "--year", "2025", PIHOLE, cwd=tmp_path)
    proc = netsift("analyze", *args, cwd=tmp_path, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == code and message in err and "Traceback" not in err


def test_enrich_settings_shown_and_validated(tmp_path):
    shown = netsift("config", cwd=tmp_path).stdout.decode()
    assert "feed_malicious_increase" in shown and "resolve_timeout" in shown
    (tmp_path / "bad.toml").write_text("[enrich]\nfeed_malicious_increase = 2\nvirustotal_per_minute = 0\n")
    proc = netsift("config", "validate", "bad.toml", cwd=tmp_path, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "feed_malicious_increase: 2 is above the maximum 1" in err
    assert "virustotal_per_minute: 0 is below the minimum 1" in err
    (tmp_path / "ok.toml").write_text("[enrich]\nfeed_suspicious_increase = 0.5\n")
    (tmp_path / "tunnels.txt").write_text("nosuch.example.org\n")
    doc = analyze_json(tmp_path, "--config", "ok.toml", PIHOLE, "--feed", "t:suspicious=tunnels.txt")
    assert [f["score"] for f in doc["findings"] if f["kind"] == "feed_hit"] == [0.55]


@pytest.mark.shared_data
def test_dnscat2_with_the_real_feeds(tmp_path, shared_data):
    """Neither Maltrail's tunnelling services nor blackbook list biillpi.com (checked with grep): the feeds
    load (7 and 18,147 distinct domains), nothing is hit, and the tunnel finding keeps its score."""
    lists = shared_data / "blocklists"
    doc = analyze_json(tmp_path, str(shared_data / DNSCAT2),
                       "--feed", f"maltrail-dns-tunneling:suspicious={lists / 'maltrail/dns_tunneling_service.txt'}",
                       "--feed", f"blackbook={lists / 'stamparm_blackbook.csv'}")
    enrichment = doc["summary"]["enrichment"]
    assert [(i["name"], i["kind"], i["entries"]) for i in enrichment["lists"]] == [
        ("maltrail-dns-tunneling", "suspicious", 7), ("blackbook", "malicious", 18147)]
    assert (enrichment["feed_hits"], enrichment["ips"], enrichment["findings_added"]) == (0, 0, {})
    assert [(f["kind"], f["domain"], f["score"]) for f in doc["findings"]] == [("tunnel", "biillpi.com", 0.8224)]
    assert not any(r.startswith("listed by") for r in doc["findings"][0]["reasons"])


@pytest.mark.shared_data
def test_dnscat2_with_a_feed_listing_its_domain(tmp_path, shared_data):
    (tmp_path / "tunnels.txt").write_text("# my tunnel domains\nbiillpi.com\n")
    doc = analyze_json(tmp_path, str(shared_data / DNSCAT2), "--feed", "mine:suspicious=tunnels.txt")
    tunnel = next(f for f in doc["findings"] if f["kind"] == "tunnel")
    assert (tunnel["score"], tunnel["sub_scores"]["modifier_feed_hit"]) == (0.9224, 0.1)
    assert tunnel["reasons"][0] == "listed by mine (suspicious)"
    hit = next(f for f in doc["findings"] if f["kind"] == "feed_hit")
    assert hit["reasons"][0] == "listed by mine (suspicious) as biillpi.com"
    assert hit["reasons"][1].startswith("12 queries for 147901b8d3df9cc46c59d600078b3316ce.biillpi.com, ")
    assert hit["reasons"][1].endswith(" and 7 more from 1 client: 192.168.1.17")
    assert (hit["score"], hit["evidence_count"]) == (0.55, 12)
    only = analyze_json(tmp_path, "--feed", "mine:suspicious=tunnels.txt", "--feed-hits", "--kind", "tunnel")
    assert [f["kind"] for f in only["findings"]] == ["tunnel"]
