"""Bandwidth per client, top talkers and the credentials seen in clear: the data behind ``netsift
bandwidth`` / ``netsift credentials``, the dashboard's ``/bandwidth`` and ``/credentials`` pages (their JSON
twins return exactly these values) and the HTML report's sections.

Bytes are summed exactly as the logs give them (integers, no scaling): ``connections.bytes_out`` /
``bytes_in`` (Zeek conn.log's ``orig_bytes`` / ``resp_bytes``, a capture's payload bytes) and, for a
proxy's clients, the reply sizes a proxy logged (``http_requests.bytes_in`` of rows with ``log`` ``squid``
or ``proxy``: Squid's native log, a common/combined proxy log), each proxied request counted as one
connection. Rows from Zeek's http.log or a capture's HTTP are not added:
their connections are already in ``connections``. Secrets are shown as stored (masked unless the capture
was ingested with ``--show-secrets``).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from netsift.detect.bandwidth import human_bytes
from netsift.report import charts
from netsift.report.chart_data import dicts, fill_zeros, has_rows

TOP = 15
PER_CLIENT = f"""
    SELECT client, coalesce(sum(bytes_out), 0) AS bytes_out, coalesce(sum(bytes_in), 0) AS bytes_in,
           count(*) AS connections, min(ts) AS first_seen, max(ts) AS last_seen
    FROM (SELECT ts, client, bytes_out, bytes_in FROM connections
          UNION ALL
          SELECT ts, client, bytes_out, bytes_in FROM http_requests WHERE log IN ('squid', 'proxy')) t
    WHERE client IS NOT NULL {{where}}
    GROUP BY client
"""
TIMELINE = """
    SELECT date_trunc('hour', ts) AS t, coalesce(sum(bytes_out), 0) AS bytes_out, coalesce(sum(bytes_in), 0) AS bytes_in
    FROM (SELECT ts, client, bytes_out, bytes_in FROM connections
          UNION ALL
          SELECT ts, client, bytes_out, bytes_in FROM http_requests WHERE log IN ('squid', 'proxy')) t
    WHERE client IS NOT NULL {where}
    GROUP BY date_trunc('hour', ts)
"""
CREDENTIALS = """
    SELECT ts, client, client_port, server, server_port, protocol, account, secret, secret_clear, host, detail
    FROM credentials ORDER BY ts, client, source_file_id, source_line
"""


def _int_row(row: dict[str, Any]) -> dict[str, Any]:
    """Sums come back as wide integers (DuckDB's HUGEINT): plain ints, exact."""
    return {k: int(v) if k in ("bytes_out", "bytes_in", "connections") and v is not None else v
            for k, v in row.items()}


def available(store) -> bool:
    return has_rows(store, "connections") or bool(
        has_rows(store, "http_requests") and store.scalar("SELECT count(*) FROM http_requests WHERE log IN ('squid', 'proxy')"))


def bandwidth(store, client: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Per client: client, bytes_out, bytes_in, connections, first_seen, last_seen; most bytes sent first."""
    params: list[Any] = []
    where = ""
    if client is not None:
        where, params = "AND client = ?", [client]
    sql = PER_CLIENT.format(where=where) + " ORDER BY bytes_out DESC, bytes_in DESC, client"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_int_row(r) for r in dicts(store, sql, params)]


def timeline(store, client: str | None = None) -> list[dict[str, Any]]:
    """Bytes sent and received per hour (one client, or everyone), empty hours as zeros."""
    where, params = ("AND client = ?", [client]) if client is not None else ("", [])
    rows = {t: (int(o), int(i)) for t, o, i in store.rows(TIMELINE.format(where=where), params)}
    return [{"t": t.isoformat(), "bytes_out": o, "bytes_in": i}
            for t, (o, i) in fill_zeros(rows, "hour", (0, 0)).items()]


def credentials(store, limit: int | None = None) -> list[dict[str, Any]]:
    """Every credential seen in clear, oldest first (secrets as stored: masked by default)."""
    if not has_rows(store, "credentials"):
        return []
    sql = CREDENTIALS + (f" LIMIT {int(limit)}" if limit else "")
    return dicts(store, sql)


def counts(store) -> dict[str, int]:
    """Rows of each network family, for the overview."""
    return {t: int(store.scalar(f"SELECT count(*) FROM {t}") or 0) if store.has_table(t) else 0
            for t in ("connections", "http_requests", "credentials", "ids_alerts")}


def bandwidth_data(store, client: str | None = None, limit: int = TOP) -> dict[str, Any]:
    clients = bandwidth(store, client)
    return {"available": bool(clients), "client": client, "clients": clients[:limit] if not client else clients,
            "total_clients": len(clients),
            "totals": {"bytes_out": sum(c["bytes_out"] for c in clients), "bytes_in": sum(c["bytes_in"] for c in clients),
                       "connections": sum(c["connections"] for c in clients)},
            "timeline": timeline(store, client)}


def credentials_data(store, limit: int = 500) -> dict[str, Any]:
    rows = credentials(store)
    return {"available": bool(rows), "total": len(rows), "credentials": rows[:limit]}


# --- figures ----------------------------------------------------------------------------------------------

def timeline_figure(series: list[dict], title: str = "Bytes per hour") -> go.Figure | None:
    if not series:
        return None
    x = [p["t"] for p in series]
    width = 3600 * 1000.0
    fig = go.Figure([
        go.Bar(x=x, y=[p["bytes_out"] for p in series], name="sent (bytes out)", marker_color="#e8590c",
               width=width, offset=0, hovertemplate="%{x}<br>sent: %{y:,} bytes<extra></extra>"),
        go.Bar(x=x, y=[p["bytes_in"] for p in series], name="received (bytes in)", marker_color="#3b5bdb",
               width=width, offset=0, hovertemplate="%{x}<br>received: %{y:,} bytes<extra></extra>"),
    ])
    return charts._layout(fig, title, barmode="group", bargap=0, xaxis={"type": "date"}, yaxis={"title": "bytes"},
                          legend={"orientation": "h", "y": 1.1, "x": 1, "xanchor": "right"})


def top_talkers_figure(clients: list[dict], title: str = "Top talkers (bytes sent)") -> go.Figure | None:
    if not clients:
        return None
    names = charts.labels([c["client"] for c in clients])
    fig = go.Figure([
        go.Bar(y=names, x=[c["bytes_out"] for c in clients], name="sent", orientation="h", marker_color="#e8590c"),
        go.Bar(y=names, x=[c["bytes_in"] for c in clients], name="received", orientation="h", marker_color="#3b5bdb"),
    ])
    return charts._layout(fig, title, barmode="group", yaxis={"autorange": "reversed", "type": "category"},
                          legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
                          height=max(260, 80 + 28 * len(clients)))


def figures(d: dict) -> dict[str, go.Figure | None]:
    if not d.get("available"):
        return {}
    who = f" of {d['client']}" if d.get("client") else ""
    return {"bandwidth_timeline": timeline_figure(d["timeline"], f"Bytes per hour{who}"),
            "top_talkers": None if d.get("client") else top_talkers_figure(d["clients"])}
