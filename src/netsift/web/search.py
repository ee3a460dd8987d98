"""Search by domain, query name, client or IP address (the box on every page). Substring matches on
registered domains, query names and clients; exact or prefix matches on answer addresses."""

from __future__ import annotations

from netsift.report import chart_data as data
from netsift.web.pages import Page

LIMIT = 25


def search_data(store, params) -> dict:
    q = (params.get("q") or "").strip().lower()
    if not q:
        return {"q": "", "domains": [], "names": [], "clients": [], "ips": []}
    return {
        "q": q,
        "domains": data.dicts(store, "SELECT registered_domain AS domain, queries, clients, normal_reason "
                                     "FROM domain_stats WHERE contains(registered_domain, ?) "
                                     "ORDER BY registered_domain <> ?, queries DESC LIMIT ?", [q, q, LIMIT]),
        "names": data.dicts(store, "SELECT query_name AS name, registered_domain AS domain FROM domain_names "
                                   "WHERE contains(query_name, ?) ORDER BY query_name <> ?, query_name LIMIT ?",
                            [q, q, LIMIT]),
        "clients": data.dicts(store, "SELECT client, sum(queries) AS queries FROM rollup_client_hour "
                                     "WHERE contains(lower(client), ?) GROUP BY client "
                                     "ORDER BY lower(client) <> ?, queries DESC LIMIT ?", [q, q, LIMIT]),
        "ips": data.dicts(store, "SELECT answer AS ip, registered_domain AS domain, queries FROM rollup_domain_answer "
                                 "WHERE starts_with(answer, ?) ORDER BY answer <> ?, queries DESC LIMIT ?",
                          [q, q, LIMIT]),
    }


PAGE = Page("/search", "search.html.j2", "Search", search_data)
