#!/usr/bin/env python3
"""Offline enrichment throughput, beside per-item Python baselines measured in the same run.

- geo/AS: ``asn_geo.lookup_ips`` on N distinct random public addresses (95 % IPv4, 5 % IPv6), against
  geoip2fast's own ``GeoIP2Fast.lookup`` called once per address (timed on a sample, rate extrapolated);
- feeds: ``feeds.match_names`` of 100 k distinct names (a fifth of them under listed domains) against the
  shared blocklists when ``../shared/data`` is there (else a synthetic 50 k-entry feed), against a plain
  Python loop that checks every suffix of every name in a set;
- categories: ``categories.match_categories`` of the same names against UT1 (or a synthetic list);
- optionally (``--store-rows 10000000``) the time ``enrich_store`` adds to an analysis of a store with that
  many dns_queries rows (DuckDB in memory, 200 k distinct names, 100 k distinct answer IPs; domain_names
  is left empty, so registered domains are derived inside the step).

Load times (geoip2fast tables, feed files) are printed apart from lookup rates. Not a test: figures
depend on the machine.

    python bench/enrich.py
    python bench/enrich.py --ips 1000000 --names 100000 --store-rows 10000000
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import resource
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = ROOT.parent / "shared" / "data"

from netsift.enrich import annotate, asn_geo, categories, feeds


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def random_ips(n: int, rng: random.Random) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        if rng.random() < 0.95:
            first = rng.randint(1, 223)
            if first in (10, 127):
                continue
            out.add(f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
        else:
            out.add(str(ipaddress.IPv6Address((1 << 125) | rng.getrandbits(125))))
    return list(out)


def bench_geo(n: int, rng: random.Random) -> None:
    ips = random_ips(n, rng)
    db, load = timed(asn_geo.offline)
    print(f"geo/AS   load geoip2fast tables once: {load:.2f} s")
    frame, secs = timed(lambda: asn_geo.lookup_ips(ips))
    print(f"geo/AS   netsift vectorised   {n:>9,} IPs  {secs:6.2f} s  {n / secs:>12,.0f} lookups/s "
          f"({frame['country'].is_not_null().sum():,} located)")
    sample = ips[: min(n, 100_000)]
    _, ref = timed(lambda: [db.reference.lookup(ip) for ip in sample])
    print(f"geo/AS   geoip2fast per IP    {len(sample):>9,} IPs  {ref:6.2f} s  {len(sample) / ref:>12,.0f} lookups/s")


def load_sources(rng: random.Random):
    if SHARED.is_dir():
        bl = SHARED / "blocklists"
        feed_list = [feeds.load_feed(bl / "stamparm_blackbook.csv", name="blackbook"),
                     feeds.load_feed(bl / "urlhaus-filter-hosts_2025-07-19.txt", name="urlhaus")]
        feed_list += [feeds.load_feed(p, kind="suspicious") for p in sorted((bl / "maltrail").glob("*.txt"))]
        cats = [categories.load_categories(SHARED / "categorisation" / "ut1", source="ut1")]
        return feed_list, cats, "shared samples"
    entries = pl.DataFrame({"domain": [f"bad{i}.example{i % 97}.com" for i in range(50_000)],
                            "family": [None] * 50_000}, schema={"domain": pl.String, "family": pl.String})
    cat_entries = pl.DataFrame({"domain": [f"site{i}.cat{i % 13}.net" for i in range(50_000)],
                                "category": [f"cat{i % 13}" for i in range(50_000)]})
    return [feeds.Feed("synthetic", "malicious", entries)], [categories.CategoryList("synthetic", cat_entries)], \
        "synthetic lists"


def random_names(n: int, listed: list[str], rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    out: set[str] = set()
    while len(out) < n:
        label = "".join(rng.choice(letters) for _ in range(rng.randint(3, 12)))
        if rng.random() < 0.2:
            out.add(f"{label}.{rng.choice(listed)}")
        else:
            out.add(f"{label}.{'www.' if rng.random() < 0.3 else ''}host{rng.randint(0, 50000)}.com")
    return list(out)


def python_suffix_loop(names: list[str], listed: set[str]) -> int:
    hits = 0
    for name in names:
        labels = name.split(".")
        for i in range(len(labels) - 1):
            if ".".join(labels[i:]) in listed:
                hits += 1
                break
    return hits


def bench_matching(n: int, rng: random.Random):
    (feed_list, cats, what), load = timed(lambda: load_sources(rng))
    entries = sum(f.entries.height for f in feed_list)
    cat_entries = sum(c.entries.height for c in cats)
    print(f"lists    load {what}: {entries:,} feed entries, {cat_entries:,} category entries in {load:.2f} s")
    listed = pl.concat([f.entries["domain"] for f in feed_list]).unique().sort().to_list()
    names = random_names(n, listed, rng)
    hits, secs = timed(lambda: feeds.match_names(names, feed_list))
    print(f"feeds    netsift vectorised   {n:>9,} names {secs:6.2f} s  {n / secs:>12,.0f} names/s "
          f"({hits['name'].n_unique():,} names hit)")
    listed_set = set(listed)
    base_hits, base = timed(lambda: python_suffix_loop(names, listed_set))
    print(f"feeds    Python set loop      {n:>9,} names {base:6.2f} s  {n / base:>12,.0f} names/s "
          f"({base_hits:,} names hit)")
    cat_hits, secs = timed(lambda: categories.match_categories(names, cats))
    print(f"category netsift vectorised   {n:>9,} names {secs:6.2f} s  {n / secs:>12,.0f} names/s "
          f"({cat_hits['name'].n_unique():,} names categorised)")
    return feed_list, cats


def bench_store(rows: int, feed_list, cats) -> None:
    from netsift.store import open_store

    store = open_store(":memory:")
    # 200 k distinct names under 20 k domains; each name always answers the same one of 100 k public IPs
    _, build = timed(lambda: store.execute(f"""
        INSERT INTO dns_queries
        SELECT TIMESTAMP '2026-01-01' + to_microseconds(i * 1000), '10.0.' || (i % 250) || '.' || (i % 200),
               'n' || n || '.d' || (n % 20000) || '.example', 'A', 'NOERROR',
               [(11 + (n % 100000) // 65536) || '.' || ((n % 100000) // 256 % 256) || '.' || (n % 256) || '.7'],
               NULL, 1, i
        FROM (SELECT i, hash(i) % 200000 AS n FROM range({rows}) t(i))"""))
    print(f"store    built {rows:,} dns_queries rows in {build:.1f} s")
    summary, secs = timed(lambda: annotate.enrich_store(store, feeds=feed_list, categories=cats))
    print(f"store    enrich_store on {rows:,} rows ({summary.names:,} names, {summary.ips:,} IPs): {secs:.2f} s")
    _, secs = timed(lambda: annotate.feed_hit_findings(store) + annotate.shared_infrastructure(store))
    print(f"store    feed_hit + shared_infrastructure findings: {secs:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ips", type=int, default=1_000_000)
    parser.add_argument("--names", type=int, default=100_000)
    parser.add_argument("--store-rows", type=int, default=0, help="also time enrich_store on a store this big")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bench_geo(args.ips, rng)
    feed_list, cats = bench_matching(args.names, rng)
    if args.store_rows:
        bench_store(args.store_rows, feed_list, cats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
