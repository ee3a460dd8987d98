"""nxdomain_storm — a client whose questions suddenly fail: a flood of NXDOMAIN answers in one hour.

Per client, per hour, NXDOMAIN answers for unexplained names (reverse lookups, ``.local``, search-suffix
junk such as ``www.google.com.corp.lan`` and names the baseline explains are never counted — so a
scanner's reverse-lookup misses or a laptop's search-domain junk stay quiet). The client's worst hour is
compared with an absolute floor, with the client's own typical hour and with the network's typical
client. When one registered domain takes most of the storm (a random-subdomain attack, a dead C2 or a
broken updater), the finding names it.
"""

from __future__ import annotations

from netsift.config import Setting, Settings
from netsift.detect.context import UNEXPLAINED_QUERIES
from netsift.detect.scoring import MIN_SCORE, log_ramp, plural, sample
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting("min_nxdomain", 30, "NXDOMAIN answers in one hour where a storm starts.", 1, 1e7),
    Setting("high_nxdomain", 500, "NXDOMAIN answers in one hour for a full volume sub-score.", 2, 1e8),
    Setting(
        "surge_factor",
        3,
        "Peak hour over the client's typical hour where the surge sub-score starts.",
        1,
        1000,
    ),
    Setting("domain_share", 0.8, "Share of the peak hour one registered domain needs to be named.", 0.5, 1),
    MIN_SCORE,
)


def score_storm(
    peak_nx: int, peak_names: int, typical_nx: float, network_typical: float, s: Settings
) -> tuple[float, dict[str, float]]:
    """(score, sub_scores) of a client whose worst hour had ``peak_nx`` NXDOMAIN answers for
    ``peak_names`` distinct names; ``typical_nx``: its mean NXDOMAIN answers in its other active hours;
    ``network_typical``: the median over clients of their worst hour."""
    if peak_nx < s.min_nxdomain:
        return 0.0, {}
    subs = {
        "volume": log_ramp(peak_nx, s.min_nxdomain / 2, s.high_nxdomain),
        "surge": log_ramp(peak_nx / (typical_nx + 1), s.surge_factor, 10 * s.surge_factor),
        "outlier": log_ramp(peak_nx / (network_typical + 1), s.surge_factor, 10 * s.surge_factor),
        "distinct_names": peak_names / peak_nx if peak_nx else 0.0,
    }
    score = 0.2 + 0.8 * subs["volume"] * (
        0.5 + 0.2 * subs["surge"] + 0.2 * subs["outlier"] + 0.1 * subs["distinct_names"]
    )
    return score, subs


def gather(store: Store, s: Settings):
    return store.frame(f"""
        WITH u AS ({UNEXPLAINED_QUERIES}),
        nx AS (
            SELECT client, date_trunc('hour', ts) AS hour, registered_domain, count(*) AS n,
                   count(DISTINCT query_name) AS names, list(DISTINCT query_name ORDER BY query_name)[1:3] AS samples,
                   min(ts) AS first_seen, max(ts) AS last_seen
            FROM u WHERE response_code = 'NXDOMAIN' AND client IS NOT NULL
            GROUP BY ALL
        ),
        hourly AS (
            SELECT client, hour, sum(n)::BIGINT AS nx, sum(names)::BIGINT AS names, count(*) AS domains,
                   arg_max(registered_domain, n) AS top_domain, max(n) AS top_n,
                   flatten(list(samples ORDER BY n DESC, registered_domain))[1:5] AS samples,
                   min(first_seen) AS first_seen, max(last_seen) AS last_seen
            FROM nx GROUP BY client, hour
        ),
        active AS (
            SELECT client, count(DISTINCT date_trunc('hour', ts)) AS active_hours FROM dns_queries
            WHERE client IN (SELECT client FROM hourly WHERE nx >= ?) GROUP BY client
        ),
        per_client AS (
            SELECT client, arg_max(hour, nx) AS peak_hour, max(nx) AS peak_nx, arg_max(names, nx) AS peak_names,
                   arg_max(domains, nx) AS peak_domains, arg_max(top_domain, nx) AS top_domain,
                   arg_max(top_n, nx) AS top_n, arg_max(samples, nx) AS samples, sum(nx)::BIGINT AS total_nx,
                   arg_max(first_seen, nx) AS first_seen, arg_max(last_seen, nx) AS last_seen
            FROM hourly GROUP BY client
        )
        SELECT p.*, a.active_hours,
               (SELECT median(coalesce(pc.peak_nx, 0)) FROM (SELECT DISTINCT client FROM dns_queries) c
                LEFT JOIN per_client pc USING (client)) AS network_typical
        FROM per_client p JOIN active a USING (client)
        WHERE p.peak_nx >= ?
        ORDER BY client
        """,
        [s.min_nxdomain, s.min_nxdomain],
    )


def run(store: Store, s: Settings) -> list[Finding]:
    findings = []
    for r in gather(store, s).iter_rows(named=True):
        other_hours = max(r["active_hours"] - 1, 1)
        typical = (r["total_nx"] - r["peak_nx"]) / other_hours
        score, subs = score_storm(r["peak_nx"], r["peak_names"], typical, r["network_typical"] or 0.0, s)
        if score < s.min_score:
            continue
        domain = r["top_domain"] if r["top_n"] >= s.domain_share * r["peak_nx"] else None
        reasons = [
            (
                f"{r['peak_nx']} NXDOMAIN answers in one hour ({r['peak_hour']:%Y-%m-%d %H:00} UTC) for "
                f"{plural(r['peak_names'], 'distinct name')} under {plural(r['peak_domains'], 'registered domain')} "
                f"(storm threshold {s.min_nxdomain:g} per hour), e.g. {sample(r['samples'], 3)}."
            ),
            (
                f"Its other {plural(other_hours, 'active hour')} average {typical:.1f} NXDOMAIN answers; the "
                f"network's typical client peaks at {r['network_typical'] or 0:.0f}."
            ),
        ]
        if domain:
            reasons.append(
                f"{r['top_n'] / r['peak_nx']:.0%} of the storm is under {domain}: a random-subdomain "
                "flood, a dead command-and-control domain or a broken updater."
            )
        findings.append(
            Finding(
                kind="nxdomain_storm",
                client=r["client"],
                domain=domain,
                score=score,
                reasons=reasons,
                sub_scores=subs,
                first_seen=r["first_seen"],
                last_seen=r["last_seen"],
                evidence_count=int(r["peak_nx"]),
            )
        )
    return findings
