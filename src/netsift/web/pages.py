"""How a dashboard page is made: one data function, two routes.

A page module declares ``PAGE = Page(path, template, title, data, figures)``. :func:`add_page` registers
``path`` (HTML: the template rendered with the data and the figures built from it) and ``path.json`` (the
data itself), so both always show the same numbers. Data functions get a per-request store and the query
parameters and raise :class:`NotFound` for an unknown entity. Both routes take the data from the
dashboard's :class:`~netsift.web.cache.PageCache`: computed once per store version and query, in its
bounded pool of threads, and shared by every request until a verdict or a re-analysis changes the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2
from starlette.datastructures import QueryParams
from starlette.concurrency import run_in_threadpool
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
    return Response(_dumps(data), status_code=status, media_type="application/json")


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
        live=dash.live, **{"generation": dash.generation, **ctx})
    return HTMLResponse(html, status_code=status)


@dataclass(frozen=True)
class Result:
    """A page's data for one query (or why there is none), and its JSON twin's body."""

    status: int
    data: dict[str, Any] | None
    message: str | None
    body: bytes

    @property
    def size(self) -> int:
        return 2 * len(self.body)  # the body and, roughly, the data it was made from


def add_page(app, page: Page) -> None:
    async def html_endpoint(request: Request) -> Response:
        # the generation the data is at least as new as: a batch landing while it is computed must leave the
        # live page behind, so that it fetches again
        generation = request.app.state.netsift.generation
        result = await page_result(request, page)
        if result.status != 200:
            title = "Not found" if result.status == 404 else "Bad request"
            return render(request, "error.html.j2", result.status, title=title, message=result.message)
        data = result.data
        assert data is not None  # a 200 result carries the page's data
        dash = request.app.state.netsift
        figures = await dash.pages.get(("figures", page.path, str(request.query_params)),
                                       lambda: {k: charts.figure_json(v) for k, v in page.figures(data).items()},
                                       lambda f: sum(len(v or "") for v in f.values()))
        return await run_in_threadpool(render, request, page.template, title=page.title, data=data,
                                       figures=figures, generation=generation)

    async def json_endpoint(request: Request) -> Response:
        result = await page_result(request, page)
        return Response(result.body, status_code=result.status, media_type="application/json")

    app.add_api_route(page.json_path, json_endpoint, methods=["GET"], include_in_schema=False,
                      name=f"{page.path}.json")
    app.add_api_route(page.path, html_endpoint, methods=["GET"], include_in_schema=False, name=page.path)


async def page_result(request: Request, page: Page) -> Result:
    """The page's data for the request's query, shared with every request for the same query until the
    store changes (see :mod:`netsift.web.cache`)."""
    return await data_result(request, page.path, page.data)


async def data_result(request: Request, path: str, data_of: DataFn) -> Result:
    """``data_of(store, params)`` for the request's query, kept per store version (see ``page_result``)."""
    dash = request.app.state.netsift
    params = request.query_params
    return await dash.pages.get(("data", path, str(params)), lambda: _compute(dash, data_of, params),
                                lambda r: r.size)


async def data_response(request: Request, path: str, data_of: DataFn) -> Response:
    """A JSON-only route's answer: ``data_of``'s data as JSON, or ``{"error"}`` with 400/404."""
    result = await data_result(request, path, data_of)
    return Response(result.body, status_code=result.status, media_type="application/json")


def _compute(dash, data_of: DataFn, params: QueryParams) -> Result:
    try:
        with dash.reader() as store:
            data = data_of(store, params)
    except (NotFound, BadRequest) as exc:
        status = 404 if isinstance(exc, NotFound) else 400
        return Result(status, None, str(exc), _dumps({"error": str(exc)}))
    return Result(200, data, None, _dumps(data))


def _dumps(data: Any) -> bytes:
    return json.dumps(data, default=str, ensure_ascii=False, indent=None).encode()


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
