"""The enrich step over a store: fill ``ip_info``, ``domain_categories`` and ``feed_hits`` from the distinct
answers and names in ``dns_queries``, and turn them into findings.

:func:`enrich_store` works on *distinct* values only (names once, IPs once), with the vectorised matchers
of :mod:`feeds`, :mod:`categories` and :mod:`asn_geo`; the three tables are rebuilt on every run.

Findings:

``feed_hit``
    one per registered domain with at least one name listed by a feed; score from the strongest kind
    (malicious 0.9, suspicious 0.55, informational 0.3 by default: ``feed_hit_*_score``) plus 0.05 per
    further feed (``feed_hit_extra_feed_increase``).
``shared_infrastructure``
    several not-normal registered domains (``domain_stats.normal_reason`` null; every domain when the
    baseline has not run) answered with the same public IP, or hosted in the same *small* AS (few announced
    prefixes in the offline data). Shared IPs of large hosting/CDN networks are common, so they score lower.

Both are registered producers (:data:`PRODUCERS`, stage ``enrich``); their settings are part of the
``[enrich]`` section (:data:`SETTINGS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from netsift.config import Setting, Settings
from netsift.enrich import asn_geo
from netsift.enrich.categories import CategoryList, match_categories
from netsift.enrich.feeds import Feed, match_names
from netsift.enrich.tables import DOMAIN_CATEGORIES, FEED_HITS, IP_INFO, TABLES
from netsift.findings import Finding, Producer, finding_id
from netsift.names import split_name
from netsift.store.base import Store

SHARED_SETTINGS = (
    Setting("shared_min_domains", 3, "Not-normal registered domains on one IP / small AS before it is a finding.",
            2, 1000),
    Setting("small_as_max_prefixes", 50, "An AS announcing at most this many prefixes counts as small.", 1, 100000),
)
FEED_HIT_SETTINGS = (
    Setting("feed_hit_malicious_score", 0.9, "Score of a feed_hit finding on a domain a malicious feed lists.",
            0, 1),
    Setting("feed_hit_suspicious_score", 0.55, "Score of a feed_hit finding on a domain a suspicious feed lists.",
            0, 1),
    Setting("feed_hit_informational_score", 0.3, "Score of a feed_hit finding on a domain only an informational "
            "feed lists.", 0, 1),
    Setting("feed_hit_extra_feed_increase", 0.05, "Added to a feed_hit finding per further feed listing the "
            "domain.", 0, 1),
)
SETTINGS = SHARED_SETTINGS + FEED_HIT_SETTINGS
_DEFAULTS = Settings(SETTINGS)


def kind_scores(s: Settings = _DEFAULTS) -> dict[str, float]:
    """A feed_hit finding's score by the strongest kind of feed listing its domain."""
    return {"malicious": s.feed_hit_malicious_score, "suspicious": s.feed_hit_suspicious_score,
            "informational": s.feed_hit_informational_score}



@dataclass
class EnrichSummary:
    names: int = 0
    ips: int = 0
    ips_located: int = 0  # with a country
    ips_with_as: int = 0
    feed_hits: int = 0  # rows of feed_hits
    feed_hit_names: int = 0
    feed_hit_domains: int = 0
    categorised_names: int = 0
    security_names: int = 0  # names with at least one security category
    notes: list[str] = field(default_factory=list)


def ensure_tables(store: Store) -> None:
    store.ensure_tables(TABLES)


def enrich_store(store: Store, *, feeds: Sequence[Feed] = (), categories: Sequence[CategoryList] = (),
                 geoip: bool = True, geoip_db: str | Path | Sequence[str | Path] | None = None) -> EnrichSummary:
    """Rebuild ip_info, domain_categories and feed_hits for everything in dns_queries."""
    ensure_tables(store)
    summary = EnrichSummary()
    names = store.frame("SELECT DISTINCT query_name AS name FROM dns_queries")["name"]
    summary.names = len(names)
    domains = registered_domains(store, names)

    hits = match_names(names, feeds).join(domains, on="name", how="left")
    store.replace(FEED_HITS.name, hits.select(FEED_HITS.column_names))
    summary.feed_hits = hits.height
    summary.feed_hit_names = hits["name"].n_unique()
    summary.feed_hit_domains = hits["registered_domain"].n_unique()

    cats = match_categories(names, categories).join(domains, on="name", how="left")
    store.replace(DOMAIN_CATEGORIES.name, cats.select(DOMAIN_CATEGORIES.column_names))
    summary.categorised_names = cats["name"].n_unique()
    summary.security_names = cats.filter(pl.col("kind") == "security")["name"].n_unique()

    if geoip or geoip_db:
        answers = store.frame(f"SELECT DISTINCT a FROM (SELECT {store.sql.unnest('answers')} AS a "
                              "FROM dns_queries) WHERE a IS NOT NULL")
        info = asn_geo.lookup_ips(answers["a"], geoip_db=geoip_db, use_offline=geoip)
        store.replace(IP_INFO.name, info)
        summary.ips = info.height
        summary.ips_located = int(info["country"].is_not_null().sum())
        summary.ips_with_as = int(info["as_org"].is_not_null().sum())
        if geoip and not geoip_db:
            summary.notes.append("AS numbers need a MaxMind ASN database (--geoip-db); AS names are offline")
    else:
        store.execute("DELETE FROM ip_info")
    return summary


def registered_domains(store: Store, names: pl.Series) -> pl.DataFrame:
    """(name, registered_domain) for these names: from domain_names where the ingest derived them,
    computed with the public suffix list otherwise."""
    frame = pl.DataFrame({"name": names}, schema={"name": pl.String})
    if store.has_table("domain_names"):
        known = store.frame("SELECT query_name AS name, registered_domain FROM domain_names")
        frame = frame.join(known.cast({"name": pl.String, "registered_domain": pl.String}), on="name", how="left")
    else:
        frame = frame.with_columns(registered_domain=pl.lit(None, pl.String))
    missing = frame.filter(pl.col("registered_domain").is_null())["name"].to_list()
    if missing:
        computed = pl.DataFrame({"name": missing, "rd": [split_name(n)[0] for n in missing]},
                                schema={"name": pl.String, "rd": pl.String})
        frame = frame.join(computed, on="name", how="left").select(
            "name", pl.coalesce("registered_domain", "rd").alias("registered_domain"))
    return frame


def feed_hit_findings(store: Store, *, now: dt.datetime | None = None, s: Settings = _DEFAULTS) -> list[Finding]:
    """One ``feed_hit`` finding per registered domain with names listed by a feed (``s``: the ``[enrich]``
    settings)."""
    scores = kind_scores(s)
    if not store.has_table("feed_hits"):
        return []
    hits = store.frame("SELECT coalesce(registered_domain, name) AS domain, name, feed, kind, family, matched "
                       "FROM feed_hits")
    if hits.is_empty():
        return []
    seen = store.frame("""
        SELECT query_name AS name, client, count(*) AS queries, min(ts) AS first_seen, max(ts) AS last_seen
        FROM dns_queries WHERE query_name IN (SELECT name FROM feed_hits) GROUP BY query_name, client
    """)
    names = hits.select("domain", "name").unique()
    activity = seen.join(names, on="name").group_by("domain").agg(
        pl.col("queries").sum(), pl.col("client").drop_nulls().unique().sort().alias("clients"),
        pl.col("first_seen").min(), pl.col("last_seen").max())
    listings = hits.group_by("domain").agg(
        pl.struct("feed", "kind", "family", "matched").unique().alias("listed"),
        pl.col("name").unique().sort().alias("names"))
    rows = listings.join(activity, on="domain", how="left").sort("domain").select(
        "domain", "listed", "names", "queries", "first_seen", "last_seen", "clients").rows()
    findings = []
    for domain, listed, names, queries, first, last, clients in rows:
        listed = sorted(listed, key=lambda e: (-scores.get(e["kind"], 0), e["feed"], e["family"] or ""))
        feeds = {e["feed"] for e in listed}
        score = max(scores.get(e["kind"], s.feed_hit_informational_score) for e in listed) + \
            s.feed_hit_extra_feed_increase * (len(feeds) - 1)
        reasons = []
        for entry in listed:
            text = f"listed by {entry['feed']} ({entry['kind']}) as {entry['matched']}"
            if entry["family"]:
                text += f", malware family {entry['family']}"
            reasons.append(text)
        clients = sorted(c for c in (clients or []) if c is not None)
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        reasons.append(f"{_count(queries or 0, 'query', 'queries')} for {shown} from "
                       f"{_count(len(clients), 'client', 'clients')}" + (f": {', '.join(clients[:5])}" if clients else ""))
        findings.append(Finding(
            kind="feed_hit", score=score, reasons=reasons, domain=domain,
            sub_scores={"feeds": len(feeds), "names": len(names), "clients": len(clients)},
            first_seen=first, last_seen=last, evidence_count=int(queries or 0),
        ))
    return findings


def shared_infrastructure(store: Store, *, min_domains: int = 3, small_as_max_prefixes: int = 50) -> list[Finding]:
    """Several not-normal registered domains on one public IP, or in one small AS."""
    if not (store.has_table("ip_info") and store.has_table("dns_queries")):
        return []
    names = store.frame("SELECT DISTINCT query_name AS name FROM dns_queries "
                        f"WHERE {store.sql.list_len('answers')} > 0")["name"]
    domains = registered_domains(store, names)
    with store.temp_table("_netsift_name_domains", domains):
        normal_filter = ("AND nd.registered_domain NOT IN (SELECT registered_domain FROM domain_stats "
                         "WHERE normal_reason IS NOT NULL)") if store.has_table("domain_stats") else ""
        pairs = store.frame(f"""
            SELECT a.ip, nd.registered_domain AS domain, count(*) AS queries, min(a.ts) AS first_seen,
                   max(a.ts) AS last_seen, any_value(i.as_org) AS as_org, any_value(i.asn) AS asn,
                   any_value(i.country) AS country
            FROM (SELECT {store.sql.unnest('answers')} AS ip, query_name, ts FROM dns_queries) a
            JOIN _netsift_name_domains nd ON nd.name = a.query_name
            JOIN ip_info i ON i.ip = a.ip AND NOT coalesce(i.is_private, false)
            WHERE nd.registered_domain IS NOT NULL {normal_filter}
            GROUP BY a.ip, nd.registered_domain
        """)
    if pairs.is_empty():
        return []
    sizes = asn_geo.offline().as_prefix_counts()
    findings = []
    per_ip = pairs.group_by("ip").agg(
        pl.col("domain").sort(), pl.col("queries").sum(), pl.col("first_seen").min(), pl.col("last_seen").max(),
        pl.col("as_org").first(), pl.col("country").first(),
    ).filter(pl.col("domain").list.len() >= min_domains).sort("ip")
    for row in per_ip.iter_rows(named=True):
        n = len(row["domain"])
        prefixes = sizes.get(row["as_org"] or "", 0)
        large = prefixes > small_as_max_prefixes
        # co-hosting alone is context, not a detection: it stays below medium; the domains' own
        # findings (and feed hits on them) carry the weight
        score = min(0.45, 0.3 + 0.05 * (n - min_domains)) * (0.6 if large else 1.0)
        where = f"{row['as_org'] or 'unknown AS'}, {row['country'] or '??'}"
        reasons = [f"{n} not-normal domains resolve to {row['ip']} ({where}): {_shown(row['domain'])}"]
        if large:
            reasons.append(f"{row['as_org']} is a large network ({prefixes} prefixes): shared hosting is common there")
        findings.append(Finding(
            kind="shared_infrastructure", score=score, reasons=reasons,
            sub_scores={"domains": n, "as_prefixes": prefixes, "large_as_modifier": 0.6 if large else 1.0},
            first_seen=row["first_seen"], last_seen=row["last_seen"], evidence_count=int(row["queries"]),
            id=finding_id("shared_infrastructure", None, f"ip:{row['ip']}"),
        ))
    per_as = pairs.filter(pl.col("as_org").is_not_null()).group_by("as_org").agg(
        pl.col("domain").unique().sort(), pl.col("ip").n_unique().alias("ips"), pl.col("queries").sum(),
        pl.col("first_seen").min(), pl.col("last_seen").max(),
    ).filter((pl.col("domain").list.len() >= min_domains) & (pl.col("ips") > 1)).sort("as_org")
    for row in per_as.iter_rows(named=True):
        prefixes = sizes.get(row["as_org"], 0)
        if prefixes > small_as_max_prefixes:
            continue
        n = len(row["domain"])
        findings.append(Finding(
            kind="shared_infrastructure", score=min(0.4, 0.25 + 0.05 * (n - min_domains)),
            reasons=[(f"{n} not-normal domains on {row['ips']} IPs of the small AS {row['as_org']} "
                      f"({prefixes} prefixes): {_shown(row['domain'])}")],
            sub_scores={"domains": n, "ips": row["ips"], "as_prefixes": prefixes},
            first_seen=row["first_seen"], last_seen=row["last_seen"], evidence_count=int(row["queries"]),
            id=finding_id("shared_infrastructure", None, f"as:{row['as_org']}"),
        ))
    return findings


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _shown(domains: list[str], limit: int = 6) -> str:
    return ", ".join(domains[:limit]) + (f" and {len(domains) - limit} more" if len(domains) > limit else "")


PRODUCERS = (
    Producer("feed_hit", "enrich", "A registered domain with names a threat feed lists.", FEED_HIT_SETTINGS,
             lambda store, s: feed_hit_findings(store, s=s), section="enrich", supersedes_leftovers=True,
             window_hours=24),
    Producer("shared_infrastructure", "enrich",
             "Several not-normal registered domains on one public IP, or in one small AS.", SHARED_SETTINGS,
             lambda store, s: shared_infrastructure(store, min_domains=s.shared_min_domains,
                                                    small_as_max_prefixes=s.small_as_max_prefixes),
             section="enrich", window_hours=24),
)
