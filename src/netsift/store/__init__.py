"""The store: where canonical records and everything derived from them live.

Every stage talks to a :class:`~netsift.store.base.Store` (the seam: queries to Polars/Arrow, writes,
atomic table replacement, schema, transactions, reader sessions); the dialect-specific SQL is the store's
``sql`` (:mod:`netsift.store.sql`). ``open_store(target)`` returns a :class:`~netsift.store.duckdb.DuckDBStore`
for a file (the default: one file, no server), or a :class:`~netsift.store.clickhouse.ClickHouseStore` for
``chdb:DIR`` (ClickHouse in-process) and ``clickhouse://[user[:password]@]host[:port]/database`` (a server),
with the ``clickhouse`` extra installed. Only this package imports ``duckdb``, ``chdb`` and
``clickhouse_connect``.
"""

import os
from pathlib import Path

from netsift.config import Setting, Settings, load_file
from netsift.errors import UsageError
from netsift.store.base import Interrupted, Store, StoreError
from netsift.store.duckdb import DuckDBStore, default_db_path

# [store] section of the settings file (``netsift config`` lists it)
SETTINGS = (
    Setting("retention_days", 0, "ClickHouse stores: days of rows kept (a TTL on every table with a ts "
            "column, set when the table is created; 0 keeps everything). Read from $NETSIFT_CONFIG.",
            min=0, max=36500),
)
CLICKHOUSE_PREFIXES = ("chdb:", "clickhouse://")
CLICKHOUSE_EXTRA = "pip install 'netsift[clickhouse]'"


def is_clickhouse_target(target: str) -> bool:
    return target.startswith(CLICKHOUSE_PREFIXES)


def store_exists(path: str | Path | None = None) -> bool:
    """Whether the store named by ``path`` (as for :func:`open_store`) is there to be read: a DuckDB file
    that exists (or ``:memory:``); a ClickHouse store is taken as there (its server answers when opened)."""
    target = str(path or default_db_path())
    return is_clickhouse_target(target) or target == ":memory:" or os.path.exists(target)


def open_store(path: str | Path | None = None, *, read_only: bool = False,
               retention_days: int | None = None) -> Store:
    """The store named by ``path``: a DuckDB file or ``:memory:``, ``chdb:DIR`` or
    ``clickhouse://[user[:password]@]host[:port]/database`` (default ``$NETSIFT_DB`` or ``./netsift.duckdb``).
    ``read_only``: refuse writes (DuckDB opens the file read-only; ClickHouse runs with ``readonly``).
    ``retention_days``: the TTL of the tables a ClickHouse store creates (None: ``[store] retention_days`` of
    the settings file in ``$NETSIFT_CONFIG``, if any)."""
    target = str(path or default_db_path())
    if not is_clickhouse_target(target):
        return DuckDBStore(target, read_only=read_only)
    if retention_days is None:
        configured = Settings(SETTINGS, load_file(os.environ.get("NETSIFT_CONFIG")).get("store", {}))
        retention_days = int(configured.retention_days) or None
    try:
        # deferred: an optional extra (sqlglot, chdb, clickhouse-connect), and ~0.1 s of start-up
        from netsift.store import clickhouse
    except ImportError as exc:
        raise UsageError(f"{target.split(':', 1)[0]} stores need the ClickHouse extra: {CLICKHOUSE_EXTRA}") from exc
    return clickhouse.ClickHouseStore(target, read_only=read_only, retention_days=retention_days)


__all__ = ["DuckDBStore", "Interrupted", "Store", "StoreError", "default_db_path", "is_clickhouse_target",
           "open_store", "store_exists"]
