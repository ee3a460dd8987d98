#!/usr/bin/env python3
"""Ingest and analyze on DuckDB and on chdb (ClickHouse in-process), side by side in one run (not a test).

One Zeek TSV log of ``--rows`` DNS questions (10 M by default; netsift's synthetic writer, one question a
line, cached in bench/out) is read into a fresh store of each kind, then analysed (baseline, every
detector, offline enrichment, rollups). Ingest and analyze each run in a fresh process under
/usr/bin/time; the stores alternate, ``--repeat`` times (median shown). Printed per store: ingest rows/s and
peak RSS, analyze seconds and peak RSS, each producer's seconds, and the store's size on disk (bytes per
row).

    python bench/store.py                       # 10 M rows
    python bench/store.py --rows 1000000 --repeat 1 --stores duckdb,chdb
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import generate, timed  # noqa: E402  (bench/ingest.py: the log and the timed child process)

CHILD = r'''
import json, sys, time, dataclasses
from netsift import pipeline, producers
from netsift.store import open_store
phase, target, log = sys.argv[1:4]
store = open_store(target)
out = {}
t = time.perf_counter()
if phase == "ingest":
    summary = pipeline.ingest(store, [log])
    out["rows"] = sum(f.rows for f in summary.files)
else:
    times = {}
    def timed(p):
        def run(s, settings):
            t0 = time.perf_counter()
            try:
                return p.run(s, settings)
            finally:
                times[p.kind] = time.perf_counter() - t0
        return dataclasses.replace(p, run=run)
    producers.REGISTRY = tuple(timed(p) for p in producers.REGISTRY)
    analysis = pipeline.analyze(store, pipeline.AnalysisOptions(remember_inputs=False))
    out["findings"] = len(analysis.findings)
    out["producers"] = times
out["seconds"] = time.perf_counter() - t
store.close()
print(json.dumps(out))
'''


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def one_run(kind: str, log: Path, work: Path) -> dict:
    path = work / ("s.duckdb" if kind == "duckdb" else "chdb")
    for p in (path, Path(str(path) + ".wal")):
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    target = str(path) if kind == "duckdb" else f"chdb:{path}"
    _, ingest_rss, out = timed([sys.executable, "-c", CHILD, "ingest", target, str(log)])
    ingested = json.loads(out.strip().splitlines()[-1])
    _, analyze_rss, out = timed([sys.executable, "-c", CHILD, "analyze", target, str(log)])
    analysed = json.loads(out.strip().splitlines()[-1])
    return {"rows": ingested["rows"], "ingest_s": ingested["seconds"], "ingest_rss": ingest_rss,
            "analyze_s": analysed["seconds"], "analyze_rss": analyze_rss, "findings": analysed["findings"],
            "producers": analysed["producers"], "bytes": size_of(path)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="DNS questions in the log")
    ap.add_argument("--stores", default="duckdb,chdb", help="comma-separated: duckdb, chdb")
    ap.add_argument("--repeat", type=int, default=1, help="runs per store, interleaved (median shown)")
    ap.add_argument("--work", default=None, help="directory for the stores (default: a temporary one)")
    args = ap.parse_args()
    log = generate("zeek_tsv", args.rows)
    kinds = args.stores.split(",")
    work = Path(args.work or tempfile.mkdtemp(prefix="netsift-bench-store-"))
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    for _ in range(args.repeat):
        for kind in kinds:
            runs[kind].append(one_run(kind, log, work))
            print(f"{kind}: {json.dumps(runs[kind][-1])}", file=sys.stderr)
    med = {k: {key: statistics.median(r[key] for r in rs) for key in
               ("rows", "ingest_s", "ingest_rss", "analyze_s", "analyze_rss", "findings", "bytes")}
           for k, rs in runs.items()}
    producers = sorted({p for rs in runs.values() for r in rs for p in r["producers"]})
    rows = [["", *kinds],
            ["rows", *(f"{med[k]['rows']:,.0f}" for k in kinds)],
            ["ingest s", *(f"{med[k]['ingest_s']:.1f}" for k in kinds)],
            ["ingest rows/s", *(f"{med[k]['rows'] / med[k]['ingest_s']:,.0f}" for k in kinds)],
            ["ingest peak RSS MiB", *(f"{med[k]['ingest_rss']:,.0f}" for k in kinds)],
            ["analyze s", *(f"{med[k]['analyze_s']:.1f}" for k in kinds)],
            ["analyze peak RSS MiB", *(f"{med[k]['analyze_rss']:,.0f}" for k in kinds)],
            ["findings", *(f"{med[k]['findings']:.0f}" for k in kinds)],
            ["store bytes/row", *(f"{med[k]['bytes'] / max(med[k]['rows'], 1):.1f}" for k in kinds)]]
    for p in producers:
        rows.append([f"  {p} s", *(f"{statistics.median(r['producers'].get(p, 0.0) for r in runs[k]):.2f}"
                                   for k in kinds)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
