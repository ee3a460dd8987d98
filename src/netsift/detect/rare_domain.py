"""rare_domain — an unexplained registered domain that only one or two clients ever ask for, over days.

The long tail of any network is rare, so rarity alone scores low. What raises a rare domain: being asked
by a single client, persistence (asked on several days: a quiet channel rather than a one-off visit), and
its name (:mod:`netsift.detect.lexical`: brand look-alike, phishing words, abused TLD, machine-made label).
Domains first seen inside the last ``window_hours`` are left to new_domain; domains that never resolved
are left to dga and nxdomain_storm. Prevalence is built into the score, so that modifier is not applied
again.
"""

from __future__ import annotations

from netsift.config import Setting, Settings
from netsift.detect.context import UNEXPLAINED_QUERIES
from netsift.detect.candidates import domain_finding, judged_names
from netsift.detect.scoring import plural, ramp, sample
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting("max_clients", 2, "Most clients a rare domain may have been asked by.", 1, 1e6),
    Setting("max_share", 0.02, "...or the most share of the network's clients (whichever is larger).", 0, 1),
    Setting(
        "window_hours", 24, "Domains first seen this close to the end of the data are new_domain's.", 0, 8760
    ),
    Setting("persistent_days", 5, "Days with questions for a full persistence sub-score.", 1, 365),
    Setting("brand_max_rank", 1000, "Top-sites ranks whose names are brands for look-alike checks.", 10, 1e6),
    Setting(
        "min_score",
        0.45,
        "Findings scoring below this are not reported (rarity and persistence alone score 0.4).",
        0,
        1,
    ),
)


def score_rare(
    clients: int, active_days: int, suspicion: float, s: Settings
) -> tuple[float, dict[str, float]]:
    """(score, sub_scores) of a rare domain asked by ``clients`` on ``active_days`` distinct days."""
    subs = {
        "single_client": 1.0 if clients == 1 else 0.0,
        "persistence": ramp(active_days, 1, s.persistent_days),
        "name": suspicion,
    }
    score = 0.15 + 0.1 * subs["single_client"] + 0.15 * subs["persistence"] + 0.55 * subs["name"]
    return score, subs


def gather(store: Store, s: Settings):
    return store.frame(f"""
        WITH bounds AS (SELECT max(ts) AS data_end, count(DISTINCT client) AS total_clients FROM dns_queries),
        u AS ({UNEXPLAINED_QUERIES}),
        cand AS (
            SELECT ds.registered_domain, ds.first_seen, ds.last_seen, ds.clients, ds.queries
            FROM domain_stats ds, bounds b
            WHERE ds.normal_reason IS NULL AND ds.nxdomain < ds.queries
              AND ds.clients <= greatest(?, floor(? * b.total_clients))
              AND ds.first_seen < b.data_end - to_seconds(CAST(? AS DOUBLE) * 3600)
        )
        SELECT c.registered_domain, c.first_seen, c.last_seen, c.clients, c.queries, any_value(u.tld) AS tld,
               count(DISTINCT date_trunc('day', u.ts)) AS active_days,
               list(DISTINCT u.client ORDER BY u.client) AS client_list,
               list(DISTINCT u.query_name ORDER BY u.query_name)[1:4] AS names,
               any_value(b.total_clients) AS total_clients
        FROM cand c JOIN u USING (registered_domain), bounds b
        GROUP BY c.registered_domain, c.first_seen, c.last_seen, c.clients, c.queries
        ORDER BY c.registered_domain
        """,
        [s.max_clients, s.max_share, s.window_hours],
    )


def run(store: Store, s: Settings) -> list[Finding]:
    rows = gather(store, s)
    if rows.height == 0:
        return []
    findings = []
    for r, suspicion, name_reasons in judged_names(store, rows, s.brand_max_rank):
        score, subs = score_rare(r["clients"], r["active_days"], suspicion, s)
        if score < s.min_score:
            continue
        clients = r["client_list"]
        reasons = name_reasons + [
            (
                f"Rare: asked for by {plural(len(clients), 'client')} of {r['total_clients']} "
                f"({sample(clients)}), {plural(r['queries'], 'question')} on {plural(r['active_days'], 'day')} "
                f"between {r['first_seen']:%Y-%m-%d} and {r['last_seen']:%Y-%m-%d}; names: {sample(r['names'], 3)}."
            ),
        ]
        findings.append(domain_finding("rare_domain", r, score, subs, reasons))
    return findings
