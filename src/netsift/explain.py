"""``netsift explain``: everything behind a finding, a domain or a client — sub-scores, modifiers, the
baseline's view of the domain and the rows the finding rests on; for a client, its story across every
family of logs (``netsift.timeline``: DNS questions, logons from and to it, findings). One dict, shown by the CLI (and usable by
the dashboard)."""

from __future__ import annotations

from typing import Any

from netsift import timeline
from netsift.errors import InputError
from netsift.pipeline import load_findings
from netsift.store import Store

_EVIDENCE_COLUMNS = ("q.ts, q.client, q.query_name, q.query_type, q.response_code, q.answers, "
                     "q.resolver_action, f.path AS file, q.source_line AS line")


def _evidence(store: Store, client: str | None, domain: str | None, max_rows: int) -> tuple[list[dict], int]:
    where, params = [], []
    if client:
        where.append("q.client = ?")
        params.append(client)
    if domain:
        where.append("n.registered_domain = ?")
        params.append(domain)
    if not where:
        return [], 0
    base = (" FROM dns_queries q JOIN domain_names n USING (query_name) "
            "JOIN ingested_files f ON f.file_id = q.source_file_id WHERE " + " AND ".join(where))
    total = int(store.scalar("SELECT count(*)" + base, params) or 0)
    rows = store.frame(f"SELECT {_EVIDENCE_COLUMNS}{base} ORDER BY q.ts LIMIT ?", [*params, max_rows]).to_dicts()
    return rows, total


def explain(store: Store, what: str, *, max_rows: int = 20) -> dict[str, Any]:
    what = what.strip()
    findings = load_findings(store)
    key = what.lower().rstrip(".")
    by_id = [f for f in findings if f.id == key]
    if by_id:
        f = by_id[0]
        evidence, total = _evidence(store, f.client, f.domain, max_rows)
        return {"title": f"finding {f.id}: {f.kind}", "findings": [f.to_dict()], "baseline": _baseline(store, f.domain),
                "evidence": evidence, "evidence_total": total}
    if timeline.has_client(store, what):  # any family: DNS questions, logons from or to it, ...
        evidence, total = _evidence(store, what, None, max_rows)
        return {"title": f"client {what}",
                "findings": [f.to_dict() for f in findings if what in (f.client, f.host)],
                "baseline": None, "evidence": evidence, "evidence_total": total,
                "timeline": timeline.as_json(timeline.client_events(store, what))}
    domain = store.scalar("SELECT registered_domain FROM domain_names WHERE query_name = ? OR registered_domain = ? "
                          "LIMIT 1", [key, key])
    if domain is None:
        raise InputError(f"{what!r} is not a finding id, a client or a domain in this store")
    evidence, total = _evidence(store, None, domain, max_rows)
    return {"title": f"domain {domain}", "findings": [f.to_dict() for f in findings if f.domain == domain],
            "baseline": _baseline(store, domain), "evidence": evidence, "evidence_total": total}


def _baseline(store: Store, domain: str | None) -> dict | None:
    if not domain:
        return None
    rows = store.frame("SELECT * FROM domain_stats WHERE registered_domain = ?", [domain]).to_dicts()
    return rows[0] if rows else None
