"""``netsift logins``: the logon events per source (the acting address), account or host, a thin shell
over :mod:`netsift.logins`."""

from __future__ import annotations

import click

from netsift import logins
from netsift.cli_options import COUNT, existing_db_option, emit, handle_errors, output_options
from netsift.store import open_store

EVENTS = ("success", "failure", "invalid_user", "max_attempts", "disconnect", "logoff", "privileged",
          "explicit_credentials")


@click.command()
@existing_db_option
@click.option("--by", type=click.Choice(tuple(logins.BY)), default="source", show_default=True,
              help="One row per source (the acting address), account or host.")
@click.option("--event", type=click.Choice(EVENTS), default=None, help="Count only this event.")
@click.option("--limit", type=COUNT, default=50, show_default=True, help="Rows to show (0: all).")
@output_options
@handle_errors
def logins_command(db, by, event, limit, output):
    """Logon events (auth logs, Windows Security events) per source, account or host: events, successes,
    failures, attempts on unknown accounts, distinct sources/accounts/hosts, first and last seen."""
    with open_store(db, read_only=True) as store:
        rows = logins.summary(store, by, limit, event)
    if not rows and output is None:
        click.echo("No logon events in this store: ingest an auth log or Windows Security events first.")
        return
    emit(rows, output, f"Logons by {by}" + (f" ({event} only)" if event else ""))
