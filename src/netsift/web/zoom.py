"""``/timeline.json``: a time chart's data for the range the analyst zoomed to, in the bucket that suits
that range (``?from=…&to=…``, and ``client=`` or ``domain=`` for a client's or a domain's chart). ``app.js``
asks for it when a chart with ``data-zoom`` is zoomed, and draws the finer steps; a double click (autorange)
draws the whole chart again."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response

from netsift.report import chart_data as data
from netsift.report import charts
from netsift.web.pages import BadRequest, data_response

PATH = "/timeline.json"


def _instant(params, name: str) -> dt.datetime:
    text = (params.get(name) or "").strip()
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"the {name!r} parameter must be a time, e.g. {name}=2026-11-30T10:00") from None
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t  # the charts are in UTC


def zoom_data(store, params) -> dict:
    start, end = _instant(params, "from"), _instant(params, "to")
    client, domain = params.get("client") or None, params.get("domain") or None
    try:
        bucket, series = data.zoomed_timeline(store, start, end, client, domain)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    figure = charts.timeline_figure(series, bucket=bucket)
    return {"bucket": bucket, "from": start.isoformat(), "to": end.isoformat(), "series": series,
            "figure": charts.figure_json(figure) if figure is not None else None}


async def zoom_json(request: Request) -> Response:
    return await data_response(request, PATH, zoom_data)


def register_routes(app) -> None:
    app.add_api_route(PATH, zoom_json, methods=["GET"], include_in_schema=False)
