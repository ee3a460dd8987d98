#!/usr/bin/env python3
"""Ingest throughput and peak memory, beside baselines measured in the same run.

Generates Pi-hole and Zeek TSV logs (1 M, 2 M and 10 M lines by default) with netsift's synthetic writer,
then times, each in a fresh process under /usr/bin/time:

- ``wc -l``                        the floor: reading the bytes and counting newlines
- a plain Python regex loop        ``for line in f: rx.match(line)`` extracting the same fields, no storage
- ``netsift ingest``               detect, parse, join, store in DuckDB (a fresh database file), derive names
- DuckDB storing the same rows     the store's own floor: the rows netsift stored, exported to Parquet once,
                                   inserted into a fresh database with the same table (both cores, no parsing)

Python caches the compiled modules (in ``bench/out/pycache``, after one untimed warm-up ingest), as an
installed package has them. Each is run ``--repeat`` times (3 by default), interleaved, and the median is
shown (wall and CPU seconds), with the spread
between runs: this machine is shared and a single run can be 15 % off. Prints lines/s, MB/s, peak RSS,
the speed against the regex loop and, for netsift, its rate against its rate on the largest log (the target:
80 % at 1 M and 2 M lines).

Then the per-file cost (``--small``, Pi-hole): the 1 M-line log cut into 100 files of 10 k lines, ingested
in one run (a directory), against the same 1 M lines as one file, interleaved (the target: within 1.5x);
and the start-up every run pays (``netsift ingest --help``: Python, imports, no work).

Not a test: figures depend on the machine; the README quotes them.

    python bench/ingest.py                      # 1 M, 2 M and 10 M lines, pihole and zeek_tsv; 100 x 10 k
    python bench/ingest.py --lines 1000000,2000000 --formats pihole --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
SRC = Path(__file__).resolve().parents[1] / "src"
RATE_TARGET = 0.8  # issue 12: at 1 M and 2 M lines, at least 80 % of the 10 M-line rate
SMALL_TARGET = 1.5  # and 100 files of 10 k lines within 1.5x one file of 1 M lines

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
# The store's floor: the same rows, inserted by DuckDB alone into the same table in a new file.
STORE_ONLY = r'''
import sys, duckdb
from netsift.schema import DNS_QUERIES, duckdb_ddl
con = duckdb.connect(sys.argv[2])
con.execute(duckdb_ddl(DNS_QUERIES))
con.execute("INSERT INTO dns_queries SELECT * FROM read_parquet(?)", [sys.argv[1]])
con.close()
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
    """(seconds, peak RSS MiB, stdout) of one command in a fresh process, with this checkout's src/ first on
    the path (the code measured is the code beside the bench, whatever netsift is installed)."""
    seconds, _, rss, out = measured(cmd)
    return seconds, rss, out


def measured(cmd: list[str]) -> tuple[float, float, float, str]:
    """(seconds, CPU seconds (user + system), peak RSS MiB, stdout) of one command, as :func:`timed`. The CPU
    seconds move less than the wall time on a machine shared with other work."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
           # compiled modules cached as an installed package has them (an environment with
           # PYTHONDONTWRITEBYTECODE would compile netsift's ~50 modules in every run, ~55 ms)
           "PYTHONPYCACHEPREFIX": str(OUT / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name, *cmd], capture_output=True,
                              text=True, env=env)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
        seconds, user, system, kib = tf.read().split()[-4:]
    return float(seconds), float(user) + float(system), int(kib) / 1024, proc.stdout


def warm_up() -> None:
    """One small ingest, untimed: the modules every run imports are compiled and cached (see measured)."""
    OUT.mkdir(exist_ok=True)
    log, db = OUT / "warm.log", OUT / "warm.duckdb"
    log.write_text("".join(f"Dec  3 04:00:{i % 60:02d} dnsmasq[1]: query[A] host{i}.example.com from 10.0.0.1\n"
                           for i in range(100)))
    measured([sys.executable, "-m", "netsift", "ingest", "--quiet", "--db", str(fresh(db)), "--year", "2026",
              str(log)])
    fresh(db)
    log.unlink()


def count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b""))


def export_rows(db: Path, parquet: Path) -> None:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"COPY (SELECT * FROM dns_queries) TO '{parquet}' (FORMAT parquet)")
    con.close()


def fresh(db: Path) -> Path:
    for suffix in ("", ".wal"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", default="1000000,2000000,10000000", help="comma-separated line counts")
    ap.add_argument("--formats", default="pihole,zeek_tsv")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the median is shown")
    ap.add_argument("--small", type=int, default=100, help="files of the many-small-files case (0: skip it)")
    args = ap.parse_args()
    rows: list[list[str]] = []
    rates: dict[tuple[str, int], float] = {}
    warm_up()
    load_at_start = os.getloadavg()[0]
    for fmt in args.formats.split(","):
        for n in (int(x) for x in args.lines.split(",")):
            path = generate(fmt, n)
            lines = count_lines(path)
            mb = path.stat().st_size / 1e6
            db, floor_db, parquet = OUT / "bench.duckdb", OUT / "floor.duckdb", OUT / "rows.parquet"
            runs = {
                "wc -l": ["wc", "-l", str(path)],
                "python regex loop": [sys.executable, "-c", REGEX_LOOP, str(path), PATTERNS[fmt]],
                "netsift ingest": [sys.executable, "-m", "netsift", "ingest", "--quiet", "--db", str(db),
                                   "--year", "2026", str(path)],
                "duckdb: store the same rows": [sys.executable, "-c", STORE_ONLY, str(parquet), str(floor_db)],
            }
            results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in runs}
            for _ in range(args.repeat):
                for name, cmd in runs.items():
                    fresh(floor_db if name.startswith("duckdb") else db)
                    if name.startswith("duckdb") and not parquet.exists():
                        export_rows(db, parquet)
                    seconds, cpu, rss, _ = measured(cmd)
                    results[name].append((seconds, cpu, rss))
            loop_s = statistics.median(s for s, _, _ in results["python regex loop"])
            for name, runs_of in results.items():
                times = sorted(s for s, _, _ in runs_of)
                s = max(statistics.median(times), 0.01)  # /usr/bin/time counts hundredths
                spread = f"{times[0]:.2f}–{times[-1]:.2f}" if len(times) > 1 else ""
                cpu = statistics.median(c for _, c, _ in runs_of)
                rows.append([fmt, f"{lines:,}", f"{mb:,.0f}", name, f"{s:.2f}", spread, f"{cpu:.2f}",
                             f"{lines / s / 1e6:.2f} M", f"{mb / s:,.0f}", f"{max(r for _, _, r in runs_of):,.0f}",
                             f"{loop_s / s:.1f}x", ""])
                if name == "netsift ingest":
                    rates[(fmt, lines)] = lines / s
            for path_ in (fresh(db), fresh(floor_db), parquet):
                path_.unlink(missing_ok=True)
    for row in rows:  # netsift's rate against its rate on the format's largest log
        fmt, lines = row[0], int(row[1].replace(",", ""))
        largest = max((n for f, n in rates if f == fmt), default=None)
        if row[3] == "netsift ingest" and largest:
            row[11] = f"{rates[(fmt, lines)] / rates[(fmt, largest)]:.0%} of {largest / 1e6:g} M"
            if lines != largest:
                row[11] += f" (target {RATE_TARGET:.0%})"
    header = ["format", "lines", "MB", "tool", "seconds", "runs", "CPU s", "lines/s", "MB/s", "peak RSS MiB",
              "vs regex loop", "netsift rate"]
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; median of {args.repeat} run(s); "
          f"load average (1 min) at the start {load_at_start:.1f}, at the end {os.getloadavg()[0]:.1f}")
    table([header, *rows])
    if args.small:
        print()
        table(many_small_files(args.small, args.repeat))


def table(rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(r, widths)))


def many_small_files(files: int, repeat: int) -> list[list[str]]:
    """The per-file cost: the 1 M-line Pi-hole log as ``files`` files of equal line counts (a directory,
    one run) against the same lines as one file; interleaved, fresh processes, fresh databases."""
    warm_up()
    whole = generate("pihole", 1_000_000)
    lines = count_lines(whole)
    parts = OUT / f"pihole_1M_in_{files}"
    if not (parts / ".ok").exists():
        parts.mkdir(exist_ok=True)
        per = -(-lines // files)
        with open(whole, "rb") as fh:
            for i in range(files):
                with open(parts / f"part{i:04d}.log", "wb") as part_fh:
                    part_fh.writelines(line for _, line in zip(range(per), fh))
        (parts / ".ok").write_text("ok")
    os.utime(whole, (0, 0))  # old files: no last line is held back, in either case
    for part in parts.glob("*.log"):
        os.utime(part, (0, 0))
    db = OUT / "small.duckdb"
    cases = {f"1 file of {lines:,} lines": str(whole), f"{files} files of {lines // files:,} lines": str(parts)}
    got: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    load_at_start = os.getloadavg()[0]
    for _ in range(repeat):
        for name, target in cases.items():
            fresh(db)
            seconds, cpu, _, _ = measured([sys.executable, "-m", "netsift", "ingest", "--quiet", "--db", str(db),
                                           "--year", "2026", target])
            got[name].append((seconds, cpu))
    fresh(db)
    one = statistics.median(s for s, _ in got[next(iter(cases))])
    one_cpu = statistics.median(c for _, c in got[next(iter(cases))])
    out = [["pihole", "seconds", "runs", "CPU s", "fixed cost per extra file", "vs one file",
            "CPU vs one file"]]
    for name, runs_of in got.items():
        times = [s for s, _ in runs_of]
        s, cpu = statistics.median(times), statistics.median(c for _, c in runs_of)
        first = name == next(iter(cases))
        extra = f"{(s - one) / (files - 1) * 1000:.0f} ms" if not first else ""
        out.append([name, f"{s:.2f}", f"{min(times):.2f}–{max(times):.2f}", f"{cpu:.2f}", extra,
                    f"{s / one:.2f}x" + ("" if first else f" (target {SMALL_TARGET:g}x)"),
                    "" if first else f"{cpu / one_cpu:.2f}x"])
    startup = [measured([sys.executable, "-m", "netsift", "ingest", "--help"]) for _ in range(repeat)]
    times = [s for s, _, _, _ in startup]
    out.append(["start-up: netsift ingest --help", f"{statistics.median(times):.2f}",
                f"{min(times):.2f}–{max(times):.2f}", f"{statistics.median(c for _, c, _, _ in startup):.2f}", "",
                "", ""])
    print(f"many small files: load average (1 min) at the start {load_at_start:.1f}, at the end "
          f"{os.getloadavg()[0]:.1f}")
    return out


if __name__ == "__main__":
    main()
