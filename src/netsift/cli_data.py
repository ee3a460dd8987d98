"""``netsift query`` and ``netsift export``: the store's data where analysts work (SQL, Parquet). Thin
shells over :mod:`netsift.api`; registered in ``cli.COMMANDS``."""

from __future__ import annotations

import click

from netsift import api
from netsift.cli_options import COUNT, existing_db_option, emit, handle_errors, output_options
from netsift.export import DEFAULT_TABLES
from netsift.store import open_store


@click.command()
@click.argument("sql")
@existing_db_option
@click.option("--json", "output", flag_value="json", help="JSON on stdout.")
@click.option("--csv", "output", flag_value="csv", help="CSV on stdout.")
@click.option("--limit", type=COUNT, default=1000, show_default=True,
              help="Rows shown in the table (0: all); --json and --csv print every row.")
@handle_errors
def query(sql, db, output, limit):
    """Run one read-only SQL query on the store (DuckDB's SQL on every store; writes are refused):
    `netsift query "SELECT client, count(*) AS n FROM dns_queries GROUP BY ALL ORDER BY n DESC LIMIT 10"`."""
    with open_store(db, read_only=True) as store:
        frame = api.query(store, sql)
    rows = frame.to_dicts()
    if output:
        emit(rows, output, "query")
        return
    shown = rows if limit == 0 else rows[:limit]
    title = f"{len(rows):,} row(s)" + (f", first {len(shown):,} shown" if len(shown) < len(rows) else "")
    emit(shown, None, title, frame.columns)


@click.command()
@click.option("--parquet", "directory", type=click.Path(file_okay=False), required=True,
              help="Directory to write (one folder per table, hive-style day=YYYY-MM-DD partitions).")
@click.option("--table", "tables", multiple=True, metavar="NAME",
              help=f"A table to export (repeatable; default: {', '.join(DEFAULT_TABLES)}).")
@click.option("--all", "everything", is_flag=True, help="Every table of the store.")
@existing_db_option
@output_options
@handle_errors
def export(directory, tables, everything, db, output):
    """Write the store's tables as Parquet for pandas, Polars, Spark or DuckDB, partitioned by day."""
    with open_store(db, read_only=True) as store:
        done = api.export_parquet(store, directory, list(tables) or None, everything=everything)
    emit([{"table": e.table, "rows": e.rows, "files": e.files} for e in done], output, f"Exported to {directory}")
