"""Domain page: one registered domain's timeline, the clients that asked, the names under it, the answers
with their countries and networks, its findings with sub-scores, categories and feed hits, and the
verdict history (with the verdict form). ``?name=`` may also be a full query name."""

from __future__ import annotations

from netsift.baseline.verdicts import verdict_history
from netsift.report import chart_data as data
from netsift.report import charts
from netsift.web.pages import NotFound, Page, required_param


def resolve_domain(store, name: str) -> str:
    name = name.strip().lower().rstrip(".")
    if store.rows("SELECT 1 FROM domain_stats WHERE registered_domain = ?", [name]):
        return name
    row = store.rows("SELECT registered_domain FROM domain_names WHERE query_name = ?", [name])
    if row and row[0][0]:
        return row[0][0]
    if store.rows("SELECT 1 FROM rollup_domain_client WHERE registered_domain = ? LIMIT 1", [name]):
        return name
    raise NotFound(f"no queries for {name!r} in this store")


def domain_data(store, params) -> dict:
    domain = resolve_domain(store, required_param(params, "name"))
    stats = data.dicts(store, "SELECT * FROM domain_stats WHERE registered_domain = ?", [domain])
    has_ip_info = data.has_rows(store, "ip_info")
    bucket = data.bucket_for(store, domain=domain)  # follows this domain's span
    answer_cols = "i.country, i.country_name, i.as_org, i.asn" if has_ip_info else \
        "NULL AS country, NULL AS country_name, NULL AS as_org, NULL AS asn"
    answer_join = "LEFT JOIN ip_info i ON i.ip = a.answer" if has_ip_info else ""
    return {
        "domain": domain,
        "stats": stats[0] if stats else None,
        "bucket": bucket,
        "timeline": data.timeline(store, bucket=bucket, domain=domain),
        "clients": data.dicts(store, "SELECT client, queries, names, first_seen, last_seen FROM rollup_domain_client "
                                     "WHERE registered_domain = ? ORDER BY queries DESC, client LIMIT 100", [domain]),
        "names": [r[0] for r in store.rows("SELECT query_name FROM domain_names WHERE registered_domain = ? "
                                           "ORDER BY query_name LIMIT 200", [domain])],
        "answers": data.dicts(store, f"SELECT a.answer, a.queries, a.first_seen, a.last_seen, {answer_cols} "
                                     f"FROM rollup_domain_answer a {answer_join} WHERE a.registered_domain = ? "
                                     "ORDER BY a.queries DESC, a.answer LIMIT 100", [domain]),
        "findings": [data.finding_row(r) for r in data.dicts(
            store, "SELECT * FROM findings WHERE domain = ? ORDER BY score DESC, kind, client", [domain])],
        "categories": data.dicts(store, "SELECT DISTINCT category, kind, source FROM domain_categories "
                                        "WHERE registered_domain = ? ORDER BY category", [domain])
        if data.has_rows(store, "domain_categories") else [],
        "feed_hits": data.dicts(store, "SELECT DISTINCT feed, kind, family, matched FROM feed_hits "
                                       "WHERE registered_domain = ? ORDER BY feed", [domain])
        if data.has_rows(store, "feed_hits") else [],
        "verdicts": [dict(zip(("entity", "verdict", "note", "who", "ts"), (*r[:4], r[4].isoformat())))
                     for r in verdict_history(store, domain)],
    }


def domain_figures(d: dict) -> dict:
    return {"timeline": charts.timeline_figure(d["timeline"], f"Queries for {d['domain']}", d["bucket"])}


PAGE = Page("/domain", "domain.html.j2", "Domain", domain_data, domain_figures)
