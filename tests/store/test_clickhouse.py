"""The ClickHouse stores: the DuckDB → ClickHouse translation, the missing extra, the demo network analysed
on chdb with the same answers as on DuckDB, the clean-up of a killed ingest, and the server client (run
only when $NETSIFT_TEST_CLICKHOUSE_URL names a server)."""

from __future__ import annotations

import os
import sys

import polars as pl
import pytest
from click.testing import CliRunner

from netsift import pipeline
from netsift.cli import main
from netsift.errors import StoreError, UsageError
from netsift.ingest import bookkeeping
from netsift.store import open_store
from netsift.synth import PLANTED, write_demo

sqlglot = pytest.importorskip("sqlglot", reason="the clickhouse extra is not installed")
ch = pytest.importorskip("netsift.store.clickhouse")


@pytest.mark.parametrize(("duckdb", "expected"), [
    ("SELECT len(answers) FROM t", "SELECT length(answers) FROM t"),
    ("SELECT x[1:3] FROM t", "SELECT arraySlice(x, 1, 3 + 1 - 1) FROM t"),
    ("SELECT list(DISTINCT q ORDER BY q) FROM t", "SELECT arraySort(groupUniqArray(q)) FROM t"),
    ("SELECT list(x ORDER BY n DESC, x) FILTER (WHERE ok) FROM t",
     "SELECT arrayMap(t -> t.1, arraySort(t -> (-toFloat64(t.2), t.3), groupArrayIf((x, n, x), ok))) FROM t"),
    ("SELECT quantile_disc(ts, 0.5) FROM t", "SELECT quantileExactLow(0.5)(ts) FROM t"),
    ("SELECT bool_and(b), bool_or(b) FROM t", "SELECT min(b), max(b) FROM t"),
    ("SELECT a.x FROM a", "SELECT a.x AS x FROM a"),
    ("DELETE FROM t", "TRUNCATE TABLE t"),
    ("UPDATE t SET a = ? WHERE b = ?", "ALTER TABLE t UPDATE a = __nsp0__ WHERE b = __nsp1__"),
    ("INSERT INTO t VALUES (?, ?)", "INSERT INTO t SELECT __nsp0__, __nsp1__"),
    ("WITH d AS (SELECT * FROM t WHERE a = ?) SELECT * FROM d WHERE b = ? AND c = '?'",
     "WITH d AS (SELECT * FROM t WHERE a = __nsp0__) SELECT * FROM d WHERE b = __nsp1__ AND c = '?'"),
    ("SET threads = 1", "SET max_threads = 1"),
    ("SELECT x IS NOT NULL AS known FROM t", "SELECT toBool(NOT (x IS NULL)) AS known FROM t"),
    ("SELECT sum(n) AS n FROM t GROUP BY ALL ORDER BY n DESC", "SELECT SUM(n) AS n FROM t GROUP BY ALL ORDER BY 1 DESC"),
    ("SELECT split_part(r, ':', 1) FROM t",
     "SELECT CASE WHEN r IS NULL THEN NULL ELSE arrayElement(splitByString(':', assumeNotNull(r)), 1) END FROM t"),
    ("SELECT time_bucket(INTERVAL '1 hour', ts) FROM t",
     "SELECT toDateTime64(toStartOfInterval(ts, INTERVAL 1 HOUR), 6) FROM t"),
])
def test_transpile(duckdb, expected):
    assert ch.transpile(duckdb) == expected


def test_bind_types_each_parameter_and_keeps_values_apart():
    import datetime as dt
    bound = ch.bind("SELECT ?, ?, ?, ?, ?", ["x'; DROP TABLE t", 3, None, dt.datetime(2026, 1, 1), ["a"]])
    assert bound.sql == ("SELECT {p0:String}, {p1:Int64}, NULL, {p3:DateTime64(6)}, {p4:Array(Nullable(String))}")
    assert bound.params["p0"] == "x'; DROP TABLE t"


def test_without_the_extra_one_line_names_it(monkeypatch):
    import netsift.store
    monkeypatch.setitem(sys.modules, "netsift.store.clickhouse", None)  # as if sqlglot/chdb were absent
    monkeypatch.delattr(netsift.store, "clickhouse", raising=False)
    with pytest.raises(UsageError, match=r"pip install 'netsift\[clickhouse\]'"):
        open_store("chdb:/nonexistent")
    done = CliRunner().invoke(main, ["status", "--db", "clickhouse://localhost/netsift"])
    assert done.exit_code == 2
    assert "netsift[clickhouse]" in done.output and "Traceback" not in done.output


def test_ddl_orders_by_the_access_path_and_partitions_by_day():
    from netsift.schema import DNS_QUERIES, DOMAIN_STATS
    dialect = ch.ClickHouseDialect(retention_days=30)
    ddl = dialect.ddl(DNS_QUERIES)
    assert "ENGINE = MergeTree PARTITION BY toDate(ts) ORDER BY (client, ts)" in ddl
    assert "TTL toDateTime(ts) + INTERVAL 30 DAY" in ddl and "answers Array(String)" in ddl
    assert "ORDER BY (registered_domain)" in dialect.ddl(DOMAIN_STATS)


def test_upsert_update_and_sequence(empty_chdb):
    store = empty_chdb
    sql = store.sql.upsert("enrichment_cache", ("service", "key", "value_json", "fetched_at"))
    import datetime as dt
    now = dt.datetime(2026, 1, 1)
    store.execute(sql, ["vt", "a.com", "{}", now])
    store.execute(sql, ["vt", "a.com", '{"x": 1}', now])
    assert store.rows("SELECT value_json FROM enrichment_cache") == [('{"x": 1}',)]
    ids = [store.scalar("SELECT nextval('file_ids')") for _ in range(3)]
    assert len(set(ids)) == 3 and ids == sorted(ids)


def test_a_killed_ingest_leaves_nothing_half_read(empty_chdb):
    """An ingest killed mid-file leaves its record in progress and rows past its last complete line; the
    next writable open removes them (synchronous deletes), as on DuckDB."""
    store = empty_chdb
    bookkeeping.record(store, file_id=7, is_new=True, path="/x.log", size=10, head="h", content_hash="c",
                       last_offset=0, last_line=0, fmt="bind", rows=0, rejected=0, in_progress=True)
    import datetime as dt
    store.append("dns_queries", pl.DataFrame({"ts": [dt.datetime(2026, 1, 1)] * 2, "query_name": ["a.com"] * 2,
                                              "source_file_id": [7, 7], "source_line": [1, 2]}))
    again = ch.ClickHouseStore(store.path)  # a writable open of the same store
    again.close()
    assert store.scalar("SELECT count(*) FROM dns_queries") == 0
    assert store.scalar("SELECT count(*) FROM ingested_files") == 0
    # killed after a small file's rows and before its record (no transaction holds them together here)
    store.append("dns_queries", pl.DataFrame({"ts": [dt.datetime(2026, 1, 1)], "query_name": ["b.com"],
                                              "source_file_id": [8], "source_line": [1]}))
    store.append("rejected_lines", pl.DataFrame({"source_file_id": [8], "source_line": [2], "reason": ["x"]}))
    ch.ClickHouseStore(store.path).close()
    assert store.scalar("SELECT count(*) FROM dns_queries") == 0
    assert store.scalar("SELECT count(*) FROM rejected_lines") == 0


def _outcome(store, files):
    pipeline.ingest(store, [str(f) for f in files])
    analysis = pipeline.analyze(store, pipeline.AnalysisOptions())
    counts = {t: store.scalar(f"SELECT count(*) FROM {t}") for t in
              ("dns_queries", "domain_names", "ingested_files", "domain_stats", "findings", "rollup_client_hour",
               "rollup_domain_answer", "rollup_resolver_name")}
    return counts, [(f.kind, f.client, f.domain, round(f.score, 9), f.severity) for f in analysis.findings]


def test_demo_network_same_answers_on_duckdb_and_chdb(empty_chdb, tmp_path):
    """Ingest + analyze of the demo network: equal row counts and the same findings in the same order."""
    files = write_demo(tmp_path / "demo")
    with open_store(tmp_path / "demo.duckdb") as duck:
        on_duckdb = _outcome(duck, files)
    on_chdb = _outcome(empty_chdb, files)
    assert on_chdb[0] == on_duckdb[0]
    assert on_chdb[1] == on_duckdb[1]
    found = {(k, c, d) for k, c, d, _, _ in on_chdb[1]}
    for planted in PLANTED.values():
        assert any(c == planted["client"] for _, c, _ in found), planted["name"]


@pytest.mark.skipif(not os.environ.get("NETSIFT_TEST_CLICKHOUSE_URL"),
                    reason="no ClickHouse server: set NETSIFT_TEST_CLICKHOUSE_URL=clickhouse://user@host:8123/db")
def test_server_store_round_trip():
    pytest.importorskip("clickhouse_connect")
    import datetime as dt
    with open_store(os.environ["NETSIFT_TEST_CLICKHOUSE_URL"]) as store:
        store.execute("DELETE FROM verdicts WHERE entity = ?", ["a.com"])
        store.append("verdicts", pl.DataFrame({"entity": ["a.com"], "verdict": ["benign"],
                                               "ts": [dt.datetime(2026, 1, 1)]}))
        assert store.rows("SELECT entity FROM verdicts WHERE verdict = ?", ["benign"]) == [("a.com",)]


def test_retention_days_from_the_settings_file(monkeypatch, tmp_path):
    """[store] retention_days of $NETSIFT_CONFIG reaches a ClickHouse store (its tables' TTL); an argument wins."""
    seen = []
    monkeypatch.setattr(ch, "ClickHouseStore", lambda target, **kw: seen.append(kw["retention_days"]))
    config = tmp_path / "netsift.toml"
    config.write_text("[store]\nretention_days = 30\n")
    monkeypatch.setenv("NETSIFT_CONFIG", str(config))
    open_store("chdb:/nowhere")
    open_store("chdb:/nowhere", retention_days=7)
    monkeypatch.delenv("NETSIFT_CONFIG")
    open_store("chdb:/nowhere")
    assert seen == [30, 7, None]


def test_server_errors_never_show_the_password(monkeypatch):
    pytest.importorskip("clickhouse_connect")
    import socket
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for url, env in ((f"clickhouse://alice:s3cr%40t@127.0.0.1:{port}/netsift", None),
                     (f"clickhouse://alice@127.0.0.1:{port}/netsift", "s3cr@t")):
        if env:
            monkeypatch.setenv("NETSIFT_CLICKHOUSE_PASSWORD", env)
        with pytest.raises(StoreError) as caught:
            open_store(url)
        assert "s3cr" not in str(caught.value) and f"127.0.0.1:{port}/netsift" in str(caught.value)
