"""SQL that differs between databases, written once per store: a :class:`Dialect` is a store's ``sql``.

Queries elsewhere are plain SQL as DuckDB reads it; the few fragments a second database (ClickHouse)
spells differently are built here, so that store has one place to change: "this column is in this list"
(a list bound as one parameter), list columns (length, unnest), the hour a stamp falls in, an upsert, and the DDL of
a declared table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from netsift import schema
from netsift.schema import Column, Table


class Dialect:
    """DuckDB's spelling (the default store's)."""

    name = "duckdb"

    def in_list(self, column: str, sql_type: str = "VARCHAR") -> str:
        """``column IN <the list bound to one ? parameter>`` (pass the values through :meth:`list_param`);
        an empty list matches nothing."""
        return f"{column} IN (SELECT unnest(CAST(? AS {sql_type}[])))"

    def not_in_list(self, column: str, sql_type: str = "VARCHAR") -> str:
        return f"{column} NOT IN (SELECT unnest(CAST(? AS {sql_type}[])))"

    def list_param(self, values: Iterable[Any]) -> list[Any]:
        """The one parameter :meth:`in_list` binds."""
        return list(values)

    def list_len(self, expr: str) -> str:
        """Number of elements of a list column."""
        return f"len({expr})"

    def unnest(self, expr: str) -> str:
        """One row per element of a list column (in a SELECT list)."""
        return f"unnest({expr})"

    def hour(self, expr: str) -> str:
        """The start of the hour a timestamp falls in."""
        return f"date_trunc('hour', {expr})"

    def upsert(self, table: str, columns: Sequence[str]) -> str:
        """An INSERT of one row (``?`` per column) that replaces the row with the same primary key."""
        return (f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})")

    def ddl(self, table: Table, *, if_not_exists: bool = True) -> str:
        ddl = schema.duckdb_ddl(table)
        return ddl if if_not_exists else ddl.replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE", 1)

    def column_type(self, column: Column) -> str:
        return schema.duckdb_type(column)


DUCKDB = Dialect()
