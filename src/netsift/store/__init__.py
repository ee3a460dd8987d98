"""The store: where canonical records and everything derived from them live.

``open_store(path)`` returns a :class:`~netsift.store.duckdb.DuckDBStore` (the default, one file, no
server). Library code talks to ``store.con`` (a DuckDB connection) with parameterised SQL; the tables are
those of ``netsift.schema``.
"""

from netsift.store.duckdb import DuckDBStore, default_db_path, open_store

__all__ = ["DuckDBStore", "default_db_path", "open_store"]
