"""cleartext_credential and bandwidth: table-driven scoring, the store queries on small hand-made tables,
and a clean skip when the tables are empty."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from netsift.config import Settings
from netsift.detect import bandwidth, cleartext_credential, run_detectors

T0 = dt.datetime(2026, 3, 2)
S_BW = Settings(bandwidth.SETTINGS)
S_CC = Settings(cleartext_credential.SETTINGS)
MB = 1_000_000


@pytest.fixture
def store(any_store):
    """DuckDB and ClickHouse (chdb) alike: the detectors' SQL goes through the Store."""
    return any_store


def add_connections(store, rows: list[tuple]) -> None:
    """rows: (ts, client, server, bytes_out)."""
    frame = pl.DataFrame(rows, schema={"ts": pl.Datetime("us"), "client": pl.String, "server": pl.String,
                                       "bytes_out": pl.Int64}, orient="row")
    store.append("connections", frame.with_columns(source_file_id=pl.lit(1), source_line=pl.int_range(1, pl.len() + 1)))


def add_credentials(store, rows: list[tuple]) -> None:
    """rows: (ts, client, server, port, protocol, account, host)."""
    frame = pl.DataFrame(rows, schema={"ts": pl.Datetime("us"), "client": pl.String, "server": pl.String,
                                       "server_port": pl.Int64, "protocol": pl.String, "account": pl.String,
                                       "host": pl.String}, orient="row")
    store.append("credentials", frame.with_columns(secret=pl.lit("x***"), secret_clear=pl.lit(False),
                                                   source_file_id=pl.lit(1),
                                                   source_line=pl.int_range(1, pl.len() + 1)))


@pytest.mark.parametrize("name, peak, history, expected", [
    ("a steady client's ordinary hour", 12 * MB, [10 * MB, 11 * MB, 9 * MB, 12 * MB, 10 * MB, 11 * MB], None),
    ("below the absolute floor", 40 * MB, [1 * MB] * 10, None),
    ("too little history", 900 * MB, [1 * MB] * 5, None),
    ("a big hour from a busy, variable client", 400 * MB,
     [50 * MB, 300 * MB, 20 * MB, 250 * MB, 100 * MB, 350 * MB, 80 * MB], None),
    ("a surge over a flat history (MAD 0)", 200 * MB, [2 * MB] * 8, (0.7, 0.9)),
    ("gigabytes out of a quiet client", 3_000 * MB, [5 * MB, 6 * MB, 4 * MB, 7 * MB, 5 * MB, 6 * MB], (0.9, 1.0)),
    ("one earlier spike does not hide the next", 1_000 * MB,
     [5 * MB, 6 * MB, 900 * MB, 4 * MB, 5 * MB, 6 * MB, 5 * MB], (0.75, 1.0)),
])
def test_score_surge(name, peak, history, expected):
    scored = bandwidth.score_surge(peak, history, S_BW)
    if expected is None:
        assert scored is None, (name, scored)
    else:
        assert scored is not None, name
        assert expected[0] <= scored[0] <= expected[1], (name, scored)


def test_bandwidth_finds_the_heavy_hour_and_its_destination(store):
    rows = []
    for h in range(24):
        for client in ("10.0.0.5", "10.0.0.6"):
            rows.append((T0 + dt.timedelta(hours=h, minutes=5), client, "93.184.216.34", 3 * MB + h * 1000))
    rows.append((T0 + dt.timedelta(hours=20, minutes=30), "10.0.0.6", "198.51.100.66", 1_500 * MB))
    rows.append((T0 + dt.timedelta(hours=20, minutes=40), "10.0.0.6", "198.51.100.66", 500 * MB))
    add_connections(store, rows)
    findings = bandwidth.run(store, S_BW)
    assert [(f.kind, f.client, f.host) for f in findings] == [("bandwidth", "10.0.0.6", "198.51.100.66")]
    f = findings[0]
    assert f.first_seen == T0 + dt.timedelta(hours=20) and f.evidence_count == 3
    assert "Sent 2.0 GB in one hour (2026-03-02 20:00 UTC)" in f.reasons[0]
    assert "100% of it went to 198.51.100.66" in f.reasons[1] or "99% of it went" in f.reasons[1]


@pytest.mark.parametrize("account, times, low, high", [
    ("alice", 1, 0.55, 0.55),
    ("root", 1, 0.75, 0.75),
    ("CORP\\Administrator", 1, 0.75, 0.75),
    ("mailer", 50, 0.65, 0.65),
    (None, 1, 0.55, 0.55),
])
def test_score_credential(account, times, low, high):
    score, _ = cleartext_credential.score_credential(account, times, S_CC)
    assert low <= round(score, 4) <= high


def test_cleartext_credential_one_finding_per_client_server_protocol_account(store):
    add_credentials(store, [
        (T0, "10.0.0.5", "203.0.113.80", 80, "http-form", "alice", "shop.example.com"),
        (T0 + dt.timedelta(minutes=5), "10.0.0.5", "203.0.113.80", 80, "http-form", "alice", "shop.example.com"),
        (T0, "10.0.0.7", "192.0.2.21", 21, "ftp", "root", "192.0.2.21"),
    ])
    findings = sorted(cleartext_credential.run(store, S_CC), key=lambda f: f.client)
    assert [(f.client, f.account, f.host, f.evidence_count) for f in findings] == [
        ("10.0.0.5", "alice", "shop.example.com", 2), ("10.0.0.7", "root", "192.0.2.21", 1)]
    assert "over http-form to shop.example.com (203.0.113.80:80), 2 times" in findings[0].reasons[0]
    assert findings[1].score > findings[0].score and "administrative" in findings[1].reasons[-1]
    assert findings[0].id != findings[1].id


def test_empty_tables_are_skipped_cleanly(store):
    assert bandwidth.run(store, S_BW) == [] and cleartext_credential.run(store, S_CC) == []
    assert run_detectors(store, only=["bandwidth", "cleartext_credential"]) == []
