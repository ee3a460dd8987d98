"""Zeek ssh.log (TSV and JSON) into logon_events: the outcome and the failed attempts a connection stands for,
the accounting in one piece and in chunks, sniffing, and a brute force seen only on the wire found by the
logon detectors."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from netsift.config import Settings
from netsift.detect import brute_force, login_after_failures
from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import detect_format, zeek_ssh_json, zeek_ssh_tsv
from netsift.ingest.run import ingest
from netsift.store import open_store
from tests.formats.parsing import check_accounting, parse_lines, sample_heads

T0 = dt.datetime(2026, 11, 30, 10, 0, 0)
HEADER = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tssh",
          "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tauth_success\tauth_attempts"
          "\tdirection\tclient\tserver",
          "#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tbool\tcount\tenum\tstring\tstring"]


def tsv(second: int, client: str, success: str, attempts: int, agent: str = "SSH-2.0-libssh_0.9.6") -> str:
    stamp = (T0 + dt.timedelta(seconds=second)).replace(tzinfo=dt.UTC).timestamp()
    return (f"{stamp:.6f}\tC{second}\t{client}\t{40000 + second}\t10.0.0.22\t22\t2\t{success}\t{attempts}\tINBOUND"
            f"\t{agent}\tSSH-2.0-OpenSSH_8.9")


def as_json(line: str) -> str:
    f = line.split("\t")
    record = {"ts": float(f[0]), "uid": f[1], "id.orig_h": f[2], "id.orig_p": int(f[3]), "id.resp_h": f[4],
              "id.resp_p": int(f[5]), "auth_attempts": int(f[8]), "client": f[10]}
    if f[7] != "-":
        record["auth_success"] = f[7] == "T"
    return json.dumps(record)


LINES = [tsv(1, "203.0.113.7", "F", 6), tsv(2, "203.0.113.7", "T", 2), tsv(3, "198.51.100.1", "-", 0)]
EXPECTED = [(T0 + dt.timedelta(seconds=1), "203.0.113.7", 40001, "10.0.0.22", "ssh", "failure", 6),
            (T0 + dt.timedelta(seconds=2), "203.0.113.7", 40002, "10.0.0.22", "ssh", "success", None),
            (T0 + dt.timedelta(seconds=3), "198.51.100.1", 40003, "10.0.0.22", "ssh", "disconnect", None)]


@pytest.mark.parametrize("module, lines", [(zeek_ssh_tsv, HEADER + LINES), (zeek_ssh_json, [as_json(x) for x in LINES])])
@pytest.mark.parametrize("chunk", [None, 1, 2])
def test_outcomes_and_attempts(module, lines, chunk):
    result = parse_lines(module.parse, lines, ParseContext(), chunk)
    check_accounting(result, len(lines))
    parts = result if isinstance(result, list) else [result]
    rows = [tuple(r[c] for c in ("ts", "client", "port", "host", "service", "event", "repeats"))
            for p in parts for r in p.records.iter_rows(named=True)]
    assert rows == EXPECTED


def test_a_row_without_a_client_is_rejected():
    lines = HEADER + [tsv(1, "-", "F", 1), tsv(2, "203.0.113.7", "F", 1)[:30]]
    result = zeek_ssh_tsv.parse(lines_frame(lines), ParseContext())
    check_accounting(result, len(lines))
    assert result.rejected["reason"].to_list() == ["no id.orig_h", "expected 12 fields (from #fields), found 3"]


@pytest.mark.parametrize("lines, name", [(HEADER + LINES, "zeek_ssh_tsv"), ([as_json(x) for x in LINES], "zeek_ssh_json")])
def test_sniffed(lines, name):
    assert detect_format(b"", lines)[0].name == name


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert zeek_ssh_tsv.sniff(lines) == 0.0 and zeek_ssh_json.sniff(lines) == 0.0, path


def test_a_brute_force_seen_on_the_wire_is_found(tmp_path):
    # 20 connections in 5 minutes, each with 6 failed attempts, then one that gets in
    attack = [tsv(15 * i, "203.0.113.7", "F", 6) for i in range(20)] + [tsv(301, "203.0.113.7", "T", 1)]
    log = tmp_path / "ssh.log"
    log.write_text("\n".join(HEADER + attack) + "\n")
    with open_store(str(tmp_path / "s.duckdb")) as store:
        ingest(store, [str(log)])
        forced = brute_force.run(store, Settings(brute_force.SETTINGS))
        after = login_after_failures.run(store, Settings(login_after_failures.SETTINGS))
    assert [(f.client, f.host, f.evidence_count) for f in forced] == [("203.0.113.7", "10.0.0.22", 120)]
    assert [(f.client, f.host) for f in after] == [("203.0.113.7", "10.0.0.22")]
