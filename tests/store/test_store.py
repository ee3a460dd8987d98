"""The Store seam on every store (DuckDB and chdb, see ``any_store`` in tests/conftest.py): reading,
writing, atomic replace, schema, transactions, sessions. What only DuckDB promises (rollback, a reader's
snapshot, named parameters) is tested on DuckDB alone (docs/scale-out.md says what ClickHouse gives)."""

from __future__ import annotations

import threading

import polars as pl
import pyarrow as pa
import pytest

from netsift.schema import Column, Table
from netsift.store import DuckDBStore, Interrupted, Store, StoreError

T = Table("t_store_test", "test table", (Column("name", "text", "a name", False), Column("n", "int", "a count")))


@pytest.fixture
def store(any_store):
    any_store.ensure_tables([T])
    return any_store


@pytest.fixture
def duck(tmp_path):
    with DuckDBStore(tmp_path / "s.duckdb") as s:
        s.ensure_tables([T])
        yield s


def test_is_a_store(store):
    assert isinstance(store, Store)
    assert issubclass(Interrupted, StoreError)


def test_queries_to_frame_arrow_rows_scalar(store):
    store.executemany("INSERT INTO t_store_test VALUES (?, ?)", [("a", 1), ("b", 2)])
    assert store.frame("SELECT * FROM t_store_test ORDER BY name").rows() == [("a", 1), ("b", 2)]
    assert store.arrow("SELECT name FROM t_store_test WHERE n > ?", [1]).to_pylist() == [{"name": "b"}]
    assert store.scalar("SELECT count(*) FROM t_store_test") == 2
    assert store.scalar("SELECT n FROM t_store_test WHERE false") is None
    store.execute("DELETE FROM t_store_test WHERE name = ?", ["a"])
    assert store.scalar("SELECT count(*) FROM t_store_test") == 1


def test_named_parameters(duck):
    duck.execute("INSERT INTO t_store_test VALUES ('a', 1)")
    assert duck.rows("SELECT n FROM t_store_test WHERE name = $x", {"x": "a"}) == [(1,)]


def test_parameters_are_values_never_sql(store):
    nasty = ["it's", "a\\b", "tab\there", "line\nbreak", "'); DROP TABLE t_store_test; --", "{p0:String}", "?"]
    store.executemany("INSERT INTO t_store_test VALUES (?, ?)", [(v, i) for i, v in enumerate(nasty)])
    assert [r[0] for r in store.rows("SELECT name FROM t_store_test ORDER BY n")] == nasty
    assert store.scalar("SELECT n FROM t_store_test WHERE name = ? AND '?' = '?'", [nasty[4]]) == 4
    assert store.rows(f"SELECT n FROM t_store_test WHERE {store.sql.in_list('name')} ORDER BY n",
                      [store.sql.list_param(nasty[:2])]) == [(0,), (1,)]
    assert store.scalar("SELECT count(*) FROM t_store_test WHERE name = ?", [None]) == 0


def test_types_round_trip(store):
    import datetime as dt
    stamp = dt.datetime(2026, 1, 2, 3, 4, 5, 678901)
    row = store.rows("SELECT ?, ?, ?, ?, ?", [stamp, 1.5, True, "x", 2**40])[0]
    assert row == (stamp, 1.5, True, "x", 2**40)
    assert store.scalar("SELECT max(ts) FROM dns_queries") is None  # an aggregate over no rows is NULL


def test_frame_after_an_unfinished_result(store):
    store.execute("INSERT INTO t_store_test VALUES ('a', 1)")
    store.rows("SELECT 1")
    assert store.frame("SELECT count(*) AS c FROM t_store_test")["c"].to_list() == [1]


def test_append_frames_and_arrow_by_column_name(store):
    store.append("t_store_test", pl.DataFrame({"n": [3], "name": ["c"]}))
    store.append("t_store_test", pa.table({"name": ["d"]}))
    store.append("t_store_test", pl.DataFrame({"name": []}, schema={"name": pl.String}))
    assert store.rows("SELECT name, n FROM t_store_test ORDER BY name") == [("c", 3), ("d", None)]


def test_in_list_binds_one_parameter(store):
    store.append("t_store_test", pl.DataFrame({"name": ["a", "b", "c"], "n": [1, 2, 3]}))
    where = store.sql.in_list("name")
    assert store.rows(f"SELECT n FROM t_store_test WHERE {where} ORDER BY n", [store.sql.list_param(["a", "c"])]) \
        == [(1,), (3,)]
    assert store.rows(f"SELECT n FROM t_store_test WHERE {where}", [store.sql.list_param([])]) == []


def test_replace_is_atomic(duck):
    store = duck
    store.append("t_store_test", pl.DataFrame({"name": ["old"], "n": [1]}))
    reader = store.cursor()
    try:
        seen = []
        with store.transaction():
            store.execute("DELETE FROM t_store_test")
            store.append("t_store_test", pl.DataFrame({"name": ["new"], "n": [2]}))
            seen.append(reader.rows("SELECT name FROM t_store_test"))  # another session: old rows
        store.replace("t_store_test", pl.DataFrame({"name": ["newer"], "n": [3]}))
        assert seen == [[("old",)]]
        assert reader.rows("SELECT name FROM t_store_test") == [("newer",)]
    finally:
        reader.close()


def test_replace_swaps_the_rows(store):
    store.append("t_store_test", pl.DataFrame({"name": ["old"], "n": [1]}))
    reader = store.cursor()
    try:
        store.replace("t_store_test", pl.DataFrame({"name": ["new", "newer"], "n": [2, 3]}))
        assert reader.rows("SELECT name FROM t_store_test ORDER BY n") == [("new",), ("newer",)]
    finally:
        reader.close()
    assert store.has_column("t_store_test", "n") and store.has_table("t_store_test")


def test_replace_failing_keeps_the_old_rows(store):
    store.append("t_store_test", pl.DataFrame({"name": ["old"], "n": [1]}))
    with pytest.raises(Exception):
        store.replace("t_store_test", pl.DataFrame({"nope": ["x"]}))
    assert store.rows("SELECT name FROM t_store_test") == [("old",)]


def test_transaction_rolls_back_on_error(duck):
    store = duck
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.execute("INSERT INTO t_store_test VALUES ('a', 1)")
            raise RuntimeError("boom")
    assert store.scalar("SELECT count(*) FROM t_store_test") == 0


def test_schema(store):
    assert store.has_table("t_store_test") and not store.has_table("nope")
    assert store.has_column("t_store_test", "n") and not store.has_column("t_store_test", "x")
    assert store.has_table("dns_queries")  # ensure_schema ran on open
    store.append("t_store_test", pl.DataFrame({"name": ["a"], "n": [1]}))
    store.ensure_tables([T])  # keeps what is there
    assert store.scalar("SELECT count(*) FROM t_store_test") == 1
    store.create_tables([T])  # replaces it
    assert store.scalar("SELECT count(*) FROM t_store_test") == 0


def test_temp_table(store):
    with store.temp_table("_frame", pl.DataFrame({"x": [1, 2]})):
        assert store.scalar("SELECT sum(x) FROM _frame") == 3
    assert not store.has_table("_frame")


def test_reader_sees_one_version(duck):
    store = duck
    store.append("t_store_test", pl.DataFrame({"name": ["a"], "n": [1]}))
    with store.reader() as r:
        store.append("t_store_test", pl.DataFrame({"name": ["b"], "n": [2]}))
        assert r.scalar("SELECT count(*) FROM t_store_test") == 1
    assert store.scalar("SELECT count(*) FROM t_store_test") == 2


def test_cursors_from_threads(store):
    store.append("t_store_test", pl.DataFrame({"name": [str(i) for i in range(100)], "n": list(range(100))}))
    out: list[int] = []

    def read() -> None:
        session = store.cursor()
        try:
            out.append(session.scalar("SELECT sum(n) FROM t_store_test"))
        finally:
            session.close()

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [4950] * 4


def test_second_writer_gets_a_store_error(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    with DuckDBStore(path):
        code = ("import sys\nfrom netsift.store import DuckDBStore, StoreError\n"
                "try:\n    DuckDBStore(sys.argv[1])\nexcept StoreError as e:\n    print('StoreError', e)\n")
        done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert "StoreError" in done.stdout and "another process" in done.stdout
