"""enrich_store over an in-memory DuckDB store, and the findings built from its tables."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import duckdb
import pytest

from netsift.enrich import annotate, asn_geo, categories, feeds
from netsift.schema import DNS_QUERIES, DOMAIN_NAMES, DOMAIN_STATS, duckdb_ddl
from netsift.store import DuckDBStore

DATA = Path(__file__).resolve().parents[1] / "data"
T0 = dt.datetime(2026, 1, 5, 9, 0, 0)


def small_as_ips() -> tuple[str, str, str]:
    """Two public IPv4 addresses in one AS with few prefixes in the bundled data, and its name."""
    db = asn_geo.offline()
    sizes = db.as_prefix_counts()
    for first, netlen, as_id in zip(db.asn.v4_first.tolist(), db.asn.v4_netlen.tolist(), db.asn.v4_id.tolist(),
                                    strict=True):
        org = db.as_names[as_id]
        if org and sizes[org] <= 5 and netlen <= 24 and first > 2**24:
            return str(ipaddress.IPv4Address(first + 1)), str(ipaddress.IPv4Address(first + 2)), org
    raise AssertionError("no small AS in the bundled data")


def make_store(rows, *, stats=None, names=None):
    con = duckdb.connect()
    con.execute(duckdb_ddl(DNS_QUERIES))
    for i, (minute, client, name, answers) in enumerate(rows, 1):
        con.execute("INSERT INTO dns_queries VALUES (?, ?, ?, 'A', 'NOERROR', ?, NULL, 1, ?)",
                    [T0 + dt.timedelta(minutes=minute), client, name, answers, i])
    if stats is not None:
        con.execute(duckdb_ddl(DOMAIN_STATS))
        for domain, reason in stats.items():
            con.execute("INSERT INTO domain_stats (registered_domain, normal_reason) VALUES (?, ?)", [domain, reason])
    if names is not None:
        con.execute(duckdb_ddl(DOMAIN_NAMES))
        for name, registered in names.items():
            con.execute("INSERT INTO domain_names (query_name, registered_domain) VALUES (?, ?)", [name, registered])
    return DuckDBStore.over(con)


@pytest.fixture
def sources():
    return {
        "feeds": [feeds.load_feed(DATA / "feeds/blackbook_style.csv", name="bb"),
                  feeds.load_feed(DATA / "feeds/hosts_valid.txt", name="hosts", kind="suspicious")],
        "categories": [categories.load_categories(DATA / "categories/ut1_tree", source="ut1")],
    }


ROWS = [
    (0, "10.0.0.5", "www.statsrvv.example", ["8.8.8.8"]),
    (1, "10.0.0.6", "statsrvv.example", ["8.8.8.8"]),
    (2, "10.0.0.6", "shared.example", ["8.8.8.8", "cname.target.example"]),
    (3, "10.0.0.7", "evil.example", ["0.0.0.0"]),
    (4, "10.0.0.7", "online.bank.example", ["2001:4860:4860::8888"]),
    (5, "10.0.0.7", "cdn.malware2.example", None),
    (6, "10.0.0.8", "www.example.com", ["192.168.1.10"]),
]


def test_enrich_store_fills_the_three_tables(sources):
    con = make_store(ROWS)
    summary = annotate.enrich_store(con, **sources)
    assert (summary.names, summary.ips, summary.ips_located, summary.ips_with_as) == (7, 4, 2, 2)
    assert (summary.feed_hits, summary.feed_hit_names, summary.feed_hit_domains) == (5, 4, 3)
    assert (summary.categorised_names, summary.security_names) == (2, 2)
    hits = con.rows("SELECT name, registered_domain, feed, kind, family, matched FROM feed_hits "
                    "ORDER BY name, feed, family")
    assert hits == [
        ("evil.example", "evil.example", "hosts", "suspicious", None, "evil.example"),
        ("shared.example", "shared.example", "bb", "malicious", "emotet", "shared.example"),
        ("shared.example", "shared.example", "bb", "malicious", "trickbot", "shared.example"),
        ("statsrvv.example", "statsrvv.example", "bb", "malicious", "keitaro", "statsrvv.example"),
        ("www.statsrvv.example", "statsrvv.example", "bb", "malicious", "keitaro", "statsrvv.example"),
    ]
    cats = con.rows("SELECT name, registered_domain, category, kind, source, matched FROM domain_categories "
                    "ORDER BY name, category")
    assert cats == [
        ("cdn.malware2.example", "malware2.example", "malware", "security", "ut1", "cdn.malware2.example"),
        ("online.bank.example", "bank.example", "bank", "content", "ut1", "online.bank.example"),
        ("online.bank.example", "bank.example", "vpn", "security", "ut1", "bank.example"),
    ]
    ips = con.rows("SELECT ip, country, as_org, is_private FROM ip_info ORDER BY ip")
    assert ips == [("0.0.0.0", None, None, True), ("192.168.1.10", None, None, True),
                   ("2001:4860:4860::8888", "US", "GOOGLE", False), ("8.8.8.8", "US", "GOOGLE", False)]


def test_rerun_rebuilds_and_uses_domain_names(sources):
    con = make_store(ROWS, names={"www.statsrvv.example": "registered-by-ingest.example"})
    annotate.enrich_store(con, **sources)
    again = annotate.enrich_store(con, **sources)
    assert again.feed_hits == 5
    assert con.rows("SELECT count(*) FROM feed_hits") == [(5,)]
    assert con.rows("SELECT registered_domain FROM feed_hits WHERE name = 'www.statsrvv.example'") == [
        ("registered-by-ingest.example",)]


def test_without_geoip_ip_info_is_empty(sources):
    con = make_store(ROWS)
    summary = annotate.enrich_store(con, geoip=False, **sources)
    assert summary.ips == 0 and con.rows("SELECT count(*) FROM ip_info") == [(0,)]


def test_feed_hit_findings(sources):
    con = make_store(ROWS)
    annotate.enrich_store(con, **sources)
    found = {f.domain: f for f in annotate.feed_hit_findings(con)}
    assert sorted(found) == ["evil.example", "shared.example", "statsrvv.example"]
    stats = found["statsrvv.example"]
    assert (stats.kind, stats.score, stats.severity, stats.evidence_count) == ("feed_hit", 0.9, "critical", 2)
    assert stats.reasons == ["listed by bb (malicious) as statsrvv.example, malware family keitaro",
                             ("2 queries for statsrvv.example, www.statsrvv.example from 2 clients: "
                              "10.0.0.5, 10.0.0.6")]
    assert (stats.first_seen, stats.last_seen) == (T0, T0 + dt.timedelta(minutes=1))
    assert found["shared.example"].reasons[:2] == [
        "listed by bb (malicious) as shared.example, malware family emotet",
        "listed by bb (malicious) as shared.example, malware family trickbot"]
    assert (found["evil.example"].score, found["evil.example"].severity) == (0.55, "medium")


def test_several_feeds_raise_the_score():
    con = make_store([(0, "10.0.0.5", "evil.example", None)])
    hosts = feeds.load_feed(DATA / "feeds/hosts_valid.txt", name="hosts", kind="suspicious")
    listed = feeds.load_feed(DATA / "feeds/wrong_encoding.txt", name="other", kind="informational")
    annotate.enrich_store(con, feeds=[hosts, listed], geoip=False)
    [finding] = annotate.feed_hit_findings(con)
    assert finding.score == pytest.approx(0.6) and finding.sub_scores["feeds"] == 2


def test_no_tables_no_findings():
    con = DuckDBStore.over(duckdb.connect())
    assert annotate.feed_hit_findings(con) == [] and annotate.shared_infrastructure(con) == []


def test_shared_infrastructure():
    ip1, ip2, small_org = small_as_ips()
    rows = [
        # three not-normal domains on one IP of a small AS, a fourth on a second IP of the same AS
        (0, "10.0.0.5", "a.alpha.example", [ip1]), (1, "10.0.0.5", "beta.example", [ip1]),
        (2, "10.0.0.6", "gamma.example", [ip1]), (3, "10.0.0.6", "delta.example", [ip2]),
        # a normal domain on the same IP does not count
        (4, "10.0.0.6", "popular.example", [ip1]),
        # three not-normal domains on a Google IP: found, with the large-network modifier
        (5, "10.0.0.7", "one.example", ["8.8.8.8"]), (6, "10.0.0.7", "two.example", ["8.8.8.8"]),
        (7, "10.0.0.7", "three.example", ["8.8.8.8"]),
        # four domains on a private address: never
        *[(8 + i, "10.0.0.8", f"lan{i}.example", ["192.168.1.10"]) for i in range(4)],
    ]
    stats = {d: None for d in ("alpha.example", "beta.example", "gamma.example", "delta.example", "one.example",
                               "two.example", "three.example")}
    stats["popular.example"] = "top-sites"
    con = make_store(rows, stats=stats)
    annotate.enrich_store(con, geoip=True)
    found = annotate.shared_infrastructure(con)
    by_reason = {f.reasons[0].split(":")[0]: f for f in found}
    assert sorted(by_reason) == sorted([
        f"3 not-normal domains resolve to {ip1} ({small_org}, " + _country(ip1) + ")",
        "3 not-normal domains resolve to 8.8.8.8 (GOOGLE, US)",
        (f"4 not-normal domains on 2 IPs of the small AS {small_org} "
         f"({asn_geo.offline().as_prefix_counts()[small_org]} prefixes)"),
    ])
    small = by_reason[f"3 not-normal domains resolve to {ip1} ({small_org}, " + _country(ip1) + ")"]
    google = by_reason["3 not-normal domains resolve to 8.8.8.8 (GOOGLE, US)"]
    # co-hosting alone is context: low, and lower still on a large network
    assert small.score == pytest.approx(0.3) and google.score == pytest.approx(0.18)
    assert all(f.score < 0.5 for f in found)
    assert "alpha.example, beta.example, gamma.example" in small.reasons[0]
    assert "popular.example" not in small.reasons[0]
    assert google.reasons[1].startswith("GOOGLE is a large network")
    assert len({f.id for f in found}) == 3 and all(f.kind == "shared_infrastructure" for f in found)


def test_shared_infrastructure_without_baseline_counts_every_domain():
    rows = [(i, "10.0.0.7", f"d{i}.example", ["8.8.8.8"]) for i in range(3)]
    con = make_store(rows)
    annotate.enrich_store(con)
    [finding] = annotate.shared_infrastructure(con)
    assert finding.sub_scores["domains"] == 3
    assert annotate.shared_infrastructure(con, min_domains=4) == []


def _country(ip: str) -> str:
    return asn_geo.lookup_ips([ip])["country"][0] or "??"
