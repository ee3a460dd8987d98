"""``netsift watch --serve``: the dashboard in the watcher's process, with pages that follow the store.

The dashboard (:func:`netsift.web.app.create_app`) gets a session of the watcher's store (the one writer: no
second process may open it) and ``/events``, a server-sent events stream sending about once a second the
watcher's health and a generation number the watcher bumps when a batch stored rows or an analysis ended
(the page caches are dropped then). A verdict recorded on a page asks the watcher's own analysis for a run. ``app.js`` shows the health on every page and, when the generation
moved, fetches the page again and swaps its content in: counters, the timeline, the triage queue update
without a reload. uvicorn runs in a thread, on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import threading

import uvicorn
from starlette.requests import Request
from starlette.responses import StreamingResponse

from netsift import pipeline
from netsift.store import Store
from netsift.watch.runner import Watcher
from netsift.web.app import create_app
from netsift.web.cli import listen_socket

EVENTS_PATH = "/events"
EVENT_SECONDS = 1.0


def live_app(store: Store, watcher: Watcher, options: pipeline.AnalysisOptions | None = None):
    """The dashboard app over a session of ``store``, bumped by ``watcher``, with ``/events``."""
    app = create_app(store.path, options=options, store=store.cursor(), live=EVENTS_PATH)
    dash = app.state.netsift

    def changed() -> None:
        dash.pages.bump()  # first: a page labelled with the new generation is never one computed before
        dash.generation += 1

    watcher.on_batch = changed
    if watcher.detector is not None:
        watcher.detector.on_done = changed
        # a verdict recorded on a page asks the watcher's analysis for a run (one analysis at a time writes
        # the findings), instead of the dashboard's own re-analysis thread
        # (a full one: the verdict may explain findings an incremental run carries)
        setattr(dash.reanalyzer, "request", watcher.detector.request_full)  # noqa: B010 - an instance's method

    async def events(request: Request) -> StreamingResponse:
        async def stream():
            while not await request.is_disconnected():
                doc = {"generation": dash.generation, "health": watcher.health.snapshot()}
                yield f"data: {json.dumps(doc)}\n\n"
                await asyncio.sleep(EVENT_SECONDS)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store"})

    app.add_route(EVENTS_PATH, events, methods=["GET"])
    return app


def start_dashboard(store: Store, watcher: Watcher, port: int,
                    options: pipeline.AnalysisOptions | None = None, host: str = "127.0.0.1") -> uvicorn.Server:
    """Serve the live dashboard on ``host:port`` from a thread; set ``should_exit`` on the result to stop."""
    sock = listen_socket(host, port)
    app = live_app(store, watcher, options)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="netsift-dashboard", daemon=True).start()
    return server
