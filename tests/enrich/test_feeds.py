"""Threat feeds: loading every format (own fixtures and the real shared samples, counts verified by hand
with grep/sort/uniq) and vectorised matching on a name and its parents."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from netsift.enrich import feeds

DATA = Path(__file__).resolve().parents[1] / "data" / "feeds"


@pytest.mark.parametrize(
    ("fixture", "fmt", "entries", "ip_entries", "rejected"),
    [
        ("hosts_valid.txt", "hosts", [("evil.example", None), ("tab.separated.example", None),
                                      ("first.example", None), ("second.example", None),
                                      ("0022a601.pphost.example", None)], 0, 2),  # localhost, ip6-localhost
        ("domains_with_comments.txt", "domains",
         [("bad.example", None), ("upper.example", None), ("trailing.example", None), ("wildcard.example", None),
          ("leading-dot.example", None), ("url.example", None), ("port.example", None),
          ("xn--bcher-kva.example", None), ("inline.example", None)], 4, 1),
        ("blackbook_style.csv", "csv", [("statsrvv.example", "keitaro"), ("mozila.duck.example", "asyncrat"),
                                        ("emotet1.example", "emotet"), ("shared.example", "emotet"),
                                        ("shared.example", "trickbot"), ("nofamily.example", None)], 0, 0),
        ("csv_no_header.csv", "csv", [("zeus.example", None), ("sub.ursnif.example", None)], 0, 0),
        ("csv_custom_columns.csv", "csv", [("c2.example", "cobalt strike"), ("www.c2.example", "cobalt strike")],
         0, 0),
        ("comments_only.txt", "domains", [], 0, 0),
        ("wrong_encoding.txt", "domains", [("evil.example", None), ("fine.example", None)], 0, 1),
    ],
)
def test_load_own_fixtures(fixture, fmt, entries, ip_entries, rejected):
    path = DATA / fixture
    assert feeds.sniff_format(feeds.read_lines(path)) == fmt
    feed = feeds.load_feed(path, kind="suspicious")
    assert feed.entries.rows() == entries
    assert (feed.ip_entries, feed.rejected) == (ip_entries, rejected)
    assert feed.name == path.stem and feed.kind == "suspicious"


def test_explicit_columns_and_errors():
    feed = feeds.load_feed(DATA / "csv_custom_columns.csv", domain_column="Indicator", family_column="first_seen")
    assert feed.entries.rows()[0] == ("c2.example", "2024-01-01")
    with pytest.raises(ValueError, match="no column 'malware'"):
        feeds.load_feed(DATA / "csv_custom_columns.csv", family_column="malware")
    with pytest.raises(ValueError, match="feed kind 'evil'"):
        feeds.load_feed(DATA / "hosts_valid.txt", kind="evil")


@pytest.mark.parametrize(
    ("path", "kind", "domains", "rows", "ip_entries", "rejected"),
    [
        # 18151 rows, 4 domains listed twice (3 with the same family after trimming/lower-casing)
        ("blocklists/stamparm_blackbook.csv", "malicious", 18147, 18147, 0, 0),
        ("blocklists/urlhaus-filter-hosts_2025-07-19.txt", "malicious", 2689, 2689, 0, 0),
        # 1185 entries: 739 bare IPs + 1 http://IP; 445 domain lines, 386 distinct once lower-cased
        ("blocklists/maltrail/crypto_mining.txt", "suspicious", 386, 386, 740, 0),
        ("blocklists/maltrail/dns_tunneling_service.txt", "suspicious", 7, 7, 0, 0),
        ("blocklists/maltrail/dynamic_domain.txt", "suspicious", 2035, 2035, 0, 0),  # 2496 lines, duplicates
        ("blocklists/maltrail/parking_site.txt", "suspicious", 1, 1, 4344, 0),  # 4340 IPs + 4 CIDR blocks
        ("blocklists/maltrail/rogue_dns.txt", "malicious", 26, 26, 392, 0),
    ],
)
def test_load_shared_samples(shared_data, path, kind, domains, rows, ip_entries, rejected):
    feed = feeds.load_feed(shared_data / path, kind=kind)
    assert (feed.domains, feed.entries.height, feed.ip_entries, feed.rejected) == (domains, rows, ip_entries,
                                                                                  rejected)


def test_blackbook_families(shared_data):
    feed = feeds.load_feed(shared_data / "blocklists/stamparm_blackbook.csv")
    top = feed.entries.group_by("family").len().sort("len", descending=True).head(4).rows()
    assert top == [("emotet", 7808), ("lokibot", 1386), ("troldesh", 1085), ("azorult", 840)]


def test_match_on_name_and_parents():
    feed = feeds.load_feed(DATA / "blackbook_style.csv", name="bb")
    dyn = feeds.Feed("dyn", "informational", pl.DataFrame({"domain": ["duck.example"], "family": [None]},
                                                          schema={"domain": pl.String, "family": pl.String}))
    hits = feeds.match_names(["statsrvv.example", "a.b.statsrvv.example", "mozila.duck.example",
                              "other.duck.example", "shared.example", "statsrvv.example.evil", "example",
                              "nothing.test", "x.nofamily.example"], [feed, dyn])
    assert hits.rows() == [
        ("a.b.statsrvv.example", "bb", "malicious", "keitaro", "statsrvv.example"),
        ("mozila.duck.example", "bb", "malicious", "asyncrat", "mozila.duck.example"),
        ("mozila.duck.example", "dyn", "informational", None, "duck.example"),
        ("other.duck.example", "dyn", "informational", None, "duck.example"),
        ("shared.example", "bb", "malicious", "emotet", "shared.example"),
        ("shared.example", "bb", "malicious", "trickbot", "shared.example"),
        ("statsrvv.example", "bb", "malicious", "keitaro", "statsrvv.example"),
        ("x.nofamily.example", "bb", "malicious", None, "nofamily.example"),
    ]


def test_most_specific_entry_wins():
    entries = pl.DataFrame({"domain": ["example.org", "cdn.example.org"], "family": ["wide", "narrow"]})
    hits = feeds.match_names(["a.cdn.example.org", "www.example.org"], [feeds.Feed("f", "malicious", entries)])
    assert hits.select("name", "family", "matched").rows() == [
        ("a.cdn.example.org", "narrow", "cdn.example.org"), ("www.example.org", "wide", "example.org")]


def test_no_feeds_no_hits():
    assert feeds.match_names(["a.example"], []).is_empty()


def test_suffixes():
    assert feeds.suffixes(["a.b.c.d", "x.y", "single"]).sort(["name", "depth"]).rows() == [
        ("a.b.c.d", "a.b.c.d", 0), ("a.b.c.d", "b.c.d", 1), ("a.b.c.d", "c.d", 2),
        ("single", "single", 0), ("x.y", "x.y", 0)]


def test_match_real_feeds(shared_data):
    bb = feeds.load_feed(shared_data / "blocklists/stamparm_blackbook.csv", name="blackbook")
    uh = feeds.load_feed(shared_data / "blocklists/urlhaus-filter-hosts_2025-07-19.txt", name="urlhaus")
    dyn = feeds.load_feed(shared_data / "blocklists/maltrail/dynamic_domain.txt", name="dyn", kind="suspicious")
    hits = feeds.match_names(["www.statsrvv.com", "0022a601.pphost.net", "pphost.net", "queda212.duckdns.org",
                              "www.google.com"], [bb, uh, dyn])
    assert hits.select("name", "feed", "family", "matched").rows() == [
        ("0022a601.pphost.net", "urlhaus", None, "0022a601.pphost.net"),
        ("queda212.duckdns.org", "blackbook", "revenge", "queda212.duckdns.org"),
        ("queda212.duckdns.org", "dyn", None, "duckdns.org"),
        ("www.statsrvv.com", "blackbook", "keitaro", "statsrvv.com"),
    ]


def test_installed_feeds_use_catalog_names(tmp_path, monkeypatch):
    from netsift.lists import download

    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "blackbook.csv").write_text("Domain,Malware,Date added,Source\nbad.example,emotet,2024-01-01,x\n")
    (lists / "tranco.csv").write_text("1,google.com\n")
    manifest = {"lists": {
        "blackbook": {"url": "u", "date": "2026-01-01T00:00:00+00:00", "sha256": "", "entries": 1,
                      "path": "lists/blackbook.csv", "kind": "feed", "format": "csv"},
        "tranco": {"url": "u", "date": "2026-01-01T00:00:00+00:00", "sha256": "", "entries": 1,
                   "path": "lists/tranco.csv", "kind": "toplist", "format": "tranco_csv"}}}
    import json

    (tmp_path / download.MANIFEST).write_text(json.dumps(manifest))
    [feed] = feeds.installed_feeds(tmp_path)
    assert (feed.name, feed.kind, feed.entries.rows()) == ("blackbook", "malicious", [("bad.example", "emotet")])
