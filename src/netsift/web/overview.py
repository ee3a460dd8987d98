"""Overview page: totals, queries over time (zoomable), normal vs not normal, findings by kind and severity."""

from __future__ import annotations

from netsift.report import chart_data as data
from netsift.report import charts
from netsift.web.pages import Page


def overview_data(store, params) -> dict:
    bucket = data.bucket_for(store)
    breakdown = data.normal_breakdown(store)
    return {
        "summary": data.summary(store),
        "bucket": bucket,
        "timeline": data.timeline(store, bucket=bucket),
        "normal_breakdown": breakdown,
        "findings_by_kind": data.findings_by_kind(store),
        "top_findings": data.top_findings(store, 10),
    }


def overview_figures(d: dict) -> dict:
    return {
        "timeline": charts.timeline_figure(d["timeline"]),
        "normal": charts.normal_figure(d["normal_breakdown"]),
        "findings": charts.findings_figure(d["findings_by_kind"]),
    }


PAGE = Page("/overview", "overview.html.j2", "Overview", overview_data, overview_figures, nav="Overview")
