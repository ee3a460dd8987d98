"""The dashboard app: ``create_app(store_path, token=None)`` returns a FastAPI application.

Pages (each with a ``.json`` twin): ``/`` and ``/overview``, ``/findings`` (triage queue), ``/domain?name=``,
``/client?name=``, ``/categories``, ``/map``, ``/graph``, ``/search?q=``, ``/resolver`` (blocked vs allowed, when a log
carries block status), ``/verdicts`` (with Undo); ``POST /verdict``, ``/verdicts/bulk``, ``/verdicts/undo``; ``/status.json`` (whether a
re-analysis runs). Static files:
``/static/plotly.min.js`` (from the plotly package), ``/static/topojson/world_110m.json`` (from netsift's
data), ``/static/app.js`` and ``/static/style.css``.

The app holds the store's one read-write connection for its lifetime (DuckDB allows one writer process
per file; see :mod:`netsift.web.state`). Call ``app.state.netsift.close()`` when done with an app that
was never served (tests); uvicorn's shutdown does it otherwise.
"""

from __future__ import annotations

import contextlib
from importlib import resources
from urllib.parse import urlencode

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from netsift import pipeline
from netsift.report.charts import WORLD_TOPOJSON
from netsift.store import Store
from netsift.web import (
    categories, client, domain, findings, graph, logins, overview, resolver, search, security, traffic, verdicts,
    zoom,
)
from netsift.web import map as map_page
from netsift.web.pages import Page, add_page, json_response
from netsift.web.state import Dashboard

PAGES: tuple[Page, ...] = (overview.PAGE, findings.PAGE, domain.PAGE, client.PAGE, categories.PAGE, map_page.PAGE,
                           graph.PAGE, search.PAGE, resolver.PAGE, traffic.BANDWIDTH, traffic.CREDENTIALS, verdicts.PAGE,
                           logins.PAGE)
# pages shown in the navigation only when the store holds their rows (the server never ingests, so this holds)
OPTIONAL = {resolver.PAGE.path: resolver.available, traffic.BANDWIDTH.path: traffic.bandwidth_available,
            traffic.CREDENTIALS.path: traffic.credentials_available,
            logins.PAGE.path: logins.available}
STATIC_FILES = {  # URL name -> (package, path inside it)
    "plotly.min.js": ("plotly", "package_data/plotly.min.js"),
    f"topojson/{WORLD_TOPOJSON}": ("netsift", f"data/{WORLD_TOPOJSON}"),
    "app.js": ("netsift.web", "static/app.js"),
    "style.css": ("netsift.web", "static/style.css"),
}


def create_app(store_path: str | None, *, token: str | None = None, bound_host: str | None = "127.0.0.1",
               options: pipeline.AnalysisOptions | None = None, store: Store | None = None,
               live: str | None = None) -> FastAPI:
    """The dashboard over the store at ``store_path``. With ``token``, every request must present it.
    ``bound_host`` is the address the server listens on: requests naming another Host are refused
    (DNS rebinding), except for a wildcard bind (0.0.0.0, ::), where the token is the defence. ``store`` and
    ``live``: see :class:`~netsift.web.state.Dashboard` (``netsift watch --serve``)."""
    dash = Dashboard(store_path, token=token, options=options, store=store, live=live)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        dash.close()

    app = FastAPI(title="netsift", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.netsift = dash
    # the resolver page only when a log carries block status, bandwidth and credentials when there are rows
    app.state.nav = [(p.path, p.nav) for p in PAGES
                     if p.nav and (p.path not in OPTIONAL or OPTIONAL[p.path](dash.store))]
    hosts = None if bound_host in ("0.0.0.0", "::") else security.allowed_hosts(bound_host)

    @app.middleware("http")
    async def guard(request: Request, call_next) -> Response:
        if not security.host_allowed(request, hosts):
            return PlainTextResponse("unknown Host header", status_code=400)
        if dash.token is not None:
            if not security.same(security.presented_token(request), dash.token):
                return PlainTextResponse("access token required: open the URL printed by `netsift serve` "
                                         "(…?token=…) or send Authorization: Bearer <token>", status_code=401)
            if "token" in request.query_params and request.method == "GET":
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                target = request.url.path + ("?" + urlencode(rest) if rest else "")
                response: Response = RedirectResponse(security.safe_next(target, "/"), status_code=303)
                response.set_cookie(security.TOKEN_COOKIE, dash.token, httponly=True, samesite="strict")
                return response
        response = await call_next(request)
        for name, value in security.SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    for page in PAGES:
        add_page(app, page)
    app.add_api_route("/", overview_html(app), methods=["GET"], include_in_schema=False)
    app.add_api_route("/.json", overview_json(app), methods=["GET"], include_in_schema=False)
    findings.register_routes(app)
    verdicts.register_routes(app)
    zoom.register_routes(app)

    @app.get("/status.json", include_in_schema=False)
    async def status() -> Response:
        """Whether a re-analysis runs (the bench and scripts poll this; it never touches the store)."""
        r = dash.reanalyzer
        return json_response({"reanalysing": r.running, "runs": r.runs, "error": r.error})

    @app.get("/static/{name:path}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            return PlainTextResponse("not found", status_code=404)
        package, path = STATIC_FILES[name]
        with resources.as_file(resources.files(package).joinpath(path)) as file:
            return FileResponse(file, headers={"cache-control": "public, max-age=3600"})

    return app


def overview_html(app: FastAPI):
    return next(r.endpoint for r in app.routes if isinstance(r, Route) and r.path == overview.PAGE.path)


def overview_json(app: FastAPI):
    return next(r.endpoint for r in app.routes if isinstance(r, Route) and r.path == overview.PAGE.json_path)
