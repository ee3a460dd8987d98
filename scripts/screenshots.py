"""Screenshots of every dashboard page (and the top of the HTML report) into docs/screenshots/*.png.

    python scripts/screenshots.py [--db STORE] [--out docs/screenshots]

Without --db it builds a small synthetic store (bench/web.py's generator, 200 000 rows, enriched when the
enrichment package is there). The dashboard runs in-process on a free 127.0.0.1 port and Debian's
/usr/bin/chromium (driven by Playwright) takes the pictures with every other host blocked. Each picture
is the top 1 100 pixels of the page (less when needed to stay under 300 KB).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
MAX_BYTES = 300_000


def pages(store) -> list[tuple[str, str]]:
    domain = store.rows("SELECT domain FROM findings WHERE domain IS NOT NULL AND kind <> 'unexplained_domain' "
                        "ORDER BY score DESC LIMIT 1") or store.rows(
        "SELECT domain FROM findings WHERE domain IS NOT NULL ORDER BY score DESC LIMIT 1")
    client = store.rows("SELECT client FROM findings WHERE client IS NOT NULL ORDER BY score DESC LIMIT 1")
    return [
        ("overview", "/"), ("findings", "/findings"),
        ("domain", f"/domain?name={domain[0][0]}" if domain else "/domain?name=example.com"),
        ("client", f"/client?name={client[0][0]}" if client else "/client?name=10.0.0.1"),
        ("categories", "/categories"), ("map", "/map"), ("graph", "/graph"),
        ("search", f"/search?q={domain[0][0].split('.')[0][:5] if domain else 'example'}"),
    ]


def serve(app) -> tuple[object, int]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, port


def shoot(page, url: str, path: Path, expand_first: bool = False) -> None:
    page.goto(url)
    page.wait_for_function("() => [...document.querySelectorAll('[data-figure]')]"
                           ".every(d => d.querySelector('.main-svg'))", timeout=60_000)
    if expand_first and page.locator("details.finding").count():
        page.locator("details.finding summary").first.click()
    page.wait_for_timeout(400)
    height = 1100
    while True:
        page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": 1280, "height": height})
        if path.stat().st_size < MAX_BYTES or height <= 500:
            break
        height -= 200
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size // 1000} KB",
          file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=None)
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from netsift.report.html import write_report
    from netsift.web.app import create_app

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = args.db
    if db is None:
        sys.path.insert(0, str(ROOT / "bench"))
        from web import build_store

        db = str(Path(tempfile.mkdtemp()) / "screenshots.duckdb")
        build_store(db, 200_000, clients=60, domains=1500)
    app = create_app(db)
    server, port = serve(app)
    report = Path(tempfile.mkdtemp()) / "report.html"
    try:
        shots = pages(app.state.netsift.store)
        write_report(app.state.netsift.request_store(), report)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 1100})
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                (f"http://127.0.0.1:{port}/", "file://", "data:", "about:", "blob:")) else r.abort())
            page = context.new_page()
            for name, path in shots:
                shoot(page, f"http://127.0.0.1:{port}{path}", out / f"{name}.png", expand_first=name == "findings")
            shoot(page, report.as_uri(), out / "report.png")
            browser.close()
    finally:
        server.should_exit = True
        time.sleep(0.5)
        app.state.netsift.close()


if __name__ == "__main__":
    main()
