"""Category tree: category kind -> category -> registered domain, as a sunburst that drills down to the
domains, and a table. Empty until enrichment has categorised names (``domain_categories``)."""

from __future__ import annotations

from netsift.report import chart_data as data
from netsift.report import charts
from netsift.web.pages import Page


def categories_data(store, params) -> dict:
    rows = data.categories(store)
    totals: dict[tuple[str, str], dict] = {}
    for r in rows:
        t = totals.setdefault((r["kind"], r["category"]), {"kind": r["kind"], "category": r["category"],
                                                           "domains": 0, "queries": 0})
        t["domains"] += 1
        t["queries"] += int(r["queries"])
    return {"categories": sorted(totals.values(), key=lambda t: -t["queries"]), "domains": rows}


def categories_figures(d: dict) -> dict:
    return {"sunburst": charts.sunburst_figure(d["domains"])}


PAGE = Page("/categories", "categories.html.j2", "Categories", categories_data, categories_figures,
            nav="Categories")
