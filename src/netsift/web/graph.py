"""Graph page: the findings' domains, the addresses they resolved to and the autonomous systems of those
addresses, laid out so that shared infrastructure clusters (see ``report.graph_layout``). Clicking a
domain opens its page."""

from __future__ import annotations

from netsift.report import chart_data as data
from netsift.report import charts
from netsift.web.pages import Page, int_param


def graph_data(store, params) -> dict:
    limit = int_param(params, "limit", 40, 1, 300)
    infra = data.infrastructure(store, limit=limit)
    return {"limit": limit, "enriched": data.has_rows(store, "ip_info"), **infra}


def graph_figures(d: dict) -> dict:
    return {"graph": charts.graph_figure(d, link_prefix="/domain?name=")}


PAGE = Page("/graph", "graph.html.j2", "Infrastructure graph", graph_data, graph_figures, nav="Graph")
