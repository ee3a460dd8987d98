"""What is left once normal is explained away: one ``unexplained_domain`` finding per registered domain
without a normal reason, scored by rarity, newness and NXDOMAIN share, with the reasons it was not
explained. Scores stay below 0.5: being unexplained is a lead, not a detection (detectors score higher).
"""

from __future__ import annotations

from netsift.config import Settings
from netsift.findings import Finding
from netsift.store import DuckDBStore


def unexplained_score(clients: int, total_clients: int, is_new: bool, nx_share: float) -> tuple[float, dict]:
    rarity = 1.0 - min(1.0, clients / max(1.0, total_clients * 0.5))
    sub = {"rarity": rarity, "new": 1.0 if is_new else 0.0, "nxdomain_share": nx_share}
    score = 0.1 + 0.2 * rarity + 0.1 * sub["new"] + 0.08 * nx_share
    return score, sub


def unexplained_findings(store: DuckDBStore, settings: Settings) -> list[Finding]:
    total_clients = int(store.scalar("SELECT count(DISTINCT client) FROM dns_queries") or 0)
    data_start = store.scalar("SELECT min(ts) FROM dns_queries")
    if data_start is None:
        return []
    rows = store.rows(
        "SELECT registered_domain, queries, clients, names, nxdomain, first_seen, last_seen, top_rank "
        "FROM domain_stats WHERE normal_reason IS NULL"
    )
    findings = []
    for domain, queries, clients, names, nx, first, last, rank in rows:
        is_new = (first - data_start).total_seconds() > 86400
        nx_share = nx / queries if queries else 0.0
        score, sub = unexplained_score(clients, total_clients, is_new, nx_share)
        reasons = [
            f"not in the top-sites lists within rank {settings.top_rank_max:,}"
            + (f" (its rank is {rank:,})" if rank else ""),
            f"asked by {clients} of {total_clients} clients ({100 * clients / max(1, total_clients):.1f} %), "
            f"{queries:,} queries for {names:,} names",
        ]
        if is_new:
            reasons.append(f"first seen {first:%Y-%m-%d %H:%M} UTC, after the data began ({data_start:%Y-%m-%d})")
        if nx:
            reasons.append(f"{nx_share:.0%} of its queries were answered NXDOMAIN")
        reasons.append("no allowlist entry or benign verdict")
        findings.append(Finding(kind="unexplained_domain", score=score, reasons=reasons, domain=domain,
                                sub_scores=sub, first_seen=first, last_seen=last, evidence_count=queries))
    return findings
