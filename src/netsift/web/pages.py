"""How a dashboard page is made: one data function, two routes.

A page module declares ``PAGE = Page(path, template, title, data, figures)``. :func:`add_page` registers
``path`` (HTML: the template rendered with the data and the figures built from it) and ``path.json`` (the
data itself), so both always show the same numbers. Data functions get a per-request store and the query
parameters and raise :class:`NotFound` for an unknown entity.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from netsift import __version__
from netsift.report import charts
from netsift.report.html import environment

DataFn = Callable[[Any, QueryParams], dict[str, Any]]
FiguresFn = Callable[[dict[str, Any]], dict[str, Any]]


class NotFound(Exception):
    """The entity a page is about is not in the store."""


class BadRequest(Exception):
    """A query parameter has a value the page cannot use."""


@dataclass
class Page:
    path: str
    template: str
    title: str
    data: DataFn
    figures: FiguresFn = field(default=lambda data: {})
    nav: str | None = None  # label in the navigation bar

    @property
    def json_path(self) -> str:
        return f"{self.path}.json"


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, default=str, ensure_ascii=False, indent=None)
    return Response(body, status_code=status, media_type="application/json")


_ENV: jinja2.Environment | None = None


def templates() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = environment("netsift.web")
        _ENV.globals.update(version=__version__)
    return _ENV


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    dash = request.app.state.netsift
    ctx.setdefault("title", "netsift")
    html = templates().get_template(template).render(
        request_path=request.url.path, query=request.query_params, csrf_token=dash.csrf_token,
        reanalysing=dash.reanalyzer.running, reanalysis_error=dash.reanalyzer.error, nav=request.app.state.nav,
        **ctx)
    return HTMLResponse(html, status_code=status)


def add_page(app, page: Page) -> None:
    def html_endpoint(request: Request) -> Response:
        try:
            data = _run(request, page)
        except NotFound as exc:
            return render(request, "error.html.j2", 404, title="Not found", message=str(exc))
        except BadRequest as exc:
            return render(request, "error.html.j2", 400, title="Bad request", message=str(exc))
        figures = {k: charts.figure_json(v) for k, v in page.figures(data).items()}
        return render(request, page.template, title=page.title, data=data, figures=figures)

    def json_endpoint(request: Request) -> Response:
        try:
            return json_response(_run(request, page))
        except NotFound as exc:
            return json_response({"error": str(exc)}, 404)
        except BadRequest as exc:
            return json_response({"error": str(exc)}, 400)

    app.add_api_route(page.json_path, json_endpoint, methods=["GET"], include_in_schema=False,
                      name=f"{page.path}.json")
    app.add_api_route(page.path, html_endpoint, methods=["GET"], include_in_schema=False, name=page.path)


def _run(request: Request, page: Page) -> dict[str, Any]:
    store = request.app.state.netsift.request_store()
    try:
        return page.data(store, request.query_params)
    finally:
        store.close()


def int_param(params: QueryParams, name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {raw!r}") from None
    return max(lo, min(hi, value))


def choice_param(params: QueryParams, name: str, choices: tuple[str, ...], default: str) -> str:
    value = params.get(name) or default
    if value not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def required_param(params: QueryParams, name: str) -> str:
    value = (params.get(name) or "").strip()
    if not value:
        raise BadRequest(f"the {name!r} parameter is required, e.g. ?{name}=example.com")
    return value
