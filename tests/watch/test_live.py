"""`netsift watch --serve`: a real watcher process with its dashboard; in headless Chromium the overview
updates without a reload after lines are appended to the followed log (server-sent events)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from netsift.ingest.plan import IngestOptions
from netsift.store import open_store
from netsift.watch.live import live_app, start_dashboard
from netsift.watch.runner import WatchOptions, Watcher
from tests.watch.lines import pihole_lines
from tests.web.browser import browser_page, require_chromium

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _queries(page) -> str:
    return page.locator(".tile", has_text="queries").locator("b").inner_text()


def test_overview_updates_without_reload_after_lines_are_appended(tmp_path):
    require_chromium()
    log, db, port = tmp_path / "pihole.log", tmp_path / "w.duckdb", _free_port()
    log.write_text("".join(pihole_lines(0, 100)))
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-m", "netsift", "watch", str(log), "--db", str(db), "--year", "2026",
                             "--serve", "--port", str(port), "--detect-every", "0.5", "--poll", "0.1",
                             "--alerts", str(tmp_path / "alerts.ndjson")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the dashboard did not start"
                time.sleep(0.2)
        with browser_page() as (page, watch):
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("() => document.querySelector('.tile b') && "
                                   "document.querySelector('.tile b').textContent.trim() === '100'", timeout=30_000)
            page.evaluate("window.notReloaded = true")
            with open(log, "a") as fh:
                fh.write("".join(pihole_lines(100, 50)))
            page.wait_for_function("() => document.querySelector('.tile b').textContent.trim() === '150'",
                                   timeout=30_000)
            assert page.evaluate("window.notReloaded") is True  # swapped in, not reloaded
            health = page.locator("#live-health").inner_text()
            assert "events/s" in health and "150 rows" in health
            assert watch.errors == [] and watch.blocked == []
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_verdict_on_a_live_page_asks_the_watchers_analysis(tmp_path):
    with open_store(str(tmp_path / "w.duckdb")) as store:
        w = Watcher(store, WatchOptions(ingest=IngestOptions(year=2026)))
        app = live_app(store, w)
        try:
            assert w.detector is not None
            app.state.netsift.reanalyzer.request()
            assert w.detector._wanted.is_set()  # the watcher's analysis runs next, not a second one
        finally:
            app.state.netsift.close()
            w.close()


def test_a_page_computed_while_rows_arrive_carries_the_generation_it_began_at(tmp_path, monkeypatch):
    """A batch stored while a page is computed bumps the generation: the page must carry the generation it
    began at, or the page would show the rows before the batch and never fetch again (stale until the
    next batch)."""
    from netsift.web import pages

    real = pages._compute
    with open_store(str(tmp_path / "w.duckdb")) as store:
        w = Watcher(store, WatchOptions(ingest=IngestOptions(year=2026)))
        port = _free_port()
        server = start_dashboard(store, w, port)

        def compute_while_a_batch_lands(dash, page, params):
            result = real(dash, page, params)
            w.on_batch()  # the rows it read are already old
            return result

        monkeypatch.setattr(pages, "_compute", compute_while_a_batch_lands)
        try:
            deadline = time.monotonic() + 30
            while not server.started:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            html = httpx.get(f"http://127.0.0.1:{port}/overview", timeout=30).text
            assert 'data-generation="0"' in html
        finally:
            server.should_exit = True
            w.close()
