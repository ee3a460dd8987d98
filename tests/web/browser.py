"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright (never
``playwright install``), with every request that does not go to 127.0.0.1 (or file://) aborted and
recorded, and page errors, console errors and dialogs collected."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


def require_chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (apt-get install -y chromium)")
    return pytest.importorskip("playwright.sync_api", reason="playwright (the Python package) is not installed")


@dataclass
class Watch:
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def _local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1:", "file://", "data:", "about:", "blob:"))


@contextlib.contextmanager
def browser_page(viewport=(1280, 900)):
    sync_api = require_chromium()
    watch = Watch()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})

            def route(r):
                if _local(r.request.url):
                    r.continue_()
                else:
                    watch.blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("pageerror", lambda exc: watch.errors.append(f"pageerror: {exc}"))
            page.on("console", lambda msg: watch.errors.append(f"console: {msg.text}") if msg.type == "error" else None)

            def on_dialog(dialog):
                watch.dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            yield page, watch
        finally:
            browser.close()


def wait_for_charts(page, timeout_ms: int = 30_000) -> int:
    """Wait until every embedded figure has drawn; returns how many there are."""
    expected = page.locator("[data-figure]").count()
    if expected:
        page.wait_for_function(
            "n => document.querySelectorAll('[data-figure] .main-svg').length > 0 && "
            "[...document.querySelectorAll('[data-figure]')].every(d => d.querySelector('.main-svg'))",
            arg=expected, timeout=timeout_ms)
    return expected
