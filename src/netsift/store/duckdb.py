"""DuckDB store: one file (``./netsift.duckdb`` by default), or ``:memory:`` for tests.

DuckDB allows one read-write process per file. The dashboard and the watcher therefore share one
process; a second writer gets a StoreError that says so, instead of DuckDB's lock message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from netsift import schema
from netsift.errors import StoreError

DEFAULT_DB = "netsift.duckdb"


def arrow_for_append(df: pl.DataFrame) -> pa.Table:
    """The Arrow form DuckDB appends fastest: classic (large_)string buffers, which it reads faster than
    Polars' default string views (measured ~5-25 %)."""
    return df.to_arrow(compat_level=pl.CompatLevel.oldest())


def default_db_path() -> str:
    return os.environ.get("NETSIFT_DB", DEFAULT_DB)


class DuckDBStore:
    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False):
        self.path = str(path)
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreError(
                    f"{self.path} is open in another process (DuckDB allows one writer per file): stop the "
                    "other netsift command (serve/watch), or use --db to choose another file"
                ) from exc
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        except duckdb.Error as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        if not read_only:
            self.ensure_schema()
        self._complete_work_only(read_only)

    def _complete_work_only(self, read_only: bool) -> None:
        """Readers see only complete work. One process may write a store, so file records still in
        progress when it is opened were left by an ingest that died: opened writable, the store removes
        their partial rows (as the next ingest would) before anyone reads; opened read-only, views hide
        them."""
        from netsift.ingest import bookkeeping

        if read_only:
            try:
                bookkeeping.hide_interrupted(self)
            except (duckdb.CatalogException, duckdb.BinderException):
                pass  # not a netsift store (yet), or one from before file records had in_progress
        else:
            bookkeeping.recover_interrupted(self)

    def ensure_schema(self) -> None:
        """Create missing tables, and add columns a newer netsift declares to tables an older one made."""
        existing = {(t, c) for t, c in self.con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'").fetchall()}
        tables = {t for t, _ in existing}
        for table in schema.all_tables():
            if table.name not in tables:
                self.con.execute(schema.duckdb_ddl(table))
                continue
            for column in table.columns:
                if (table.name, column.name) not in existing:
                    self.con.execute(f"ALTER TABLE {table.name} ADD COLUMN {column.name} "
                                     f"{schema.duckdb_type(column)}")
        self.con.execute("CREATE SEQUENCE IF NOT EXISTS file_ids START 1")

    # --- small conveniences; everything else uses self.con directly --------------------------------
    def frame(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pl.DataFrame:
        """Run a query and return a Polars frame."""
        # DuckDB 2.x: .pl() is gone; a relation's Arrow table avoids the DB-API copy. con.sql refuses to
        # run while an execute() result is unfinished, so finish it first.
        self.con.complete()
        out = pl.from_arrow(self.con.sql(sql, params=params or None).to_arrow_table())
        assert isinstance(out, pl.DataFrame)
        return out

    def rows(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        row = self.con.execute(sql, params or []).fetchone()
        return row[0] if row else None

    def append(self, table: str, df: pl.DataFrame | pa.Table) -> None:
        """Append a frame (or an Arrow table, see :func:`arrow_for_append`) whose columns are a subset of
        the table's (by name)."""
        rows = df.num_rows if isinstance(df, pa.Table) else df.height
        if rows == 0:
            return
        view = f"_append_{table}"
        self.con.register(view, df if isinstance(df, pa.Table) else arrow_for_append(df))
        try:
            cols = ", ".join(df.column_names if isinstance(df, pa.Table) else df.columns)
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {view}")
        finally:
            self.con.unregister(view)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_store(path: str | Path | None = None, *, read_only: bool = False) -> DuckDBStore:
    return DuckDBStore(path or default_db_path(), read_only=read_only)
