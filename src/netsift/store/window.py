"""A session that shows producers only the recent rows: the seam of incremental runs.

:class:`Windowed` wraps an analysis session. :meth:`Windowed.scope` puts a temporary view in front of each
row table (every table with ``ts`` and ``source_file_id``: ``dns_queries``, ``logon_events``,
``connections``, ...) that keeps the rows of its last hours (before that table's latest stamp), so a detector's unchanged queries read only
its window (on DuckDB, a temporary view of a session hides the stored table of the same name for that
session, and the ``ts`` bound lets the scan skip the row groups before it). Everything else (the baseline's
tables, the kept history of :mod:`netsift.baseline.kept`, ``domain_names``, lists, verdicts) is read as
stored. ``scope(None)`` removes the views. The kept history is named by ``kept``: helpers that need the
whole network's history (its span, its hours, its clients: :mod:`netsift.detect.context`) read it from the
kept tables when ``kept`` is set, instead of from the (windowed) rows.

Other sessions (the writer, the dashboard) never see the views: they are this session's own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, cast

from netsift import schema
from netsift.store.base import Data, Params, Store


def row_tables() -> list[str]:
    """The tables of rows read from logs, each with its time stamp."""
    return [t.name for t in schema.all_tables() if {"ts", "source_file_id"} <= set(t.column_names)]


class Windowed:
    """A :class:`~netsift.store.base.Store` (by delegation) whose row tables can be scoped to recent rows."""

    def __init__(self, session: Store, ends: dict[str, dt.datetime], *, kept: bool = True):
        self.session = session
        self.ends = ends  # row table -> its latest stamp (the kept history's, netsift.baseline.kept)
        self.kept = kept  # the kept history's tables exist in this session (netsift.baseline.kept)
        self.hours: float | None = None
        self.path, self.sql = session.path, session.sql
        self.stored = f'"{session.scalar("SELECT current_database()")}".main'

    def as_store(self) -> Store:
        return cast(Store, self)

    @property
    def start(self) -> dt.datetime | None:
        """The first stamp of ``dns_queries`` shown (None: every row)."""
        end = self.ends.get("dns_queries")
        return None if self.hours is None or end is None else end - dt.timedelta(hours=self.hours)

    def scope(self, hours: float | None) -> None:
        """Show in every row table only its last ``hours`` (before the table's latest stamp; None: every row)."""
        if hours == self.hours:
            return
        for table, end in self.ends.items():
            if hours is None:
                self.session.execute(f"DROP VIEW IF EXISTS temp.{table}")
            else:
                start = end - dt.timedelta(hours=hours)
                self.session.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM {self.stored}.{table} "
                                     f"WHERE ts >= TIMESTAMP '{start:%Y-%m-%d %H:%M:%S.%f}'")
        self.hours = hours

    # --- the Store, by delegation ------------------------------------------------------------------
    def frame(self, sql: str, params: Params = None) -> Any:
        return self.session.frame(sql, params)

    def arrow(self, sql: str, params: Params = None) -> Any:
        return self.session.arrow(sql, params)

    def rows(self, sql: str, params: Params = None) -> list[tuple]:
        return self.session.rows(sql, params)

    def dicts(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        return self.session.dicts(sql, params)

    def scalar(self, sql: str, params: Params = None) -> Any:
        return self.session.scalar(sql, params)

    def execute(self, sql: str, params: Params = None) -> None:
        self.session.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.session.executemany(sql, rows)

    def append(self, table: str, data: Data) -> None:
        self.session.append(table, data)

    def replace(self, table: str, data: Data) -> None:
        self.session.replace(table, data)

    def transaction(self) -> AbstractContextManager[None]:
        return self.session.transaction()

    def temp_table(self, name: str, data: Data) -> AbstractContextManager[None]:
        return self.session.temp_table(name, data)

    def has_table(self, name: str) -> bool:
        return self.session.has_table(name)

    def has_column(self, table: str, column: str) -> bool:
        return self.session.has_column(table, column)

    def ensure_schema(self) -> None:
        self.session.ensure_schema()

    def ensure_tables(self, tables: Sequence[schema.Table]) -> None:
        self.session.ensure_tables(tables)

    def create_tables(self, tables: Sequence[schema.Table]) -> None:
        self.session.create_tables(tables)

    def cursor(self) -> Store:
        return self.session.cursor()

    def reader(self) -> AbstractContextManager[Store]:
        return self.session.reader()

    def close(self) -> None:
        self.scope(None)

    def __enter__(self) -> Store:
        return self.as_store()

    def __exit__(self, *exc: object) -> None:
        self.close()


def window_start(store: Store) -> dt.datetime | None:
    """The first stamp a windowed session shows (None: every row). A producer that reads the kept history
    rather than rows (the leftovers read ``domain_stats``) uses it to judge only the keys seen since."""
    return store.start if isinstance(store, Windowed) else None


def kept_history(store: Store) -> bool:
    """True when ``store`` is a windowed session beside a kept history (read the history from it)."""
    return isinstance(store, Windowed) and store.kept
