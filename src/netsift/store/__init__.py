"""The store: where canonical records and everything derived from them live.

Every stage talks to a :class:`~netsift.store.base.Store` (the seam: queries to Polars/Arrow, writes,
atomic table replacement, schema, transactions, reader sessions); the dialect-specific SQL is the store's
``sql`` (:mod:`netsift.store.sql`). ``open_store(path)`` returns a :class:`~netsift.store.duckdb.DuckDBStore`
(the default and only implementation: one file, no server). Only this package imports ``duckdb``.
"""

from netsift.store.base import Interrupted, Store, StoreError
from netsift.store.duckdb import DuckDBStore, default_db_path, open_store

__all__ = ["DuckDBStore", "Interrupted", "Store", "StoreError", "default_db_path", "open_store"]
