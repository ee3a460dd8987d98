"""The bandwidth and credentials views and the network families of the client timeline, on every store
(DuckDB and ClickHouse/chdb): exact sums, masked secrets as stored."""

from __future__ import annotations

import datetime as dt

import polars as pl

from netsift import timeline
from netsift.report import traffic

T0 = dt.datetime(2026, 3, 2, 10)


def fill(store) -> None:
    conns = pl.DataFrame({
        "ts": [T0, T0 + dt.timedelta(minutes=5), T0 + dt.timedelta(hours=2)],
        "client": ["10.0.0.5", "10.0.0.5", "10.0.0.6"], "server": ["192.0.2.1", "192.0.2.2", "10.0.0.5"],
        "bytes_out": [10_000_000_000, 5, None], "bytes_in": [7, 3, 11],
        "source_file_id": [1, 1, 1], "source_line": [1, 2, 3]})
    store.append("connections", conns)
    # a proxy's requests are its clients' traffic (Squid's native log, or a common/combined one); a web
    # server's (access) and Zeek's (already in connections) are not
    store.append("http_requests", pl.DataFrame({
        "ts": [T0] * 4, "client": ["10.0.0.5"] * 4, "bytes_in": [1000, 20_000, 400, 50_000],
        "log": ["squid", "proxy", "access", "zeek"], "host": ["a.example"] * 4,
        "source_file_id": [2] * 4, "source_line": [1, 2, 3, 4]}))
    store.append("credentials", pl.DataFrame({
        "ts": [T0], "client": ["10.0.0.5"], "server": ["192.0.2.1"], "server_port": [21], "protocol": ["ftp"],
        "account": ["root"], "secret": ["h*****"], "secret_clear": [False], "source_file_id": [3],
        "source_line": [4]}))


def test_bandwidth_and_credentials(any_store):
    fill(any_store)
    rows = {r["client"]: r for r in traffic.bandwidth(any_store)}
    assert (rows["10.0.0.5"]["bytes_out"], rows["10.0.0.5"]["bytes_in"], rows["10.0.0.5"]["connections"]) == (
        10_000_000_005, 7 + 3 + 1000 + 20_000, 4)
    assert (rows["10.0.0.6"]["bytes_out"], rows["10.0.0.6"]["bytes_in"]) == (0, 11)
    assert [r["client"] for r in traffic.bandwidth(any_store)] == ["10.0.0.5", "10.0.0.6"]
    series = traffic.timeline(any_store, "10.0.0.5")
    assert sum(p["bytes_out"] for p in series) == 10_000_000_005
    creds = traffic.credentials(any_store)
    assert [(c["account"], c["secret"]) for c in creds] == [("root", "h*****")]
    assert traffic.counts(any_store) == {"connections": 3, "http_requests": 4, "credentials": 1, "ids_alerts": 0}


def test_timeline_families(any_store):
    fill(any_store)
    events = timeline.client_events(any_store, "10.0.0.5")
    by_family = {e["family"]: e for e in events}
    assert by_family["credentials"]["text"] == "ftp password of root sent to 192.0.2.1 in clear text"
    assert by_family["http"]["count"] == 4
    texts = [e["text"] for e in events if e["family"] == "connections"]
    assert "2 connections to 2 servers in the hour (e.g. 192.0.2.1): 10.0 GB sent, 10 B received" in texts
    assert any(t.startswith("1 connections from 1 clients") for t in texts)
