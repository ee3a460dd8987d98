"""The store seam: what every stage (ingest, baseline, detect, enrich, report, web) may ask of a store.

Library code outside ``netsift.store`` talks to a :class:`Store` only, never to a database driver: queries
with ``?`` parameters to Polars (``frame``), Arrow (``arrow``), tuples (``rows``) or one value (``scalar``);
writes (``execute``, ``executemany``, ``append``, ``replace``); the schema (``has_table``, ``has_column``,
``ensure_schema``, ``ensure_tables``); ``transaction()``; a frame readable by SQL for a while
(``temp_table``); and sessions for concurrent readers (``cursor``, ``reader``). SQL that differs between
databases is written once, in the store's dialect (``store.sql``, :mod:`netsift.store.sql`).

:class:`~netsift.store.duckdb.DuckDBStore` is the one implementation today; a second store implements this
protocol in its own module of this folder (see docs/architecture.md, "How to add a store").
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import polars as pl
import pyarrow as pa

from netsift.errors import StoreError
from netsift.schema import Table
from netsift.store.sql import Dialect

Params = Sequence[Any] | dict[str, Any] | None
Data = pl.DataFrame | pa.Table


class Interrupted(StoreError):
    """A query was interrupted (Ctrl-C while the database was working)."""


@runtime_checkable
class Store(Protocol):
    """One database holding the canonical tables of :mod:`netsift.schema` and everything derived."""

    path: str
    sql: Dialect  # the dialect-specific SQL fragments of this store

    # --- reading ----------------------------------------------------------------------------------
    def frame(self, sql: str, params: Params = None) -> pl.DataFrame:
        """Run a query and return its rows as a Polars frame."""
        ...

    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        """Run a query and return its rows as an Arrow table."""
        ...

    def rows(self, sql: str, params: Params = None) -> list[tuple]:
        """Run a query and return all its rows as tuples."""
        ...

    def dicts(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts by column name (Python values, as ``rows`` gives)."""
        ...

    def scalar(self, sql: str, params: Params = None) -> Any:
        """The first column of the first row (None when there is no row)."""
        ...

    # --- writing ----------------------------------------------------------------------------------
    def execute(self, sql: str, params: Params = None) -> None:
        """Run one parameterised statement."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one parameterised statement once per row of parameters."""
        ...

    def append(self, table: str, data: Data) -> None:
        """Append a frame (or Arrow table) whose columns are a subset of the table's, by name."""
        ...

    def replace(self, table: str, data: Data) -> None:
        """Replace a table's rows with ``data`` in one transaction: readers see the old rows or the new,
        never an empty table."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together, or (on an exception) not at all."""
        ...

    def temp_table(self, name: str, data: Data) -> AbstractContextManager[None]:
        """``data`` readable by SQL as ``name`` inside the block (this session only)."""
        ...

    # --- schema -----------------------------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        ...

    def has_column(self, table: str, column: str) -> bool:
        ...

    def ensure_schema(self) -> None:
        """Create missing tables of every module, and add columns a newer netsift declares."""
        ...

    def ensure_tables(self, tables: Sequence[Table]) -> None:
        """Create these tables if they are missing."""
        ...

    def create_tables(self, tables: Sequence[Table]) -> None:
        """Create these tables, replacing any of the same name (inside a transaction: atomically)."""
        ...

    # --- sessions ---------------------------------------------------------------------------------
    def cursor(self) -> Store:
        """The same database through a session of its own (for another thread); close it when done."""
        ...

    def reader(self) -> AbstractContextManager[Store]:
        """A session that reads the store as it is now, in one read transaction, until the block ends
        (a consistent view while others commit)."""
        ...

    def close(self) -> None:
        ...

    def __enter__(self) -> Store:
        ...

    def __exit__(self, *exc: object) -> None:
        ...


def replace_changed(store: Store, table: str, key: str, new: pl.DataFrame, old: pl.DataFrame | None,
                    ignore: Sequence[str] = ()) -> int:
    """Make ``table`` (whose rows are ``old``) hold ``new``, writing only the rows that differ (by every
    column but ``ignore``; ``key`` names a row): one transaction, as :meth:`Store.replace`, but a few changed
    rows out of many cost a few rows' writes. Without ``old``, the whole table is replaced. Returns the rows
    written."""
    if old is None or old.columns != new.columns or not new.height or not old.height:
        store.replace(table, new)  # (an empty frame's columns have no types to compare)
        return new.height
    compare = [c for c in new.columns if c not in ignore]
    changed = new.join(old.select(compare), on=compare, how="anti", nulls_equal=True)
    gone = old.join(new.select(key), on=key, how="anti", nulls_equal=True)[key]
    keys = pl.concat([changed[key], gone]).unique()
    if not keys.len():
        return 0
    with store.transaction():
        store.execute(f"DELETE FROM {table} WHERE {store.sql.in_list(key)}", [store.sql.list_param(keys.to_list())])
        store.append(table, changed)
    return changed.height


def rows_of(data: Data) -> int:
    return data.num_rows if isinstance(data, pa.Table) else data.height


def columns_of(data: Data) -> list[str]:
    return list(data.column_names if isinstance(data, pa.Table) else data.columns)


__all__ = ["Data", "Interrupted", "Params", "Store", "StoreError", "columns_of", "replace_changed", "rows_of"]
