"""The tables enrichment fills, declared with the same :class:`netsift.schema.Table` records as the
canonical ones (append :data:`TABLES` to ``schema.TABLES`` to get their DDL and docs).

``ip_info``, ``domain_categories`` and ``feed_hits`` are rebuilt by every ``enrich_store`` run from the
distinct answers and names in ``dns_queries``; ``enrichment_cache`` keeps online lookups between runs.
"""

from __future__ import annotations

from netsift.schema import Column, Table, register_tables

IP_INFO = Table(
    "ip_info",
    "Country and network of every distinct IP address seen in answers (offline: geoip2fast's GeoLite2 "
    "country+ASN data; city and coordinates from a user-supplied MaxMind database).",
    (
        Column("ip", "text", "IP address as it appears in the answers.", False),
        Column("country", "text", "ISO 3166 country code; null for private/reserved or unknown addresses."),
        Column("country_name", "text", "Country name, or what the reserved range is (e.g. 'Private Network Class C')."),
        Column("asn", "int", "Autonomous system number (only from a MaxMind ASN database; geoip2fast has names only)."),
        Column("as_org", "text", "Organisation of the autonomous system (e.g. GOOGLE, CLOUDFLARENET)."),
        Column("as_network", "text", "Announced network the address falls in (CIDR), when known."),
        Column("city", "text", "City, from a MaxMind City database when given."),
        Column("lat", "float", "Latitude, from a MaxMind City database when given."),
        Column("lon", "float", "Longitude, from a MaxMind City database when given."),
        Column("is_private", "bool", "Private, reserved or special-use address (RFC 1918, loopback, 0.0.0.0...)."),
    ),
    primary_key=("ip",),
)

DOMAIN_CATEGORIES = Table(
    "domain_categories",
    "Categories of each distinct query name, from UT1-style category folders and domain,category CSVs; "
    "a list entry covers the name itself and every name under it. A name may have several.",
    (
        Column("name", "text", "Query name (FQDN) as stored in dns_queries.", False),
        Column("registered_domain", "text", "Its registered domain."),
        Column("category", "text", "Category as the source names it (e.g. bank, doh, vpn, malware).", False),
        Column("kind", "text", "security (malware, phishing, dynamic-dns, doh, vpn, remote-control...) or content.", False),
        Column("source", "text", "Which category list said so.", False),
        Column("matched", "text", "The list entry that matched: the name itself or one of its parents."),
    ),
)

FEED_HITS = Table(
    "feed_hits",
    "Query names listed by a threat feed (on the name itself or a parent domain).",
    (
        Column("name", "text", "Query name (FQDN) as stored in dns_queries.", False),
        Column("registered_domain", "text", "Its registered domain."),
        Column("feed", "text", "Feed name (e.g. urlhaus, blackbook, maltrail-dynamic-domain).", False),
        Column("kind", "text", "malicious, suspicious or informational.", False),
        Column("family", "text", "Malware family where the feed gives one (blackbook's Malware column)."),
        Column("matched", "text", "The feed entry that matched: the name itself or one of its parents."),
    ),
)

ENRICHMENT_CACHE = Table(
    "enrichment_cache",
    "Answers of online services (VirusTotal, Umbrella Investigate), reused until they are older than the "
    "configured maximum age.",
    (
        Column("service", "text", "virustotal, investigate, ...", False),
        Column("key", "text", "What was looked up (a domain).", False),
        Column("value_json", "text", "The summarised answer, as JSON.", False),
        Column("fetched_at", "timestamp", "When it was fetched (UTC).", False),
    ),
    primary_key=("service", "key"),
)

TABLES: tuple[Table, ...] = (IP_INFO, DOMAIN_CATEGORIES, FEED_HITS, ENRICHMENT_CACHE)

register_tables(*TABLES)
