"""``netsift report``: a thin command over :func:`netsift.report.html.write_report`, registered on the main
group by name (``netsift.cli.COMMANDS``) like ``serve``."""

from __future__ import annotations

import click

from netsift import pipeline
from netsift.cli_options import existing_db_option, handle_errors
from netsift.report.html import write_report
from netsift.store import open_store


@click.command()
@existing_db_option
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default="report.html", show_default=True,
              help="HTML file to write.")
@handle_errors
def report(db, output):
    """Write a single self-contained HTML report (opens offline, can be e-mailed)."""
    pipeline.register_all_tables()
    with open_store(db) as store:
        path = write_report(store, output)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", err=True)
