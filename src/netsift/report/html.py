"""The single-file HTML report (``netsift report``): one page that opens offline in any browser and can be
e-mailed. plotly.js (from the plotly package) and the world outlines are embedded once; nothing is
requested from any host.

Every value that comes from logs is escaped: Jinja2 autoescaping for text, and :func:`charts.figure_json`
for the figure JSON inside ``<script type="application/json">`` elements.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from netsift import __version__, inputs
from netsift.report import chart_data as data
from netsift.report import charts, resolver, traffic
from netsift.report import logins as report_logins
from netsift.report.console import decimals
from netsift.store.rollups import ensure_rollups

TOP_FINDINGS = 50
BUSIEST_CLIENTS = 6


def plotly_js() -> str:
    """plotly.min.js as bundled with the plotly Python package (never fetched)."""
    text = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text("utf-8")
    return text.replace("</script", "<\\/script")  # cannot end the inline element early


def environment(package: str = "netsift.report") -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader(package, "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else (f"{n:,.2f}" if isinstance(n, float) else n)
    env.filters["dec"] = decimals
    env.filters["bytes"] = traffic.human_bytes
    env.filters["pct"] = lambda part, whole: f"{100 * part / whole:.1f} %" if whole else "-"
    env.filters["breakable"] = breakable
    return env


def breakable(name: object) -> Markup:
    """A DNS name that may wrap after its dots, never inside a label (each label and its dot escaped in a
    ``<span>`` that does not wrap, ``<wbr>`` between them; put it in a ``code.name``): a long CDN name
    (``analytics-api-external-alb-222534322.cn-north-1.elb.amazonaws.com.cn``) then fits a narrow table's
    column instead of pushing the numbers beside it out of the card. For tables where names are the long
    column (the resolver's); elsewhere names stay on one line."""
    labels = str(name).split(".")
    parts = [escape(label + ".") for label in labels[:-1]] + [escape(labels[-1])]
    return Markup("<wbr>").join(Markup("<span>%s</span>") % p for p in parts)


def report_context(store) -> dict[str, Any]:
    """Everything the report shows: values (for tables) and figures (as html-safe JSON)."""
    ensure_rollups(store)
    bucket = data.bucket_for(store)
    summary = data.summary(store)
    breakdown = data.normal_breakdown(store)
    busiest = data.client_timelines(store, BUSIEST_CLIENTS, bucket)
    heatmaps = [charts.figure_json(charts.heatmap_figure(data.heatmap(store, c["client"], "day")))
                for c in busiest]
    countries = data.countries(store)
    infra = data.infrastructure(store)
    resolver_panels = resolver.resolver_data(store)
    bandwidth = traffic.bandwidth_data(store)
    logons = report_logins.section(store)
    figures = {
        "logins": report_logins.timeline_figure(logons["timeline"], "Logon events per hour (UTC)"),
        "normal": charts.normal_figure(breakdown),
        "findings": charts.findings_figure(data.findings_by_kind(store)),
        "timeline": charts.timeline_figure(data.timeline(store, bucket=bucket), bucket=bucket),
        "clients": charts.small_multiples_figure(busiest, bucket=bucket),
        "domains": charts.top_domains_figure(data.top_domains(store, True), data.top_domains(store, False)),
        "map": charts.map_figure(countries),
        "graph": charts.graph_figure(infra),
        **resolver.figures(resolver_panels),
        **traffic.figures(bandwidth),
    }
    return {
        "summary": summary,
        "breakdown": breakdown,
        "normal_queries": sum(b["queries"] for b in breakdown if b["normal"]),
        "all_queries": sum(b["queries"] for b in breakdown),
        "findings": [f for f in data.top_findings(store, TOP_FINDINGS) if f["severity"] in QUEUE_SEVERITIES],
        "below_medium": below_medium(store),
        "countries": countries[:15],
        "figures": {k: charts.figure_json(v) for k, v in figures.items()},
        "heatmaps": [h for h in heatmaps if h],
        "has_ip_info": data.has_rows(store, "ip_info"),
        "infra_edges": len(infra["edges"]),
        "resolver": resolver_panels,
        "bandwidth": bandwidth,
        "credentials": traffic.credentials_data(store),
        "families": traffic.counts(store),
        "logins": logons,
        "inputs": [r.as_dict() for r in inputs.remembered(store)],
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "store_path": store.path,
    }


QUEUE_SEVERITIES = ("medium", "high", "critical")  # the findings table shows these; the rest are counted


def below_medium(store) -> int:
    """Findings below medium (info, low): counted under the findings table, listed by the dashboard."""
    return int(store.scalar(f"SELECT count(*) FROM findings WHERE {store.sql.not_in_list('severity')}",
                            [store.sql.list_param(QUEUE_SEVERITIES)]) or 0)


def render_report(store) -> str:
    ctx = report_context(store)
    ctx["plotly_js"] = plotly_js()
    ctx["world_topojson"] = charts.html_safe_json(charts.world_topojson_text())
    return environment().get_template("report.html.j2").render(**ctx)


def write_report(store, path: str | Path) -> Path:
    """Write the self-contained report to ``path`` (atomically) and return it."""
    path = Path(path)
    text = render_report(store)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
