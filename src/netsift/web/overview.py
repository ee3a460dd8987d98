"""Overview page: totals, queries over time (zoomable), normal vs not normal, findings by kind and severity,
the resolver's blocked share (linking to /resolver when a log carries block status) and the analysis inputs
the store remembers (top lists, allowlist, settings file, feeds, categories, GeoIP databases: each with its
age and whether the file is still there; see :mod:`netsift.inputs`)."""

from __future__ import annotations

from netsift.report import chart_data as data
from netsift.report import charts, resolver, traffic
from netsift import inputs, logins
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
        "resolver": resolver.totals(store),
        "families": traffic.counts(store),
        "inputs": remembered_inputs(store),
        "logins": logins.counts(store),
    }


def remembered_inputs(store) -> list[dict]:
    """What ``pipeline.overview(store)["inputs"]`` holds, without its scan of dns_queries."""
    return [r.as_dict() for r in inputs.remembered(store)]


def overview_figures(d: dict) -> dict:
    return {
        "timeline": charts.timeline_figure(d["timeline"], bucket=d["bucket"]),
        "normal": charts.normal_figure(d["normal_breakdown"]),
        "findings": charts.findings_figure(d["findings_by_kind"]),
    }


PAGE = Page("/overview", "overview.html.j2", "Overview", overview_data, overview_figures, nav="Overview")
