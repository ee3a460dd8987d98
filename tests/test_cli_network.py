"""`netsift bandwidth` and `netsift credentials`, and secrets: by default no clear secret reaches the store,
the terminal, JSON/CSV, `analyze --json` or the HTML report; `--show-secrets` stores it in clear."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.formats.test_pcap_network import OK, Conversation, http_post
from tests.formats.test_pcap import write_pcap
from tests.test_cli import netsift

DATA = Path(__file__).parent / "data" / "netlogs"
SECRET = "wonderland123"
FTP_SECRET = "ftp-s3cret-pw"


def capture(tmp_path: Path) -> Path:
    web = Conversation(80).handshake().send(http_post()).answer(OK).close()
    ftp = Conversation(21, cport=50001).handshake().send(b"USER root\r\n").send(f"PASS {FTP_SECRET}\r\n".encode()).close()
    return write_pcap(tmp_path / "logins.pcap", web.frames + ftp.frames)


def everything_shown(tmp_path: Path) -> str:
    """What a user can see of the store: every command's output, the report, the store file's bytes."""
    out = []
    for args in (("credentials",), ("credentials", "--json"), ("credentials", "--csv"), ("credentials", "--ndjson"),
                 ("analyze", "--json"), ("analyze",), ("bandwidth", "--json")):
        proc = netsift(*args, cwd=tmp_path)
        out += [proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")]
    netsift("report", "-o", "r.html", cwd=tmp_path)
    out.append((tmp_path / "r.html").read_text())
    return "\n".join(out)


def test_no_clear_secret_anywhere_by_default(tmp_path):
    proc = netsift("ingest", str(capture(tmp_path)), cwd=tmp_path)
    assert SECRET not in proc.stderr.decode() + proc.stdout.decode()
    shown = everything_shown(tmp_path)
    assert SECRET not in shown and FTP_SECRET not in shown
    assert "w************" in shown and "f************" in shown  # the masked forms are there
    store_bytes = (tmp_path / "netsift.duckdb").read_bytes()
    assert SECRET.encode() not in store_bytes and FTP_SECRET.encode() not in store_bytes
    rows = json.loads(netsift("credentials", "--json", cwd=tmp_path).stdout)
    assert [(r["protocol"], r["account"], r["secret"], r["secret_clear"]) for r in rows] == [
        ("http-form", "alice", "w************", False), ("ftp", "root", "f************", False)]
    kinds = {f["kind"]: f for f in json.loads(netsift("analyze", "--json", cwd=tmp_path).stdout)["findings"]}
    cred = kinds["cleartext_credential"]
    assert cred["account"] in ("alice", "root") and cred["client"] == "10.0.0.5"


def test_show_secrets_stores_them_in_clear(tmp_path):
    netsift("ingest", "--show-secrets", str(capture(tmp_path)), cwd=tmp_path)
    rows = json.loads(netsift("credentials", "--json", cwd=tmp_path).stdout)
    assert [(r["secret"], r["secret_clear"]) for r in rows] == [(SECRET, True), (FTP_SECRET, True)]


def test_bandwidth_sums_exactly(tmp_path):
    netsift("ingest", str(DATA / "conn.log"), str(DATA / "conn.json"), str(DATA / "access.log"), cwd=tmp_path)
    rows = {r["client"]: r for r in json.loads(netsift("bandwidth", "--json", "--limit", "0", cwd=tmp_path).stdout)}
    # conn.log + conn.json: 10.0.0.5 sent 1200 twice and received 50000 twice; Squid's reply 3890 to it
    assert (rows["10.0.0.5"]["bytes_out"], rows["10.0.0.5"]["bytes_in"], rows["10.0.0.5"]["connections"]) == (
        2400, 100000 + 3890, 3)
    assert rows["10.105.21.199"]["bytes_in"] == 19763 + 10182
    con = duckdb.connect(str(tmp_path / "netsift.duckdb"), read_only=True)
    total_out = con.execute("SELECT sum(bytes_out) FROM connections").fetchall()[0][0]
    con.close()
    assert sum(r["bytes_out"] for r in rows.values()) == total_out
    csv = netsift("bandwidth", "--csv", cwd=tmp_path).stdout.decode().splitlines()
    assert csv[0] == "client,bytes_out,bytes_in,connections,first_seen,last_seen"
    one = json.loads(netsift("bandwidth", "--client", "10.0.0.6", "--json", cwd=tmp_path).stdout)
    assert [r["client"] for r in one] == ["10.0.0.6"]
    text = netsift("bandwidth", cwd=tmp_path).stdout.decode()
    assert "10.0.0.5" in text and "2.4 kB" in text


def test_empty_store_says_so(tmp_path):
    netsift("ingest", str(Path(__file__).parent / "data" / "pihole" / "valid.log"), "--year", "2025", cwd=tmp_path)
    assert "no connections" in netsift("bandwidth", cwd=tmp_path).stderr.decode()
    assert "no credentials" in netsift("credentials", cwd=tmp_path).stderr.decode()
    assert json.loads(netsift("credentials", "--json", cwd=tmp_path).stdout) == []


