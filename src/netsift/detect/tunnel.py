"""tunnel — data carried inside DNS names (dnscat2, iodine, DNS exfiltration).

Per unexplained registered domain: how many distinct subdomains it has (RITA scores from 100 up to 1000),
what share of its names carry a long, high-entropy label (the shape of hex/base32/base64-encoded data),
what share of the questions ask for TXT/NULL/MX/CNAME records (which carry data back), and the most
query-name bytes one client sent to it in one hour. A finding names the registered domain and the
clients using it (the ``client`` field when one client sent most of the bytes).
"""

from __future__ import annotations

import duckdb

from netsift.config import Setting, Settings
from netsift.detect.context import UNEXPLAINED_QUERIES, frame
from netsift.detect.scoring import MIN_SCORE, log_ramp, noisy_or, plural, ramp, sample
from netsift.findings import Finding

DATA_TYPES = ("TXT", "NULL", "MX", "CNAME", "ANY", "KEY", "PRIVATE", "TYPE65399")

SETTINGS = (
    Setting("min_subdomains", 5, "Distinct subdomains a registered domain needs to be looked at.", 1, 1e6),
    Setting(
        "subdomains_base",
        100,
        "Distinct subdomains where the subdomain sub-score starts (RITA: 100).",
        1,
        1e6,
    ),
    Setting(
        "subdomains_high", 1000, "Distinct subdomains for a full subdomain sub-score (RITA: 1000).", 2, 1e7
    ),
    Setting("encoded_label_length", 20, "A label at least this long can carry encoded data.", 8, 63),
    Setting(
        "encoded_entropy",
        3.3,
        "Subdomain entropy (bits/char) at or above which a long label looks encoded.",
        1,
        6,
    ),
    Setting(
        "data_type_share",
        0.5,
        "Share of TXT/NULL/MX/CNAME questions for a full record-type sub-score.",
        0.01,
        1,
    ),
    Setting(
        "bytes_per_hour_base",
        2000,
        "Query-name bytes per client per hour where the volume sub-score starts.",
        1,
        1e9,
    ),
    Setting(
        "bytes_per_hour_high",
        100000,
        "Query-name bytes per client per hour for a full volume sub-score.",
        2,
        1e10,
    ),
    Setting(
        "owner_share",
        0.8,
        "Share of the bytes one client must send to be named as the finding's client.",
        0.5,
        1,
    ),
    MIN_SCORE,
)


def score_domain(
    subdomains: int, encoded_share: float, data_type_share: float, peak_bytes_per_hour: float, s: Settings
) -> tuple[float, dict[str, float]]:
    """(score, sub_scores) of one registered domain."""
    if subdomains < s.min_subdomains:
        return 0.0, {}
    subs = {
        "subdomains": log_ramp(subdomains, s.subdomains_base, s.subdomains_high),
        "encoded_labels": max(0.0, min(1.0, encoded_share)),
        "data_record_types": ramp(data_type_share, 0.0, s.data_type_share),
        "bytes_per_hour": log_ramp(peak_bytes_per_hour, s.bytes_per_hour_base, s.bytes_per_hour_high),
    }
    # record types and volume only count when the names themselves look like a channel
    channel = max(subs["encoded_labels"], subs["subdomains"])
    score = noisy_or(
        [
            0.75 * subs["subdomains"],
            0.65 * subs["encoded_labels"],
            0.45 * subs["data_record_types"] * channel,
            0.5 * subs["bytes_per_hour"] * channel,
        ]
    )
    return score, subs


def gather(con: duckdb.DuckDBPyConnection, s: Settings):
    """One row per candidate registered domain, aggregated in DuckDB."""
    types = ", ".join(f"'{t}'" for t in DATA_TYPES)  # constants, not user input
    return frame(
        con,
        f"""
        WITH u AS ({UNEXPLAINED_QUERIES}),
        cand AS (
            SELECT registered_domain FROM u WHERE subdomain <> ''
            GROUP BY registered_domain HAVING count(DISTINCT subdomain) >= ?
        ),
        q AS (SELECT u.* FROM u JOIN cand USING (registered_domain) WHERE u.subdomain <> ''),
        names AS (
            SELECT registered_domain,
                   avg(CASE WHEN longest_label >= ? AND subdomain_entropy >= ? THEN 1.0 ELSE 0.0 END) AS encoded_share,
                   avg(longest_label) AS avg_longest, avg(subdomain_entropy) AS avg_entropy, count(*) AS names,
                   list(query_name ORDER BY longest_label DESC, query_name)[1:3] AS samples
            FROM (SELECT DISTINCT registered_domain, query_name, longest_label, subdomain_entropy FROM q)
            GROUP BY registered_domain
        ),
        hourly AS (
            SELECT registered_domain, client, date_trunc('hour', ts) AS hour, sum(length(query_name))::BIGINT AS bytes
            FROM q GROUP BY ALL
        ),
        per_client AS (
            SELECT registered_domain, client, max(bytes) AS peak_bytes, arg_max(hour, bytes) AS peak_hour,
                   sum(bytes)::BIGINT AS total_bytes
            FROM hourly GROUP BY ALL
        ),
        clients AS (
            SELECT registered_domain, max(peak_bytes) AS peak_bytes, arg_max(client, peak_bytes) AS peak_client,
                   arg_max(peak_hour, peak_bytes) AS peak_hour, sum(total_bytes)::BIGINT AS total_bytes,
                   max(total_bytes) AS top_client_bytes, arg_max(client, total_bytes) AS top_client,
                   list(client ORDER BY total_bytes DESC, client) AS clients
            FROM per_client GROUP BY registered_domain
        ),
        totals AS (
            SELECT registered_domain, count(*) AS queries, count(DISTINCT subdomain) AS subdomains,
                   avg(CASE WHEN query_type IN ({types}) THEN 1.0 ELSE 0.0 END) AS data_type_share,
                   histogram(query_type) AS type_counts, min(ts) AS first_seen, max(ts) AS last_seen
            FROM q GROUP BY registered_domain
        )
        SELECT * FROM totals JOIN names USING (registered_domain) JOIN clients USING (registered_domain)
        ORDER BY registered_domain
        """,
        [s.min_subdomains, s.encoded_label_length, s.encoded_entropy],
    )


def _hours(first, last) -> str:
    hours = (last - first).total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def run(con: duckdb.DuckDBPyConnection, s: Settings) -> list[Finding]:
    findings = []
    for r in gather(con, s).iter_rows(named=True):
        score, subs = score_domain(
            r["subdomains"], r["encoded_share"], r["data_type_share"], r["peak_bytes"], s
        )
        if score < s.min_score:
            continue
        dom = r["registered_domain"]
        reasons = [
            (
                f"{r['subdomains']} distinct subdomains under {dom} in {_hours(r['first_seen'], r['last_seen'])} "
                f"(RITA threshold {s.subdomains_base:g}, full score at {s.subdomains_high:g})."
            ),
        ]
        if r["encoded_share"] > 0:
            reasons.append(
                f"{r['encoded_share']:.0%} of its names carry a label of {s.encoded_label_length:g}+ characters "
                f"with entropy >= {s.encoded_entropy:g} bits/char (longest label {r['avg_longest']:.0f} characters "
                f"and {r['avg_entropy']:.2f} bits/char on average), the shape of encoded data, "
                f"e.g. {sample(r['samples'], 2, total=r['names'])}."
            )
        if r["data_type_share"] > 0:
            counts = r["type_counts"] or {}
            if isinstance(counts, list):  # polars may hand a MAP over as a list of key/value structs
                counts = {kv["key"]: kv["value"] for kv in counts}
            listed = ", ".join(
                f"{t} {n}" for t, n in sorted(counts.items(), key=lambda kv: -kv[1]) if t in DATA_TYPES
            )
            reasons.append(
                f"{r['data_type_share']:.0%} of its {r['queries']} questions ask for record types that "
                f"carry data back ({listed})."
            )
        reasons.append(
            f"Most query-name bytes from one client in one hour: {r['peak_bytes'] / 1000:.1f} kB from "
            f"{r['peak_client']} ({r['peak_hour']:%Y-%m-%d %H:00} UTC; volume score starts at "
            f"{s.bytes_per_hour_base / 1000:g} kB)."
        )
        clients = r["clients"]
        reasons.append(f"Used by {plural(len(clients), 'client')}: {sample(clients)}.")
        owner = r["top_client"] if r["top_client_bytes"] >= s.owner_share * r["total_bytes"] else None
        findings.append(
            Finding(
                kind="tunnel",
                domain=dom,
                client=owner,
                score=score,
                reasons=reasons,
                sub_scores=subs,
                first_seen=r["first_seen"],
                last_seen=r["last_seen"],
                evidence_count=int(r["queries"]),
            )
        )
    return findings
