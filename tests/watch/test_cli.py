"""The commands as a user meets them: `netsift watch -` on a pipe, `netsift ingest -` pointing to it,
`netsift watch --status`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netsift.store import open_store
from tests.watch.lines import nxdomain_storm, pihole_lines

SRC = str(Path(__file__).resolve().parents[2] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC}


def test_watch_stdin_stores_the_pipe_analyses_and_exits_when_it_ends(tmp_path):
    db = tmp_path / "w.duckdb"
    lines = "".join(pihole_lines(0, 300) + nxdomain_storm("10.0.0.66")).encode()
    done = subprocess.run([sys.executable, "-m", "netsift", "watch", "-", "--db", str(db), "--year", "2026",
                           "--min-severity", "info"], input=lines, env=ENV, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    with open_store(str(db), read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM dns_queries") == 600
        assert store.rows("SELECT path, in_progress FROM ingested_files") == [("-", False)]
        assert store.scalar("SELECT count(*) FROM findings") > 0  # the last analysis ran
    alerts = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert all({"alert", "alert_time", "kind", "severity"} <= set(a) for a in alerts)
    assert any(a["client"] == "10.0.0.66" for a in alerts)


def test_ingest_of_a_stdin_that_does_not_end_points_to_watch(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "netsift", "ingest", "-", "--db", str(tmp_path / "i.duckdb")],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=ENV)
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write("".join(pihole_lines(0, 10)).encode())
    proc.stdin.flush()
    time.sleep(7)  # the hint comes after 5 s of reading
    proc.stdin.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0
    assert "netsift watch -" in err


def test_watch_status_without_a_watcher_says_so(tmp_path):
    done = subprocess.run([sys.executable, "-m", "netsift", "watch", "--status", "--db", str(tmp_path / "x.duckdb")],
                          env=ENV, capture_output=True, timeout=60)
    assert done.returncode == 2 and b"is `netsift watch` running?" in done.stderr


@pytest.mark.parametrize("args, message", [
    (["--syslog", "udp://127.0.0.1:99999"], "--syslog needs udp://HOST:PORT or tcp://HOST:PORT"),
    (["--syslog", "tcp://127.0.0.1:port"], "--syslog needs udp://HOST:PORT or tcp://HOST:PORT"),
    (["--syslog", "http://x"], "--syslog needs udp://HOST:PORT or tcp://HOST:PORT"),
    (["-", "--cef", "udp://siem.example:70000"], "--cef needs udp://HOST:PORT or tcp://HOST:PORT"),
    (["-", "--webhook", "ftp://hooks.example/x"], "--webhook needs an http(s) URL"),
])
def test_a_bad_address_is_a_usage_error_not_a_traceback(tmp_path, args, message):
    done = subprocess.run([sys.executable, "-m", "netsift", "watch", *args, "--db", str(tmp_path / "x.duckdb")],
                          env=ENV, capture_output=True, timeout=60, input=b"")
    err = done.stderr.decode()
    assert done.returncode == 2 and message in err and "Traceback" not in err, err


def test_a_path_that_matches_nothing_yet_is_said_and_waited_for(tmp_path):
    log = tmp_path / "later" / "pihole.log"
    proc = subprocess.Popen([sys.executable, "-m", "netsift", "watch", str(log), "--db", str(tmp_path / "w.duckdb"),
                             "--year", "2026", "--no-detect", "--poll", "0.1"],
                            env=ENV, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        time.sleep(3)
        log.parent.mkdir()
        log.write_text("".join(pihole_lines(0, 20)))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.5)
            status = subprocess.run([sys.executable, "-m", "netsift", "watch", "--status", "--json", "--db",
                                     str(tmp_path / "w.duckdb")], env=ENV, capture_output=True, timeout=60)
            if status.returncode == 0 and json.loads(status.stdout)["rows"] == 20:
                break
        else:
            raise AssertionError("the file that appeared later was not read")
    finally:
        proc.terminate()
        err = proc.communicate(timeout=30)[1].decode()
    assert f"{log}: no such file yet; waiting for it to appear" in err
