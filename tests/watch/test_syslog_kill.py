"""Syslog messages received but not yet stored survive a kill -9: a real `netsift watch --syslog` process gets
Pi-hole messages over UDP and TCP on 127.0.0.1, some batches committed and some not, is killed with SIGKILL,
started again, and ends up with the rows a batch ingest of the same lines gives: each exactly once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from netsift.ingest.plan import IngestOptions
from netsift.ingest.run import ingest_paths
from netsift.store import open_store
from netsift.watch.spool import read_spool
from netsift.watch.syslog import parse_message
from tests.watch.lines import pihole_lines, rows
from tests.watch.test_kill import _status, _wait

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(db: Path, udp: int, tcp: int, poll: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-m", "netsift", "watch", "--syslog", f"udp://127.0.0.1:{udp}",
                             "--syslog", f"tcp://127.0.0.1:{tcp}", "--db", str(db), "--year", "2026", "--no-detect",
                             "--poll", poll], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def listening() -> bool:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
        try:
            socket.create_connection(("127.0.0.1", tcp), timeout=1).close()
            return True
        except OSError:
            return False

    _wait(listening)
    return proc


def _send(lines: list[str], udp: int, tcp: int) -> list[bytes]:
    """Each question (a query line and its reply) as two syslog messages, over UDP or TCP (alternating per
    question; octet-counted on TCP); returns the lines they become."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t = socket.create_connection(("127.0.0.1", tcp))
    out = []
    try:
        for i in range(0, len(lines), 2):
            for line in lines[i:i + 2]:
                stamp, rest = line[:15], line[16:].rstrip("\n")
                msg = f"<30>{stamp} pi {rest}".encode()
                out.append(parse_message(msg).line + b"\n")
                if i // 2 % 2:
                    t.sendall(str(len(msg)).encode() + b" " + msg)
                else:
                    u.sendto(msg, ("127.0.0.1", udp))
            if i % 100 == 0:
                time.sleep(0.002)  # UDP has no flow control: let the listener keep up
    finally:
        u.close()
        t.close()
    return out


def _spooled(db: Path) -> int:
    """Bytes in the spools (received, not yet known stored)."""
    directory = Path(f"{db}.syslog-spool")
    total = 0
    for p in directory.glob("*.spool") if directory.exists() else []:
        found = read_spool(str(p))
        total += len(found[2]) if found else 0
    return total


def test_kill_9_with_messages_received_and_not_stored_then_restart(tmp_path):
    db = tmp_path / "w.duckdb"
    udp, tcp = _free_port(socket.SOCK_DGRAM), _free_port(socket.SOCK_STREAM)
    first, second = pihole_lines(0, 400), pihole_lines(400, 600)  # 1,000 questions, 2,000 messages
    proc = _start(db, udp, tcp, "8")  # a commit every 8 s: the second part is received, then killed
    sent: list[bytes] = []

    def received() -> int:
        return sum(_status(db).get("syslog_received", {}).values())

    try:
        sent += _send(first, udp, tcp)
        _wait(lambda: _status(db).get("rows", 0) > 0)  # the first part committed
        sent += _send(second, udp, tcp)
        _wait(lambda: received() == len(sent), timeout=15)  # every message received (and spooled)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert _spooled(db) > 0  # received, not stored: only the spool holds them now

    proc = _start(db, udp, tcp, "0.05")
    try:
        _wait(lambda: _status(db).get("rows", 0) > 0 and _spooled(db) == 0)  # the replayed lines stored
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    assert _spooled(db) == 0  # a clean stop leaves nothing to replay

    batch_log = tmp_path / "batch.log"
    batch_log.write_bytes(b"".join(sent))
    with open_store(tmp_path / "batch.duckdb") as store:
        ingest_paths(store, [str(batch_log)], IngestOptions(year=2026, format="pihole"))
    watched = rows(str(db))
    assert len(watched) == 1000  # 1,000 questions, each once
    assert watched == rows(str(tmp_path / "batch.duckdb"))
