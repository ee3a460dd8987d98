"""What is left once normal is explained away: one ``unexplained_domain`` finding per registered domain
without a normal reason, scored by rarity, newness and NXDOMAIN share, with the reasons it was not
explained. Scores stay below 0.5 with the default weights: being unexplained is a lead, not a detection
(detectors score higher). Its settings are part of the ``[baseline]`` section (:data:`SETTINGS`);
:data:`PRODUCER` registers it (stage ``baseline``).
"""

from __future__ import annotations

import ipaddress

from netsift.config import Setting, Settings
from netsift.detect import dga
from netsift.detect.context import data_span, pairs_sql
from netsift.findings import Finding, Producer
from netsift.store import Store
from netsift.store.window import window_start

SETTINGS = (
    Setting("unexplained_base_score", 0.1, "Score every unexplained domain starts from.", 0, 1),
    Setting("unexplained_rarity_weight", 0.2, "Added times the rarity sub-score (1: one client, 0: a "
            "common domain).", 0, 1),
    Setting("unexplained_common_share", 0.5, "Share of the network's clients at which an unexplained domain's "
            "rarity sub-score reaches 0.", 0.01, 1),
    Setting("unexplained_new_weight", 0.1, "Added when the domain was first seen after the data's first day.",
            0, 1),
    Setting("unexplained_new_after_hours", 24, "Hours after the data began past which a domain first seen "
            "counts as new.", 0, 87600),
    Setting("unexplained_nxdomain_weight", 0.08, "Added times the domain's share of NXDOMAIN answers.", 0, 1),
    Setting("group_min", 3, "Unexplained domains sharing a platform suffix or an answer network before they are "
            "shown as one group.", 2, 100000),
)
_DEFAULTS = Settings(SETTINGS)


def unexplained_score(clients: int, total_clients: int, is_new: bool, nx_share: float,
                      s: Settings = _DEFAULTS) -> tuple[float, dict]:
    rarity = 1.0 - min(1.0, clients / max(1.0, total_clients * s.unexplained_common_share))
    sub = {"rarity": rarity, "new": 1.0 if is_new else 0.0, "nxdomain_share": nx_share}
    score = s.unexplained_base_score + s.unexplained_rarity_weight * rarity + s.unexplained_new_weight * sub["new"] \
        + s.unexplained_nxdomain_weight * nx_share
    return score, sub


def unexplained_findings(store: Store, settings: Settings) -> list[Finding]:
    """One ``unexplained_domain`` finding per registered domain without a normal reason; ``settings``: the
    ``[baseline]`` section (:data:`baseline.SETTINGS` and :data:`SETTINGS`)."""
    span = data_span(store)
    total_clients, data_start = span.clients, span.start
    if data_start is None:
        return []
    since = window_start(store)  # an incremental run: the domains asked for within its window
    rows = store.rows(
        "SELECT registered_domain, queries, clients, names, nxdomain, first_seen, last_seen, top_rank "
        "FROM domain_stats WHERE normal_reason IS NULL" + (" AND last_seen >= ?" if since else ""),
        [since] if since else None,
    )
    findings = []
    for domain, queries, clients, names, nx, first, last, rank in rows:
        is_new = (first - data_start).total_seconds() > settings.unexplained_new_after_hours * 3600
        nx_share = nx / queries if queries else 0.0
        score, sub = unexplained_score(clients, total_clients, is_new, nx_share, settings)
        reasons = [
            f"not in the top-sites lists within rank {settings.top_rank_max:,}"
            + (f" (its rank is {rank:,})" if rank else ""),
            f"asked by {clients} of {total_clients} clients ({100 * clients / max(1, total_clients):.1f} %), "
            f"{queries:,} {'query' if queries == 1 else 'queries'} for {names:,} {'name' if names == 1 else 'names'}",
        ]
        if is_new:
            reasons.append(f"first seen {first:%Y-%m-%d %H:%M} UTC, after the data began ({data_start:%Y-%m-%d})")
        if nx:
            reasons.append(f"{nx_share:.0%} of its queries were answered NXDOMAIN")
        reasons.append("no allowlist entry or benign verdict")
        findings.append(Finding(kind="unexplained_domain", score=score, reasons=reasons, domain=domain,
                                sub_scores=sub, first_seen=first, last_seen=last, evidence_count=queries))
    return findings


PRODUCER = Producer(
    "unexplained_domain", "baseline",
    "A registered domain nothing explains as normal: a lead scored by rarity, newness and NXDOMAIN share.",
    SETTINGS, unexplained_findings, section="baseline", leftover=True,
    window_hours=24,  # reads domain_stats (kept whole in an incremental run), not the rows
)
GROUP_MIN = int(_DEFAULTS.group_min)  # the default of ``[baseline] group_min``


# --- names that belong to a finding, and groups of what is left --------------------------------------

def fold_into_findings(store: Store, detected: list[Finding], leftovers: list[Finding],
                       rules: dict[str, tuple[str, dict | None]]) -> list[Finding]:
    """Fold leftovers into the client-level finding whose evidence they are, and return the leftovers that
    stay rows of their own. ``rules``: kind -> (fold rule, its producer's settings overrides) for the
    producers that fold names (:attr:`Producer.folds_names`). A registered domain is folded when every
    client that asked for it has a finding it belongs to: under ``generated_or_nxdomain`` (dga) when its
    name scores as generated (``[dga] threshold``) or the client only ever got NXDOMAIN for it; under
    ``nxdomain_in_span`` (nxdomain_storm) when the client only got NXDOMAIN for it within the finding's
    time span. The finding lists them in ``names`` (and says so in a reason)."""
    owners = [f for f in detected if f.kind in rules and f.client and not f.domain]
    if not owners or not leftovers:
        return leftovers
    by_domain = {f.domain: f for f in leftovers if f.domain}
    pairs = store.rows(
        f"SELECT client, registered_domain, only_nx, first_seen, last_seen FROM ({pairs_sql(store)}) p "
        f"WHERE {store.sql.in_list('registered_domain')}", [store.sql.list_param(sorted(by_domain))])
    askers: dict[str, list[tuple]] = {}
    for client, domain, only_nx, first, last in pairs:
        askers.setdefault(domain, []).append((client, bool(only_nx), first, last))
    by_client: dict[str, list[Finding]] = {}
    for f in owners:
        if f.client:
            by_client.setdefault(f.client, []).append(f)
    generating = {kind: overrides for kind, (rule, overrides) in rules.items() if rule == "generated_or_nxdomain"}
    generated_by: dict[str, set[str]] = {}
    for kind, overrides in generating.items():
        clients = {f.client for f in owners if f.kind == kind}
        generated_by[kind] = _generated(
            sorted(d for d, rows in askers.items() if any(c in clients for c, *_ in rows)), overrides)
    folded: dict[str, set[str]] = {}  # finding id -> domains
    kept = []
    for leftover in leftovers:
        domain = leftover.domain
        homes: list[Finding] = []
        for client, only_nx, first, last in askers.get(domain or "", []):
            mine = [f for f in by_client.get(client, []) if domain and _belongs(
                f, rules[f.kind][0], domain, only_nx, first, last, generated_by.get(f.kind, set()))]
            if not mine:
                homes = []
                break
            homes += mine
        if not homes:
            kept.append(leftover)
            continue
        for f in homes:
            folded.setdefault(f.id, set()).add(domain or "")
    for f in owners:
        names = sorted(folded.get(f.id, set()) | set(f.names))
        if names and len(names) > len(f.names):
            f.names = names
            # one such reason (an incremental run folds more names into a finding it carries)
            f.reasons = [r for r in f.reasons if not r.endswith(_FOLDED)]
            f.reasons.append(f"{len(names):,} registered domains it asked for are listed with this finding "
                             f"{_FOLDED}")
    return kept


_FOLDED = "(names), not as unexplained_domain rows of their own"


def _belongs(f: Finding, rule: str, domain: str, only_nx: bool, first, last, generated: set[str]) -> bool:
    if rule == "generated_or_nxdomain":
        return domain in generated or only_nx
    if rule == "nxdomain_in_span":
        return only_nx and (f.first_seen is None or last >= f.first_seen) and \
            (f.last_seen is None or first <= f.last_seen)
    return False


def _generated(domains: list[str], overrides: dict | None) -> set[str]:
    """The registered domains whose name the dga model scores as generated."""
    if not domains:
        return set()
    s = Settings(dga.SETTINGS, overrides or {})
    return {d for d, o in zip(domains, dga.score_batch(domains, None, s)) if o["score"] >= s.threshold}


def group_leftovers(store: Store, findings: list[Finding], kinds: set[str] | None = None,
                    group_min: int = GROUP_MIN) -> None:
    """Set ``group`` on the leftover findings (``kinds``, default ``unexplained_domain``) that share a hosting platform's suffix (customer
    names of one platform: ``a.duckdns.org``, ``b.duckdns.org``: ``platform:duckdns.org``) or, failing
    that, the network most of their answers point to (an IPv4 /24 or IPv6 /48: ``network:203.0.113.0/24``),
    when at least ``group_min`` (``[baseline] group_min``) of them do. The queue and the report show each
    group as one row."""
    kinds = kinds if kinds is not None else {PRODUCER.kind}
    rows = [f for f in findings if f.kind in kinds and f.domain]
    if len(rows) < group_min:
        return
    domains = sorted({f.domain for f in rows if f.domain})
    suffixes = dict(store.rows(
        f"SELECT registered_domain, any_value(tld) FROM domain_names WHERE {store.sql.in_list('registered_domain')} "
        "GROUP BY ALL", [store.sql.list_param(domains)]))
    platform = {d: f"platform:{s}" for d, s in suffixes.items() if s and is_platform_suffix(s)}
    answers = store.rows(
        f"SELECT d.registered_domain, a.ip, count(*) AS n FROM (SELECT query_name, {store.sql.unnest('answers')} AS ip "
        f"FROM dns_queries WHERE {store.sql.list_len('answers')} > 0) a JOIN domain_names d USING (query_name) "
        f"WHERE {store.sql.in_list('d.registered_domain')} GROUP BY ALL", [store.sql.list_param(domains)])
    weight: dict[str, dict[str, int]] = {}
    for domain, ip, n in answers:
        prefix = network_of(ip)
        if prefix:
            per = weight.setdefault(domain, {})
            per[prefix] = per.get(prefix, 0) + n
    network = {d: "network:" + max(per.items(), key=lambda kv: (kv[1], kv[0]))[0] for d, per in weight.items()}
    counts: dict[str, int] = {}
    for d in domains:
        if d in platform:
            counts[platform[d]] = counts.get(platform[d], 0) + 1
    for d in domains:
        if counts.get(platform.get(d, ""), 0) < group_min and d in network:
            counts[network[d]] = counts.get(network[d], 0) + 1
    for f in rows:
        key = platform.get(f.domain or "")
        if counts.get(key or "", 0) < group_min:
            key = network.get(f.domain or "")
        if key and counts.get(key, 0) >= group_min:
            f.group = key
            what = "hosting platform" if key.startswith("platform:") else "answer network"
            f.reasons.append(f"shares the {what} {key.split(':', 1)[1]} with {counts[key] - 1:,} other "
                             "unexplained domains (shown as one group)")


def network_of(ip: str) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) of a public address; None for names, private and invalid addresses."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if not addr.is_global:
        return None
    return str(ipaddress.ip_network(f"{ip}/{24 if addr.version == 4 else 48}", strict=False))


_ICANN_ONLY = None


def is_platform_suffix(suffix: str) -> bool:
    """Whether a public suffix comes from the PSL's private section (a hosting platform: duckdns.org,
    github.io, cloudfront.net), not from a registry (com, co.uk)."""
    global _ICANN_ONLY
    if "." not in suffix:
        return False
    if _ICANN_ONLY is None:
        import tldextract  # deferred: it imports requests (~60 ms), which only grouping leftovers needs

        _ICANN_ONLY = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)
    return _ICANN_ONLY(f"x.{suffix}").suffix != suffix
