"""Builders for detector tests: an in-memory DuckDB store with the canonical tables, filled from small
hand-made event lists (or the synthetic generator's frame), with ``domain_names`` derived by the PSL
module and a simple ``domain_stats`` (top sites, infrastructure, prevalence) like the baseline's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl
import pytest

from netsift.names import derive_names
from netsift.schema import DNS_QUERIES, TABLES, duckdb_ddl, polars_schema
from netsift.store import DuckDBStore

T0 = dt.datetime(2026, 3, 2, 0, 0, 0)  # a Monday, naive UTC
WELL_KNOWN = Path(__file__).resolve().parents[2] / "src" / "netsift" / "data" / "well_known_domains.txt"

DOMAIN_STATS_SQL = """
WITH s AS (
    SELECT n.registered_domain, count(*) AS queries, count(DISTINCT q.client) AS clients,
           count(DISTINCT q.query_name) AS names, count(*) FILTER (WHERE q.response_code = 'NXDOMAIN') AS nxdomain,
           min(q.ts) AS first_seen, max(q.ts) AS last_seen, bool_and(n.is_infrastructure) AS infrastructure
    FROM dns_queries q JOIN domain_names n USING (query_name) GROUP BY n.registered_domain
),
r AS (SELECT domain, min(rank) AS top_rank FROM top_sites GROUP BY domain),
t AS (SELECT count(DISTINCT client) AS total FROM dns_queries)
SELECT s.registered_domain, s.queries, s.clients, s.names, s.nxdomain, s.first_seen, s.last_seen, r.top_rank,
       CASE WHEN r.top_rank IS NOT NULL THEN 'top sites: rank ' || r.top_rank
            WHEN s.infrastructure THEN 'infrastructure'
            WHEN t.total >= ? AND s.clients >= greatest(?, ceil(? * t.total)) THEN 'prevalent'
       END AS normal_reason
FROM s LEFT JOIN r ON r.domain = s.registered_domain, t
"""


def events(rows: Iterable[tuple]) -> pl.DataFrame:
    """Events from (ts, client, query_name[, query_type[, response_code]]) tuples."""
    full = [(r[0], r[1], r[2], r[3] if len(r) > 3 else "A", r[4] if len(r) > 4 else "NOERROR") for r in rows]
    return pl.DataFrame(
        full,
        schema={
            "ts": pl.Datetime("us"),
            "client": pl.String,
            "query_name": pl.String,
            "query_type": pl.String,
            "response_code": pl.String,
        },
        orient="row",
    )


def well_known_sites() -> list[tuple[str, int]]:
    names = [
        ln.strip() for ln in WELL_KNOWN.read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]
    return [(d, i) for i, d in enumerate(names, start=1)]


def make_store(
    frame: pl.DataFrame,
    top_sites: Iterable[tuple[str, int]] = (),
    prevalence_share: float = 0.5,
    prevalence_min_clients: int = 5,
) -> DuckDBStore:
    """An in-memory store with every canonical table; ``frame`` needs ts, client, query_name (other
    dns_queries columns are filled with defaults: A, NOERROR)."""
    con = duckdb.connect(":memory:")
    for table in TABLES:
        con.execute(duckdb_ddl(table))
    schema = polars_schema(DNS_QUERIES)
    defaults = {"query_type": "A", "response_code": "NOERROR", "source_file_id": 1}
    cols = []
    for name, dtype in schema.items():
        if name in frame.columns:
            cols.append(pl.col(name).cast(dtype))
        elif name == "source_line":
            cols.append(pl.int_range(1, pl.len() + 1).cast(dtype).alias(name))
        else:
            cols.append(pl.lit(defaults.get(name), dtype=dtype).alias(name))
    rows = frame.select(cols)
    con.register("incoming", rows)
    con.execute("INSERT INTO dns_queries SELECT * FROM incoming")
    con.unregister("incoming")
    names = derive_names(sorted(rows["query_name"].unique().to_list()))
    con.register("incoming", names)
    con.execute("INSERT INTO domain_names SELECT * FROM incoming")
    con.unregister("incoming")
    sites = list(top_sites)
    if sites:
        con.executemany("INSERT INTO top_sites VALUES (?, ?, 'test')", [list(s) for s in sites])
    con.execute(
        "INSERT INTO domain_stats " + DOMAIN_STATS_SQL,
        [prevalence_min_clients, prevalence_min_clients, prevalence_share],
    )
    return DuckDBStore.over(con)


@pytest.fixture
def store():
    """``store(frame, top_sites=..., ...)`` -> a DuckDBStore; closed after the test."""
    made = []

    def build(frame: pl.DataFrame, **kwargs) -> DuckDBStore:
        con = make_store(frame, **kwargs)
        made.append(con)
        return con

    yield build
    for con in made:
        con.close()
