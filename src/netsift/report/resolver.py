"""The resolver's panels, as Pi-hole's own dashboard shows them: questions blocked vs allowed over time, top
blocked and top allowed names, top clients, query types, upstream servers and what the resolver did.

Only logs that carry block status have them (Pi-hole, Pi-hole JSON, a BIND/Infoblox log with RPZ hits,
Umbrella, a CSV with an action column): every value here reads the ``rollup_resolver_*`` tables
(:mod:`netsift.store.rollups`), which hold the questions of those files only, so a page costs a few small
aggregates whatever the store's size. ``blocked`` means ``resolver_action`` is ``blocked:<list>``; the
upstream is what follows ``forwarded:`` (the Pi-hole parser keeps the server a ``forwarded`` line names).

:func:`resolver_data` returns plain JSON-able values (the dashboard's ``/resolver.json`` returns exactly
these); the figure builders escape every name from a log with :func:`charts.label`.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from netsift.report import charts
from netsift.report.chart_data import dicts, fill_zeros, has_rows

BLOCKED_COLOUR, ALLOWED_COLOUR = "#e8590c", "#2b8a3e"
TOP = 15
# (name, seconds, DuckDB interval): the rollup is per hour, so no bucket is shorter
BUCKETS = (("hour", 3600, "1 hour"), ("6 h", 6 * 3600, "6 hours"), ("day", 86400, "1 day"),
           ("week", 7 * 86400, "7 days"))
MAX_POINTS = 400  # the smallest bucket that cuts the span into at most this many
NO_UPSTREAM = "(not named in the log)"


def available(store) -> bool:
    """True when some ingested log carries block status (the rollups hold its questions)."""
    return has_rows(store, "rollup_resolver_hour")


def totals(store) -> dict[str, Any] | None:
    """Questions, blocked questions, their share and clients; None without block status."""
    if not available(store):
        return None
    queries, blocked = store.rows("SELECT coalesce(sum(queries), 0), coalesce(sum(queries) FILTER (WHERE blocked), 0) "
                                  "FROM rollup_resolver_hour")[0]
    clients = store.rows("SELECT count(*) FROM rollup_resolver_client")[0][0]
    return {"queries": int(queries), "blocked": int(blocked), "allowed": int(queries - blocked),
            "blocked_share": round(blocked / queries, 4) if queries else 0.0, "clients": int(clients)}


def resolver_data(store, limit: int = TOP) -> dict[str, Any]:
    """Everything the resolver panels show; ``{"available": False}`` when no log carries block status."""
    total = totals(store)
    if total is None:
        return {"available": False}
    bucket = _bucket(store)
    return {
        "available": True,
        "totals": total,
        "bucket": bucket,
        "timeline": timeline(store, bucket),
        "top_blocked": _top_names(store, True, limit),
        "top_allowed": _top_names(store, False, limit),
        "top_clients": dicts(store, "SELECT client, queries, blocked, last_seen FROM rollup_resolver_client "
                                    "ORDER BY queries DESC, client LIMIT ?", [limit]),
        "query_types": dicts(store, """
            SELECT coalesce(query_type, '?') AS query_type, sum(queries) AS queries,
                   coalesce(sum(queries) FILTER (WHERE blocked), 0) AS blocked
            FROM rollup_resolver_hour GROUP BY ALL ORDER BY queries DESC, query_type"""),
        "upstreams": dicts(store, f"""
            SELECT CASE WHEN starts_with(resolver_action, 'forwarded:') THEN substr(resolver_action, 11)
                        ELSE '{NO_UPSTREAM}' END AS upstream, sum(queries) AS queries
            FROM rollup_resolver_hour WHERE resolver_action = 'forwarded' OR starts_with(resolver_action, 'forwarded:')
            GROUP BY ALL ORDER BY queries DESC, upstream"""),
        "actions": dicts(store, """
            SELECT coalesce(CASE WHEN starts_with(resolver_action, 'forwarded:') THEN 'forwarded'
                                 ELSE resolver_action END, 'not stated') AS action,
                   blocked, sum(queries) AS queries
            FROM rollup_resolver_hour GROUP BY ALL ORDER BY queries DESC, action"""),
    }


def _top_names(store, blocked: bool, limit: int) -> list[dict]:
    return dicts(store, "SELECT query_name AS domain, queries, clients, last_seen FROM rollup_resolver_name "
                        "WHERE blocked = ? ORDER BY queries DESC, query_name LIMIT ?", [blocked, limit])


def _bucket(store) -> str:
    start, end = store.rows("SELECT min(hour), max(hour) FROM rollup_resolver_hour")[0]
    span = (end - start).total_seconds() if start is not None else 0
    for name, seconds, _ in BUCKETS:
        if span / seconds <= MAX_POINTS:
            return name
    return BUCKETS[-1][0]


def timeline(store, bucket: str = "hour") -> list[dict]:
    """Blocked and allowed questions per bucket, empty buckets as zeros (and one either side, so a single
    bucket still draws)."""
    interval = next(i for n, _, i in BUCKETS if n == bucket)
    rows = {t: (int(b), int(a)) for t, b, a in store.rows(f"""
        SELECT time_bucket(INTERVAL '{interval}', hour) AS t, coalesce(sum(queries) FILTER (WHERE blocked), 0),
               coalesce(sum(queries) FILTER (WHERE NOT blocked), 0)
        FROM rollup_resolver_hour GROUP BY ALL ORDER BY t""")}
    return [{"t": t.isoformat(), "blocked": b, "allowed": a}
            for t, (b, a) in fill_zeros(rows, bucket, (0, 0)).items()]


# --- figures ----------------------------------------------------------------------------------------------


def timeline_figure(series: list[dict], bucket: str = "hour",
                    title: str = "Queries blocked vs allowed") -> go.Figure | None:
    if not series:
        return None
    width = next(s for n, s, _ in BUCKETS if n == bucket) * 1000.0
    x = [p["t"] for p in series]
    fig = go.Figure([
        go.Bar(x=x, y=[p["allowed"] for p in series], name="allowed", marker_color=ALLOWED_COLOUR, width=width,
               offset=0, hovertemplate="%{x}<br>allowed: %{y:,}<extra></extra>"),
        go.Bar(x=x, y=[p["blocked"] for p in series], name="blocked", marker_color=BLOCKED_COLOUR, width=width,
               offset=0, hovertemplate="%{x}<br>blocked: %{y:,}<extra></extra>"),
    ])
    return charts._layout(fig, f"{title} (per {bucket})", barmode="stack", bargap=0,
                          xaxis={"type": "date", "rangeslider": {"visible": False}}, yaxis={"title": "queries"},
                          legend={"orientation": "h", "y": 1.1, "x": 1, "xanchor": "right"})


def query_types_figure(types: list[dict], title: str = "Query types") -> go.Figure | None:
    if not types:
        return None
    shown = types[:12]
    names = charts.labels([t["query_type"] for t in shown])
    fig = go.Figure([
        go.Bar(y=names, x=[t["queries"] - t["blocked"] for t in shown], name="allowed", orientation="h",
               marker_color=ALLOWED_COLOUR),
        go.Bar(y=names, x=[t["blocked"] for t in shown], name="blocked", orientation="h", marker_color=BLOCKED_COLOUR),
    ])
    return charts._layout(fig, title, barmode="stack", yaxis={"autorange": "reversed", "type": "category"},
                          legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"})


def upstreams_figure(upstreams: list[dict], title: str = "Upstream servers (forwarded queries)") -> go.Figure | None:
    if not upstreams:
        return None
    fig = go.Figure(go.Pie(labels=charts.labels([u["upstream"] for u in upstreams[:12]]),
                           values=[u["queries"] for u in upstreams[:12]], hole=0.45, sort=False,
                           textinfo="percent", hovertemplate="%{label}: %{value:,} queries<extra></extra>"))
    return charts._layout(fig, title)


def figures(d: dict) -> dict[str, go.Figure | None]:
    """The resolver panels' figures from :func:`resolver_data`'s values (none without block status)."""
    if not d.get("available"):
        return {}
    return {"resolver_timeline": timeline_figure(d["timeline"], d["bucket"]),
            "resolver_qtypes": query_types_figure(d["query_types"]),
            "resolver_upstreams": upstreams_figure(d["upstreams"])}
