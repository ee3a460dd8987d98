#!/usr/bin/env python3
"""Ingest throughput and peak memory, beside baselines measured in the same run.

Generates Pi-hole and Zeek TSV logs (1 M and 10 M lines by default) with netsift's synthetic writer, then
times, each in a fresh process under /usr/bin/time:

- ``wc -l``                        the floor: reading the bytes and counting newlines
- a plain Python regex loop        ``for line in f: rx.match(line)`` extracting the same fields, no storage
- ``netsift ingest``               detect, parse, join, store in DuckDB (a fresh database file)

and prints lines/s, MB/s and peak RSS. Not a test: figures depend on the machine; the README quotes them.

    python bench/ingest.py                      # 1 M and 10 M lines, pihole and zeek_tsv
    python bench/ingest.py --lines 1000000 --formats pihole
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

# The baseline loop: what an analyst's quick script does. One regex per line, fields extracted.
REGEX_LOOP = r'''
import re, sys
rx = re.compile(sys.argv[2])
n = m = 0
with open(sys.argv[1], encoding="utf-8", errors="replace") as fh:
    for line in fh:
        n += 1
        if rx.match(line):
            m += 1
print(n, m)
'''
PATTERNS = {
    "pihole": r"^(\w{3}\s+\d+ [\d:]{8}) dnsmasq\[\d+\]: (?:\d+ \S+ )?(query\[\w+\]|forwarded|reply|cached|"
              r"cached-stale|gravity blocked|regex denied|exactly denied|config) (\S+) (?:from|to|is) (\S+)",
    "zeek_tsv": r"^([\d.]+)\t(\S+)\t(\S+)\t(\d+)\t(\S+)\t(\d+)\t(\w+)\t(\S+)\t(\S+)\t([^\t]+)\t",
}


def generate(fmt: str, lines: int) -> Path:
    from netsift.synth.writers import write_lines_fast

    OUT.mkdir(exist_ok=True)
    path = OUT / f"{fmt}_{lines // 1_000_000}M.log"
    stamp = path.with_suffix(".ok")
    if not (path.exists() and stamp.exists()):
        print(f"generating {path.name} ...", file=sys.stderr)
        write_lines_fast(fmt, path, lines, seed=1)
        stamp.write_text("ok")
    return path


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB, stdout) of one command in a fresh process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", tf.name, *cmd], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
        seconds, kib = tf.read().split()[-2:]
    return float(seconds), int(kib) / 1024, proc.stdout


def count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", default="1000000,10000000", help="comma-separated line counts")
    ap.add_argument("--formats", default="pihole,zeek_tsv")
    args = ap.parse_args()
    rows = []
    for fmt in args.formats.split(","):
        for n in (int(x) for x in args.lines.split(",")):
            path = generate(fmt, n)
            lines = count_lines(path)
            mb = path.stat().st_size / 1e6
            db = OUT / "bench.duckdb"
            for suffix in ("", ".wal"):
                Path(str(db) + suffix).unlink(missing_ok=True)
            runs = {
                "wc -l": ["wc", "-l", str(path)],
                "python regex loop": [sys.executable, "-c", REGEX_LOOP, str(path), PATTERNS[fmt]],
                "netsift ingest": [sys.executable, "-m", "netsift", "ingest", "--quiet", "--db", str(db),
                                   "--year", "2026", str(path)],
            }
            results = {name: timed(cmd) for name, cmd in runs.items()}
            loop_s = results["python regex loop"][0]
            for name, (s, rss, _) in results.items():
                rows.append((fmt, f"{lines:,}", f"{mb:,.0f}", name, f"{s:.2f}", f"{lines / s / 1e6:.2f} M",
                             f"{mb / s:,.0f}", f"{rss:,.0f}", f"{loop_s / s:.1f}x"))
            for suffix in ("", ".wal"):
                Path(str(db) + suffix).unlink(missing_ok=True)
    header = ("format", "lines", "MB", "tool", "seconds", "lines/s", "MB/s", "peak RSS MiB", "vs regex loop")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    for r in [header, *rows]:
        print("  ".join(str(c).rjust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
