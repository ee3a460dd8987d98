"""Files of formats that fill a table other than dns_queries (Squid, Zeek conn/http) go through the same
driver: rows land in the parser's table, re-ingest adds nothing, forget removes them, the report counts them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from netsift.ingest import bookkeeping
from netsift.ingest.run import ingest_paths
from netsift.store import open_store

DATA = Path(__file__).parent.parent / "data" / "netlogs"


@pytest.fixture
def store():
    with open_store(":memory:") as s:
        yield s


@pytest.mark.parametrize("name, table, rows, rejected", [
    ("conn.log", "connections", 4, 3),
    ("conn.json", "connections", 4, 2),
    ("http.log", "http_requests", 4, 1),
    ("http.json", "http_requests", 3, 1),
    ("access.log", "http_requests", 5, 1),
])
def test_rows_go_to_the_parsers_table(store, tmp_path, name, table, rows, rejected):
    path = tmp_path / name
    shutil.copy(DATA / name, path)
    report = ingest_paths(store, [str(path)]).files[0]
    assert (report.status, report.rows, report.rejected) == ("ingested", rows, rejected)
    assert store.scalar(f"SELECT count(*) FROM {table}") == rows
    assert store.scalar("SELECT count(*) FROM dns_queries") == 0
    assert store.scalar("SELECT count(*) FROM rejected_lines") == rejected
    again = ingest_paths(store, [str(path)]).files[0]
    assert again.status == "unchanged" and store.scalar(f"SELECT count(*) FROM {table}") == rows
    file_id = store.scalar("SELECT file_id FROM ingested_files")
    bookkeeping.forget_file(store, file_id)
    assert store.scalar(f"SELECT count(*) FROM {table}") == 0


def test_a_grown_conn_log_adds_its_tail(store, tmp_path):
    lines = (DATA / "conn.log").read_text().splitlines(keepends=True)
    path = tmp_path / "conn.log"
    path.write_text("".join(lines[:10]))
    ingest_paths(store, [str(path)])
    path.write_text("".join(lines))
    report = ingest_paths(store, [str(path)]).files[0]
    assert report.status == "resumed"
    assert store.scalar("SELECT count(*) FROM connections") == 4
    assert store.scalar("SELECT sum(bytes_out) FROM connections") == 1200 + 40 + 0
