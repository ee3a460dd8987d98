"""A watcher killed with -9 mid-stream and started again loses nothing and doubles nothing: the store ends
up with the rows a batch ingest of the same lines gives (a real `netsift watch` subprocess, a real SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from netsift.ingest.plan import IngestOptions
from netsift.ingest.run import ingest_paths
from netsift.store import open_store
from tests.watch.lines import pihole_lines, rows

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _start(log: Path, db: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen([sys.executable, "-m", "netsift", "watch", str(log), "--db", str(db), "--year", "2026",
                             "--no-detect", "--poll", "0.05"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _status(db: Path) -> dict:
    try:
        return json.loads(Path(f"{db}.watch.json").read_text())
    except (OSError, ValueError):
        return {}


def _wait(pred, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_kill_9_mid_stream_then_restart_equals_a_batch_ingest(tmp_path):
    log, db = tmp_path / "pihole.log", tmp_path / "w.duckdb"
    everything: list[str] = []
    log.write_text("")

    def write(start: int, count: int) -> None:
        lines = pihole_lines(start, count)
        everything.extend(lines)
        with open(log, "a") as fh:
            fh.write("".join(lines))

    proc = _start(log, db)
    try:
        _wait(lambda: _status(db).get("sources") is not None)
        for i in range(40):  # a stream of bursts; the kill lands while the watcher is storing them
            write(i * 500, 500)
            time.sleep(0.02)
        _wait(lambda: _status(db).get("rows", 0) > 0)
        write(20_000, 3000)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        write(23_000, 2000)  # written while no watcher runs
        os.unlink(f"{db}.watch.json")
        proc = _start(log, db)
        _wait(lambda: _status(db).get("sources") is not None)
        write(25_000, 1000)
        size = log.stat().st_size
        _wait(lambda: any(s.get("offset") == size for s in _status(db).get("sources", [])))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read().decode() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    batch_db = str(tmp_path / "batch.duckdb")
    copy = tmp_path / "batch.log"
    copy.write_text("".join(everything))
    with open_store(batch_db) as store:
        ingest_paths(store, [str(copy)], IngestOptions(year=2026))
    watched = rows(str(db))
    assert len(watched) == 26_000
    assert watched == rows(batch_db)
    with open_store(str(db), read_only=True) as store:
        assert store.rows("SELECT rows, last_line, in_progress FROM ingested_files") == [(26_000, 52_000, False)]
