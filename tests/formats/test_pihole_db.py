"""Pi-hole's long-term query database (pihole-FTL.db) in its v5 (a queries table) and v6 (a queries view over
query_storage and the *_by_id tables) shapes, built here with sqlite3, read through the ingest driver:
the codes mapped, a bad row rejected, sniffing, re-ingesting, and a database that is not Pi-hole's."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from netsift.ingest.formats import detect_format, pihole_db
from netsift.ingest.run import IngestOptions, ingest_file
from netsift.store import open_store

T0 = 1733200000  # 2024-12-03 04:26:40 UTC
# (timestamp, type, status, domain, client, forward, reply_type) -> the record expected
ROWS = [
    ((T0, 1, 2, "a.example.com", "10.0.0.1", "1.1.1.1#53", 4), ("A", "NOERROR", "forwarded:1.1.1.1#53")),
    ((T0 + 1, 2, 1, "ads.example.com", "10.0.0.2", None, 4), ("AAAA", "NOERROR", "blocked:gravity")),
    ((T0 + 2, 6, 3, "9.0.0.10.in-addr.arpa", "10.0.0.3", None, 2), ("PTR", "NXDOMAIN", "cached")),
    ((T0 + 3, 16, 4, "track.example.net", "10.0.0.1", None, 3), ("HTTPS", "NOERROR", "blocked:regex")),
    ((T0 + 4, 164, 17, "cdn.example.org", "10.0.0.2", None, 1), ("SVCB", "NOERROR", "cached:stale")),
    ((T0 + 5, 1, 2, "down.example", "10.0.0.4", "9.9.9.9#53", 7), ("A", "SERVFAIL", "forwarded:9.9.9.9#53")),
]


def v5(path: Path, rows=ROWS) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE queries (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp INTEGER NOT NULL, "
                "type INTEGER NOT NULL, status INTEGER NOT NULL, domain TEXT NOT NULL, client TEXT NOT NULL, "
                "forward TEXT, additional_info TEXT, reply_type INTEGER, reply_time REAL, dnssec INTEGER)")
    con.executemany("INSERT INTO queries (timestamp, type, status, domain, client, forward, reply_type) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", [r for r, _ in rows])
    con.commit()
    con.close()
    return path


def v6(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE query_storage (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp REAL NOT NULL, type INTEGER NOT NULL,
            status INTEGER NOT NULL, domain INTEGER NOT NULL, client INTEGER NOT NULL, forward INTEGER,
            additional_info INTEGER, reply_type INTEGER, reply_time REAL, dnssec INTEGER, list_id INTEGER, ede INTEGER);
        CREATE TABLE domain_by_id (id INTEGER PRIMARY KEY, domain TEXT NOT NULL);
        CREATE TABLE client_by_id (id INTEGER PRIMARY KEY, ip TEXT NOT NULL, name TEXT);
        CREATE TABLE forward_by_id (id INTEGER PRIMARY KEY, forward TEXT NOT NULL);
        CREATE VIEW queries AS SELECT q.id, q.timestamp, q.type, q.status, d.domain, c.ip AS client,
            f.forward, q.additional_info, q.reply_type, q.reply_time, q.dnssec FROM query_storage q
            JOIN domain_by_id d ON d.id = q.domain JOIN client_by_id c ON c.id = q.client
            LEFT JOIN forward_by_id f ON f.id = q.forward;""")
    for i, ((ts, qtype, status, domain, client, forward, reply), _) in enumerate(ROWS, start=1):
        con.execute("INSERT INTO domain_by_id VALUES (?, ?)", (i, domain))
        con.execute("INSERT INTO client_by_id VALUES (?, ?, NULL)", (i, client))
        if forward:
            con.execute("INSERT INTO forward_by_id VALUES (?, ?)", (i, forward))
        con.execute("INSERT INTO query_storage (timestamp, type, status, domain, client, forward, reply_type) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", (ts + 0.25, qtype, status, i, i, i if forward else None, reply))
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize("build, fraction", [(v5, 0), (v6, 250000)])
def test_both_shapes_are_read_with_their_codes(tmp_path, build, fraction):
    path = build(tmp_path / "pihole-FTL.db")
    assert detect_format(path.read_bytes()[:65536], [])[0] is pihole_db.PARSER
    with open_store(":memory:") as store:
        report = ingest_file(store, str(path), IngestOptions())
        assert (report.status, report.format, report.rows, report.rejected) == ("ingested", "pihole_db", 6, 0)
        got = store.rows("SELECT ts, client, query_name, query_type, response_code, resolver_action FROM dns_queries "
                         "ORDER BY source_line")
        for (row, expected), record in zip(ROWS, got):
            stamp = dt.datetime.fromtimestamp(row[0], dt.UTC).replace(tzinfo=None, microsecond=fraction)
            assert record == (stamp, row[4], row[3], *expected)
        assert ingest_file(store, str(path), IngestOptions()).status == "unchanged"


def test_a_row_without_a_timestamp_is_rejected_the_rest_kept(tmp_path):
    path = v5(tmp_path / "p.db", ROWS[:2] + [((0, 1, 2, "x.example", "10.0.0.9", None, 4), None)])
    with open_store(":memory:") as store:
        report = ingest_file(store, str(path), IngestOptions())
        assert (report.rows, report.rejected) == (2, 1)
        assert report.first_rejections[0][:2] == (3, "query row without a readable timestamp or domain")


def test_a_database_that_is_not_pihole_s_is_refused_with_a_reason(tmp_path):
    con = sqlite3.connect(tmp_path / "other.db")
    con.execute("CREATE TABLE moz_places (id INTEGER, url TEXT)")
    con.commit()
    con.close()
    with open_store(":memory:") as store:
        with pytest.raises(Exception, match="without Pi-hole's query tables"):
            ingest_file(store, str(tmp_path / "other.db"), IngestOptions())
        with pytest.raises(Exception, match="without a queries table or view"):
            ingest_file(store, str(tmp_path / "other.db"), IngestOptions(format="pihole_db"))
