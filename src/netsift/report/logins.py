"""Login timelines as figures (stacked bars of logon events per hour by kind), and the logins section's
data, shared by the HTML report and the dashboard's logins page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.graph_objects as go

from netsift import logins
from netsift.report import charts
from netsift.store.base import Store

# the events drawn, in this order, with their colours
SERIES = (("success", "#2b8a3e"), ("failure", "#e8590c"), ("invalid_user", "#c92a2a"), ("max_attempts", "#862e9c"),
          ("privileged", "#1971c2"), ("explicit_credentials", "#0c8599"), ("disconnect", "#868e96"),
          ("logoff", "#adb5bd"))
TOP = 15  # rows per table in the section


def timeline_figure(rows: list[dict[str, Any]], title: str) -> go.Figure | None:
    """Stacked bars of events per hour by kind (rows of ``logins.timeline``)."""
    if not rows:
        return None
    fig = go.Figure()
    for event, colour in SERIES:
        mine = [r for r in rows if r["event"] == event]
        if mine:
            fig.add_trace(go.Bar(x=[_iso(r["hour"]) for r in mine], y=[r["events"] for r in mine], name=event,
                                 marker={"color": colour}))
    layout: dict[str, Any] = {**charts.BASE_LAYOUT, "title": {"text": charts.label(title), "x": 0.01},
                              "barmode": "stack", "height": 320,
                              "legend": {"orientation": "h", "y": 1.15, "x": 1, "xanchor": "right"}}
    fig.update_layout(**layout)
    fig.update_xaxes(type="date")
    return fig


def section(store: Store, top: int = TOP) -> dict[str, Any]:
    """The logins section: the family's counts, the busiest sources, accounts and hosts by failures, and
    the overall timeline (events per hour by kind)."""
    return {"counts": logins.counts(store), "timeline": logins.timeline(store),
            **{by: logins.summary(store, by, top) for by in logins.BY}}


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)
