"""Time every dashboard page's JSON twin on a large store (not a test).

    python bench/web.py                      # 10 M rows in ./bench-web.duckdb (built once, then reused)
    python bench/web.py --rows 1000000 --db /tmp/b.duckdb --requests 20

The store is built with one DuckDB statement (plausible rows: 14 days, diurnal clients, a Zipf mix of
popular, rare and random-looking domains, answers from per-domain address pools), then analysed with
``pipeline.analyze`` and enriched when the enrichment package is there (otherwise ``ip_info`` gets
synthetic countries and networks). Each page's JSON is requested in-process (httpx over ASGI) and the
p50/p95 of ``--requests`` requests printed. The issue's bar: p95 under 300 ms at 10 M rows.

``--load N`` measures a team instead: the dashboard runs as ``uvicorn`` in its own process on a free
127.0.0.1 port (over a copy of the store, since verdicts change it), and N clients (asyncio, one keep-alive
connection each) request every page's JSON in turn over real HTTP, the domain and client pages for a
rotating choice of the busiest clients and the findings' domains, for ``--seconds`` (at most ``--max``
requests per phase). Two phases: idle, then while re-analyses run: a verdict is POSTed through
``/verdict.json`` (CSRF token from the page, Origin of the server) whenever none is running, and only
requests that started while one ran are counted. p50 / p95 / max per page are printed for each phase.

    python bench/web.py --rows 3000000 --db bench-web-3m.duckdb --load 16 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import httpx

from netsift import pipeline
from netsift.enrich.annotate import enrich_store
from netsift.store import open_store

PAGES = ["/overview.json", "/findings.json", "/findings.json?sort=domain&order=asc&page=2",
         "/domain.json?name={domain}", "/client.json?name={client}", "/categories.json", "/map.json",
         "/graph.json", "/search.json?q={search}", "/resolver.json"]

GENERATE_SQL = """
INSERT INTO dns_queries
WITH r AS (
  SELECT i, hash(i) AS h1, hash(i * 7919 + 13) AS h2, hash(i * 104729 + 7) AS h3 FROM range(?) t(i)
), p AS (
  SELECT i, h1, h2, h3,
         CAST(floor(? * pow((h2 % 1000003) / 1000003.0, 2.2)) AS INTEGER) AS client_no,
         CAST(floor(? * pow((h3 % 1000003) / 1000003.0, 3.0)) AS INTEGER) AS domain_no,
         h1 % 14 AS day,
         CASE WHEN (h2 >> 20) % 10 < 7 THEN 7 + (h1 >> 12) % 12 ELSE (h1 >> 12) % 24 END AS hour_of_day
  FROM r
)
SELECT TIMESTAMP '2024-05-01' + to_days(CAST(day AS INTEGER)) + to_hours(CAST(hour_of_day AS INTEGER))
         + to_seconds(CAST((h3 >> 30) % 3600 AS INTEGER)) AS ts,
       '10.0.' || (client_no // 250) || '.' || (client_no % 250 + 1) AS client,
       CASE WHEN (h3 >> 50) % 1000 = 0  -- 0.1 %: rare domains, each asked by one client
              THEN 'www.r' || (h1 % 2000) || 'c' || client_no || '.org'
            WHEN (h1 >> 40) % 4 = 0 THEN d.name
            ELSE ['www.', 'api.', 'cdn.'][CAST(1 + (h1 >> 42) % 3 AS BIGINT)] || d.name END
         AS query_name,
       CASE WHEN (h2 >> 40) % 100 < 75 THEN 'A' WHEN (h2 >> 40) % 100 < 97 THEN 'AAAA' ELSE 'TXT' END AS query_type,
       CASE WHEN d.random_looking AND (h2 >> 44) % 3 = 0 THEN 'NXDOMAIN' ELSE 'NOERROR' END AS response_code,
       CASE WHEN d.random_looking AND (h2 >> 44) % 3 = 0 THEN NULL
            ELSE [d.ip_base || ((h3 >> 8) % 4 + 1)] END AS answers,
       CASE WHEN d.domain_no % 11 = 3 THEN 'blocked:gravity'  -- a Pi-hole's view: some domains blocked,
            WHEN (h1 >> 50) % 2 = 0 THEN ['forwarded:1.1.1.1', 'forwarded:9.9.9.9#53'][CAST(1 + (h2 >> 52) % 2 AS BIGINT)]
            ELSE 'cached' END AS resolver_action,  -- the rest forwarded to two upstreams or cached
       1 AS source_file_id, i + 1 AS source_line
FROM p JOIN bench_domains d ON d.domain_no = p.domain_no
"""


def build_store(path: str, rows: int, clients: int = 400, domains: int = 5000) -> None:
    store = open_store(path)
    known = [line.strip() for line in resources.files("netsift").joinpath("data", "well_known_domains.txt")
             .read_text().splitlines() if line.strip() and not line.startswith("#")]
    names = []
    for n in range(domains):
        if n < len(known):
            names.append((n, known[n], False))
        elif n % 7 == 0:
            names.append((n, f"x{hashlib.md5(f'dga{n}'.encode()).hexdigest()[:12]}q.info", True))
        else:
            names.append((n, f"shop-{n}.example-{n % 50}.net", False))
    store.execute("CREATE TEMP TABLE bench_domains (domain_no INTEGER, name VARCHAR, random_looking BOOLEAN, "
                "ip_base VARCHAR)")
    store.executemany("INSERT INTO bench_domains VALUES (?, ?, ?, ?)",
                    [(n, name, rnd, f"{23 + n % 170}.{(n * 37) % 250}.{(n * 11) % 250}.") for n, name, rnd in names])
    store.execute("INSERT INTO ingested_files (file_id, path, format, rows, rejected) VALUES (1, 'bench', 'bench', ?, 0)",
                [rows])
    t0 = time.perf_counter()
    store.execute(GENERATE_SQL, [rows, clients, domains])
    print(f"generated {rows:,} rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    t0 = time.perf_counter()
    pipeline.analyze(store)
    print(f"analysed in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    enrich_store(store)
    store.close()


async def time_pages(db: str, requests: int) -> list[tuple[str, float, float]]:
    from netsift.web.app import create_app

    app = create_app(db)
    store = app.state.netsift.store
    client = store.rows("SELECT client FROM rollup_client_hour GROUP BY client ORDER BY sum(queries) DESC LIMIT 1")[0][0]
    domain = store.rows("SELECT domain FROM findings WHERE domain IS NOT NULL ORDER BY score DESC LIMIT 1") or \
        store.rows("SELECT registered_domain FROM domain_stats ORDER BY queries DESC LIMIT 1")
    values = {"client": client, "domain": domain[0][0], "search": "shop-12"}
    out = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        for page in PAGES:
            url = page.format(**values)
            times = []
            for _ in range(requests + 1):
                t0 = time.perf_counter()
                resp = await http.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                resp.raise_for_status()
            times = sorted(times[1:])  # the first request warms DuckDB's caches
            out.append((url, statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)]))
    app.state.netsift.close()
    return out


LOAD_PAGES = {  # label -> URL templates, rotated per request ({domain}, {client} rotate over the top 20)
    "overview": ["/overview.json"],
    "findings": ["/findings.json", "/findings.json?status=all"],
    "findings sorted p2": ["/findings.json?sort=domain&order=asc&page=2", "/findings.json?sort=client&page=2"],
    "domain": ["/domain.json?name={domain}"],
    "client": ["/client.json?name={client}"],
    "categories": ["/categories.json"],
    "map": ["/map.json"],
    "graph": ["/graph.json"],
    "search": ["/search.json?q=shop-1", "/search.json?q=10.0.1", "/search.json?q=google"],
    "resolver": ["/resolver.json"],
}


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(q * len(values)) - 1))]


def serve(db: str, port: int) -> None:
    """The dashboard alone in this process (the load generator runs in another)."""
    import uvicorn

    from netsift.web.app import create_app

    uvicorn.run(create_app(db), host="127.0.0.1", port=port, log_level="warning")


class LoadRun:
    def __init__(self, base: str, clients: int, seconds: float, max_requests: int, values: dict[str, list[str]]):
        self.base, self.clients, self.seconds, self.max_requests = base, clients, seconds, max_requests
        self.values = values
        self.reanalysing = False
        self.samples: list[tuple[str, float, bool]] = []  # label, ms, started during a re-analysis
        self.errors: list[str] = []
        self.durations: list[float] = []  # of the re-analyses that ended during the phase
        self.issued = 0

    def url(self, n: int) -> tuple[str, str]:
        labels = list(LOAD_PAGES)
        label = labels[n % len(labels)]
        templates = LOAD_PAGES[label]
        k = n // len(labels)
        template = templates[k % len(templates)]
        return label, template.format(domain=self.values["domain"][k % len(self.values["domain"])],
                                      client=self.values["client"][k % len(self.values["client"])])

    async def client(self, i: int, deadline: float) -> None:
        import httpx

        n = i * 7  # each client starts at another page
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as http:
            while time.monotonic() < deadline and self.issued < self.max_requests:
                self.issued += 1
                label, url = self.url(n)
                n += 1
                during = self.reanalysing
                t0 = time.perf_counter()
                resp = await http.get(url)
                ms = (time.perf_counter() - t0) * 1000
                if resp.status_code != 200:
                    self.errors.append(f"{url}: {resp.status_code}")
                self.samples.append((label, ms, during))

    async def keep_reanalysing(self, deadline: float) -> int:
        """POST a verdict whenever no re-analysis runs; track whether one runs. Returns verdicts posted."""
        import httpx

        posted = 0
        started = 0.0
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as http:
            page = (await http.get("/findings")).text
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
            ids = [f["id"] for f in (await http.get("/findings.json?per_page=500")).json()["findings"]]
            while time.monotonic() < deadline:
                status = (await http.get("/status.json")).json()
                if not status["reanalysing"] and ids:
                    resp = await http.post("/verdict.json", data={"finding_id": ids.pop(), "verdict": "needs_review",
                                                                  "note": "bench", "csrf_token": csrf},
                                           headers={"origin": self.base})
                    resp.raise_for_status()
                    posted += 1
                    self.reanalysing = True
                    started = time.monotonic()
                else:
                    if self.reanalysing and not status["reanalysing"]:
                        self.durations.append(time.monotonic() - started)
                    self.reanalysing = status["reanalysing"]
                await asyncio.sleep(0.1)
        return posted

    async def phase(self, reanalyse: bool) -> int:
        self.issued = 0
        deadline = time.monotonic() + self.seconds
        tasks = [self.client(i, deadline) for i in range(self.clients)]
        posted = 0
        if reanalyse:
            self.reanalysing = True  # from the first verdict on
            posted_task = asyncio.ensure_future(self.keep_reanalysing(deadline))
            await asyncio.sleep(0.5)  # the verdict is in before the clients start
            await asyncio.gather(*tasks)
            posted = await posted_task
        else:
            self.reanalysing = False
            await asyncio.gather(*tasks)
        return posted


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(db: str, clients: int, seconds: float, max_requests: int) -> None:
    import httpx

    store = open_store(db, read_only=True)
    values = {
        "client": [r[0] for r in store.rows("SELECT client FROM rollup_client_hour GROUP BY client "
                                            "ORDER BY sum(queries) DESC, client LIMIT 20")],
        "domain": [r[0] for r in store.rows("SELECT domain FROM findings WHERE domain IS NOT NULL "
                                            "GROUP BY domain ORDER BY max(score) DESC, domain LIMIT 20")]
        or [r[0] for r in store.rows("SELECT registered_domain FROM domain_stats ORDER BY queries DESC LIMIT 20")],
    }
    store.close()
    with tempfile.TemporaryDirectory(prefix="netsift-bench-") as tmp:
        copy = os.path.join(tmp, "load.duckdb")
        shutil.copy(db, copy)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, __file__, "--db", copy, "--serve", str(port)])
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(base + "/status.json", timeout=5).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the dashboard did not start") from None
                    time.sleep(0.2)
            run = LoadRun(base, clients, seconds, max_requests, values)
            for n in range(len(LOAD_PAGES) * 3):  # warm up: each page a few times, one client
                httpx.get(base + run.url(n)[1], timeout=60).raise_for_status()
            results = {}
            for name, reanalyse in (("idle", False), ("during re-analysis", True)):
                run.samples = []
                t0 = time.monotonic()
                posted = asyncio.run(run.phase(reanalyse))
                elapsed = time.monotonic() - t0
                kept = [(label, ms) for label, ms, during in run.samples if during or not reanalyse]
                results[name] = kept
                print(f"\n{name}: {clients} clients, {len(run.samples)} requests in {elapsed:.0f} s "
                      f"({len(run.samples) / elapsed:.0f}/s), {len(kept)} counted"
                      + (f", {posted} verdicts posted, re-analyses ended after "
                         f"{', '.join(f'{d:.0f}' for d in run.durations) or '-'} s" if reanalyse else "")
                      + (f", {len(run.errors)} errors: {run.errors[:3]}" if run.errors else ""))
                print(f"{'page':<22} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
                for label in [*LOAD_PAGES, "all"]:
                    times = [ms for lab, ms in kept if lab == label or label == "all"]
                    if times:
                        flag = "" if percentile(times, 0.95) < 300 else "  (over 300 ms)"
                        print(f"{label:<22} {len(times):6d} {statistics.median(times):8.0f} "
                              f"{percentile(times, 0.95):8.0f} {max(times):8.0f}{flag}")
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:  # a re-analysis still running: the server waits for it
                server.kill()
                server.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="bench-web.duckdb")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--load", type=int, metavar="CLIENTS", help="concurrent clients over real HTTP (e.g. 16)")
    ap.add_argument("--seconds", type=float, default=30, help="length of each load phase")
    ap.add_argument("--max", type=int, default=50_000, help="at most this many requests per load phase")
    ap.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.db, args.serve)
        return
    if not Path(args.db).exists():
        build_store(args.db, args.rows)
    if args.load:
        load(args.db, args.load, args.seconds, args.max)
        return
    results = asyncio.run(time_pages(args.db, args.requests))
    print(f"{'page':<58} {'p50 ms':>8} {'p95 ms':>8}")
    for url, p50, p95 in results:
        flag = "" if p95 < 300 else "  (over 300 ms)"
        print(f"{url:<58} {p50:8.1f} {p95:8.1f}{flag}")


if __name__ == "__main__":
    main()
