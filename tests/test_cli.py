"""The real `netsift` command, as a user runs it (subprocess), on small fixtures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def netsift(*args: str, cwd: Path, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "NETSIFT_DATA_DIR": str(cwd / "data-dir")}
    env.pop("NETSIFT_DB", None)
    proc = subprocess.run([sys.executable, "-m", "netsift", *args], cwd=cwd, input=stdin, capture_output=True,
                          env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"netsift {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr.decode()}")
    return proc


def test_ingest_files_rejected_and_reingest(tmp_path):
    proc = netsift("ingest", str(DATA / "pihole" / "valid.log"), str(DATA / "pihole" / "truncated.log"),
                   "--year", "2025", cwd=tmp_path)
    err = proc.stderr.decode()
    assert "valid.log: pihole ingested 7 rows, 0 rejected" in err
    assert "truncated.log: pihole ingested 2 rows, 3 rejected" in err and "line 3:" in err
    assert (tmp_path / "netsift.duckdb").exists()
    files = json.loads(netsift("files", "--json", cwd=tmp_path).stdout)
    assert [(f["format"], f["rows"], f["rejected"]) for f in files] == [("pihole", 7, 0), ("pihole", 2, 3)]
    rejected = json.loads(netsift("rejected", "--json", cwd=tmp_path).stdout)
    assert [r["line"] for r in rejected] == [2, 3, 4]
    again = netsift("ingest", str(DATA / "pihole"), "--year", "2025", cwd=tmp_path).stderr.decode()
    assert again.count("unchanged") == 2
    assert json.loads(netsift("files", "--json", cwd=tmp_path).stdout)[0]["rows"] == 7


def test_ingest_stdin_with_explicit_db(tmp_path):
    data = (DATA / "pihole" / "valid.log").read_bytes()
    netsift("ingest", "-", "--db", "x.duckdb", "--year", "2025", cwd=tmp_path, stdin=data)
    files = json.loads(netsift("files", "--db", "x.duckdb", "--json", cwd=tmp_path).stdout)
    assert files[0]["path"] == "-" and files[0]["rows"] == 7


def test_unknown_and_binary_files_are_one_line_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\nworld\n")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 20)
    proc = netsift("ingest", "notes.txt", "blob.bin", cwd=tmp_path, check=False)
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 1
    assert any("notes.txt: format not recognised" in ln and "--format" in ln for ln in err)
    assert any("blob.bin: binary data" in ln for ln in err)
    assert "Traceback" not in proc.stderr.decode()


def test_strict_fails_with_file_and_line(tmp_path):
    proc = netsift("ingest", "--strict", "--year", "2025", str(DATA / "pihole" / "truncated.log"), cwd=tmp_path,
                   check=False)
    assert proc.returncode != 0
    assert "truncated.log: line 2:" in proc.stderr.decode()


def test_analyze_json_shape(tmp_path):
    proc = netsift("analyze", "--json", "--year", "2025", str(DATA / "pihole" / "valid.log"), cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert set(doc) == {"summary", "findings"}
    assert doc["summary"]["rows"] == 7 and doc["summary"]["rejected"] == 0
    assert doc["summary"]["files"][0]["format"] == "pihole"
    assert {"path", "format", "rows", "rejected"} <= set(doc["summary"]["files"][0])
    scores = [f["score"] for f in doc["findings"]]
    assert scores == sorted(scores, reverse=True) and doc["findings"]
    for f in doc["findings"]:
        assert {"kind", "client", "domain", "score", "severity", "reasons"} <= set(f)
        assert 0 <= f["score"] <= 1 and isinstance(f["reasons"], list) and f["reasons"]
    domains = {f["domain"] for f in doc["findings"] if f["kind"] == "unexplained_domain"}
    assert "example.org" in domains and "in-addr.arpa" not in domains


def test_analyze_ndjson_and_csv(tmp_path):
    log = str(DATA / "pihole" / "valid.log")
    nd = netsift("analyze", "--ndjson", "--year", "2025", log, cwd=tmp_path).stdout.decode().splitlines()
    assert all(json.loads(line)["kind"] for line in nd)
    csv_out = netsift("analyze", "--csv", cwd=tmp_path).stdout.decode().splitlines()
    assert csv_out[0].startswith("id,kind,client,domain,score,severity,reasons")
    assert len(csv_out) == len(nd) + 1


def test_verdict_explains_a_domain_as_normal(tmp_path):
    log = str(DATA / "pihole" / "valid.log")
    before = json.loads(netsift("analyze", "--json", "--year", "2025", log, cwd=tmp_path).stdout)
    assert "example.org" in {f["domain"] for f in before["findings"]}
    netsift("verdict", "example.org", "benign", "--note", "test domain", cwd=tmp_path)
    after = json.loads(netsift("analyze", "--json", cwd=tmp_path).stdout)
    assert "example.org" not in {f["domain"] for f in after["findings"]}
    normal = json.loads(netsift("normal", "--json", cwd=tmp_path).stdout)
    assert any(r["domain"] == "example.org" and r["why"].startswith("verdict: benign") for r in normal)


def test_allowlist_and_top_list_options(tmp_path):
    (tmp_path / "allow.txt").write_text("*.example.org\n")
    (tmp_path / "top.csv").write_text("1,tracker.test\n")
    doc = json.loads(netsift("analyze", "--json", "--year", "2025", "--allowlist", "allow.txt", "--top-list",
                             "top.csv", str(DATA / "pihole" / "valid.log"), cwd=tmp_path).stdout)
    domains = {f["domain"] for f in doc["findings"]}
    assert "example.org" not in domains and "tracker.test" not in domains


def test_config_show_and_validate(tmp_path):
    shown = netsift("config", cwd=tmp_path).stdout.decode()
    assert "top_rank_max" in shown
    (tmp_path / "ok.toml").write_text("[baseline]\ntop_rank_max = 5000\n")
    netsift("config", "validate", "ok.toml", cwd=tmp_path)
    (tmp_path / "bad.toml").write_text("[baseline]\ntop_rank_max = -1\nnope = 1\n[nosuch]\n")
    proc = netsift("config", "validate", "bad.toml", cwd=tmp_path, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "below the minimum" in err and "unknown setting" in err and "unknown section" in err


def test_formats_and_schema(tmp_path):
    names = [r["name"] for r in json.loads(netsift("formats", "--json", cwd=tmp_path).stdout)]
    assert {"pihole", "bind", "windows_dns", "zeek_tsv", "zeek_json", "tcpdump", "pcap", "umbrella_csv",
            "csv_columns", "pihole_json"} <= set(names)
    ddl = netsift("schema", cwd=tmp_path).stdout.decode()
    assert "CREATE TABLE IF NOT EXISTS dns_queries" in ddl


@pytest.mark.shared_data
def test_every_real_dns_sample_ingests_without_unexplained_rejections(tmp_path, shared_data):
    proc = netsift("ingest", "--json", str(shared_data / "dns_logs"), str(shared_data / "pcaps"), cwd=tmp_path)
    files = json.loads(proc.stdout)
    assert all(f["status"] == "ingested" for f in files), files
    assert sum(f["rejected"] for f in files) == 0
    formats = {f["format"] for f in files}
    assert formats == {"bind", "pihole", "pihole_json", "tcpdump", "pcap", "umbrella_csv", "windows_dns",
                       "zeek_json", "zeek_tsv"}
    again = json.loads(netsift("ingest", "--json", str(shared_data / "dns_logs"), cwd=tmp_path).stdout)
    assert {f["status"] for f in again} == {"unchanged"}


def test_score_domains_from_stdin(tmp_path):
    names = b"google.com\nwikipedia.org\n# a comment\nxjwqkzvbtrplmhgf.com\nqpzmxnvbcladkfjg.net\n"
    out = netsift("score", "domains", "-", cwd=tmp_path, stdin=names).stdout.decode().splitlines()
    rows = [json.loads(line) for line in out]
    assert [r["name"] for r in rows] == ["google.com", "wikipedia.org", "xjwqkzvbtrplmhgf.com", "qpzmxnvbcladkfjg.net"]
    verdicts = {r["name"]: r["verdict"] for r in rows}
    assert verdicts["google.com"] == verdicts["wikipedia.org"] == "benign"
    assert verdicts["xjwqkzvbtrplmhgf.com"] == verdicts["qpzmxnvbcladkfjg.net"] == "dga"
    assert all(0 <= r["score"] <= 1 and r["reasons"] for r in rows)


def test_explain_finding_domain_and_client(tmp_path):
    doc = json.loads(netsift("analyze", "--json", "--year", "2025", str(DATA / "pihole" / "valid.log"),
                             cwd=tmp_path).stdout)
    finding = next(f for f in doc["findings"] if f["domain"] == "example.org")
    by_id = json.loads(netsift("explain", finding["id"], "--json", cwd=tmp_path).stdout)
    assert by_id["findings"][0]["id"] == finding["id"]
    assert by_id["baseline"]["registered_domain"] == "example.org"
    assert by_id["evidence"][0]["query_name"] == "nosuch.example.org" and by_id["evidence"][0]["line"] == 7
    by_domain = json.loads(netsift("explain", "nosuch.example.org", "--json", cwd=tmp_path).stdout)
    assert by_domain["title"] == "domain example.org"
    by_client = json.loads(netsift("explain", "10.0.0.5", "--json", cwd=tmp_path).stdout)
    assert by_client["evidence_total"] == 3
    missing = netsift("explain", "nothing-here.invalid", cwd=tmp_path, check=False)
    assert missing.returncode != 0 and "not a finding id, a client or a domain" in missing.stderr.decode()


def test_config_and_schema_list_as_json_ndjson_and_csv(tmp_path):
    settings = json.loads(netsift("config", "--json", cwd=tmp_path).stdout)
    row = next(r for r in settings if r["name"] == "top_rank_max")
    assert set(row) == {"section", "name", "default", "range", "help"} and row["section"] == "baseline"
    lines = netsift("config", "--ndjson", cwd=tmp_path).stdout.decode().splitlines()
    assert len(lines) == len(settings) and json.loads(lines[0]) == settings[0]
    csv_text = netsift("config", "--csv", cwd=tmp_path).stdout.decode()
    assert csv_text.splitlines()[0] == "section,name,default,range,help" and "top_rank_max" in csv_text
    columns = json.loads(netsift("schema", "--json", cwd=tmp_path).stdout)
    ts = next(c for c in columns if c["table"] == "dns_queries" and c["column"] == "ts")
    assert set(ts) == {"table", "column", "type", "nullable", "primary_key", "doc"}
    assert {c["table"] for c in columns} >= {"dns_queries", "ingested_files", "rejected_lines", "findings"}
    assert len(netsift("schema", "--ndjson", cwd=tmp_path).stdout.decode().splitlines()) == len(columns)
    assert netsift("schema", "--csv", cwd=tmp_path).stdout.decode().startswith("table,column,type,")


def test_ingest_says_which_year_it_assumed_and_warns_when_far_from_the_store(tmp_path):
    (tmp_path / "old.csv").write_text("timestamp,client,query_name,query_type\n" + "".join(
        f"2024-05-09T10:00:{i:02d}Z,10.0.0.{i},h{i}.example.net,A\n" for i in range(9)))
    netsift("ingest", "old.csv", cwd=tmp_path)
    log = tmp_path / "pihole.log"
    log.write_text("".join(f"May  9 02:36:{i:02d} dnsmasq[1]: query[A] p{i}.example.com from 10.0.0.1\n"
                           for i in range(9)))
    mtime = 1796040000  # 2026-11-30 12:00 UTC
    os.utime(log, (mtime, mtime))
    proc = netsift("ingest", "pihole.log", cwd=tmp_path)
    err = proc.stderr.decode()
    assert ("pihole.log: pihole ingested 9 rows, 0 rejected (year-less stamps read as 2026, the year the file was "
            "last modified (2026-11-30); --year changes it)") in " ".join(err.split())
    warning = [ln for ln in err.splitlines() if ln.startswith("warning")]
    assert len(warning) == 1 and "lie 2.0 years after the rest of the store" in warning[0]
    assert "--year 2024" in " ".join(err.split())
    again = json.loads(netsift("ingest", "pihole.log", "--year", "2024", "--json", cwd=tmp_path).stdout)[0]
    assert again["year"] == 2024 and again["warnings"] == [] and "replaces what was read as 2026" in again["message"]


def test_a_forced_format_that_matches_nothing_is_an_error(tmp_path):
    zeek = str(DATA / "zeek_tsv" / "valid.log")
    proc = netsift("ingest", zeek, "--format", "bind", cwd=tmp_path, check=False)
    err = " ".join(proc.stderr.decode().split())
    assert proc.returncode == 1
    assert "--format bind matched none of its 18 lines (all 18 rejected)" in err
    assert "detected format would be zeek_tsv" in err
    assert json.loads(netsift("files", "--json", cwd=tmp_path).stdout) == []


def test_a_capture_without_dns_says_what_it_holds(tmp_path):
    import dpkt

    with (tmp_path / "web.pcap").open("wb") as fh:
        writer = dpkt.pcap.Writer(fh)
        for i in range(3):
            tcp = dpkt.tcp.TCP(sport=50000 + i, dport=443, data=b"\x16\x03\x01")
            ip = dpkt.ip.IP(src=bytes([10, 0, 0, 5]), dst=bytes([192, 0, 2, 1]), p=6, data=tcp)
            writer.writepkt(bytes(dpkt.ethernet.Ethernet(src=b"\0" * 6, dst=b"\1" * 6, data=ip)), ts=1.7e9 + i)
    err = " ".join(netsift("ingest", "web.pcap", cwd=tmp_path).stderr.decode().split())
    assert ("web.pcap: pcap ingested 3 rows, 0 rejected (capture has 3 packets, none of them DNS, HTTP or a "
            "cleartext login (TCP 443: 3): only its 3 connections (flows) are stored)") in err


@pytest.mark.parametrize("args, says", [
    # an output file in a folder that does not exist: the path and why, no traceback
    (["report", "-o", "no/such/folder/report.html"], "no/such/folder/report.html"),
    (["export", "--parquet", "a-file/parquet"], "a-file/parquet"),  # under a file, not a folder
    # a folder that holds no log file
    (["ingest", "empty-folder"], "empty-folder: no files to ingest"),
])
def test_file_problems_are_one_line_errors(tmp_path, args, says):
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "a-file").write_text("not a folder\n")
    netsift("ingest", str(DATA / "pihole" / "valid.log"), "--year", "2025", cwd=tmp_path)
    proc = netsift(*args, cwd=tmp_path, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and says in err and "Traceback" not in err, err


@pytest.mark.parametrize("command", [
    ["status"], ["analyze"], ["report", "-o", "r.html"], ["files"], ["rejected"], ["normal"], ["verdicts"],
    ["explain", "x.example"], ["query", "SELECT 1"], ["export", "--parquet", "out"], ["bandwidth"], ["credentials"],
    ["logins"], ["serve", "--get", "/"],
])
def test_a_store_that_is_not_there_is_said_not_created(tmp_path, command):
    """A mistyped --db (or the wrong folder) must not read as a network with no findings."""
    proc = netsift(*command, "--db", "typo.duckdb", cwd=tmp_path, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "no store at typo.duckdb" in err and "netsift ingest" in err, err
    assert not (tmp_path / "typo.duckdb").exists()
