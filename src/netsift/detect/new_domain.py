"""new_domain — a registered domain first seen inside the analysis window, asked for by few clients.

"New" means new *to this network*: first seen (``domain_stats.first_seen``) within the last
``window_hours`` of the data, after at least ``min_history_hours`` of traffic in which nobody asked for it
(so the first day of a capture does not make everything new). Hours of traffic are hours that hold data
(distinct clock hours with at least one question before the hour of the first appearance), not the
wall-clock span: an old log stored years before the rest adds its own hours, not the gap. Domains that never resolved (only NXDOMAIN)
are left to the dga and nxdomain_storm detectors: a phishing or C2 domain that is in use resolves.

Newness and few clients alone give a low score (every new website a user visits is new); the name carries
the rest (:mod:`netsift.detect.lexical`): a brand look-alike, phishing words, hyphens, an abused TLD, a
machine-made label. The prevalence and first-seen modifiers are built in, so they are not applied again.
"""

from __future__ import annotations

from netsift.config import Setting, Settings
from netsift.detect.context import UNEXPLAINED_QUERIES, hours_sql, span_sql
from netsift.detect.candidates import domain_finding, judged_names
from netsift.detect.scoring import plural, ramp, sample
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting(
        "window_hours",
        24,
        "A domain first seen within this many hours of the end of the data is new.",
        1,
        8760,
    ),
    Setting("min_history_hours", 24, "Hours with traffic (at least one question) needed before a domain's first "
            "appearance.", 0, 8760),
    Setting("max_clients", 3, "Most clients a new domain may have been asked by.", 1, 1e6),
    Setting("brand_max_rank", 1000, "Top-sites ranks whose names are brands for look-alike checks.", 10, 1e6),
    Setting(
        "min_score",
        0.4,
        "Findings scoring below this are not reported (a new name alone scores ~0.35).",
        0,
        1,
    ),
)


def score_new(
    history_hours: float, clients: int, suspicion: float, s: Settings
) -> tuple[float, dict[str, float]]:
    """(score, sub_scores): ``history_hours`` of traffic before it appeared, asked by ``clients``,
    name suspicion 0..1."""
    subs = {
        "new": 1.0,
        "history": ramp(history_hours, s.min_history_hours, 7 * 24),
        "few_clients": ramp(s.max_clients + 1 - clients, 1, s.max_clients) if s.max_clients > 1 else 1.0,
        "name": suspicion,
    }
    return 0.2 + 0.1 * subs["few_clients"] + 0.05 * subs["history"] + 0.6 * subs["name"], subs


def gather(store: Store, s: Settings):
    return store.frame(f"""
        WITH bounds AS (SELECT data_start, data_end FROM ({span_sql(store)}) s),
        hours AS ({hours_sql(store)}),
        u AS ({UNEXPLAINED_QUERIES}),
        recent AS (
            SELECT ds.registered_domain, ds.first_seen, ds.clients, ds.queries, ds.nxdomain,
                   (SELECT count(*) FROM hours WHERE h < date_trunc('hour', ds.first_seen)) AS history_hours
            FROM domain_stats ds, bounds b
            WHERE ds.normal_reason IS NULL AND ds.nxdomain < ds.queries AND ds.clients <= ?
              AND ds.first_seen >= b.data_end - to_seconds(CAST(? AS DOUBLE) * 3600)
        ),
        cand AS (SELECT * FROM recent WHERE history_hours >= ?)
        SELECT c.registered_domain, c.first_seen, c.clients, c.queries, c.nxdomain, c.history_hours,
               any_value(u.tld) AS tld,
               list(DISTINCT u.client ORDER BY u.client) AS client_list,
               list(DISTINCT u.query_name ORDER BY u.query_name)[1:4] AS names,
               max(u.ts) AS last_seen, any_value(b.data_start) AS data_start
        FROM cand c JOIN u USING (registered_domain), bounds b
        GROUP BY c.registered_domain, c.first_seen, c.clients, c.queries, c.nxdomain, c.history_hours
        ORDER BY c.registered_domain
        """,
        [s.max_clients, s.window_hours, s.min_history_hours],
    )


def run(store: Store, s: Settings) -> list[Finding]:
    rows = gather(store, s)
    if rows.height == 0:
        return []
    findings = []
    for r, suspicion, name_reasons in judged_names(store, rows, s.brand_max_rank):
        history = int(r["history_hours"])
        score, subs = score_new(history, r["clients"], suspicion, s)
        if score < s.min_score:
            continue
        clients = r["client_list"]
        reasons = name_reasons + [
            (
                f"First seen on this network at {r['first_seen']:%Y-%m-%d %H:%M} UTC, after {history:,} hours with "
                f"traffic in which nobody asked for it (new = within the last {s.window_hours:g} h)."
            ),
            (
                f"Asked for by {plural(len(clients), 'client')} ({sample(clients)}), {plural(r['queries'], 'question')}"
                f"; names: {sample(r['names'], 3)}."
            ),
        ]
        findings.append(domain_finding("new_domain", r, score, subs, reasons))
    return findings
