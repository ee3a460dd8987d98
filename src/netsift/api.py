"""netsift from Python (a notebook, a script): open a store, run an analysis, and get findings, queries and
a domain's or a client's history as Polars frames. The same library calls the CLI makes; see docs/api.md
and the executed example docs/api_example.py.

    from netsift import api
    store = api.open_store("netsift.duckdb")          # or "chdb:DIR", "clickhouse://host/db"
    api.ingest(store, ["dns.log"]); api.analyze(store)
    api.findings(store, min_severity="medium")        # a Polars frame, highest score first
    api.query(store, "SELECT client, count(*) AS n FROM dns_queries GROUP BY ALL ORDER BY n DESC LIMIT 5")
    api.domain_history(store, "example.com"); api.client_history(store, "10.0.0.5")
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from netsift import pipeline
from netsift.errors import StoreError, UsageError
from netsift.export import Exported, export_parquet
from netsift.findings import SEVERITIES
from netsift.ingest.run import IngestOptions, IngestSummary
from netsift.store import Store, open_store

_HOURLY = """
    SELECT date_trunc('hour', q.ts) AS hour, count(*) AS queries,
           count(*) FILTER (WHERE q.response_code = 'NXDOMAIN') AS nxdomain,
           count(DISTINCT q.client) AS clients, count(DISTINCT q.query_name) AS names
    FROM dns_queries q JOIN domain_names n USING (query_name)
    WHERE {where} GROUP BY ALL ORDER BY hour"""


def ingest(store: Store, paths: Iterable[str | Path], opts: IngestOptions | None = None) -> IngestSummary:
    """Read log files, directories or globs into the store (what ``netsift ingest`` does)."""
    return pipeline.ingest(store, [str(p) for p in paths], opts)


def analyze(store: Store, *, detectors: list[str] | None = None,
            settings: dict[str, dict] | None = None) -> pipeline.Analysis:
    """Baseline, detectors, enrichment and the findings table (what ``netsift analyze`` does, offline).
    ``detectors``: the kinds to run (None: all); ``settings``: ``{section: {name: value}}`` overrides."""
    return pipeline.analyze(store, pipeline.AnalysisOptions(detectors=detectors, settings=settings or {},
                                                            remember_inputs=False))


def query(store: Store, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
    """Run SQL (DuckDB's dialect on every store: ClickHouse stores translate it) with ``?`` parameters."""
    try:
        return store.frame(sql, params)
    except StoreError:
        raise
    except Exception as exc:  # the database's own error (syntax, unknown table): one line
        raise StoreError(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__) from exc


def findings(store: Store, *, min_severity: str | None = None, kind: str | None = None) -> pl.DataFrame:
    """The findings of the last analysis, highest score first; ``min_severity`` (info .. critical) and
    ``kind`` filter them."""
    where: list[str] = ["true"]
    params: list[Any] = []
    if min_severity is not None:
        if min_severity not in SEVERITIES:
            raise UsageError(f"severity must be one of {', '.join(SEVERITIES)}, not {min_severity!r}")
        where.append(store.sql.in_list("severity"))
        params.append(store.sql.list_param(SEVERITIES[SEVERITIES.index(min_severity):]))
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    return query(store, f"SELECT * FROM findings WHERE {' AND '.join(where)} ORDER BY score DESC, finding_id",
                 params)


def domain_history(store: Store, domain: str) -> pl.DataFrame:
    """Per hour: questions, NXDOMAIN answers, distinct clients and names under a registered domain."""
    return query(store, _HOURLY.format(where="n.registered_domain = ?"), [domain.strip().lower().rstrip(".")])


def client_history(store: Store, client: str) -> pl.DataFrame:
    """Per hour: questions, NXDOMAIN answers and distinct names a client asked."""
    return query(store, _HOURLY.format(where="q.client = ?"), [client.strip()])


__all__ = ["Exported", "analyze", "client_history", "domain_history", "export_parquet", "findings", "ingest",
           "open_store", "query"]
