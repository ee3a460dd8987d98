#!/usr/bin/env python3
"""`netsift watch` under load: the sustained lines/s it keeps up with, and the delay from a line written to
its alert, beside a batch `netsift ingest` of the same lines measured in the same run.

1. **Rates.** A `netsift watch` process (detection on, the default cadence) follows a Pi-hole log that this
   script appends to at increasing rates (``--rates``, lines/s, each for ``--seconds``; written every 0.1 s
   in whole lines). After each stage it reads the watcher's health (``<db>.watch.json``): the lines stored
   during the stage and the bytes still behind. A rate is *kept up with* when, 2 s after the stage, the
   watcher is less than one second of that rate behind. The sustained rate is the highest kept up with.
2. **Alert delay.** Against a fresh store and a background of ``--background`` lines/s, ``--alerts`` times a
   planted NXDOMAIN storm (one new client asking 300 random names, all NXDOMAIN, written at once) and
   waits for the watcher's alert line about that client: delay = alert seen - storm written. p50/p95.
3. **Baseline.** `netsift ingest` of the log the rates stage wrote, in one go (lines/s).
4. **Store sizes** (``--store-sizes``, rows): a store pre-loaded with that many questions of earlier days
   (a week ending 26 h before now: outside every detector's window; 2 % of them for random unexplained
   domains, so the baseline and the leftovers grow with the store), then the alert delay as in 2 (``--storms``
   storms) with the watcher's default incremental analysis, and again with ``[watch] full_every = 0`` (every
   analysis a full one: the watcher before incremental runs). Per analysis: the median and max time of the
   runs between storms (``analysis_seconds`` of the health), and the first (full) run's.

Not a test: figures depend on the machine (2 cores, shared); the README and docs/watch.md quote them.

    python bench/watch.py                                  # rates 10k..200k lines/s, 10 alerts
    python bench/watch.py --rates 20000,50000 --seconds 5 --alerts 5
    python bench/watch.py --rates '' --alerts 0 --store-sizes 100000,1000000,3000000 --storms 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
NAMES = [f"{w}.{t}" for w in ("google", "apple", "microsoft", "netflix", "amazon", "cloudflare", "github",
                               "office", "icloud", "spotify", "zoom", "slack", "dropbox", "wikipedia")
         for t in ("com", "net", "org")]


def stamp(now: dt.datetime) -> str:
    return f"{now:%b} {now.day:2d} {now:%H:%M:%S}"


def background(n: int, rng: random.Random) -> bytes:
    """``n`` lines of ordinary traffic (query + reply pairs), stamped now."""
    s = stamp(dt.datetime.now(dt.UTC))
    out = []
    for _ in range(n // 2):
        name = f"{rng.choice(('www', 'api', 'cdn', 'img'))}.{rng.choice(NAMES)}"
        client = f"10.0.{rng.randrange(4)}.{rng.randrange(2, 60)}"
        out.append(f"{s} dnsmasq[7]: query[A] {name} from {client}\n"
                   f"{s} dnsmasq[7]: reply {name} is 192.0.2.{rng.randrange(1, 250)}\n")
    return "".join(out).encode()


def storm(client: str, rng: random.Random, count: int = 300) -> bytes:
    s = stamp(dt.datetime.now(dt.UTC))
    out = []
    for _ in range(count):
        name = "".join(rng.choices(string.ascii_lowercase, k=12)) + ".example-storm.net"
        out.append(f"{s} dnsmasq[7]: query[A] {name} from {client}\n{s} dnsmasq[7]: reply {name} is NXDOMAIN\n")
    return "".join(out).encode()


class Watcher:
    def __init__(self, log: Path, db: Path, alerts: Path, *extra: str):
        self.db = db
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "netsift", "watch", str(log), "--db", str(db), "--year", str(dt.date.today().year),
             "--alerts", str(alerts), "--min-severity", "low", *extra],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not self.status().get("sources") and time.monotonic() < deadline:
            time.sleep(0.1)

    def status(self) -> dict:
        try:
            return json.loads(Path(f"{self.db}.watch.json").read_text())
        except (OSError, ValueError):
            return {}

    def stored_offset(self) -> int:
        return sum(s.get("offset", 0) for s in self.status().get("sources", []))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def write_at(log: Path, rate: int, seconds: float, rng: random.Random) -> int:
    """Append ``rate`` lines/s for ``seconds``, every 0.1 s; returns the lines written."""
    per_tick = max(2, rate // 10)
    written = 0
    start = time.monotonic()
    with open(log, "ab") as fh:
        tick = 0
        while time.monotonic() - start < seconds:
            fh.write(background(per_tick, rng))
            fh.flush()
            written += per_tick // 2 * 2
            tick += 1
            pause = start + tick * 0.1 - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    return written


def rates_stage(tmp: Path, rates: list[int], seconds: float, rng: random.Random) -> tuple[list[dict], Path]:
    log, db = tmp / "rates.log", tmp / "rates.duckdb"
    log.write_bytes(background(2000, rng))
    w = Watcher(log, db, tmp / "rates-alerts.ndjson")
    rows = []
    try:
        for rate in rates:
            before_lines = w.status().get("lines", 0)
            t0 = time.monotonic()
            written = write_at(log, rate, seconds, rng)
            took = time.monotonic() - t0
            time.sleep(2.0)
            size = log.stat().st_size
            behind = size - w.stored_offset()
            status = w.status()
            stored = status.get("lines", 0) - before_lines
            bytes_per_line = size / max(1, sum(1 for _ in open(log, "rb")))
            kept = behind < (rate * bytes_per_line)
            rows.append({"rate": rate, "written": written, "seconds": round(took, 1), "stored": stored,
                         "behind_bytes": behind, "behind_lines": int(behind / bytes_per_line), "kept_up": kept,
                         "analysis_seconds": status.get("analysis_seconds"), "rows": status.get("rows")})
            print(json.dumps(rows[-1]), flush=True)
            if not kept:
                # let it catch up before the next stage (or stop: higher rates will not be kept up with)
                break
    finally:
        w.stop()
    return rows, log


def time_storm(w: Watcher, log: Path, alerts: Path, i: int, background_rate: int, rng: random.Random,
               timeout: float, runs: dict[str, float] | None = None) -> float:
    """Plant storm ``i`` (a new client), keep the background going, and return the seconds until the
    watcher's alert about that client (inf when none came within ``timeout``); ``runs`` collects the
    analyses seen meanwhile (last_analysis -> seconds)."""
    client = f"10.9.{i // 200}.{i % 200 + 10}"
    with open(log, "ab") as fh:
        fh.write(storm(client, rng))
    written = time.monotonic()
    while time.monotonic() < written + timeout:
        write_at(log, background_rate, 0.2, rng)
        st = w.status()
        if runs is not None and st.get("last_analysis") and st.get("analysis_seconds") is not None:
            runs[st["last_analysis"]] = st["analysis_seconds"]
        if any(json.loads(line).get("client") == client for line in alerts.read_text().splitlines()):
            return round(time.monotonic() - written, 2)
    return float("inf")


def alert_stage(tmp: Path, count: int, background_rate: int, rng: random.Random) -> list[float]:
    log, db, alerts = tmp / "alerts.log", tmp / "alerts.duckdb", tmp / "alerts.ndjson"
    log.write_bytes(background(4000, rng))
    alerts.write_text("")
    w = Watcher(log, db, alerts)
    delays = []
    try:
        write_at(log, background_rate, 5, rng)  # a baseline of normal traffic first
        for i in range(count):
            delays.append(time_storm(w, log, alerts, i, background_rate, rng, 60))
            print(json.dumps({"storm": i, "delay_s": delays[-1],
                              "analysis_seconds": w.status().get("analysis_seconds")}), flush=True)
    finally:
        w.stop()
    return delays


def history(path: Path, rows: int, rng: random.Random) -> None:
    """``rows`` questions (two lines each) over the week ending 26 h before now, 2 % of them for random
    (unexplained) registered domains."""
    end = dt.datetime.now(dt.UTC) - dt.timedelta(hours=26)
    start = end - dt.timedelta(days=7)
    per = 5000
    with open(path, "w") as fh:
        for i in range(max(1, rows // per)):
            s = stamp(start + (end - start) * i / max(1, rows // per))
            out = []
            for _ in range(per):
                if rng.random() < 0.02:
                    name = "".join(rng.choices(string.ascii_lowercase, k=9)) + rng.choice((".info", ".biz", ".xyz"))
                else:
                    name = f"{rng.choice(('www', 'api', 'cdn', 'img'))}.{rng.choice(NAMES)}"
                client = f"10.0.{rng.randrange(4)}.{rng.randrange(2, 60)}"
                out.append(f"{s} dnsmasq[7]: query[A] {name} from {client}\n"
                           f"{s} dnsmasq[7]: reply {name} is 192.0.2.{rng.randrange(1, 250)}\n")
            fh.write("".join(out))


def store_stage(tmp: Path, rows: int, storms: int, background_rate: int, rng: random.Random) -> list[dict]:
    """Alert delay and analysis time over a store pre-loaded with ``rows`` older questions: incremental
    (the default) and full analyses every time."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    old = tmp / f"history-{rows}.log"
    history(old, rows, rng)
    seed = tmp / f"seed-{rows}.duckdb"
    subprocess.run([sys.executable, "-m", "netsift", "ingest", "-q", str(old), "--db", str(seed), "--year",
                    str(dt.date.today().year)], env=env, check=True)
    old.unlink()
    full_every_run = tmp / "full.toml"
    full_every_run.write_text("[watch]\nfull_every = 0\n")
    out = []
    for mode, extra in (("incremental", ()), ("full every run", ("--config", str(full_every_run)))):
        db, log, alerts = tmp / f"s{rows}-{len(out)}.duckdb", tmp / f"s{rows}-{len(out)}.log", tmp / f"a{rows}-{len(out)}.ndjson"
        shutil.copy(seed, db)
        log.write_bytes(background(4000, rng))
        alerts.write_text("")
        w = Watcher(log, db, alerts, *extra)
        first = None
        try:
            deadline = time.monotonic() + 600
            while w.status().get("last_analysis") is None and time.monotonic() < deadline:
                write_at(log, background_rate, 0.2, rng)
            first = w.status().get("analysis_seconds")
            write_at(log, background_rate, 3, rng)
            delays: list[float] = []
            runs: dict[str, float] = {}  # last_analysis -> its seconds: each analysis once
            for i in range(storms):
                delays.append(time_storm(w, log, alerts, i, background_rate, rng, 120, runs))
        finally:
            w.stop()
        took = sorted(runs.values())
        finite = sorted(x for x in delays if x != float("inf"))
        row = {"rows": rows, "mode": mode, "first_analysis_s": first,
               "analysis_median_s": round(statistics.median(took), 2) if took else None, "analysis_max_s": took[-1] if took else None,
               "p50": round(statistics.median(finite), 2) if finite else None, "p95": pct(finite, 0.95),
               "missed": len(delays) - len(finite)}
        print(json.dumps(row), flush=True)
        out.append(row)
    seed.unlink()
    return out


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def batch_baseline(log: Path, tmp: Path) -> dict:
    db = tmp / "batch.duckdb"
    lines = sum(1 for _ in open(log, "rb"))
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "netsift", "ingest", "-q", str(log), "--db", str(db), "--year",
                    str(dt.date.today().year)], env=env, check=True)
    took = time.monotonic() - t0
    return {"lines": lines, "seconds": round(took, 2), "lines_per_s": int(lines / took)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="10000,25000,50000,100000,200000")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--alerts", type=int, default=10)
    ap.add_argument("--background", type=int, default=2000, help="lines/s around the planted storms")
    ap.add_argument("--store-sizes", default="", help="rows pre-loaded, e.g. 100000,1000000,3000000")
    ap.add_argument("--storms", type=int, default=10, help="storms timed per store size and mode")
    args = ap.parse_args()
    rng = random.Random(7)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="netsift-bench-watch-") as d:
        tmp = Path(d)
        rates, base = [], None
        if args.rates:
            rates, log = rates_stage(tmp, [int(r) for r in args.rates.split(",")], args.seconds, rng)
            base = batch_baseline(log, tmp)
        delays = alert_stage(tmp, args.alerts, args.background, rng) if args.alerts else []
        sizes = [row for n in args.store_sizes.split(",") if n
                 for row in store_stage(tmp, int(n), args.storms, args.background, rng)]
    kept = [r["rate"] for r in rates if r["kept_up"]]
    print()
    print(f"load average at start {load:.1f}; {os.cpu_count()} CPUs")
    print("| appended lines/s | seconds | stored in the stage | behind 2 s after | kept up | analysis s | rows |")
    print("|---|---|---|---|---|---|---|")
    for r in rates:
        print(f"| {r['rate']:,} | {r['seconds']} | {r['stored']:,} | {r['behind_lines']:,} lines | "
              f"{'yes' if r['kept_up'] else 'no'} | {r['analysis_seconds']} | {r['rows']:,} |")
    if base is not None:
        print(f"\nsustained: {max(kept) if kept else 0:,} lines/s; batch `netsift ingest` of the same "
              f"{base['lines']:,} lines: {base['seconds']} s = {base['lines_per_s']:,} lines/s")
    if sizes:
        print("\n| store rows | analysis | first (full) analysis s | per analysis s, median (max) | "
              "line -> alert p50 | p95 | not alerted |")
        print("|---|---|---|---|---|---|---|")
        for r in sizes:
            print(f"| {r['rows']:,} | {r['mode']} | {r['first_analysis_s']} | {r['analysis_median_s']} "
                  f"({r['analysis_max_s']}) | {r['p50']} s | {r['p95']} s | {r['missed']} |")
    if delays:
        finite = sorted(x for x in delays if x != float("inf"))
        missed = len(delays) - len(finite)
        if finite:
            p95 = finite[min(len(finite) - 1, int(round(0.95 * (len(finite) - 1))))]
            print(f"line written -> alert: p50 {statistics.median(finite):.2f} s, p95 {p95:.2f} s, "
                  f"max {finite[-1]:.2f} s over {len(finite)} storms" + (f" ({missed} not alerted in 60 s)" if missed else ""))
        else:
            print("no storm was alerted")


if __name__ == "__main__":
    main()
