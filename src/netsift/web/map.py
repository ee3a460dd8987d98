"""Map page: countries where DNS answers point (choropleth drawn from the outlines shipped in the
package), with the countries that host flagged domains outlined. Empty until IP enrichment."""

from __future__ import annotations

from netsift.report import chart_data as data
from netsift.report import charts
from netsift.web.pages import Page


def map_data(store, params) -> dict:
    return {"enriched": data.has_rows(store, "ip_info"), "countries": data.countries(store)}


def map_figures(d: dict) -> dict:
    return {"map": charts.map_figure(d["countries"])}


PAGE = Page("/map", "map.html.j2", "Map", map_data, map_figures, nav="Map")
