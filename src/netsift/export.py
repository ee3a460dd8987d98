"""``netsift export --parquet DIR``: the store's tables as Parquet files for pandas, Polars, Spark or DuckDB.

Each table goes to ``DIR/<table>/``; a table with a ``ts`` column is partitioned by day, hive-style
(``DIR/dns_queries/day=2026-11-20/part-0.parquet``; rows without a stamp under
``day=__HIVE_DEFAULT_PARTITION__``), the others are one ``part-0.parquet``. One day is read at a time, so
memory stays bounded by the largest day. Works on every store (it only reads through the Store seam).
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from netsift import schema
from netsift.errors import UsageError
from netsift.store import Store

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
DEFAULT_TABLES = ("dns_queries", "domain_names", "domain_stats", "findings", "ingested_files", "verdicts")


@dataclass
class Exported:
    table: str
    rows: int
    files: int


def export_parquet(store: Store, directory: str | Path, tables: list[str] | None = None,
                   *, everything: bool = False) -> list[Exported]:
    """Write ``tables`` (default :data:`DEFAULT_TABLES`; ``everything``: every declared table that exists)
    under ``directory``, replacing what an earlier export wrote there for the same tables."""
    declared = {t.name: t for t in schema.all_tables()}
    names = list(declared) if everything else list(tables or DEFAULT_TABLES)
    unknown = [n for n in names if n not in declared]
    if unknown:
        raise UsageError(f"unknown table(s): {', '.join(unknown)} (netsift schema lists them)")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    done = []
    for name in names:
        if not store.has_table(name):
            continue
        target = out / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir()
        if "ts" in declared[name].column_names:
            done.append(_by_day(store, name, target))
        else:
            table = store.arrow(f"SELECT * FROM {name}")
            pq.write_table(table, target / "part-0.parquet")
            done.append(Exported(name, table.num_rows, 1))
    return done


def _by_day(store: Store, name: str, target: Path) -> Exported:
    days = [d for (d,) in store.rows(f"SELECT DISTINCT CAST(ts AS DATE) AS day FROM {name} ORDER BY 1")]
    rows = files = 0
    for day in days:
        if day is None:
            table = store.arrow(f"SELECT * FROM {name} WHERE ts IS NULL")
            folder = target / f"day={NULL_PARTITION}"
        else:
            start = dt.datetime.combine(day, dt.time())
            table = store.arrow(f"SELECT * FROM {name} WHERE ts >= ? AND ts < ? ORDER BY ts",
                                [start, start + dt.timedelta(days=1)])
            folder = target / f"day={day.isoformat()}"
        if table.num_rows == 0:
            continue
        folder.mkdir()
        pq.write_table(_plain(table), folder / "part-0.parquet")
        rows += table.num_rows
        files += 1
    if not files:  # an empty table: one empty file, so readers still find its columns
        pq.write_table(_plain(store.arrow(f"SELECT * FROM {name} WHERE false")), target / "part-0.parquet")
    return Exported(name, rows, files)


def _plain(table: pa.Table) -> pa.Table:
    """Spark reads microsecond stamps and plain strings; large/view strings are written as strings."""
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        fields.append(pa.field(f.name, t))
    return table.cast(pa.schema(fields))
