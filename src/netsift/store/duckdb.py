"""DuckDB store: one file (``./netsift.duckdb`` by default), or ``:memory:`` for tests.

DuckDB allows one read-write process per file. The dashboard and the watcher therefore share one
process; a second writer gets a StoreError that says so, instead of DuckDB's lock message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from netsift import schema
from netsift.errors import StoreError
from netsift.schema import Table
from netsift.store.base import Data, Interrupted, Params, columns_of, rows_of
from netsift.store.sql import DUCKDB, Dialect

DEFAULT_DB = "netsift.duckdb"


def arrow_for_append(df: pl.DataFrame) -> pa.Table:
    """The Arrow form DuckDB appends fastest: classic (large_)string buffers, which it reads faster than
    Polars' default string views (measured ~5-25 %)."""
    return df.to_arrow(compat_level=pl.CompatLevel.oldest())


def default_db_path() -> str:
    return os.environ.get("NETSIFT_DB", DEFAULT_DB)


class DuckDBStore:
    """The :class:`~netsift.store.base.Store` over one DuckDB file (or ``:memory:``). ``con`` is the DuckDB
    connection; only ``netsift.store`` (and ingest, until it moves to the Store methods) touches it."""

    sql: Dialect = DUCKDB

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False):
        self.path = str(path)
        self._session = False
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

    @classmethod
    def over(cls, con: duckdb.DuckDBPyConnection, path: str = ":memory:") -> DuckDBStore:
        """A store over an open DuckDB connection (or cursor), schema as it is (tests, sessions)."""
        store = cls.__new__(cls)
        store.path = path
        store.con = con
        store._session = True
        return store

    def _complete_work_only(self, read_only: bool) -> None:
        """Readers see only complete work. One process may write a store, so file records still in
        progress when it is opened were left by an ingest that died: opened writable, the store removes
        their partial rows (as the next ingest would) before anyone reads; opened read-only, views hide
        them."""
        # deferred: ingest.bookkeeping imports netsift.store (this package), so a module-level import here
        # would be a cycle; the clean-up of an interrupted ingest's rows is ingest's own code
        from netsift.ingest import bookkeeping

        if read_only:
            try:
                bookkeeping.hide_interrupted(self)
            except (duckdb.CatalogException, duckdb.BinderException):
                pass  # not a netsift store (yet), or one from before file records had in_progress
        else:
            bookkeeping.recover_interrupted(self)

    # --- schema -----------------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create missing tables, and add columns a newer netsift declares to tables an older one made."""
        existing = {(t, c) for t, c in self.con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'").fetchall()}
        tables = {t for t, _ in existing}
        statements = []
        for table in schema.all_tables():
            if table.name not in tables:
                statements.append(self.sql.ddl(table))
                continue
            statements += [f"ALTER TABLE {table.name} ADD COLUMN {column.name} {self.sql.column_type(column)}"
                           for column in table.columns if (table.name, column.name) not in existing]
        statements.append("CREATE SEQUENCE IF NOT EXISTS file_ids START 1")
        # one transaction: a new store's tables in one commit (~0.1 s less than a commit each)
        self.con.execute("BEGIN TRANSACTION")
        try:
            for statement in statements:
                self.con.execute(statement)
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def ensure_tables(self, tables: Sequence[Table]) -> None:
        for table in tables:
            self.execute(self.sql.ddl(table))

    def create_tables(self, tables: Sequence[Table]) -> None:
        with self.transaction():
            for table in tables:
                self.execute(f"DROP TABLE IF EXISTS {table.name}")
                self.execute(self.sql.ddl(table, if_not_exists=False))

    def has_table(self, name: str) -> bool:
        return bool(self.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
                                "AND table_schema = 'main'", [name]))

    def has_column(self, table: str, column: str) -> bool:
        return bool(self.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = ? "
                                "AND table_schema = 'main' AND column_name = ?", [table, column]))

    # --- reading ----------------------------------------------------------------------------------
    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        # DuckDB 2.x: .pl() is gone; a relation's Arrow table avoids the DB-API copy. con.sql refuses to
        # run while an execute() result is unfinished, so finish it first.
        with _errors():
            self.con.complete()
            return self.con.sql(sql, params=_params(params)).to_arrow_table()

    def frame(self, sql: str, params: Params = None) -> pl.DataFrame:
        """Run a query and return a Polars frame."""
        out = pl.from_arrow(self.arrow(sql, params))
        assert isinstance(out, pl.DataFrame)
        return out

    def rows(self, sql: str, params: Params = None) -> list[tuple]:
        with _errors():
            return self.con.execute(sql, _params(params) or []).fetchall()

    def dicts(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        with _errors():
            cur = self.con.execute(sql, _params(params) or [])
            names = [d[0] for d in cur.description or []]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def scalar(self, sql: str, params: Params = None) -> Any:
        with _errors():
            row = self.con.execute(sql, _params(params) or []).fetchone()
            self.con.complete()
        return row[0] if row else None

    # --- writing ----------------------------------------------------------------------------------
    def execute(self, sql: str, params: Params = None) -> None:
        with _errors():
            self.con.execute(sql, _params(params) or [])

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with _errors():
            self.con.executemany(sql, [list(r) for r in rows])

    def append(self, table: str, df: Data) -> None:
        """Append a frame (or an Arrow table, see :func:`arrow_for_append`) whose columns are a subset of
        the table's (by name)."""
        if rows_of(df) == 0:
            return
        cols = ", ".join(columns_of(df))
        with self.temp_table(f"_append_{table}", df), _errors():
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _append_{table}")

    def replace(self, table: str, df: Data) -> None:
        with self.transaction():
            self.execute(f"DELETE FROM {table}")
            self.append(table, df)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    @contextmanager
    def temp_table(self, name: str, data: Data) -> Iterator[None]:
        self.con.complete()
        self.con.register(name, data if isinstance(data, pa.Table) else arrow_for_append(data))
        try:
            yield
        finally:
            self.con.complete()
            self.con.unregister(name)

    # --- sessions ---------------------------------------------------------------------------------
    def cursor(self) -> DuckDBStore:
        """A session of its own (a DuckDB cursor: a separate connection to the same database, safe to use
        from another thread), without DuckDB's progress bar (``serve --get`` prints JSON on stdout)."""
        con = self.con.cursor()
        con.execute("SET enable_progress_bar = false")
        return DuckDBStore.over(con, self.path)

    @contextmanager
    def reader(self) -> Iterator[DuckDBStore]:
        session = self.cursor()
        try:
            session.begin_read()
            yield session
        finally:
            session.close()  # ends (rolls back) the read transaction

    def begin_read(self) -> None:
        """Start this session's read transaction now: it sees the store as it is at this moment."""
        pin = self.has_table("findings")
        self.con.execute("BEGIN TRANSACTION")
        if pin:  # DuckDB starts a transaction's view at its first read of the database
            self.con.execute("SELECT count(*) FROM findings").fetchall()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _params(params: Params) -> Any:
    if params is None:
        return None
    if isinstance(params, dict):
        return params or None
    return list(params) or None


@contextmanager
def _errors() -> Iterator[None]:
    """DuckDB's interruption (Ctrl-C while a query runs) as the store's :class:`Interrupted`."""
    try:
        yield
    except duckdb.InterruptException as exc:
        raise Interrupted(str(exc)) from exc


def open_store(path: str | Path | None = None, *, read_only: bool = False) -> DuckDBStore:
    return DuckDBStore(path or default_db_path(), read_only=read_only)
