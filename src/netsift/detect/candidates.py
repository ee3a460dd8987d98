"""What new_domain and rare_domain share: judging the *name* of each candidate domain (DGA score, brand
look-alike, phishing vocabulary) and leaving the domains of DGA-looking clients to the dga detector."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from netsift.detect.dga import left_to_dga, score_batch
from netsift.detect.dga_model import load_model
from netsift.detect.lexical import load_brands, name_suspicion, split_label
from netsift.findings import Finding
from netsift.store.base import Store


def judged_names(store: Store, rows: pl.DataFrame,
                 brand_max_rank: int) -> Iterator[tuple[dict[str, Any], float, list[str]]]:
    """(row, name suspicion 0..1, reasons about the name) for each candidate row (columns
    registered_domain, tld, client_list), skipping the domains the dga detector reports."""
    brands = load_brands(store, brand_max_rank)
    model = load_model()
    candidates = list(rows.iter_rows(named=True))
    domains = [r["registered_domain"] for r in candidates]
    dga_scores = {d: scored["score"] for d, scored in zip(domains, score_batch(domains, model), strict=True)}
    dga_hosts = left_to_dga(
        [(r["registered_domain"], r["client_list"], dga_scores[r["registered_domain"]]) for r in candidates]
    )
    for r in candidates:
        dom, tld = r["registered_domain"], r["tld"] or ""
        if dom in dga_hosts:
            continue
        suspicion, reasons = name_suspicion(dom, split_label(dom, tld), tld, dga_scores[dom], brands)
        yield r, suspicion, reasons


def domain_finding(kind: str, row: dict[str, Any], score: float, sub_scores: dict[str, float],
                   reasons: list[str]) -> Finding:
    """The finding for one candidate row (columns registered_domain, client_list, first_seen, last_seen,
    queries): the client is named when only one asked."""
    clients = row["client_list"]
    return Finding(
        kind=kind,
        domain=row["registered_domain"],
        client=clients[0] if len(clients) == 1 else None,
        score=score,
        reasons=reasons,
        sub_scores=sub_scores,
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        evidence_count=int(row["queries"]),
    )
