#!/usr/bin/env python3
"""Logon ingest throughput and peak memory, beside baselines measured in the same run.

Auth logs: generates an auth.log of ``--lines`` lines (sshd failed/accepted/invalid user/pre-auth
disconnects, PAM failures, sudo, in the proportions of an internet-facing server) and times, each in a
fresh process under /usr/bin/time:

- a plain Python regex loop   ``for line in f: rx.match(line)``: one regex extracting stamp, host, program,
                              user and address from the sshd lines, storing nothing (an analyst's script)
- ``netsift ingest``          detect, parse every message form, store in a new DuckDB file

EVTX: there is no EVTX writer, so the records/s of the EVTX path are measured in one process on the
real samples given (``--evtx FILE...``; default: the two samples in ``$NETSIFT_SAMPLES/windows_events``
or ``../shared/data/windows_events``), each parsed ``--evtx-repeat`` times through
``formats/windows_evtx.parse_stream`` (records to logon_events rows, no store), beside the ``evtx``
library alone (``records_json()`` and ``json.loads`` of every record: the floor of any Python use of it).
The XML export path is timed end to end with ``netsift ingest`` on a generated dc01 Security log of
``--xml-events`` events. Hayabusa (Rust) analyses about 18 k events/s.

Each measurement runs ``--repeat`` times, interleaved; the median is printed with the spread. Not a test:
figures depend on the machine; the README quotes them.

    python bench/logons.py                             # 1 M auth lines, the EVTX samples, 200 k XML events
    python bench/logons.py --lines 2000000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import REGEX_LOOP, timed  # noqa: E402

# the baseline loop of bench/ingest.py (one regex per line, fields extracted, nothing stored), on sshd lines
SSHD_PATTERN = (r"^(\w{3} [ \d]\d [\d:]{8}) (\S+) sshd\[\d+\]: (?:Failed|Accepted|Invalid user) (?:\S+ for )?"
                r"(?:invalid user )?(\S+) from (\S+)")

EVTX_FLOOR = r'''
import json, sys, evtx
n = 0
for _ in range(int(sys.argv[1])):
    for path in sys.argv[2:]:
        for r in evtx.PyEvtxParser(path, number_of_threads=1).records_json():
            json.loads(r["data"])
            n += 1
print(n)
'''

EVTX_NETSIFT = r'''
import itertools, sys, evtx
from netsift.ingest.formats import windows_evtx
# the samples' records, read again and again as one long log (what parse_stream does with a large file)
records = itertools.chain.from_iterable(evtx.PyEvtxParser(p, number_of_threads=1).records_json()
                                        for _ in range(int(sys.argv[1])) for p in sys.argv[2:])
units = rows = 0
for result in windows_evtx.results_of(records):
    units += result.lines_accounted
    rows += result.records.height
print(units, rows)
'''


def auth_log(path: Path, lines: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    t = datetime(2026, 3, 1)
    users = ["root", "admin", "test", "oracle", "ubuntu", "deploy", "git", "postgres"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            t += timedelta(seconds=rng.random() * 2)
            stamp = f"{t:%b} {t.day:2d} {t:%H:%M:%S}"
            ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            port, pid, user = rng.randint(1024, 65535), 1000 + i % 30000, rng.choice(users)
            k = rng.random()
            if k < 0.35:
                msg = f"sshd[{pid}]: Failed password for {user} from {ip} port {port} ssh2"
            elif k < 0.55:
                msg = f"sshd[{pid}]: Invalid user {user} from {ip} port {port}"
            elif k < 0.70:
                msg = f"sshd[{pid}]: Connection closed by authenticating user {user} {ip} port {port} [preauth]"
            elif k < 0.80:
                msg = (f"sshd[{pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
                       f"ruser= rhost={ip}  user={user}")
            elif k < 0.88:
                msg = f"sshd[{pid}]: Received disconnect from {ip} port {port}:11: Bye Bye [preauth]"
            elif k < 0.93:
                msg = f"sshd[{pid}]: Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:abc"
            elif k < 0.96:
                msg = f"sudo:     {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/id"
            else:
                msg = f"CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"
            out.write(f"{stamp} web1 {msg}\n")


def median_line(name: str, runs: list[tuple[float, float, str]], units: int, unit: str, base: float | None) -> float:
    secs = [r[0] for r in runs]
    med = statistics.median(secs)
    rate = units / med if med else float("inf")
    spread = (max(secs) - min(secs)) / med * 100 if med else 0
    vs = f"  {rate / base:5.2f}x the baseline" if base else ""
    print(f"  {name:34s} {rate:12,.0f} {unit}/s  {med:7.2f} s (±{spread:4.1f} %)  peak RSS {max(r[1] for r in runs):5.0f} MiB{vs}")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--xml-events", type=int, default=200_000)
    ap.add_argument("--evtx", nargs="*", default=None)
    ap.add_argument("--evtx-repeat", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        log = d / "auth.log"
        auth_log(log, args.lines)
        print(f"auth.log: {args.lines:,} lines, {log.stat().st_size / 1e6:.0f} MB")
        loop, ours = [], []
        for i in range(args.repeat):
            loop.append(timed([py, "-c", REGEX_LOOP, str(log), SSHD_PATTERN]))
            db = d / f"a{i}.duckdb"
            ours.append(timed([py, "-m", "netsift", "ingest", "-q", "--year", "2026", "--db", str(db), str(log)]))
        base = median_line("plain regex loop (match only)", loop, args.lines, "lines", None)
        median_line("netsift ingest (linux_auth)", ours, args.lines, "lines", base)

        samples = args.evtx
        if samples is None:
            where = Path(os.environ.get("NETSIFT_SAMPLES", ROOT.parent / "shared" / "data")) / "windows_events"
            samples = [str(p) for p in sorted(where.glob("*.evtx"))]
        if samples:
            floor, mine = [], []
            for _ in range(args.repeat):
                floor.append(timed([py, "-c", EVTX_FLOOR, str(args.evtx_repeat), *samples]))
                mine.append(timed([py, "-c", EVTX_NETSIFT, str(args.evtx_repeat), *samples]))
            records = int(floor[0][2].split()[0])
            print(f"EVTX: {len(samples)} sample(s) parsed {args.evtx_repeat:,} times, {records:,} records")
            base = median_line("evtx library alone (json.loads)", floor, records, "records", None)
            median_line("netsift windows_evtx (to rows)", mine, records, "records", base)
            print(f"  (Hayabusa: about 18,000 events/s)")
        else:
            print("EVTX: no samples (give --evtx FILE...)")

        from netsift.synth.logons import security_events
        xml = d / "security.xml"
        events: list[str] = []
        day = 0
        while len(events) < args.xml_events:
            events += security_events(day + 1, datetime(2026, 3, 2) + timedelta(days=7 * day), 5)
            day += 1
        events = events[: args.xml_events]
        xml.write_text("<Events>\n" + "\n".join(events) + "\n</Events>\n", encoding="utf-8")
        runs = [timed([py, "-m", "netsift", "ingest", "-q", "--db", str(d / f"x{i}.duckdb"), str(xml)])
                for i in range(args.repeat)]
        print(f"XML export: {len(events):,} events, {xml.stat().st_size / 1e6:.0f} MB")
        median_line("netsift ingest (windows_xml)", runs, len(events), "events", None)


if __name__ == "__main__":
    main()
