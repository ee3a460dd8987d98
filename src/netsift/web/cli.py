"""``netsift serve``: a thin command over :func:`netsift.web.app.create_app`, registered on the main group
by name (``netsift.cli.COMMANDS``) (``netsift report`` lives in :mod:`netsift.report.cli`).
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import sys

import click

from netsift.cli_analysis import analysis_options, analysis_opts, enrich_file_options, enrich_opts
from netsift.cli_options import PORT, existing_db_option, handle_errors
from netsift.web.security import is_loopback, new_token


def json_path(path: str) -> str:
    """The JSON twin of a page path: ``/findings?x=1`` -> ``/findings.json?x=1``, ``/`` -> ``/.json``."""
    base, sep, query = path.partition("?")
    if not base.startswith("/"):
        base = "/" + base
    if not base.endswith(".json"):
        base = base + ".json" if base != "/" else "/.json"
    return base + sep + query


async def get_json(app, path: str) -> tuple[int, str]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        resp = await client.get(json_path(path))
    return resp.status_code, resp.text


@click.command()
@existing_db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback prints a warning and requires an access token.")
@click.option("--port", type=PORT, default=8080, show_default=True, help="Port to listen on (1-65535).")
@click.option("--get", "get_path", default=None, metavar="/PATH",
              help="Print the JSON of one page (e.g. /findings?severity=high) and exit, without opening a port.")
@analysis_options(reanalysis=True)
@enrich_file_options(purpose="re-analyses (after a verdict)")
@handle_errors
def serve(db, host, port, get_path, top_lists, allowlist, config_file, geoip_dbs, category_paths, feed_specs):
    """Serve the dashboard: overview, triage queue, domain and client pages, categories, map, graph.

    The server holds the store's one read-write connection while it runs (DuckDB allows one writer
    process per file): stop it before running another netsift command on the same file."""
    # deferred: the dashboard's FastAPI/Starlette stack costs ~0.3 s to import, which every other netsift
    # command (this module is imported to register `serve`) would pay at start-up
    from netsift.web.app import create_app

    enrich = enrich_opts(feed_specs, category_paths, geoip_dbs)
    options = analysis_opts(top_lists, allowlist, config_file, enrich=enrich)
    if get_path is not None:
        app = create_app(db, options=options)
        try:
            status, text = asyncio.run(get_json(app, get_path))
        finally:
            app.state.netsift.close()
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
        click.echo(text)
        if status >= 400:
            sys.exit(1)
        return

    import uvicorn

    sock = listen_socket(host, port)  # first: a port in use is one line, not uvicorn's error after "dashboard on"
    token = None
    if not is_loopback(host):
        token = new_token()
        click.echo(f"WARNING: listening on {host}, reachable from other machines. Every request needs the access "
                   "token below; anyone who has it can read the logs and record verdicts.", err=True)
    try:
        app = create_app(db, token=token, bound_host=host, options=options)
        shown_host = f"[{host}]" if ":" in host else host
        url = f"http://{shown_host}:{port}/" + (f"?token={token}" if token else "")
        click.echo(f"netsift dashboard on {url}  (Ctrl-C to stop)", err=True)
        if token:
            click.echo(f"access token (shown once): {token}", err=True)
        uvicorn.run(app, host=host, port=port, fd=sock.fileno(), log_level="warning")
    finally:
        sock.close()


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (uvicorn serves on it); a usage error when that is not possible."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart finds TIME_WAIT
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            problem = f"port {port} on {host} is in use; choose another with --port"
        elif exc.errno == errno.EACCES:
            problem = f"port {port} on {host} needs privileges; choose one above 1023 with --port"
        else:
            raise click.BadParameter(f"cannot listen on {host} port {port} ({exc.strerror or exc})",
                                     param_hint="--host") from exc
        raise click.BadParameter(problem, param_hint="--port") from exc
    sock.set_inheritable(True)
    return sock
