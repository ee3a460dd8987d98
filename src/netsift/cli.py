"""The ``netsift`` command: the group, its table of commands, and the commands over the store's files
(``ingest``, ``files``, ``rejected``, ``forget``, ``formats``). stdout carries data (tables, or
--json/--ndjson/--csv), stderr carries progress and notes. Exceptions of ``netsift.errors`` become one-line
CLI errors in ``cli_options.handle_errors``.

Every other command lives in a module of its own and is imported only when it runs (``COMMANDS``): so
``netsift ingest`` loads the ingest path and the store, not the analysis, report, dashboard, enrichment or
synthetic-traffic modules (about half of its start-up). To add a command: write it as a ``@click.command()``
in its module and name it in ``COMMANDS``.
"""

from __future__ import annotations

import sys
import threading

import click

from netsift import __version__
from netsift.cli_options import (
    COUNT, NetsiftGroup, db_option, emit, existing_db_option, handle_errors, ingest_options, ingest_opts,
    output_options, print_ingest,
)
from netsift.ingest.bookkeeping import forget as forget_files
from netsift.ingest.bookkeeping import record_path
from netsift.ingest.formats import formats_markdown, parsers
from netsift.ingest.run import ingest as ingest_and_name
from netsift.report import console as con_out
from netsift.report.progress import progress_bar
from netsift.store import open_store

STDIN_HINT_SECONDS = 5.0  # `ingest -` still reading after this long: point to `watch -`

# command name -> "module:attribute", imported when the command is run (or listed by `netsift --help`)
COMMANDS = {
    "status": "netsift.cli_commands:status",
    "analyze": "netsift.cli_commands:analyze",
    "normal": "netsift.cli_commands:normal",
    "verdict": "netsift.cli_commands:verdict",
    "verdicts": "netsift.cli_commands:verdicts",
    "demo": "netsift.cli_commands:demo",
    "score": "netsift.cli_commands:score",
    "explain": "netsift.cli_commands:explain",
    "logins": "netsift.cli_logins:logins_command",
    "lists": "netsift.cli_commands:lists_group",
    "schema": "netsift.cli_commands:schema",
    "query": "netsift.cli_data:query",
    "export": "netsift.cli_data:export",
    "config": "netsift.cli_commands:config",
    "report": "netsift.report.cli:report",
    "bandwidth": "netsift.report.traffic_cli:bandwidth",
    "credentials": "netsift.report.traffic_cli:credentials",
    "serve": "netsift.web.cli:serve",
    "watch": "netsift.watch.cli:watch",
}


@click.group(cls=NetsiftGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="netsift")
def main() -> None:
    """Sift DNS and security logs: ingest any common format, explain normal away, rank what is left."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@ingest_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, errors only.")
@output_options
@handle_errors
def ingest(paths, db, fmt, year, tz, columns, strict, show_secrets, quiet, output):
    """Read log files, directories, globs or - (stdin) into the store.

    - is read until it ends, holding the store's write lock: to follow a growing log (tail -f x |),
    use `netsift watch -`."""
    hint = None
    if "-" in paths:  # `tail -f x | netsift ingest -` never ends: say what to use instead
        hint = threading.Timer(STDIN_HINT_SECONDS, click.echo, [
            "note: reading stdin until it ends, holding the store's write lock; to follow a growing log, "
            "use `netsift watch -` (or `netsift watch FILE`)"], {"err": True})
        hint.daemon = True
        hint.start()
    try:
        with open_store(db) as store:
            summary = ingest_and_name(store, paths, ingest_opts(fmt, year, tz, columns, strict, show_secrets),
                                      progress_bar(quiet))
    finally:
        if hint is not None:
            hint.cancel()
    print_ingest(summary, quiet or output is not None)
    if output:
        emit([f.as_dict() for f in summary.files], output, "files")
    if summary.errors and len(summary.errors) == len(summary.files):
        sys.exit(1)


@main.command()
@existing_db_option
@output_options
@handle_errors
def files(db, output):
    """List the files ingested so far."""
    with open_store(db) as store:
        rows = store.frame("SELECT file_id, path, format, rows, rejected, last_line AS lines, size, ingested_at "
                           "FROM ingested_files ORDER BY file_id").to_dicts()
    emit(rows, output, "Ingested files")


@main.command()
@existing_db_option
@click.option("--file-id", type=COUNT, default=None, help="Only this file (see `netsift files`).")
@click.option("--limit", type=COUNT, default=50, show_default=True, help="Rows to show (0: all).")
@output_options
@handle_errors
def rejected(db, file_id, limit, output):
    """Show lines that did not parse, with file and line number."""
    with open_store(db) as store:
        where, params = ("WHERE r.source_file_id = ?", [file_id]) if file_id is not None else ("", [])
        rows = store.frame(
            f"SELECT f.path, r.source_line AS line, r.reason, r.text FROM rejected_lines r JOIN ingested_files f "
            f"ON f.file_id = r.source_file_id {where} ORDER BY f.path, r.source_line" + (" LIMIT ?" if limit else ""),
            [*params, limit] if limit else params,
        ).to_dicts()
    emit(rows, output, "Rejected lines")


@main.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@output_options
@handle_errors
def forget(paths, db, output):
    """Remove what was ingested from these files (rows, rejected lines, record): the next ingest reads them
    again."""
    with open_store(db) as store:
        removed = forget_files(store, list(paths))
    err = con_out.console(stderr=True)
    found = {r["path"] for r in removed}
    missing = [p for p in paths if record_path(p) not in found]
    for p in missing:
        err.print(f"{con_out.escape(p)}: not ingested (see `netsift files`)")
    if output:
        emit(removed, output, "Forgotten files")
    else:
        for r in removed:
            err.print(f"{con_out.escape(r['path'])}: removed {r['rows']:,} rows, {r['rejected']:,} rejected lines")
    if not removed:
        sys.exit(1)


@main.command()
@click.option("--markdown", "as_markdown", is_flag=True, help="Full documentation as Markdown (docs/formats.md).")
@output_options
def formats(as_markdown, output):
    """List the log formats netsift reads."""
    if as_markdown:
        click.echo(formats_markdown())
        return
    rows = [{"name": p.name, "description": p.description, "table": p.table, "also": ", ".join(p.also_writes)}
            for p in parsers().values()]
    emit(rows, output, "Formats")


if __name__ == "__main__":  # pragma: no cover
    main()
