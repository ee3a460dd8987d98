"""Rollups: built once, rebuilt only when dns_queries changed, and equal to aggregating the rows directly."""

from __future__ import annotations

import datetime as dt

import pytest

from netsift.store.rollups import ensure_rollups, rollups_current
from netsift.store import open_store
from tests.web.store_builder import build


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with open_store(build(tmp_path_factory.mktemp("rollups") / "netsift.duckdb")) as s:
        yield s


@pytest.mark.parametrize(("rollup", "direct"), [
    ("SELECT sum(queries), sum(nxdomain) FROM rollup_client_hour",
     "SELECT count(*), count(*) FILTER (WHERE response_code = 'NXDOMAIN') FROM dns_queries"),
    ("SELECT sum(queries) FROM rollup_domain_hour WHERE registered_domain = 'bad-actor.xyz'",
     "SELECT count(*) FROM dns_queries WHERE query_name = 'c2.bad-actor.xyz'"),
    ("SELECT count(*) FROM rollup_domain_client", "SELECT count(DISTINCT (n.registered_domain, q.client)) "
     "FROM dns_queries q JOIN domain_names n USING (query_name)"),
    ("SELECT sum(queries) FROM rollup_domain_answer", "SELECT count(*) FROM dns_queries, unnest(answers)"),
])
def test_rollups_match_the_rows(store, rollup, direct):
    ensure_rollups(store)
    assert store.rows(rollup) == store.rows(direct)


def test_rebuilt_only_when_rows_change(store):
    ensure_rollups(store)
    assert ensure_rollups(store) is False and rollups_current(store)
    store.con.execute("INSERT INTO dns_queries (ts, client, query_name, source_file_id, source_line) "
                      "VALUES (?, '10.0.0.9', 'www.google.com', 1, 9999)", [dt.datetime(2024, 5, 4)])
    assert not rollups_current(store)
    assert ensure_rollups(store) is True
    assert store.rows("SELECT sum(queries) FROM rollup_client_hour WHERE client = '10.0.0.9'") == [(1,)]
